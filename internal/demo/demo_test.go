package demo_test

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/demo"
)

const baseDomain = "clientiq.test"

// seeded is the demo data as it is in the database.
type seeded struct {
	tenants   int
	domains   int
	slug      string
	domain    string
	isPrimary bool
}

func readSeeded(t *testing.T, pool *pgxpool.Pool) seeded {
	t.Helper()
	ctx := context.Background()
	var s seeded
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM public.tenants").Scan(&s.tenants))
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM public.domains").Scan(&s.domains))
	if s.tenants == 1 && s.domains == 1 {
		require.NoError(t, pool.QueryRow(ctx, `SELECT t.slug, d.domain, d.is_primary
			FROM public.domains d JOIN public.tenants t ON t.id = d.tenant_id`).Scan(&s.slug, &s.domain, &s.isPrimary))
	}
	return s
}

func TestSeed(t *testing.T) {
	t.Parallel()

	t.Run("creates acme with its primary domain once", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		db := dbtest.New(t)

		first, err := demo.Seed(ctx, db.Ent, baseDomain)
		require.NoError(t, err)
		second, err := demo.Seed(ctx, db.Ent, baseDomain)
		require.NoError(t, err)

		require.Equal(t, &demo.Result{Created: true, Slug: demo.Slug, Domain: "acme." + baseDomain}, first)
		require.Equal(t, &demo.Result{Created: false, Slug: demo.Slug, Domain: "acme." + baseDomain}, second)
		require.Equal(t, seeded{tenants: 1, domains: 1, slug: "acme", domain: "acme." + baseDomain, isPrimary: true},
			readSeeded(t, db.Pool))
	})

	t.Run("concurrent seeds create one tenant without error", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		db := dbtest.New(t)

		const seeders = 5
		results := make([]*demo.Result, seeders)
		errs := make([]error, seeders)
		var wg sync.WaitGroup
		for i := range seeders {
			wg.Go(func() { results[i], errs[i] = demo.Seed(ctx, db.Ent, baseDomain) })
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
		require.Equal(t, seeded{tenants: 1, domains: 1, slug: "acme", domain: "acme." + baseDomain, isPrimary: true},
			readSeeded(t, db.Pool))
	})
}
