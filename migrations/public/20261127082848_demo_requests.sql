-- Create "demo_requests" table
CREATE TABLE "demo_requests" ("id" uuid NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "email" character varying NOT NULL, "company" character varying NOT NULL, "job_title" character varying NOT NULL DEFAULT '', "phone" character varying NOT NULL DEFAULT '', "company_size" character varying NOT NULL DEFAULT '', "message" text NOT NULL DEFAULT '', "locale" character varying NOT NULL DEFAULT 'en', "status" character varying NOT NULL DEFAULT 'new', "handled_by" uuid NULL, "notes" text NOT NULL DEFAULT '', "source_ip" character varying NOT NULL DEFAULT '', "user_agent" character varying NOT NULL DEFAULT '', PRIMARY KEY ("id"));
-- Create index "demorequest_created_at" to table: "demo_requests"
CREATE INDEX "demorequest_created_at" ON "demo_requests" ("created_at");
-- Create index "demorequest_email" to table: "demo_requests"
CREATE INDEX "demorequest_email" ON "demo_requests" ("email");
-- Create index "demorequest_status_created_at" to table: "demo_requests"
CREATE INDEX "demorequest_status_created_at" ON "demo_requests" ("status", "created_at");
