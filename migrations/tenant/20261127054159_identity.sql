-- Create "audit_events" table
CREATE TABLE "audit_events" ("id" uuid NOT NULL, "action" character varying NOT NULL, "actor_id" uuid NULL, "impersonator_id" uuid NULL, "target_type" character varying NOT NULL DEFAULT '', "target_id" character varying NOT NULL DEFAULT '', "ip" character varying NOT NULL DEFAULT '', "user_agent" character varying NOT NULL DEFAULT '', "metadata" jsonb NULL, "created_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "auditevent_action_created_at" to table: "audit_events"
CREATE INDEX "auditevent_action_created_at" ON "audit_events" ("action", "created_at");
-- Create index "auditevent_created_at" to table: "audit_events"
CREATE INDEX "auditevent_created_at" ON "audit_events" ("created_at");
-- Create "invitations" table
CREATE TABLE "invitations" ("id" uuid NOT NULL, "email" character varying NOT NULL, "role" character varying NOT NULL, "token_hash" bytea NOT NULL, "invited_by" uuid NULL, "created_at" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, "accepted_at" timestamptz NULL, "revoked_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "invitation_email" to table: "invitations"
CREATE INDEX "invitation_email" ON "invitations" ("email");
-- Create index "invitation_token_hash" to table: "invitations"
CREATE UNIQUE INDEX "invitation_token_hash" ON "invitations" ("token_hash");
-- Create "members" table
CREATE TABLE "members" ("id" uuid NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "user_id" uuid NOT NULL, "status" character varying NOT NULL DEFAULT 'active', "joined_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "member_user_id" to table: "members"
CREATE UNIQUE INDEX "member_user_id" ON "members" ("user_id");
-- Create "roles" table
CREATE TABLE "roles" ("id" uuid NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "description" character varying NOT NULL DEFAULT '', "permissions" jsonb NOT NULL, "builtin" boolean NOT NULL DEFAULT false, PRIMARY KEY ("id"));
-- Create index "role_name" to table: "roles"
CREATE UNIQUE INDEX "role_name" ON "roles" ("name");
-- Create "member_roles" table
CREATE TABLE "member_roles" ("member_id" uuid NOT NULL, "role_id" uuid NOT NULL, PRIMARY KEY ("member_id", "role_id"), CONSTRAINT "member_roles_member_id" FOREIGN KEY ("member_id") REFERENCES "members" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "member_roles_role_id" FOREIGN KEY ("role_id") REFERENCES "roles" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
