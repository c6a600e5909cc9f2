-- Keys the server keeps in its store, so that every process on the file uses the same ones:
-- `cursor` seals listing cursors (HMAC-SHA-256). Written once, by the first process that needs
-- it; never a token or a token's hash.
CREATE TABLE server_keys (
    name TEXT NOT NULL PRIMARY KEY CHECK (name IN ('cursor')),
    key BLOB NOT NULL CHECK (length(key) = 32)
) STRICT;
