-- The recorded actor `leak_report` (the domain's `CreatedBy::LeakReport`): a token revoked
-- because someone reported it leaked (`POST /v1/credentials/revoke`). Its `token.revoked` event
-- records that actor, and `created_by` accepts it too, since no constraint is stricter than the
-- domain.
--
-- Each constraint is re-created as `... = 'leak_report' OR (what it held)`, read from the
-- catalogue rather than written out again here, so that this keeps whatever another migration
-- allowed (as the SQLite migration of the same name does).
DO $$
DECLARE
    target record;
    held text;
BEGIN
    FOR target IN
        SELECT * FROM (VALUES
            ('audit_events', 'audit_events_actor_known', 'actor'),
            ('api_tokens', 'api_tokens_created_by_known', 'created_by')
        ) AS t (tbl, con, col)
    LOOP
        -- `CHECK (<expression>)`: keep the parenthesised expression.
        SELECT substr(pg_get_constraintdef(oid), length('CHECK ') + 1) INTO STRICT held
        FROM pg_constraint
        WHERE conrelid = target.tbl::regclass AND conname = target.con;
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', target.tbl, target.con);
        EXECUTE format(
            'ALTER TABLE %I ADD CONSTRAINT %I CHECK (%I = %L OR %s)',
            target.tbl, target.con, target.col, 'leak_report', held
        );
    END LOOP;
END
$$;
