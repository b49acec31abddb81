package tenant_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/jobs"
	"github.com/clientiq/clientiq/internal/tenant"
)

// ttMarkDeleted puts slug in pending_deletion since at, with no purge job
// (as if it had been lost).
func ttMarkDeleted(t *testing.T, env *ttEnv, slug string, at time.Time) {
	t.Helper()
	_, err := env.Pool.Exec(t.Context(), `UPDATE public.tenants SET status = 'pending_deletion', deletion_requested_at = $2
		WHERE slug = $1`, slug, at)
	require.NoError(t, err)
}

func TestPurgeSweep(t *testing.T) {
	t.Parallel()
	const grace = 48 * time.Hour

	t.Run("enqueues a purge for an overdue tenant only, once however often it runs", func(t *testing.T) {
		t.Parallel()
		env := ttNew(t)
		svc := ttService(t, env.Pool, cache.NewMemory(0), env.Base, grace)
		overdue, recent, active := ttCreate(t, svc, ttSlug()), ttCreate(t, svc, ttSlug()), ttCreate(t, svc, ttSlug())
		ttMarkDeleted(t, env, overdue.Slug, time.Now().Add(-grace-time.Hour))
		ttMarkDeleted(t, env, recent.Slug, time.Now().Add(-time.Hour))
		inserter, err := jobs.NewInserter(env.Pool, ttLogger(t))
		require.NoError(t, err)

		for range 2 {
			n, err := svc.EnqueueOverduePurges(t.Context(), inserter, time.Now())
			require.NoError(t, err)
			require.Equal(t, 1, n)
		}

		require.Len(t, ttPurgeJobs(t, env.Pool, overdue.Slug), 1)
		require.Empty(t, ttPurgeJobs(t, env.Pool, recent.Slug))
		require.Empty(t, ttPurgeJobs(t, env.Pool, active.Slug))
		var global bool
		require.NoError(t, env.Pool.QueryRow(t.Context(), `SELECT (metadata->>'global')::bool FROM public.river_job
			WHERE kind = $1`, tenant.PurgeArgs{}.Kind()).Scan(&global))
		require.True(t, global, "a purge is a global job")
	})

	t.Run("the worker enqueues through its River client and the purge runs", func(t *testing.T) {
		t.Parallel()
		env := ttNew(t)
		svc := ttService(t, env.Pool, cache.NewMemory(0), env.Base, grace)
		overdue := ttCreate(t, svc, ttSlug())
		ttMarkDeleted(t, env, overdue.Slug, time.Now().Add(-grace-time.Hour))
		w := river.NewWorkers()
		river.AddWorker(w, tenant.NewPurgeSweepWorker(svc))
		river.AddWorker(w, tenant.NewPurgeWorker(svc))
		// River's goroutines may log after the test ends, where t.Output
		// would panic: its logs are discarded.
		client, err := jobs.NewClient(env.Pool, jobs.Config{Logger: slog.New(slog.DiscardHandler), Workers: w, TestOnly: true})
		require.NoError(t, err)
		require.NoError(t, client.Start(context.Background()))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, client.Stop(ctx))
		})

		_, err = client.Insert(t.Context(), tenant.PurgeSweepArgs{}, nil)
		require.NoError(t, err)

		require.Eventually(t, func() bool {
			_, err := svc.Get(context.Background(), overdue.Slug)
			return err != nil && apperr.As(err).Code == apperr.CodeNotFound
		}, 15*time.Second, 100*time.Millisecond, "the swept tenant is purged")
	})
}
