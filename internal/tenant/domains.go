package tenant

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/internal/apperr"
)

// AddDomain registers a custom domain for the tenant. Domains are unique
// across tenants: a taken one answers CONFLICT.
func (s *Service) AddDomain(ctx context.Context, slug, domain string) (*Tenant, error) {
	d, err := NormalizeDomain(domain)
	if err == nil {
		err = s.checkPlatformDomain(slug, d)
	}
	if err != nil {
		return nil, apperr.Validation("invalid domain", map[string][]string{"domain": {err.Error()}})
	}
	t, err := s.Get(ctx, slug)
	if err != nil {
		return nil, err
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO public.domains (id, domain, tenant_id, is_primary, created_at, updated_at)
		VALUES ($1, $2, $3, false, now(), now())`, uuid.New(), d, t.ID); err != nil {
		return nil, translateCreate(err)
	}
	s.invalidate(ctx, d)
	return s.Get(ctx, slug)
}

// RemoveDomain unregisters a domain. The primary domain cannot be removed
// while it is primary: set another primary first.
func (s *Service) RemoveDomain(ctx context.Context, slug, domain string) (*Tenant, error) {
	d, err := NormalizeDomain(domain)
	if err != nil {
		return nil, apperr.Validation("invalid domain", map[string][]string{"domain": {err.Error()}})
	}
	t, err := s.Get(ctx, slug)
	if err != nil {
		return nil, err
	}
	var primary bool
	err = s.pool.QueryRow(ctx, `DELETE FROM public.domains WHERE tenant_id = $1 AND domain = $2 AND NOT is_primary RETURNING false`, t.ID, d).Scan(&primary)
	if err == pgx.ErrNoRows {
		for _, x := range t.Domains {
			if x.Domain == d {
				return nil, apperr.New(apperr.CodeConflict, "cannot remove the primary domain; make another domain primary first")
			}
		}
		return nil, apperr.New(apperr.CodeNotFound, "the tenant has no such domain")
	}
	if err != nil {
		return nil, fmt.Errorf("remove domain: %w", err)
	}
	s.invalidate(ctx, d)
	return s.Get(ctx, slug)
}

// SetPrimary makes one of the tenant's domains its primary domain.
func (s *Service) SetPrimary(ctx context.Context, slug, domain string) (*Tenant, error) {
	d, err := NormalizeDomain(domain)
	if err != nil {
		return nil, apperr.Validation("invalid domain", map[string][]string{"domain": {err.Error()}})
	}
	t, err := s.Get(ctx, slug)
	if err != nil {
		return nil, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE public.domains SET is_primary = (domain = $2), updated_at = now() WHERE tenant_id = $1`, t.ID, d)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM public.domains WHERE tenant_id = $1 AND is_primary`, t.ID).Scan(&n); err != nil {
			return err
		}
		if n != 1 || tag.RowsAffected() == 0 {
			return apperr.New(apperr.CodeNotFound, "the tenant has no such domain")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.invalidateTenant(ctx, t)
	return s.Get(ctx, slug)
}

// checkPlatformDomain refuses, as a tenant's domain, the base domain itself
// (the platform) and any <label>.<BaseDomain> other than the tenant's own
// <slug>.<BaseDomain>: the resolver reads those names as slugs, so a tenant
// holding one would capture the requests of the tenant with that slug (or
// keep that slug from ever being provisioned). d must be normalized.
func (s *Service) checkPlatformDomain(slug, d string) error {
	if d == s.baseDomain {
		return errors.New("is the platform's domain")
	}
	if label, ok := strings.CutSuffix(d, "."+s.baseDomain); ok && !strings.Contains(label, ".") && label != slug {
		return fmt.Errorf("is reserved for the tenant %q; a tenant's only name under %s is its own slug", label, s.baseDomain)
	}
	return nil
}
