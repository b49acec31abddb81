package tenant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/tenancy"
)

var errTenantNotFound = apperr.New(apperr.CodeNotFound, "no such tenant")

// Get returns the tenant with slug and its domains.
func (s *Service) Get(ctx context.Context, slug string) (*Tenant, error) {
	ts, err := s.query(ctx, "WHERE t.slug = $1", slug)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, errTenantNotFound
	}
	return ts[0], nil
}

// List returns every tenant, oldest first.
func (s *Service) List(ctx context.Context) ([]*Tenant, error) {
	return s.query(ctx, "")
}

func (s *Service) query(ctx context.Context, where string, args ...any) ([]*Tenant, error) {
	rows, err := s.pool.Query(ctx, `SELECT t.id, t.slug, t.name, t.schema_name, t.status, t.deletion_requested_at, t.created_at,
		coalesce(array_agg(d.domain ORDER BY d.is_primary DESC, d.domain) FILTER (WHERE d.domain IS NOT NULL), '{}'),
		coalesce(array_agg(d.is_primary ORDER BY d.is_primary DESC, d.domain) FILTER (WHERE d.domain IS NOT NULL), '{}')
		FROM public.tenants t LEFT JOIN public.domains d ON d.tenant_id = t.id `+where+`
		GROUP BY t.id ORDER BY t.created_at, t.slug`, args...)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	defer rows.Close()
	var out []*Tenant
	for rows.Next() {
		t := &Tenant{}
		var domains []string
		var primary []bool
		if err := rows.Scan(&t.ID, &t.Slug, &t.Name, &t.Schema, &t.Status, &t.DeletionRequestedAt, &t.CreatedAt, &domains, &primary); err != nil {
			return nil, fmt.Errorf("list tenants: %w", err)
		}
		t.Domains = make([]Domain, len(domains))
		for i := range domains {
			t.Domains[i] = Domain{Domain: domains[i], IsPrimary: primary[i]}
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return out, nil
}

// Suspend stops serving the tenant: requests answer TENANT_SUSPENDED.
func (s *Service) Suspend(ctx context.Context, slug string) (*Tenant, error) {
	return s.setStatus(ctx, slug, tenancy.StatusSuspended, []string{tenancy.StatusActive})
}

// Reactivate serves a suspended tenant again.
func (s *Service) Reactivate(ctx context.Context, slug string) (*Tenant, error) {
	return s.setStatus(ctx, slug, tenancy.StatusActive, []string{tenancy.StatusSuspended})
}

// Delete marks the tenant pending_deletion: requests are refused at once,
// and a purge job, enqueued in the same transaction, drops its schema once
// the grace period has passed. It returns when the purge becomes due.
func (s *Service) Delete(ctx context.Context, slug string) (*Tenant, time.Time, error) {
	if s.jobs == nil {
		return nil, time.Time{}, errors.New("delete tenant: no job inserter configured")
	}
	var requested time.Time
	var id uuid.UUID
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE public.tenants SET status = 'pending_deletion', updated_at = now(),
			deletion_requested_at = coalesce(deletion_requested_at, now())
			WHERE slug = $1 AND status IN ('active', 'suspended', 'pending_deletion')
			RETURNING id, deletion_requested_at`, slug).Scan(&id, &requested)
		if errors.Is(err, pgx.ErrNoRows) {
			return errTenantNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE public.refresh_tokens SET revoked_at = now()
			WHERE tenant_id = $1 AND revoked_at IS NULL`, id); err != nil {
			return err
		}
		_, err = s.jobs.InsertTx(ctx, tx, PurgeArgs{Slug: slug}, &river.InsertOpts{ScheduledAt: requested.Add(s.grace)})
		return err
	})
	if err != nil {
		if errors.Is(err, errTenantNotFound) {
			return nil, time.Time{}, err
		}
		return nil, time.Time{}, fmt.Errorf("delete tenant %s: %w", slug, err)
	}
	t, err := s.Get(ctx, slug)
	if err != nil {
		return nil, time.Time{}, err
	}
	s.invalidateTenant(ctx, t)
	s.logger.InfoContext(ctx, "tenant_deletion_requested", slog.String("tenant", slug))
	return t, requested.Add(s.grace), nil
}

