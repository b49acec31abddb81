-- Viewer cache invalidation (internal/viewercache): a change that can
-- narrow a user's rights notifies every ClientIQ process at commit, on
-- channel clientiq_authz with the payload "u:<user id>". TG_ARGV[0] names
-- the column holding the user id.
CREATE FUNCTION "clientiq_authz_user_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('clientiq_authz', 'u:' || (to_jsonb(OLD) ->> TG_ARGV[0]));
  RETURN NULL;
END
$$;
-- A user disabled, made or unmade staff, renamed by email, or deleted.
CREATE TRIGGER "users_authz_update" AFTER UPDATE ON "users" FOR EACH ROW
  WHEN (OLD.is_staff IS DISTINCT FROM NEW.is_staff OR OLD.disabled_at IS DISTINCT FROM NEW.disabled_at OR OLD.email IS DISTINCT FROM NEW.email)
  EXECUTE FUNCTION "clientiq_authz_user_changed"('id');
CREATE TRIGGER "users_authz_delete" AFTER DELETE ON "users" FOR EACH ROW
  EXECUTE FUNCTION "clientiq_authz_user_changed"('id');
-- A session (refresh-token family) revoked: logout, logout everywhere,
-- password change or reset, refresh-token reuse, suspension.
CREATE TRIGGER "refresh_tokens_authz_revoke" AFTER UPDATE ON "refresh_tokens" FOR EACH ROW
  WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at)
  EXECUTE FUNCTION "clientiq_authz_user_changed"('user_id');
