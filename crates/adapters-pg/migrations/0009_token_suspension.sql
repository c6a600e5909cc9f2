-- Suspension (issue 15, item 2): a suspended token fails verification like a revoked one until
-- it is resumed. `suspended_at` is when it was suspended; resuming sets it back to NULL.
ALTER TABLE api_tokens ADD COLUMN suspended_at timestamptz NULL;

-- A suspension must reach every node's verification cache like a revocation does: the trigger
-- of 0003 now also fires when `suspended_at` changes (same channel, same payload: "forget this
-- token").
DROP TRIGGER api_tokens_notify_changed ON api_tokens;
CREATE TRIGGER api_tokens_notify_changed
    AFTER UPDATE OF revoked_at, expires_at, replaced_by, suspended_at ON api_tokens
    FOR EACH ROW
    WHEN (
        OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
        OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
        OR OLD.replaced_by IS DISTINCT FROM NEW.replaced_by
        OR OLD.suspended_at IS DISTINCT FROM NEW.suspended_at
    )
    EXECUTE FUNCTION tollgate_notify_token_revoked();

-- The actions `token.suspended` and `token.resumed`: the constraint is re-created as
-- `action IN (...) OR (what it held)`, read from the catalogue (as 0008_leak_report.sql does).
DO $$
DECLARE
    held text;
BEGIN
    SELECT substr(pg_get_constraintdef(oid), length('CHECK ') + 1) INTO STRICT held
    FROM pg_constraint
    WHERE conrelid = 'audit_events'::regclass AND conname = 'audit_events_action_known';
    ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_known;
    EXECUTE format(
        'ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_known CHECK (action IN (%L, %L) OR %s)',
        'token.suspended', 'token.resumed', held
    );
END
$$;
