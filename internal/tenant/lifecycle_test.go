package tenant_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
)

// ttPurgeJob is a tenant_purge job in River's table.
type ttPurgeJob struct {
	Queue       string
	State       string
	ScheduledAt time.Time
}

// ttPurgeJobs returns the purge jobs enqueued for slug.
func ttPurgeJobs(t *testing.T, pool *pgxpool.Pool, slug string) []ttPurgeJob {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT queue, state::text, scheduled_at FROM public.river_job
		WHERE kind = $1 AND args->>'slug' = $2 ORDER BY id`, tenant.PurgeArgs{}.Kind(), slug)
	require.NoError(t, err)
	var out []ttPurgeJob
	for rows.Next() {
		var j ttPurgeJob
		require.NoError(t, rows.Scan(&j.Queue, &j.State, &j.ScheduledAt))
		out = append(out, j)
	}
	require.NoError(t, rows.Err())
	return out
}

// ttWorkPurge runs the purge worker on a job for slug, as River would.
func ttWorkPurge(t *testing.T, svc *tenant.Service, slug string) error {
	t.Helper()
	job := &river.Job[tenant.PurgeArgs]{JobRow: &rivertype.JobRow{Kind: tenant.PurgeArgs{}.Kind()}, Args: tenant.PurgeArgs{Slug: slug}}
	return tenant.NewPurgeWorker(svc).Work(t.Context(), job)
}

func TestLifecycle(t *testing.T) {
	t.Parallel()

	const grace = 48 * time.Hour
	env := ttNew(t)
	svc := ttService(t, env.Pool, cache.NewMemory(0), env.Base, grace)

	t.Run("SuspendAndReactivateAreIdempotent", func(t *testing.T) {
		t.Parallel()

		slug := ttCreate(t, svc, ttSlug()).Slug
		ctx := t.Context()

		for range 2 {
			tn, err := svc.Suspend(ctx, slug)
			require.NoError(t, err)
			require.Equal(t, tenancy.StatusSuspended, tn.Status)
			require.Nil(t, tn.DeletionRequestedAt)
		}
		got, err := svc.Get(ctx, slug)
		require.NoError(t, err)
		require.Equal(t, tenancy.StatusSuspended, got.Status)

		for range 2 {
			tn, err := svc.Reactivate(ctx, slug)
			require.NoError(t, err)
			require.Equal(t, tenancy.StatusActive, tn.Status)
		}
		got, err = svc.Get(ctx, slug)
		require.NoError(t, err)
		require.Equal(t, tenancy.StatusActive, got.Status)
	})

	t.Run("InvalidTransitionsConflict", func(t *testing.T) {
		t.Parallel()

		slug := ttCreate(t, svc, ttSlug()).Slug
		ctx := t.Context()

		_, err := svc.Restore(ctx, slug)
		require.NoError(t, err, "restoring an active tenant leaves it active")

		_, _, err = svc.Delete(ctx, slug)
		require.NoError(t, err)

		_, err = svc.Suspend(ctx, slug)
		ttRequireCode(t, err, apperr.CodeConflict)
		_, err = svc.Reactivate(ctx, slug)
		ttRequireCode(t, err, apperr.CodeConflict)

		got, err := svc.Get(ctx, slug)
		require.NoError(t, err)
		require.Equal(t, tenancy.StatusPendingDeletion, got.Status, "a refused transition changes nothing")
		require.NotNil(t, got.DeletionRequestedAt)
	})

	t.Run("UnknownSlugIsNotFound", func(t *testing.T) {
		t.Parallel()

		ctx := t.Context()
		slug := ttSlug()

		_, err := svc.Get(ctx, slug)
		ttRequireCode(t, err, apperr.CodeNotFound)
		_, err = svc.Suspend(ctx, slug)
		ttRequireCode(t, err, apperr.CodeNotFound)
		_, err = svc.Reactivate(ctx, slug)
		ttRequireCode(t, err, apperr.CodeNotFound)
		_, _, err = svc.Delete(ctx, slug)
		ttRequireCode(t, err, apperr.CodeNotFound)
		_, err = svc.Restore(ctx, slug)
		ttRequireCode(t, err, apperr.CodeNotFound)

		purged, err := svc.Purge(ctx, slug, time.Now().Add(100*365*24*time.Hour))
		require.NoError(t, err)
		require.False(t, purged)
	})

	t.Run("DeleteStartsTheGracePeriod", func(t *testing.T) {
		t.Parallel()

		slug := ttCreate(t, svc, ttSlug()).Slug
		_, err := svc.Suspend(t.Context(), slug)
		require.NoError(t, err, "a suspended tenant can be deleted too")
		before := time.Now()

		tn, due, err := svc.Delete(t.Context(), slug)

		require.NoError(t, err)
		require.Equal(t, tenancy.StatusPendingDeletion, tn.Status)
		require.NotNil(t, tn.DeletionRequestedAt)
		require.WithinDuration(t, before, *tn.DeletionRequestedAt, time.Minute)
		require.Equal(t, tn.DeletionRequestedAt.Add(grace), due)

		again, dueAgain, err := svc.Delete(t.Context(), slug)
		require.NoError(t, err, "deleting twice is idempotent")
		require.Equal(t, tenancy.StatusPendingDeletion, again.Status)
		require.True(t, tn.DeletionRequestedAt.Equal(*again.DeletionRequestedAt), "a repeated delete does not restart the grace period")
		require.True(t, due.Equal(dueAgain))
	})

	t.Run("RestoreEndsThePendingDeletion", func(t *testing.T) {
		t.Parallel()

		slug := ttCreate(t, svc, ttSlug()).Slug
		_, _, err := svc.Delete(t.Context(), slug)
		require.NoError(t, err)

		for range 2 {
			tn, err := svc.Restore(t.Context(), slug)
			require.NoError(t, err)
			require.Equal(t, tenancy.StatusActive, tn.Status)
			require.Nil(t, tn.DeletionRequestedAt)
		}
	})

	t.Run("PurgeBeforeDueKeepsEverything", func(t *testing.T) {
		t.Parallel()

		tn := ttCreate(t, svc, ttSlug())
		_, due, err := svc.Delete(t.Context(), tn.Slug)
		require.NoError(t, err)

		for _, now := range []time.Time{time.Now(), due.Add(-time.Second)} {
			purged, err := svc.Purge(t.Context(), tn.Slug, now)
			require.NoError(t, err)
			require.False(t, purged)
		}

		require.True(t, ttSchemaExists(t, env.Pool, tn.Schema))
		got, err := svc.Get(t.Context(), tn.Slug)
		require.NoError(t, err)
		require.Equal(t, tenancy.StatusPendingDeletion, got.Status)
		require.Equal(t, tn.Domains, got.Domains)
		require.Equal(t, svc.LatestVersion(), ttVersion(t, env.Pool, tn.Schema))
	})

	t.Run("PurgeAfterDueDropsSchemaAndRows", func(t *testing.T) {
		t.Parallel()

		tn := ttCreate(t, svc, ttSlug())
		extra := "extra-" + tn.Slug + ".example.com"
		_, err := svc.AddDomain(t.Context(), tn.Slug, extra)
		require.NoError(t, err)
		_, due, err := svc.Delete(t.Context(), tn.Slug)
		require.NoError(t, err)

		purged, err := svc.Purge(t.Context(), tn.Slug, due.Add(time.Second))

		require.NoError(t, err)
		require.True(t, purged)
		require.False(t, ttSchemaExists(t, env.Pool, tn.Schema))
		require.Zero(t, ttCount(t, env.Pool, "SELECT count(*) FROM public.tenants WHERE id = $1", tn.ID))
		require.Zero(t, ttCount(t, env.Pool, "SELECT count(*) FROM public.domains WHERE tenant_id = $1 OR domain = $2", tn.ID, extra))
		require.Zero(t, ttCount(t, env.Pool, "SELECT count(*) FROM public.schema_versions WHERE schema_name = $1", tn.Schema))
		_, err = svc.Get(t.Context(), tn.Slug)
		ttRequireCode(t, err, apperr.CodeNotFound)

		purged, err = svc.Purge(t.Context(), tn.Slug, due.Add(time.Second))
		require.NoError(t, err)
		require.False(t, purged, "a second purge has nothing to do")

		// The slug and its domains are free again.
		ttCreate(t, svc, tn.Slug)
	})

	t.Run("PurgeOfATenantNotPendingDeletionDoesNothing", func(t *testing.T) {
		t.Parallel()

		active := ttCreate(t, svc, ttSlug())
		suspended := ttCreate(t, svc, ttSlug())
		_, err := svc.Suspend(t.Context(), suspended.Slug)
		require.NoError(t, err)

		for _, tn := range []*tenant.Tenant{active, suspended} {
			purged, err := svc.Purge(t.Context(), tn.Slug, time.Now().Add(100*365*24*time.Hour))
			require.NoError(t, err)
			require.False(t, purged)
			require.True(t, ttSchemaExists(t, env.Pool, tn.Schema))
		}
	})

	t.Run("RestoreThenPurgeDoesNothing", func(t *testing.T) {
		t.Parallel()

		tn := ttCreate(t, svc, ttSlug())
		_, due, err := svc.Delete(t.Context(), tn.Slug)
		require.NoError(t, err)
		_, err = svc.Restore(t.Context(), tn.Slug)
		require.NoError(t, err)

		purged, err := svc.Purge(t.Context(), tn.Slug, due.Add(time.Second))

		require.NoError(t, err)
		require.False(t, purged)
		require.True(t, ttSchemaExists(t, env.Pool, tn.Schema))
		got, err := svc.Get(t.Context(), tn.Slug)
		require.NoError(t, err)
		require.Equal(t, tenancy.StatusActive, got.Status)
	})

	t.Run("ListAndGetReturnDomainsPrimaryFirst", func(t *testing.T) {
		t.Parallel()

		ctx := t.Context()
		first := ttCreate(t, svc, ttSlug())
		second := ttCreate(t, svc, ttSlug())
		// "a-…" sorts before the default "t….<base>": primary first must win
		// over alphabetical order.
		custom := "a-" + first.Slug + ".example.com"
		_, err := svc.AddDomain(ctx, first.Slug, custom)
		require.NoError(t, err)
		defaultDomain := first.Slug + "." + env.Base
		want := []tenant.Domain{{Domain: defaultDomain, IsPrimary: true}, {Domain: custom}}

		got, err := svc.Get(ctx, first.Slug)
		require.NoError(t, err)
		require.Equal(t, want, got.Domains)

		all, err := svc.List(ctx)
		require.NoError(t, err)
		iFirst := slices.IndexFunc(all, func(x *tenant.Tenant) bool { return x.Slug == first.Slug })
		iSecond := slices.IndexFunc(all, func(x *tenant.Tenant) bool { return x.Slug == second.Slug })
		require.NotEqual(t, -1, iFirst)
		require.NotEqual(t, -1, iSecond)
		require.Less(t, iFirst, iSecond, "oldest first")
		require.Equal(t, want, all[iFirst].Domains)
		require.Equal(t, first.ID, all[iFirst].ID)
		require.Equal(t, first.Schema, all[iFirst].Schema)
		require.Equal(t, []tenant.Domain{{Domain: second.Slug + "." + env.Base, IsPrimary: true}}, all[iSecond].Domains)

		_, err = svc.SetPrimary(ctx, first.Slug, custom)
		require.NoError(t, err)
		got, err = svc.Get(ctx, first.Slug)
		require.NoError(t, err)
		require.Equal(t, []tenant.Domain{{Domain: custom, IsPrimary: true}, {Domain: defaultDomain}}, got.Domains)
	})

	t.Run("DeleteEnqueuesOnePurgeJobAtTheDueTime", func(t *testing.T) {
		t.Parallel()

		slug := ttCreate(t, svc, ttSlug()).Slug
		ctx := t.Context()

		_, due, err := svc.Delete(ctx, slug)

		require.NoError(t, err)
		jobs := ttPurgeJobs(t, env.Pool, slug)
		require.Len(t, jobs, 1)
		require.Equal(t, "maintenance", jobs[0].Queue)
		require.Equal(t, string(rivertype.JobStateScheduled), jobs[0].State)
		require.WithinDuration(t, due, jobs[0].ScheduledAt, time.Millisecond)

		// Deleting again, or again after a restore, keeps the one job.
		_, _, err = svc.Delete(ctx, slug)
		require.NoError(t, err)
		_, err = svc.Restore(ctx, slug)
		require.NoError(t, err)
		_, _, err = svc.Delete(ctx, slug)
		require.NoError(t, err)
		require.Len(t, ttPurgeJobs(t, env.Pool, slug), 1)
	})

	t.Run("PurgeJobWaitsUntilDue", func(t *testing.T) {
		t.Parallel()

		tn := ttCreate(t, svc, ttSlug())
		_, due, err := svc.Delete(t.Context(), tn.Slug)
		require.NoError(t, err)

		err = ttWorkPurge(t, svc, tn.Slug)

		var snooze *river.JobSnoozeError
		require.ErrorAs(t, err, &snooze)
		require.InDelta(t, time.Until(due).Seconds(), snooze.Duration.Seconds(), 60)
		require.True(t, ttSchemaExists(t, env.Pool, tn.Schema))
	})

	t.Run("PurgeJobDropsADueTenant", func(t *testing.T) {
		t.Parallel()

		quick := ttService(t, env.Pool, cache.NewMemory(0), env.Base, time.Nanosecond)
		tn := ttCreate(t, quick, ttSlug())
		_, _, err := quick.Delete(t.Context(), tn.Slug)
		require.NoError(t, err)

		require.NoError(t, ttWorkPurge(t, quick, tn.Slug))

		require.False(t, ttSchemaExists(t, env.Pool, tn.Schema))
		_, err = quick.Get(t.Context(), tn.Slug)
		ttRequireCode(t, err, apperr.CodeNotFound)
		require.NoError(t, ttWorkPurge(t, quick, tn.Slug), "a job for a purged tenant completes")
	})

	t.Run("PurgeJobLeavesARestoredTenant", func(t *testing.T) {
		t.Parallel()

		quick := ttService(t, env.Pool, cache.NewMemory(0), env.Base, time.Nanosecond)
		tn := ttCreate(t, quick, ttSlug())
		_, _, err := quick.Delete(t.Context(), tn.Slug)
		require.NoError(t, err)
		_, err = quick.Restore(t.Context(), tn.Slug)
		require.NoError(t, err)

		err = ttWorkPurge(t, quick, tn.Slug)

		require.NoError(t, err, "no snooze: the restored tenant's job is done")
		require.True(t, ttSchemaExists(t, env.Pool, tn.Schema))
		got, err := quick.Get(t.Context(), tn.Slug)
		require.NoError(t, err)
		require.Equal(t, tenancy.StatusActive, got.Status)
	})
}
