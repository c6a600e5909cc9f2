-- Spaces are renamed and deleted (issue 15, item 4), as in the Postgres migration of the same
-- name. Deletion is soft: the row stays, with the time it was deleted, because its tokens and
-- audit events keep naming it, and the events must stay readable. A deletion revokes every
-- token of the space in the same transaction (which fires the `api_tokens_changed` trigger, so
-- the running server forgets them), and no token is added to a deleted space afterwards (every
-- write holds the one write lock, and the adapter checks `deleted_at` under it).
ALTER TABLE spaces ADD COLUMN deleted_at INTEGER NULL;

-- The living spaces in keyset pages; the listing writes the predicate literally.
CREATE INDEX spaces_living_id_idx ON spaces (id) WHERE deleted_at IS NULL;

-- A space's own events (`space.renamed`, `space.deleted`) name the space and no token; every
-- other event names a token (the domain's `AuditEvent::check_subject`). SQLite cannot alter a
-- column or a constraint, so the table's text is edited in place, as 0007_token_suspension.sql
-- does: `token_id` loses NOT NULL (every stored row keeps a token id, so nothing on disk
-- changes), a check of the subject is added (every stored row, a token's event with its
-- token, passes it), and the action check gains the two actions.
PRAGMA writable_schema = ON;

UPDATE sqlite_schema
SET sql = replace(
    replace(
        sql,
        'token_id BLOB    NOT NULL,',
        'token_id BLOB    NULL,'
    ),
    'CONSTRAINT audit_events_action_known CHECK (',
    'CONSTRAINT audit_events_subject_known CHECK ('
        || '(action IN (''space.renamed'', ''space.deleted'')) = (token_id IS NULL) '
        || 'AND (token_id IS NOT NULL OR space_id IS NOT NULL)), '
        || 'CONSTRAINT audit_events_action_known CHECK (action IN (''space.renamed'', ''space.deleted'') OR '
)
WHERE type = 'table' AND name = 'audit_events';

PRAGMA writable_schema = RESET;

-- Each edit found its text, or the migration fails here and changes nothing.
CREATE TEMP TABLE space_deletion_migration_check (edited INTEGER NOT NULL CHECK (edited = 1));
INSERT INTO space_deletion_migration_check
SELECT count(*) FROM sqlite_schema
WHERE type = 'table' AND name = 'audit_events'
    AND instr(sql, 'token_id BLOB    NULL,') > 0
    AND instr(sql, 'CONSTRAINT audit_events_subject_known CHECK (') > 0
    AND instr(sql, 'audit_events_action_known CHECK (action IN (''space.renamed'', ''space.deleted'') OR ') > 0;
DROP TABLE space_deletion_migration_check;

CREATE TABLE space_deletion_schema_cookie (bump INTEGER) STRICT;
DROP TABLE space_deletion_schema_cookie;
