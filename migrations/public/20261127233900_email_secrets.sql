-- Create "email_secrets" table
CREATE TABLE "email_secrets" ("id" uuid NOT NULL, "data" jsonb NOT NULL, "created_at" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "emailsecret_expires_at" to table: "email_secrets"
CREATE INDEX "emailsecret_expires_at" ON "email_secrets" ("expires_at");
