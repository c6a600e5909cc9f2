-- Spaces are renamed and deleted (issue 15, item 4).
--
-- Deletion is soft: the row stays, with the time it was deleted, because its tokens and audit
-- events keep naming it (both through foreign keys), and the events must stay readable. A
-- deletion revokes every token of the space in the same transaction (which fires 0009's trigger,
-- so every node forgets them), and no token is added to a deleted space afterwards: the token
-- insert and the rotation lock the space row `FOR SHARE` and check `deleted_at`, which waits for
-- a deletion in progress (it holds the row `FOR NO KEY UPDATE`).
ALTER TABLE spaces ADD COLUMN deleted_at timestamptz NULL;

-- The living spaces in keyset pages (`WHERE deleted_at IS NULL AND id > $1 ORDER BY id`): the
-- predicate is written literally in those queries so that generic plans can use the index.
CREATE INDEX spaces_living_id_idx ON spaces (id) WHERE deleted_at IS NULL;

-- A space's own events (`space.renamed`, `space.deleted`) name the space and no token; every
-- other event names a token (the domain's `AuditEvent::check_subject`).
ALTER TABLE audit_events ALTER COLUMN token_id DROP NOT NULL;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_subject_known CHECK (
    (action IN ('space.renamed', 'space.deleted')) = (token_id IS NULL)
    AND (token_id IS NOT NULL OR space_id IS NOT NULL)
);

-- The two actions, re-created as `action IN (...) OR (what it held)`, read from the catalogue
-- (as 0009_token_suspension.sql does).
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
        'space.renamed', 'space.deleted', held
    );
END
$$;
