-- Keys the server keeps in its store, so that every node uses the same ones: `cursor` seals
-- listing cursors (HMAC-SHA-256). Written once, by the first node that needs it; never a token
-- or a token's hash.
CREATE TABLE server_keys (
    name text NOT NULL PRIMARY KEY CHECK (name IN ('cursor')),
    key bytea NOT NULL CHECK (octet_length(key) = 32)
);
