-- Viewer cache invalidation (internal/viewercache): any change to the
-- tenant's members, their roles or the roles' permissions notifies every
-- ClientIQ process at commit, on channel clientiq_authz with the payload
-- "t:<schema>" (the schema's name when the trigger fires, so a schema
-- renamed out of the warm pool reports its tenant's name).
CREATE FUNCTION "authz_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('clientiq_authz', 't:' || TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$;
CREATE TRIGGER "members_authz" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "members"
  FOR EACH STATEMENT EXECUTE FUNCTION "authz_changed"();
CREATE TRIGGER "member_roles_authz" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "member_roles"
  FOR EACH STATEMENT EXECUTE FUNCTION "authz_changed"();
CREATE TRIGGER "roles_authz" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "roles"
  FOR EACH STATEMENT EXECUTE FUNCTION "authz_changed"();
