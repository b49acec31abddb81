-- Seed the four standard plans. Prices are in minor units (cents); NULL
-- limits are unlimited. Staff edit plans afterwards; this runs once.
INSERT INTO "plans" ("id", "created_at", "updated_at", "code", "name", "description", "currency", "price_monthly", "price_yearly", "trial_days", "max_seats", "max_projects", "max_data_items", "features", "active", "sort_order") VALUES
  (gen_random_uuid(), now(), now(), 'free', 'Free', 'For trying ClientIQ with a small team.', 'USD', 0, 0, 0, 3, 3, 1000, '["projects"]', true, 10),
  (gen_random_uuid(), now(), now(), 'starter', 'Starter', 'For growing teams.', 'USD', 1900, 19000, 14, 10, 25, 50000, '["projects", "api_access"]', true, 20),
  (gen_random_uuid(), now(), now(), 'pro', 'Pro', 'For established teams that need an audit trail.', 'USD', 4900, 49000, 14, 50, 250, 1000000, '["projects", "api_access", "audit_log", "priority_support"]', true, 30),
  (gen_random_uuid(), now(), now(), 'enterprise', 'Enterprise', 'Unlimited use, single sign-on and custom domains.', 'USD', 19900, 199000, 30, NULL, NULL, NULL, '["projects", "api_access", "audit_log", "priority_support", "sso", "custom_domains"]', true, 40)
ON CONFLICT ("code") DO NOTHING;
