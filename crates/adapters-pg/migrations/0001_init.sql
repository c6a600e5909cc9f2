-- tollgate's first schema: spaces and their API tokens.
--
-- Every constraint is named: the adapter maps violations to errors by constraint name, never by
-- message text. The checks mirror the domain's rules (crates/domain) so that a hand-written row
-- is refused at write time; the adapter still validates every row it reads through the domain's
-- constructors, since a check can be dropped. A check must never be stricter than the domain.
-- Lifecycle work (rotation, audit, ...) adds columns and tables in later migrations; applied
-- migrations are never edited (sqlx refuses to start on a changed checksum).

-- The domain's name rule (crates/domain/src/name.rs) for a stored, already trimmed name:
-- 1 to 100 characters, no control character (Unicode Cc), and no white space at either end
-- (the non-control characters of Unicode's White_Space, which Rust's `str::trim` removes).
CREATE FUNCTION tollgate_is_valid_name(name text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT char_length(name) BETWEEN 1 AND 100
       AND name !~ '[\u0001-\u001f\u007f-\u009f]'
       AND name !~ '^[\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]'
       AND name !~ '[\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$'
$$;

CREATE TABLE spaces (
    id         uuid        NOT NULL,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL,
    CONSTRAINT spaces_pkey PRIMARY KEY (id),
    CONSTRAINT spaces_name_valid CHECK (tollgate_is_valid_name(name))
);

CREATE TABLE api_tokens (
    id           uuid        NOT NULL,
    -- NULL for an instance admin token.
    space_id     uuid        NULL,
    level        text        NOT NULL,
    name         text        NOT NULL,
    created_at   timestamptz NOT NULL,
    -- `system`, `token:<uuid>` or `user:<id>` (the domain's `CreatedBy`).
    created_by   text        NOT NULL,
    expires_at   timestamptz NULL,
    last_used_at timestamptz NULL,
    revoked_at   timestamptz NULL,
    -- The argon2id PHC string of the secret; the secret itself is never stored.
    secret_hash  text        NOT NULL,
    CONSTRAINT api_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT api_tokens_space_id_fkey FOREIGN KEY (space_id) REFERENCES spaces (id),
    CONSTRAINT api_tokens_level_known CHECK (level IN ('client', 'admin')),
    CONSTRAINT api_tokens_instance_tokens_are_admin CHECK (space_id IS NOT NULL OR level = 'admin'),
    CONSTRAINT api_tokens_name_valid CHECK (tollgate_is_valid_name(name)),
    CONSTRAINT api_tokens_created_by_known CHECK (
        created_by = 'system' OR created_by LIKE 'token:_%' OR created_by LIKE 'user:_%'
    ),
    CONSTRAINT api_tokens_secret_hash_argon2id CHECK (secret_hash LIKE '$argon2id$%')
);

-- Keyset listing of one space's tokens (`space_id = $1 AND id > $2 ORDER BY id LIMIT $3`),
-- the foreign key's index, and `any_instance_admin`'s `space_id IS NULL` probe (a B-tree
-- indexes NULLs, so no separate index is needed for instance tokens).
CREATE INDEX api_tokens_space_id_id_idx ON api_tokens (space_id, id);

-- The default listing leaves revoked tokens out: a space with many revoked tokens stays cheap
-- to list. The predicate is written literally in that query so generic plans can use it.
CREATE INDEX api_tokens_active_space_id_id_idx ON api_tokens (space_id, id)
    WHERE revoked_at IS NULL;
