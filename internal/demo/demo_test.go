package demo_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/demo"
	"github.com/clientiq/clientiq/internal/tenant"
)

const baseDomain = "clientiq.test"

// provisioner returns the production CreateTenant (tenant.Service.Create)
// on pool.
func provisioner(t *testing.T, pool *pgxpool.Pool) demo.CreateTenant {
	t.Helper()
	svc, err := tenant.NewService(tenant.Config{
		Pool:       pool,
		Cache:      cache.NewMemory(0),
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		BaseDomain: baseDomain,
	})
	require.NoError(t, err)
	return func(ctx context.Context, slug, name, domain string) error {
		_, err := svc.Create(ctx, tenant.CreateInput{Slug: slug, Name: name, Domain: domain})
		return err
	}
}

// seeded is the demo data as it is in the database.
type seeded struct {
	tenants    int
	domains    int
	slug       string
	domain     string
	isPrimary  bool
	schemaDone bool
}

func readSeeded(t *testing.T, pool *pgxpool.Pool) seeded {
	t.Helper()
	ctx := context.Background()
	var s seeded
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM public.tenants").Scan(&s.tenants))
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM public.domains").Scan(&s.domains))
	if s.tenants == 1 && s.domains == 1 {
		require.NoError(t, pool.QueryRow(ctx, `SELECT t.slug, d.domain, d.is_primary,
				EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = t.schema_name)
					AND EXISTS (SELECT 1 FROM public.schema_versions v WHERE v.schema_name = t.schema_name)
			FROM public.domains d JOIN public.tenants t ON t.id = d.tenant_id`).
			Scan(&s.slug, &s.domain, &s.isPrimary, &s.schemaDone))
	}
	return s
}

// wantSeeded is the database after a successful seed: one tenant, its
// primary domain, and its schema provisioned and migrated.
var wantSeeded = seeded{tenants: 1, domains: 1, slug: "acme", domain: "acme." + baseDomain, isPrimary: true, schemaDone: true}

func TestSeed(t *testing.T) {
	t.Parallel()

	t.Run("creates acme with its primary domain and schema once", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		db := dbtest.New(t)
		create := provisioner(t, db.Pool)

		first, err := demo.Seed(ctx, create, baseDomain)
		require.NoError(t, err)
		second, err := demo.Seed(ctx, create, baseDomain)
		require.NoError(t, err)

		require.Equal(t, &demo.Result{Created: true, Slug: demo.Slug, Domain: "acme." + baseDomain}, first)
		require.Equal(t, &demo.Result{Created: false, Slug: demo.Slug, Domain: "acme." + baseDomain}, second)
		require.Equal(t, wantSeeded, readSeeded(t, db.Pool))
	})

	t.Run("concurrent seeds create one tenant without error", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		db := dbtest.New(t)
		create := provisioner(t, db.Pool)

		const seeders = 5
		results := make([]*demo.Result, seeders)
		errs := make([]error, seeders)
		var wg sync.WaitGroup
		for i := range seeders {
			wg.Go(func() { results[i], errs[i] = demo.Seed(ctx, create, baseDomain) })
		}
		wg.Wait()

		created := 0
		for i := range seeders {
			require.NoError(t, errs[i], "seeder %d", i)
			if results[i].Created {
				created++
			}
		}
		require.Equal(t, 1, created, "exactly one seeder reports creating the tenant")
		require.Equal(t, wantSeeded, readSeeded(t, db.Pool))
	})

	t.Run("a domain taken by another tenant is an error, not success", func(t *testing.T) {
		t.Parallel()
		conflict := apperr.New(apperr.CodeConflict, "a tenant with this domain already exists")
		conflict.Fields = map[string][]string{"domain": {"is already used by a tenant"}}

		res, err := demo.Seed(context.Background(), func(context.Context, string, string, string) error {
			return conflict
		}, baseDomain)

		require.ErrorIs(t, err, conflict)
		require.Nil(t, res)
	})

	t.Run("a provisioning failure is returned", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("boom")

		res, err := demo.Seed(context.Background(), func(context.Context, string, string, string) error {
			return boom
		}, baseDomain)

		require.ErrorIs(t, err, boom)
		require.Nil(t, res)
	})
}
