-- Create "refresh_tokens" table
CREATE TABLE "refresh_tokens" ("id" uuid NOT NULL, "token_hash" bytea NOT NULL, "family_id" uuid NOT NULL, "user_id" uuid NOT NULL, "tenant_id" uuid NULL, "actor_id" uuid NULL, "created_at" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, "consumed_at" timestamptz NULL, "replaced_by" uuid NULL, "revoked_at" timestamptz NULL, "user_agent" character varying NOT NULL DEFAULT '', "ip" character varying NOT NULL DEFAULT '', PRIMARY KEY ("id"));
-- Create index "refreshtoken_expires_at" to table: "refresh_tokens"
CREATE INDEX "refreshtoken_expires_at" ON "refresh_tokens" ("expires_at");
-- Create index "refreshtoken_family_id" to table: "refresh_tokens"
CREATE INDEX "refreshtoken_family_id" ON "refresh_tokens" ("family_id");
-- Create index "refreshtoken_token_hash" to table: "refresh_tokens"
CREATE UNIQUE INDEX "refreshtoken_token_hash" ON "refresh_tokens" ("token_hash");
-- Create index "refreshtoken_user_id" to table: "refresh_tokens"
CREATE INDEX "refreshtoken_user_id" ON "refresh_tokens" ("user_id");
-- Create "users" table
CREATE TABLE "users" ("id" uuid NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "email" character varying NOT NULL, "password_hash" character varying NULL, "name" character varying NOT NULL DEFAULT '', "locale" character varying NOT NULL DEFAULT 'en', "is_staff" boolean NOT NULL DEFAULT false, "email_verified_at" timestamptz NULL, "disabled_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "user_email" to table: "users"
CREATE UNIQUE INDEX "user_email" ON "users" ("email");
-- Create "user_tokens" table
CREATE TABLE "user_tokens" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "purpose" character varying NOT NULL, "token_hash" bytea NOT NULL, "created_at" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, "used_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "usertoken_expires_at" to table: "user_tokens"
CREATE INDEX "usertoken_expires_at" ON "user_tokens" ("expires_at");
-- Create index "usertoken_token_hash" to table: "user_tokens"
CREATE UNIQUE INDEX "usertoken_token_hash" ON "user_tokens" ("token_hash");
-- Create index "usertoken_user_id_purpose" to table: "user_tokens"
CREATE INDEX "usertoken_user_id_purpose" ON "user_tokens" ("user_id", "purpose");
