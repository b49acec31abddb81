// Package demo owns the demo data `make run` seeds on a fresh local
// database: the tenant acme, reachable as acme.<BASE_DOMAIN>, with an owner
// account whose password is generated and printed once.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/clientiq/clientiq/internal/apperr"
)

// The demo tenant and its owner.
const (
	Slug      = "acme"
	Name      = "Acme Corporation"
	OwnerName = "Ada Owner"
)

// Owner is a self-service signup: a user who creates a tenant it owns.
type Owner struct {
	Email, Password, Name  string
	TenantName, TenantSlug string
}

// SignupOwner creates the user, the tenant (row, domain, schema) and the
// owner membership in one transaction (auth.Service.Signup does). A taken
// slug must fail with an apperr CONFLICT whose Fields name "tenantSlug".
// It is declared here, not imported, so demo depends on no other domain.
type SignupOwner func(ctx context.Context, o Owner) error

// Result says what Seed did.
type Result struct {
	Created bool
	Slug    string
	Domain  string
	// OwnerEmail and OwnerPassword are set only when Created: the password
	// exists nowhere else (only its hash is stored).
	OwnerEmail    string
	OwnerPassword string
}

// Seed creates the demo tenant with its owner unless the tenant exists. It
// is idempotent, also when run concurrently: a second call creates nothing.
func Seed(ctx context.Context, signup SignupOwner, baseDomain string) (*Result, error) {
	res := &Result{Slug: Slug, Domain: Slug + "." + baseDomain}
	o := Owner{
		Email:      "owner@" + Slug + "." + baseDomain,
		Password:   randomPassword(),
		Name:       OwnerName,
		TenantName: Name,
		TenantSlug: Slug,
	}
	err := signup(ctx, o)
	if err == nil {
		res.Created, res.OwnerEmail, res.OwnerPassword = true, o.Email, o.Password
		return res, nil
	}
	if e := apperr.As(err); e.Code == apperr.CodeConflict && (len(e.Fields["tenantSlug"]) > 0 || len(e.Fields["email"]) > 0) {
		return res, nil // seeded before, or concurrently
	}
	return nil, fmt.Errorf("seed demo tenant: %w", err)
}

// randomPassword returns 18 random bytes as 24 URL-safe characters.
func randomPassword() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
