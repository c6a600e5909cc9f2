-- Cross-node revocation: every node LISTENs on `tollgate_token_revoked` and drops the token from
-- its verification cache. A trigger (rather than the adapter's UPDATE) sends the notification,
-- so a revocation made by any writer, even by hand, reaches every node. Notifications are
-- delivered when the transaction commits, never for a revocation that rolled back.
CREATE FUNCTION tollgate_notify_token_revoked() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify('tollgate_token_revoked', OLD.id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER api_tokens_notify_revoked
    AFTER UPDATE OF revoked_at ON api_tokens
    FOR EACH ROW
    WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at)
    EXECUTE FUNCTION tollgate_notify_token_revoked();

CREATE TRIGGER api_tokens_notify_deleted
    AFTER DELETE ON api_tokens
    FOR EACH ROW
    EXECUTE FUNCTION tollgate_notify_token_revoked();
