package tenant_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/tenant"
)

func TestWarmPool(t *testing.T) {
	t.Parallel()

	t.Run("a tenant provisioned from the pool equals a freshly migrated one", func(t *testing.T) {
		t.Parallel()
		env := ttNew(t)
		ctx := context.Background()
		fresh := ttCreate(t, env.Svc, ttSlug())

		created, err := env.Svc.FillPool(ctx, 2)
		require.NoError(t, err)
		require.Equal(t, 2, created)
		again, err := env.Svc.FillPool(ctx, 2)
		require.NoError(t, err)
		require.Zero(t, again, "the pool is full")

		pooled := ttCreate(t, env.Svc, ttSlug())
		require.Equal(t, 1, ttCount(t, env.Pool, `SELECT count(*) FROM public.schema_versions WHERE schema_name LIKE 'tenant\_\_pool\_%'`),
			"one pool schema was used")
		require.Equal(t, ttCatalog(t, env.Pool, fresh.Schema), ttCatalog(t, env.Pool, pooled.Schema))
		require.Equal(t, env.Svc.LatestVersion(), ttVersion(t, env.Pool, pooled.Schema))
		require.Equal(t, 4, ttCount(t, env.Pool, "SELECT count(*) FROM "+pooled.Schema+".roles WHERE builtin"))
	})

	t.Run("a pool schema behind the latest migration is brought up when claimed", func(t *testing.T) {
		t.Parallel()
		env := ttNew(t)
		ctx := context.Background()
		_, err := env.Svc.FillPool(ctx, 1)
		require.NoError(t, err)
		svc := ttWithMigration(t, env, ttAddColumn)
		tt := ttCreate(t, svc, ttSlug())
		require.True(t, ttHasExtra(t, env, tt.Schema))
		require.Equal(t, svc.LatestVersion(), ttVersion(t, env.Pool, tt.Schema))
	})

	t.Run("a failed provisioning returns the pool schema", func(t *testing.T) {
		t.Parallel()
		env := ttNew(t)
		ctx := context.Background()
		_, err := env.Svc.FillPool(ctx, 1)
		require.NoError(t, err)
		taken := ttCreate(t, env.Svc, ttSlug())
		_, err = env.Svc.FillPool(ctx, 1)
		require.NoError(t, err)
		_, err = env.Svc.Create(ctx, tenant.CreateInput{Slug: taken.Slug, Name: "dup"})
		ttRequireCode(t, err, "CONFLICT")
		require.Equal(t, 1, ttCount(t, env.Pool, `SELECT count(*) FROM public.schema_versions WHERE schema_name LIKE 'tenant\_\_pool\_%'`))
	})

	t.Run("concurrent provisionings never share a pool schema", func(t *testing.T) {
		t.Parallel()
		env := ttNew(t)
		ctx := context.Background()
		_, err := env.Svc.FillPool(ctx, 3)
		require.NoError(t, err)
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = env.Svc.Create(ctx, tenant.CreateInput{Slug: ttSlug(), Name: "c"})
			}()
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		schemas, rows := ttTenantSchemasAndRows(t, env.Pool)
		require.Equal(t, rows, schemas)
		require.Zero(t, ttCount(t, env.Pool, `SELECT count(*) FROM public.schema_versions WHERE schema_name LIKE 'tenant\_\_pool\_%'`))
	})
}
