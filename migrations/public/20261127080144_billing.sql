-- Create "invoices" table
CREATE TABLE "invoices" ("id" uuid NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "tenant_id" uuid NOT NULL, "subscription_id" uuid NULL, "number" character varying NOT NULL, "status" character varying NOT NULL DEFAULT 'open', "currency" character varying NOT NULL, "subtotal" bigint NOT NULL, "total" bigint NOT NULL, "period_start" timestamptz NULL, "period_end" timestamptz NULL, "due_at" timestamptz NULL, "paid_at" timestamptz NULL, "failure_reason" character varying NOT NULL DEFAULT '', PRIMARY KEY ("id"));
-- Create index "invoice_number" to table: "invoices"
CREATE UNIQUE INDEX "invoice_number" ON "invoices" ("number");
-- Create index "invoice_status" to table: "invoices"
CREATE INDEX "invoice_status" ON "invoices" ("status");
-- Create index "invoice_tenant_id_created_at" to table: "invoices"
CREATE INDEX "invoice_tenant_id_created_at" ON "invoices" ("tenant_id", "created_at");
-- Create "sandbox_charges" table
CREATE TABLE "sandbox_charges" ("id" uuid NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "idempotency_key" character varying NOT NULL, "reference" character varying NOT NULL DEFAULT '', "amount" bigint NOT NULL, "currency" character varying NOT NULL, "payment_method" character varying NOT NULL, "outcome" character varying NOT NULL, "requests" bigint NOT NULL DEFAULT 1, PRIMARY KEY ("id"));
-- Create index "sandboxcharge_idempotency_key" to table: "sandbox_charges"
CREATE UNIQUE INDEX "sandboxcharge_idempotency_key" ON "sandbox_charges" ("idempotency_key");
-- Create index "sandboxcharge_reference" to table: "sandbox_charges"
CREATE INDEX "sandboxcharge_reference" ON "sandbox_charges" ("reference");
-- Create "webhook_events" table
CREATE TABLE "webhook_events" ("id" uuid NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "provider" character varying NOT NULL, "event_id" character varying NOT NULL, "type" character varying NOT NULL, "event_created_at" timestamptz NOT NULL, "payload" bytea NOT NULL, "processed_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "webhookevent_provider_event_id" to table: "webhook_events"
CREATE UNIQUE INDEX "webhookevent_provider_event_id" ON "webhook_events" ("provider", "event_id");
-- Create "invoice_lines" table
CREATE TABLE "invoice_lines" ("id" uuid NOT NULL, "kind" character varying NOT NULL, "description" character varying NOT NULL, "quantity" bigint NOT NULL DEFAULT 1, "unit_amount" bigint NOT NULL, "amount" bigint NOT NULL, "position" bigint NOT NULL DEFAULT 0, "invoice_id" uuid NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "invoice_lines_invoices_lines" FOREIGN KEY ("invoice_id") REFERENCES "invoices" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create "payments" table
CREATE TABLE "payments" ("id" uuid NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "tenant_id" uuid NOT NULL, "amount" bigint NOT NULL, "currency" character varying NOT NULL, "status" character varying NOT NULL DEFAULT 'pending', "idempotency_key" character varying NOT NULL, "provider" character varying NOT NULL, "provider_charge_id" character varying NOT NULL DEFAULT '', "failure_code" character varying NOT NULL DEFAULT '', "failure_reason" character varying NOT NULL DEFAULT '', "attempts" bigint NOT NULL DEFAULT 0, "processed_at" timestamptz NULL, "invoice_id" uuid NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "payments_invoices_payments" FOREIGN KEY ("invoice_id") REFERENCES "invoices" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- Create index "payment_idempotency_key" to table: "payments"
CREATE UNIQUE INDEX "payment_idempotency_key" ON "payments" ("idempotency_key");
-- Create index "payment_tenant_id_created_at" to table: "payments"
CREATE INDEX "payment_tenant_id_created_at" ON "payments" ("tenant_id", "created_at");
-- Create "plans" table
CREATE TABLE "plans" ("id" uuid NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "code" character varying NOT NULL, "name" character varying NOT NULL, "description" character varying NOT NULL DEFAULT '', "currency" character varying NOT NULL DEFAULT 'USD', "price_monthly" bigint NOT NULL, "price_yearly" bigint NOT NULL, "trial_days" bigint NOT NULL DEFAULT 0, "max_seats" bigint NULL, "max_projects" bigint NULL, "max_data_items" bigint NULL, "features" jsonb NULL, "active" boolean NOT NULL DEFAULT true, "sort_order" bigint NOT NULL DEFAULT 0, PRIMARY KEY ("id"));
-- Create index "plan_code" to table: "plans"
CREATE UNIQUE INDEX "plan_code" ON "plans" ("code");
-- Create "subscriptions" table
CREATE TABLE "subscriptions" ("id" uuid NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "tenant_id" uuid NOT NULL, "interval" character varying NOT NULL DEFAULT 'month', "status" character varying NOT NULL, "trial_ends_at" timestamptz NULL, "current_period_start" timestamptz NOT NULL, "current_period_end" timestamptz NOT NULL, "cancel_at_period_end" boolean NOT NULL DEFAULT false, "canceled_at" timestamptz NULL, "past_due_since" timestamptz NULL, "provider" character varying NOT NULL DEFAULT 'sandbox', "provider_customer_id" character varying NOT NULL DEFAULT '', "payment_method" character varying NOT NULL DEFAULT '', "plan_id" uuid NOT NULL, "scheduled_plan_id" uuid NULL, PRIMARY KEY ("id"), CONSTRAINT "subscriptions_plans_plan" FOREIGN KEY ("plan_id") REFERENCES "plans" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "subscriptions_plans_scheduled_plan" FOREIGN KEY ("scheduled_plan_id") REFERENCES "plans" ("id") ON UPDATE NO ACTION ON DELETE SET NULL);
-- Create index "subscription_status_current_period_end" to table: "subscriptions"
CREATE INDEX "subscription_status_current_period_end" ON "subscriptions" ("status", "current_period_end");
-- Create index "subscription_tenant_id" to table: "subscriptions"
CREATE UNIQUE INDEX "subscription_tenant_id" ON "subscriptions" ("tenant_id");
