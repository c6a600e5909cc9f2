-- The recorded actor `cli` (the domain's `CreatedBy::Cli`): what the operator commands
-- (`tollgate space ...`, `tollgate token ...`) do on the store is recorded as done by `cli`,
-- in `created_by` and in events' `actor`.
--
-- As 0006_leak_report.sql explains, SQLite cannot alter a CHECK constraint, so each of the two
-- gains `... = 'cli' OR` in front of what it held, by an edit of its text in place.
PRAGMA writable_schema = ON;

UPDATE sqlite_schema
SET sql = replace(
    sql,
    'CONSTRAINT audit_events_actor_known CHECK (',
    'CONSTRAINT audit_events_actor_known CHECK (actor = ''cli'' OR '
)
WHERE type = 'table' AND name = 'audit_events';

UPDATE sqlite_schema
SET sql = replace(
    sql,
    'CONSTRAINT api_tokens_created_by_known CHECK (',
    'CONSTRAINT api_tokens_created_by_known CHECK (created_by = ''cli'' OR '
)
WHERE type = 'table' AND name = 'api_tokens';

PRAGMA writable_schema = RESET;

-- Both edits found their constraint, or the migration fails here and changes nothing.
CREATE TEMP TABLE cli_actor_migration_check (edited INTEGER NOT NULL CHECK (edited = 2));
INSERT INTO cli_actor_migration_check
SELECT count(*) FROM sqlite_schema
WHERE type = 'table'
    AND (
        (name = 'audit_events' AND instr(sql, 'audit_events_actor_known CHECK (actor = ''cli'' OR ') > 0)
        OR (name = 'api_tokens' AND instr(sql, 'api_tokens_created_by_known CHECK (created_by = ''cli'' OR ') > 0)
    );
DROP TABLE cli_actor_migration_check;

CREATE TABLE cli_actor_schema_cookie (bump INTEGER) STRICT;
DROP TABLE cli_actor_schema_cookie;
