-- The recorded actor `cli` (the domain's `CreatedBy::Cli`): what the operator commands
-- (`tollgate space ...`, `tollgate token ...`) do on the store is recorded as done by `cli`,
-- in `created_by` and in events' `actor`.
--
-- Each constraint is re-created as `... = 'cli' OR (what it held)`, read from the catalogue
-- rather than written out again here, as 0008_leak_report.sql does, so that this keeps
-- whatever another migration allowed.
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
            target.tbl, target.con, target.col, 'cli', held
        );
    END LOOP;
END
$$;
