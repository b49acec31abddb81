-- Create "projects" table
CREATE TABLE "projects" ("id" uuid NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "description" character varying NOT NULL DEFAULT '', "status" character varying NOT NULL DEFAULT 'active', "owner_id" uuid NULL, PRIMARY KEY ("id"));
-- Create index "project_created_at" to table: "projects"
CREATE INDEX "project_created_at" ON "projects" ("created_at");
-- Create index "project_name" to table: "projects"
CREATE INDEX "project_name" ON "projects" ("name");
-- Create index "project_owner_id" to table: "projects"
CREATE INDEX "project_owner_id" ON "projects" ("owner_id");
-- Create "data_items" table
CREATE TABLE "data_items" ("id" uuid NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "title" character varying NOT NULL, "attributes" jsonb NULL, "tags" jsonb NULL, "project_id" uuid NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "data_items_projects_items" FOREIGN KEY ("project_id") REFERENCES "projects" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "dataitem_project_id_created_at" to table: "data_items"
CREATE INDEX "dataitem_project_id_created_at" ON "data_items" ("project_id", "created_at");
