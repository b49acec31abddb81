-- Create "schema_versions" table
CREATE TABLE "schema_versions" ("schema_name" character varying NOT NULL, "version" character varying NOT NULL, "updated_at" timestamptz NOT NULL, PRIMARY KEY ("schema_name"));
