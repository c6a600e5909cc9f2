-- Updating a token (issue 15, item 1): a token may carry a description (the domain's
-- `TokenDescription`: 1 to 500 characters after trimming, no control characters), and a
-- `token.updated` event records which fields changed, as `changed_fields`: the field names
-- separated by commas (`name,expires_at`), NULL for every other action. The constraints are
-- never stricter than the domain.
ALTER TABLE api_tokens ADD COLUMN description TEXT NULL
    CONSTRAINT api_tokens_description_length CHECK (
        description IS NULL OR length(description) BETWEEN 1 AND 500
    );

ALTER TABLE audit_events ADD COLUMN changed_fields TEXT NULL;

-- A changed expiry already reaches the running server's cache (the `api_tokens_changed`
-- trigger of 0007 fires on `expires_at`). A new name or description changes no token's validity.

-- The action `token.updated`, edited into the CHECK's text in place as 0007_token_suspension.sql
-- does (SQLite cannot alter a constraint; widening one changes nothing on disk).
PRAGMA writable_schema = ON;

UPDATE sqlite_schema
SET sql = replace(
    sql,
    'CONSTRAINT audit_events_action_known CHECK (',
    'CONSTRAINT audit_events_action_known CHECK (action = ''token.updated'' OR '
)
WHERE type = 'table' AND name = 'audit_events';

PRAGMA writable_schema = RESET;

-- The edit found its constraint, or the migration fails here and changes nothing.
CREATE TEMP TABLE token_description_migration_check (edited INTEGER NOT NULL CHECK (edited = 1));
INSERT INTO token_description_migration_check
SELECT count(*) FROM sqlite_schema
WHERE type = 'table' AND name = 'audit_events'
    AND instr(sql, 'audit_events_action_known CHECK (action = ''token.updated'' OR ') > 0;
DROP TABLE token_description_migration_check;

CREATE TABLE token_description_schema_cookie (bump INTEGER) STRICT;
DROP TABLE token_description_schema_cookie;
