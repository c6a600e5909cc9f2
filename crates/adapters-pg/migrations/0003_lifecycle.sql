-- Token lifecycle: rotation links on tokens, the audit log, a listing index that leaves rotated
-- tokens out, and cache invalidation for every change that can end a token's validity early.
--
-- As in 0001, every constraint is named (the adapter maps violations by name) and no check is
-- stricter than the domain. The index builds below lock writes to `api_tokens` while they run,
-- inside this migration's transaction; at tollgate's scale that is a moment at start-up.

-- Rotation: a new token records the token it `replaces`; the old one records the token it was
-- `replaced_by` and when (`rotated_at`), and its `expires_at` becomes the end of the grace period.
ALTER TABLE api_tokens
    ADD COLUMN replaces    uuid        NULL,
    ADD COLUMN replaced_by uuid        NULL,
    ADD COLUMN rotated_at  timestamptz NULL,
    -- Deleting an old token by hand (a purge) keeps its replacement, which then replaces nothing
    -- known; the audit log still says what happened.
    ADD CONSTRAINT api_tokens_replaces_fkey
        FOREIGN KEY (replaces) REFERENCES api_tokens (id) ON DELETE SET NULL,
    -- A replacement cannot be deleted while the token it replaced still points at it: delete
    -- both in one statement, or the old one first.
    ADD CONSTRAINT api_tokens_replaced_by_fkey
        FOREIGN KEY (replaced_by) REFERENCES api_tokens (id),
    -- A rotation sets both, never one: `replaced_by IS NULL OR rotated_at IS NOT NULL`, and the
    -- reverse.
    ADD CONSTRAINT api_tokens_rotation_complete
        CHECK ((replaced_by IS NULL) = (rotated_at IS NULL));

-- The foreign keys' referencing sides, so that deleting a token does not scan the table twice.
-- Partial: most tokens are never rotated, and `replaces = $1` implies the predicate.
CREATE INDEX api_tokens_replaces_idx ON api_tokens (replaces) WHERE replaces IS NOT NULL;
CREATE INDEX api_tokens_replaced_by_idx ON api_tokens (replaced_by) WHERE replaced_by IS NOT NULL;

-- The default listing now shows active tokens: neither revoked nor rotated, and not expired at
-- the moment of the query. An index predicate cannot name "now", so this one holds the tokens
-- neither revoked nor rotated ("live"), and the query filters expired ones out of it. Both
-- conditions are written literally in that query so generic plans can use the index. It
-- replaces 0001's index on unrevoked tokens, which the listings no longer match better.
DROP INDEX api_tokens_active_space_id_id_idx;
CREATE INDEX api_tokens_live_space_id_id_idx ON api_tokens (space_id, id)
    WHERE revoked_at IS NULL AND replaced_by IS NULL;

-- The audit log: what happened to which token, when and by whom. Never a secret.
CREATE TABLE audit_events (
    -- UUID v7: ids sort by time, so "newest first" is `ORDER BY id DESC`.
    id       uuid        NOT NULL,
    at       timestamptz NOT NULL,
    action   text        NOT NULL,
    -- The domain's `CreatedBy`, as in `api_tokens.created_by`.
    actor    text        NOT NULL,
    -- No foreign key: the log outlives a token deleted by hand.
    token_id uuid        NOT NULL,
    -- NULL for an instance admin token.
    space_id uuid        NULL,
    CONSTRAINT audit_events_pkey PRIMARY KEY (id),
    CONSTRAINT audit_events_space_id_fkey FOREIGN KEY (space_id) REFERENCES spaces (id),
    CONSTRAINT audit_events_action_known CHECK (
        action IN ('token.created', 'token.rotated', 'token.revoked', 'token.rejected')
    ),
    CONSTRAINT audit_events_actor_known CHECK (
        actor = 'system' OR actor LIKE 'token:_%' OR actor LIKE 'user:_%'
    )
);

-- A space's events newest first, in keyset pages (`space_id = $1 AND id < $2 ORDER BY id DESC
-- LIMIT $3`, read backwards), and the foreign key's index.
CREATE INDEX audit_events_space_id_id_idx ON audit_events (space_id, id);

-- Cross-node cache invalidation (0002) now also covers rotation: rotating a token sets its
-- `replaced_by` and shortens its `expires_at` to the end of the grace period, and every node must
-- drop it from its verification cache, which would otherwise keep trusting the old expiry. The
-- channel and payload are unchanged: `tollgate_token_revoked` with the token id, meaning "forget
-- this token". A `last_used_at` write is not among the columns, so it never fires.
DROP TRIGGER api_tokens_notify_revoked ON api_tokens;
CREATE TRIGGER api_tokens_notify_changed
    AFTER UPDATE OF revoked_at, expires_at, replaced_by ON api_tokens
    FOR EACH ROW
    WHEN (
        OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
        OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
        OR OLD.replaced_by IS DISTINCT FROM NEW.replaced_by
    )
    EXECUTE FUNCTION tollgate_notify_token_revoked();
