// Package tenancy owns the identity of the tenant a piece of work runs for:
// the Tenant value carried in a context, the rules for slugs and schema
// names, and the explicit system context for work that belongs to no
// tenant. It imports nothing of ClientIQ's but apperr.
package tenancy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"github.com/clientiq/clientiq/internal/apperr"
)

// Status values of a tenant.
const (
	StatusActive          = "active"
	StatusSuspended       = "suspended"
	StatusPendingDeletion = "pending_deletion"
)

// Tenant is the resolved tenant of a request or job.
type Tenant struct {
	ID     uuid.UUID `json:"id"`
	Slug   string    `json:"slug"`
	Name   string    `json:"name"`
	Schema string    `json:"schema"`
	Status string    `json:"status"`
}

// Active reports whether the tenant may be served.
func (t *Tenant) Active() bool { return t.Status == StatusActive }

type tenantKey struct{}

// WithTenant returns ctx carrying t.
func WithTenant(ctx context.Context, t *Tenant) context.Context {
	return context.WithValue(ctx, tenantKey{}, t)
}

// FromContext returns the tenant in ctx, if any.
func FromContext(ctx context.Context) (*Tenant, bool) {
	t, ok := ctx.Value(tenantKey{}).(*Tenant)
	return t, ok && t != nil
}

// ErrNoTenant is returned when tenant data is reached without a tenant in
// the context: never "all tenants", never the public schema.
var ErrNoTenant = apperr.New(apperr.CodeTenantNotFound, "this operation needs a tenant (use the tenant's domain or the X-Tenant header)")

// Require returns the tenant in ctx or ErrNoTenant.
func Require(ctx context.Context) (*Tenant, error) {
	t, ok := FromContext(ctx)
	if !ok {
		return nil, ErrNoTenant
	}
	return t, nil
}

// reserved slugs would clash with platform hosts or PostgreSQL's own names.
var reserved = map[string]bool{
	"www": true, "api": true, "admin": true, "app": true, "public": true, "static": true, "mail": true,
	"assets": true, "cdn": true, "auth": true, "billing": true, "status": true, "docs": true,
	"help": true, "support": true, "smtp": true, "ftp": true, "dashboard": true, "platform": true,
	"information_schema": true, "river": true, "localhost": true,
}

var slugRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// ValidateSlug checks that slug is a lowercase DNS label of 3–63 characters
// that is not reserved. The error is a VALIDATION_ERROR naming field.
func ValidateSlug(field, slug string) error {
	fe := apperr.FieldErrors{}
	switch {
	case len(slug) < 3 || len(slug) > 63:
		fe.Add(field, "must be 3 to 63 characters long")
	case !slugRE.MatchString(slug):
		fe.Add(field, "must be lowercase letters, digits and hyphens, starting and ending with a letter or digit")
	case reserved[slug] || strings.HasPrefix(slug, "pg_") || strings.HasPrefix(slug, "pg-") || strings.HasPrefix(slug, "xn--"):
		fe.Add(field, "is reserved")
	}
	return fe.Err()
}

// schemaRE is what every tenant schema name matches; anything else is
// refused before it reaches SQL.
var schemaRE = regexp.MustCompile(`^tenant_[a-z0-9_]{1,56}$`)

// SchemaName returns the PostgreSQL schema for slug: tenant_<slug> with
// hyphens as underscores (slugs have no underscores, so this is one-to-one),
// shortened with a hash when it would reach PostgreSQL's 63-byte limit.
//
// Plain names are at most 62 bytes and hashed names exactly 63, so a slug
// that spells out another slug's hashed name ("<47 chars>-<hash>", 56
// characters) cannot land on the same schema.
func SchemaName(slug string) string {
	s := "tenant_" + strings.ReplaceAll(slug, "-", "_")
	if len(s) < 63 {
		return s
	}
	sum := sha256.Sum256([]byte(slug))
	return s[:54] + "_" + hex.EncodeToString(sum[:4])
}

// ValidSchema reports whether name is a tenant schema name ClientIQ made.
func ValidSchema(name string) bool { return len(name) <= 63 && schemaRE.MatchString(name) }

// CheckSchema returns an error unless name is a valid tenant schema name.
func CheckSchema(name string) error {
	if !ValidSchema(name) {
		return fmt.Errorf("tenancy: %q is not a tenant schema name", name)
	}
	return nil
}
