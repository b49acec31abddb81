// Package demo owns the demo data `make run` seeds on a fresh local
// database: the tenant acme, reachable as acme.<BASE_DOMAIN>.
package demo

import (
	"context"
	"fmt"

	"github.com/clientiq/clientiq/internal/apperr"
)

// Slug is the demo tenant's slug.
const Slug = "acme"

// Name is the demo tenant's display name.
const Name = "Acme Corporation"

// CreateTenant provisions a tenant completely: its row, its primary domain
// and its schema with every tenant migration (tenant.Service.Create does).
// A taken slug must fail with an apperr CONFLICT whose Fields name "slug".
// It is declared here, not imported, so demo depends on no other domain.
type CreateTenant func(ctx context.Context, slug, name, domain string) error

// Result says what Seed did.
type Result struct {
	Created bool
	Slug    string
	Domain  string
}

// Seed creates the demo tenant and its primary domain unless it exists.
// It is idempotent, also when run concurrently: a second call creates
// nothing. It provisions through create rather than inserting rows, because
// a tenant row without its schema breaks the next `clientiq migrate` and
// every request to the tenant.
func Seed(ctx context.Context, create CreateTenant, baseDomain string) (*Result, error) {
	domain := Slug + "." + baseDomain
	res := &Result{Slug: Slug, Domain: domain}
	err := create(ctx, Slug, Name, domain)
	if err == nil {
		res.Created = true
		return res, nil
	}
	if e := apperr.As(err); e.Code == apperr.CodeConflict && len(e.Fields["slug"]) > 0 {
		return res, nil // seeded before, or concurrently
	}
	return nil, fmt.Errorf("create demo tenant: %w", err)
}
