// Package demo owns the demo data `make run` seeds on a fresh local
// database: the tenant acme, reachable as acme.<BASE_DOMAIN>.
package demo

import (
	"context"
	"fmt"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/ent/tenant"
	"github.com/clientiq/clientiq/internal/db"
)

// Slug is the demo tenant's slug.
const Slug = "acme"

// Result says what Seed did.
type Result struct {
	Created bool
	Slug    string
	Domain  string
}

// Seed creates the demo tenant and its primary domain unless it exists.
// It is idempotent: a second call creates nothing.
func Seed(ctx context.Context, client *ent.Client, baseDomain string) (*Result, error) {
	domain := Slug + "." + baseDomain
	res := &Result{Slug: Slug, Domain: domain}
	exists, err := client.Tenant.Query().Where(tenant.Slug(Slug)).Exist(ctx)
	if err != nil {
		return nil, fmt.Errorf("look up demo tenant: %w", err)
	}
	if exists {
		return res, nil
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin seed: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	t, err := tx.Tenant.Create().SetSlug(Slug).SetName("Acme Corporation").SetSchemaName("tenant_" + Slug).Save(ctx)
	if err != nil {
		if db.HasCode(err, db.CodeUniqueViolation) {
			return res, nil // seeded concurrently
		}
		return nil, fmt.Errorf("create demo tenant: %w", err)
	}
	if _, err := tx.Domain.Create().SetDomain(domain).SetTenant(t).SetIsPrimary(true).Save(ctx); err != nil {
		return nil, fmt.Errorf("create demo domain: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit seed: %w", err)
	}
	res.Created = true
	return res, nil
}
