-- Admin console sessions and the one-time form nonces they claim.
--
-- A session is known by the SHA-256 digest of its id (the id itself lives only in the
-- browser's cookie) and records the token that signed in, never the token string. Sessions
-- are not exported or imported: they are short-lived, and a moved install signs in again.
-- As before, every constraint is named and no check is stricter than the domain.

CREATE TABLE console_sessions (
    digest       bytea       NOT NULL,
    -- A session ends with its token: deleting the token (a deleted space, one day) deletes
    -- the sessions it signed in, and so their nonces.
    token_id     uuid        NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    CONSTRAINT console_sessions_pkey PRIMARY KEY (digest),
    CONSTRAINT console_sessions_digest_is_sha256 CHECK (octet_length(digest) = 32),
    CONSTRAINT console_sessions_token_id_fkey
        FOREIGN KEY (token_id) REFERENCES api_tokens (id) ON DELETE CASCADE
);

-- Deleting ended sessions (`last_seen_at <= $1 OR created_at <= $2`) reads both indexes (a
-- bitmap OR) instead of the table; the token's index serves the foreign key's cascade.
CREATE INDEX console_sessions_last_seen_at_idx ON console_sessions (last_seen_at);
CREATE INDEX console_sessions_created_at_idx ON console_sessions (created_at);
CREATE INDEX console_sessions_token_id_idx ON console_sessions (token_id);

-- A nonce a session claimed; the primary key makes a second claim a no-op, and two concurrent
-- claims of one nonce insert one row. The key leads with the session, so it is also the
-- foreign key's index.
CREATE TABLE console_nonces (
    session_digest bytea       NOT NULL,
    nonce          bytea       NOT NULL,
    claimed_at     timestamptz NOT NULL,
    CONSTRAINT console_nonces_pkey PRIMARY KEY (session_digest, nonce),
    CONSTRAINT console_nonces_nonce_is_128_bits CHECK (octet_length(nonce) = 16),
    CONSTRAINT console_nonces_session_digest_fkey
        FOREIGN KEY (session_digest) REFERENCES console_sessions (digest) ON DELETE CASCADE
);
