-- The instance admin token a platform's backend acted with when it acted for one of its
-- members (`X-Tollgate-Act-As`): NULL for every other event. No foreign key, as for token_id:
-- the log outlives a token deleted by hand.
ALTER TABLE audit_events ADD COLUMN via_token_id uuid NULL;
