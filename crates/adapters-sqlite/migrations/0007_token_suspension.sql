-- Suspension (issue 15, item 2): a suspended token fails verification like a revoked one until
-- it is resumed. `suspended_at` is when it was suspended; resuming sets it back to NULL.
ALTER TABLE api_tokens ADD COLUMN suspended_at INTEGER NULL;

-- A suspension must reach the running server's verification cache like a revocation does
-- (0001's `token_changes` feed): the trigger now also fires when `suspended_at` changes.
DROP TRIGGER api_tokens_changed;
CREATE TRIGGER api_tokens_changed
    AFTER UPDATE OF revoked_at, expires_at, replaced_by, suspended_at ON api_tokens
    FOR EACH ROW
    WHEN OLD.revoked_at IS NOT NEW.revoked_at
        OR OLD.expires_at IS NOT NEW.expires_at
        OR OLD.replaced_by IS NOT NEW.replaced_by
        OR OLD.suspended_at IS NOT NEW.suspended_at
BEGIN
    INSERT INTO token_changes (token_id) VALUES (OLD.id);
END;

-- The actions `token.suspended` and `token.resumed`. As in 0006_leak_report.sql, the CHECK's
-- text is edited in place (SQLite cannot alter a constraint; widening one changes nothing on
-- disk): the constraint gains `action IN (...) OR` in front of what it held.
PRAGMA writable_schema = ON;

UPDATE sqlite_schema
SET sql = replace(
    sql,
    'CONSTRAINT audit_events_action_known CHECK (',
    'CONSTRAINT audit_events_action_known CHECK (action IN (''token.suspended'', ''token.resumed'') OR '
)
WHERE type = 'table' AND name = 'audit_events';

PRAGMA writable_schema = RESET;

-- The edit found its constraint, or the migration fails here and changes nothing.
CREATE TEMP TABLE token_suspension_migration_check (edited INTEGER NOT NULL CHECK (edited = 1));
INSERT INTO token_suspension_migration_check
SELECT count(*) FROM sqlite_schema
WHERE type = 'table' AND name = 'audit_events'
    AND instr(sql, 'audit_events_action_known CHECK (action IN (''token.suspended'', ''token.resumed'') OR ') > 0;
DROP TABLE token_suspension_migration_check;

CREATE TABLE token_suspension_schema_cookie (bump INTEGER) STRICT;
DROP TABLE token_suspension_schema_cookie;
