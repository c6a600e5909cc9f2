-- Updating a token (issue 15, item 1): a token may carry a description (the domain's
-- `TokenDescription`: 1 to 500 characters after trimming, no control characters), and a
-- `token.updated` event records which fields changed, as `changed_fields`: the field names
-- separated by commas (`name,expires_at`), NULL for every other action. The constraints are
-- never stricter than the domain.
ALTER TABLE api_tokens ADD COLUMN description text NULL
    CONSTRAINT api_tokens_description_length CHECK (
        description IS NULL OR char_length(description) BETWEEN 1 AND 500
    );

ALTER TABLE audit_events ADD COLUMN changed_fields text NULL;

-- A changed expiry already notifies every node (the `api_tokens_notify_changed` trigger of
-- 0009 fires on `expires_at`). A new name or description changes no token's validity.

-- The action `token.updated`: the constraint is re-created as `action = 'token.updated' OR
-- (what it held)`, read from the catalogue (as 0009_token_suspension.sql does).
DO $$
DECLARE
    held text;
BEGIN
    SELECT substr(pg_get_constraintdef(oid), length('CHECK ') + 1) INTO STRICT held
    FROM pg_constraint
    WHERE conrelid = 'audit_events'::regclass AND conname = 'audit_events_action_known';
    ALTER TABLE audit_events DROP CONSTRAINT audit_events_action_known;
    EXECUTE format(
        'ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_known CHECK (action = %L OR %s)',
        'token.updated', held
    );
END
$$;