// Restore brings back a tenant pending deletion within the grace period.
func (s *Service) Restore(ctx context.Context, slug string) (*Tenant, error) {
	return s.setStatus(ctx, slug, tenancy.StatusActive, []string{tenancy.StatusPendingDeletion})
}

func (s *Service) setStatus(ctx context.Context, slug, to string, from []string) (*Tenant, error) {
	var affected int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id uuid.UUID
		err := tx.QueryRow(ctx, `UPDATE public.tenants SET status = $2::text, updated_at = now(),
			deletion_requested_at = CASE WHEN $2::text = 'pending_deletion' THEN now() ELSE NULL END
			WHERE slug = $1 AND status = ANY($3) RETURNING id`, slug, to, from).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		affected = 1
		if to == tenancy.StatusActive {
			return nil
		}
		// A suspended tenant's sessions end now, not when they expire.
		_, err = tx.Exec(ctx, `UPDATE public.refresh_tokens SET revoked_at = now()
			WHERE tenant_id = $1 AND revoked_at IS NULL`, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("set tenant %s %s: %w", slug, to, err)
	}
	t, err := s.Get(ctx, slug)
	if err != nil {
		return nil, err
	}
	if affected == 0 {
		if t.Status == to {
			return t, nil // already there: idempotent
		}
		return nil, apperr.New(apperr.CodeConflict, fmt.Sprintf("tenant %s is %s; cannot become %s", slug, t.Status, to))
	}
	s.invalidateTenant(ctx, t)
	s.logger.InfoContext(ctx, "tenant_status_changed", slog.String("tenant", slug), slog.String("status", to))
	return t, nil
}

// Purge drops the schema and rows of a tenant whose grace period has
// passed. It does nothing (and says so) for a tenant that was restored or
// whose grace period is still running.
func (s *Service) Purge(ctx context.Context, slug string, now time.Time) (bool, error) {
	t, err := s.Get(ctx, slug)
	if errors.Is(err, errTenantNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if t.Status != tenancy.StatusPendingDeletion || t.DeletionRequestedAt == nil || now.Before(t.DeletionRequestedAt.Add(s.grace)) {
		return false, nil
	}
	if err := tenancy.CheckSchema(t.Schema); err != nil {
		return false, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Re-check under a row lock: a restore may have raced us.
		var status string
		var requested *time.Time
		if err := tx.QueryRow(ctx, "SELECT status, deletion_requested_at FROM public.tenants WHERE id = $1 FOR UPDATE", t.ID).
			Scan(&status, &requested); err != nil {
			return err
		}
		// Restored, or restored and deleted again with a new grace period.
		if status != tenancy.StatusPendingDeletion || requested == nil || now.Before(requested.Add(s.grace)) {
			return errRestored
		}
		if _, err := tx.Exec(ctx, "DROP SCHEMA IF EXISTS "+db.QuoteIdent(t.Schema)+" CASCADE"); err != nil {
			return err
		}
		for _, q := range []string{
			"DELETE FROM public.schema_versions WHERE schema_name = $1",
		} {
			if _, err := tx.Exec(ctx, q, t.Schema); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "DELETE FROM public.domains WHERE tenant_id = $1", t.ID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "DELETE FROM public.tenants WHERE id = $1", t.ID)
		return err
	})
	if errors.Is(err, errRestored) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("purge tenant %s: %w", slug, err)
	}
	s.invalidateTenant(ctx, t)
	s.logger.InfoContext(ctx, "tenant_purged", slog.String("tenant", slug), slog.String("schema", t.Schema))
	return true, nil
}

var errRestored = errors.New("tenant restored")
