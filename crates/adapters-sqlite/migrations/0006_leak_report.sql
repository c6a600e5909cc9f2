-- The recorded actor `leak_report` (the domain's `CreatedBy::LeakReport`): a token revoked
-- because someone reported it leaked (`POST /v1/credentials/revoke`). Its `token.revoked` event
-- records that actor, and `created_by` accepts it too, since no constraint is stricter than the
-- domain.
--
-- SQLite cannot alter a CHECK constraint, and rebuilding the tables would also rewrite every
-- other constraint as this file knows it, undoing what any other migration changed. Widening a
-- CHECK changes nothing on disk, so this edits the two constraints' text in place, the way
-- SQLite documents for relaxing a constraint (https://sqlite.org/lang_altertable.html, "Making
-- Other Kinds Of Table Schema Changes"): each gains `... = 'leak_report' OR` in front of what it
-- held, whatever that is. `writable_schema = RESET` makes this connection read the new schema;
-- the table created and dropped bumps the schema cookie, so every other connection reads it too.
PRAGMA writable_schema = ON;

UPDATE sqlite_schema
SET sql = replace(
    sql,
    'CONSTRAINT audit_events_actor_known CHECK (',
    'CONSTRAINT audit_events_actor_known CHECK (actor = ''leak_report'' OR '
)
WHERE type = 'table' AND name = 'audit_events';

UPDATE sqlite_schema
SET sql = replace(
    sql,
    'CONSTRAINT api_tokens_created_by_known CHECK (',
    'CONSTRAINT api_tokens_created_by_known CHECK (created_by = ''leak_report'' OR '
)
WHERE type = 'table' AND name = 'api_tokens';

PRAGMA writable_schema = RESET;

-- Both edits found their constraint, or the migration fails here and changes nothing.
CREATE TEMP TABLE leak_report_migration_check (edited INTEGER NOT NULL CHECK (edited = 2));
INSERT INTO leak_report_migration_check
SELECT count(*) FROM sqlite_schema
WHERE type = 'table'
    AND (
        (name = 'audit_events' AND instr(sql, 'audit_events_actor_known CHECK (actor = ''leak_report'' OR ') > 0)
        OR (name = 'api_tokens' AND instr(sql, 'api_tokens_created_by_known CHECK (created_by = ''leak_report'' OR ') > 0)
    );
DROP TABLE leak_report_migration_check;

CREATE TABLE leak_report_schema_cookie (bump INTEGER) STRICT;
DROP TABLE leak_report_schema_cookie;
