-- Create "tenants" table
CREATE TABLE "tenants" ("id" uuid NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "slug" character varying NOT NULL, "name" character varying NOT NULL, "schema_name" character varying NOT NULL, "status" character varying NOT NULL DEFAULT 'active', "deletion_requested_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "tenant_schema_name" to table: "tenants"
CREATE UNIQUE INDEX "tenant_schema_name" ON "tenants" ("schema_name");
-- Create index "tenant_slug" to table: "tenants"
CREATE UNIQUE INDEX "tenant_slug" ON "tenants" ("slug");
-- Create "domains" table
CREATE TABLE "domains" ("id" uuid NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "domain" character varying NOT NULL, "is_primary" boolean NOT NULL DEFAULT false, "tenant_id" uuid NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "domains_tenants_domains" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "domain_domain" to table: "domains"
CREATE UNIQUE INDEX "domain_domain" ON "domains" ("domain");
