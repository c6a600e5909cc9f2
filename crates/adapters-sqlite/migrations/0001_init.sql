-- tollgate's SQLite schema: spaces, their API tokens, the audit log, and the change log that
-- tells a running server about changes other processes made.
--
-- It mirrors the Postgres schema (crates/adapters-pg/migrations) column for column, in SQLite's
-- types: ids are 16-byte BLOBs (UUIDs, v7 for tokens, spaces and events, so they sort by time),
-- instants are INTEGER microseconds since the Unix epoch, UTC. STRICT tables refuse a value of
-- the wrong type. Every constraint is named and mirrors a domain rule; none is stricter than the
-- domain, and the adapter still reads every row back through the domain's constructors, since a
-- file can be edited by hand. Applied migrations are never edited (sqlx refuses a changed one).

CREATE TABLE spaces (
    id         BLOB    NOT NULL,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    CONSTRAINT spaces_pkey PRIMARY KEY (id),
    CONSTRAINT spaces_id_is_uuid CHECK (length(id) = 16),
    -- The domain's name rule (crates/domain/src/name.rs) for a stored, trimmed name: 1 to 100
    -- characters, no control character (U+0001-U+001F, U+007F-U+009F), and no white space at
    -- either end (the characters Rust's `str::trim` removes that are not control characters).
    CONSTRAINT spaces_name_valid CHECK (
        length(name) BETWEEN 1 AND 100
        AND name NOT GLOB '*[' || char(1) || '-' || char(31) || char(127) || '-' || char(159) || ']*'
        AND name NOT GLOB '[' || char(32, 160, 5760, 8192) || '-' || char(8202, 8232, 8233, 8239, 8287, 12288) || ']*'
        AND name NOT GLOB '*[' || char(32, 160, 5760, 8192) || '-' || char(8202, 8232, 8233, 8239, 8287, 12288) || ']'
    )
) STRICT, WITHOUT ROWID;

CREATE TABLE api_tokens (
    id           BLOB    NOT NULL,
    -- NULL for an instance admin token.
    space_id     BLOB    NULL,
    level        TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    -- `system`, `token:<uuid>` or `user:<id>` (the domain's `CreatedBy`).
    created_by   TEXT    NOT NULL,
    expires_at   INTEGER NULL,
    last_used_at INTEGER NULL,
    revoked_at   INTEGER NULL,
    -- Rotation: the new token records the token it `replaces`; the old one the token it was
    -- `replaced_by` and when (`rotated_at`), and its `expires_at` becomes the grace period's end.
    replaces     BLOB    NULL,
    replaced_by  BLOB    NULL,
    rotated_at   INTEGER NULL,
    -- The argon2id PHC string of the secret; the secret itself is never stored.
    secret_hash  TEXT    NOT NULL,
    CONSTRAINT api_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT api_tokens_id_is_uuid CHECK (length(id) = 16),
    CONSTRAINT api_tokens_space_id_fkey FOREIGN KEY (space_id) REFERENCES spaces (id),
    -- A purge of an old token by hand keeps its replacement, which then replaces nothing known.
    CONSTRAINT api_tokens_replaces_fkey
        FOREIGN KEY (replaces) REFERENCES api_tokens (id) ON DELETE SET NULL,
    -- Checked at commit, so that an import can write both ends of a rotation in any order.
    CONSTRAINT api_tokens_replaced_by_fkey
        FOREIGN KEY (replaced_by) REFERENCES api_tokens (id) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT api_tokens_level_known CHECK (level IN ('client', 'admin')),
    CONSTRAINT api_tokens_instance_tokens_are_admin CHECK (space_id IS NOT NULL OR level = 'admin'),
    CONSTRAINT api_tokens_name_valid CHECK (
        length(name) BETWEEN 1 AND 100
        AND name NOT GLOB '*[' || char(1) || '-' || char(31) || char(127) || '-' || char(159) || ']*'
        AND name NOT GLOB '[' || char(32, 160, 5760, 8192) || '-' || char(8202, 8232, 8233, 8239, 8287, 12288) || ']*'
        AND name NOT GLOB '*[' || char(32, 160, 5760, 8192) || '-' || char(8202, 8232, 8233, 8239, 8287, 12288) || ']'
    ),
    CONSTRAINT api_tokens_created_by_known CHECK (
        created_by = 'system' OR created_by GLOB 'token:?*' OR created_by GLOB 'user:?*'
    ),
    CONSTRAINT api_tokens_secret_hash_argon2id CHECK (secret_hash GLOB '$argon2id$*'),
    -- A rotation sets both, never one.
    CONSTRAINT api_tokens_rotation_complete CHECK ((replaced_by IS NULL) = (rotated_at IS NULL))
) STRICT, WITHOUT ROWID;

-- Keyset listing of one space's tokens (`space_id = ? AND id > ? ORDER BY id LIMIT ?`), the
-- foreign key's index, and `any_instance_admin`'s `space_id IS NULL` probe.
CREATE INDEX api_tokens_space_id_id_idx ON api_tokens (space_id, id);
-- The default listing (active tokens): those neither revoked nor rotated, filtered by expiry.
-- The listing writes this predicate literally so that SQLite's planner can use the index.
CREATE INDEX api_tokens_live_space_id_id_idx ON api_tokens (space_id, id)
    WHERE revoked_at IS NULL AND replaced_by IS NULL;
-- The foreign keys' referencing sides, so that deleting a token does not scan the table.
CREATE INDEX api_tokens_replaces_idx ON api_tokens (replaces) WHERE replaces IS NOT NULL;
CREATE INDEX api_tokens_replaced_by_idx ON api_tokens (replaced_by) WHERE replaced_by IS NOT NULL;

-- The audit log: what happened to which token, when and by whom. Never a secret.
CREATE TABLE audit_events (
    id       BLOB    NOT NULL,
    at       INTEGER NOT NULL,
    action   TEXT    NOT NULL,
    actor    TEXT    NOT NULL,
    -- No foreign key: the log outlives a token deleted by hand.
    token_id BLOB    NOT NULL,
    -- NULL for an instance admin token.
    space_id BLOB    NULL,
    CONSTRAINT audit_events_pkey PRIMARY KEY (id),
    CONSTRAINT audit_events_id_is_uuid CHECK (length(id) = 16),
    CONSTRAINT audit_events_space_id_fkey FOREIGN KEY (space_id) REFERENCES spaces (id),
    CONSTRAINT audit_events_action_known CHECK (
        action IN ('token.created', 'token.rotated', 'token.revoked', 'token.rejected')
    ),
    CONSTRAINT audit_events_actor_known CHECK (
        actor = 'system' OR actor GLOB 'token:?*' OR actor GLOB 'user:?*'
    )
) STRICT, WITHOUT ROWID;

-- A space's events newest first, in keyset pages, and the foreign key's index.
CREATE INDEX audit_events_space_id_id_idx ON audit_events (space_id, id);

-- Changes that can end a token's validity early, for the running server's verification cache:
-- SQLite has no LISTEN/NOTIFY, so triggers append the token's id here, whoever the writer (the
-- server, another tollgate command, a hand-written UPDATE), and the server reads what is new a
-- few times a second (tollgate_sqlite::SqliteChangeFeed) and deletes what it has read.
CREATE TABLE token_changes (
    seq      INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    token_id BLOB    NOT NULL
) STRICT;

CREATE TRIGGER api_tokens_changed
    AFTER UPDATE OF revoked_at, expires_at, replaced_by ON api_tokens
    FOR EACH ROW
    WHEN OLD.revoked_at IS NOT NEW.revoked_at
        OR OLD.expires_at IS NOT NEW.expires_at
        OR OLD.replaced_by IS NOT NEW.replaced_by
BEGIN
    INSERT INTO token_changes (token_id) VALUES (OLD.id);
END;

CREATE TRIGGER api_tokens_deleted
    AFTER DELETE ON api_tokens
    FOR EACH ROW
BEGIN
    INSERT INTO token_changes (token_id) VALUES (OLD.id);
END;
