package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/jobs"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// seeForEach builds one SeeArgs per tenant, noting its slug.
func seeForEach(t *tenancy.Tenant) river.JobArgs { return SeeArgs{Note: t.Slug} }

func TestPeriodicFanOutRunsOneJobPerTenantInThatTenant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	want := map[uuid.UUID]string{}
	for range 5 {
		tn := e.newTenant(t, "marker-"+dbSuffix())
		want[tn.ID] = tn.Slug
	}
	gone := e.newTenant(t, "gone")
	_, _, err := e.tenants.Delete(context.Background(), gone.Slug)
	require.NoError(t, err)
	s := newSeer()

	e.seeClient(t, s, jobs.Config{FanOuts: []jobs.PeriodicFanOut{{ID: "see", RunOnStart: true, Build: seeForEach}}})

	seen := map[uuid.UUID][]string{}
	for range 5 {
		select {
		case sg := <-s.ch:
			require.NoError(t, sg.Err)
			require.NotContains(t, seen, sg.TenantID, "a tenant's job ran twice")
			seen[sg.TenantID] = sg.Projects
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of 5 tenant jobs ran", len(seen))
		}
	}
	require.Len(t, seen, 5)
	for id := range want {
		require.Len(t, seen[id], 1, "tenant %s saw its own project only", id)
	}

	rows, err := e.db.Pool.Query(context.Background(), `SELECT metadata->>'tenant_id', metadata->>'tenant_slug', args->>'note'
		FROM public.river_job WHERE kind = $1`, SeeArgs{}.Kind())
	require.NoError(t, err)
	ids := map[string]bool{}
	for rows.Next() {
		var id, slug, note string
		require.NoError(t, rows.Scan(&id, &slug, &note))
		require.Equal(t, note, slug, "each job carries its own tenant, not a shared one")
		require.Equal(t, want[uuid.MustParse(id)], slug)
		ids[id] = true
	}
	require.NoError(t, rows.Err())
	require.Len(t, ids, 5, "five distinct tenants in metadata")

	var state string
	require.NoError(t, e.db.Pool.QueryRow(context.Background(), `SELECT state::text FROM public.river_job WHERE kind = $1`,
		jobs.FanOutArgs{}.Kind()).Scan(&state))
	require.Equal(t, "completed", state)
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, 5, s.count(), "no tenant job ran twice, none ran for the tenant pending deletion")
}

func TestFanOutEnqueuesWithTheTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	for range 5 {
		e.newTenant(t, "")
	}
	inserter, err := jobs.NewInserter(e.db.Pool, discard)
	require.NoError(t, err)

	t.Run("rolled back: no job", func(t *testing.T) {
		tx, err := e.db.Pool.Begin(ctx)
		require.NoError(t, err)
		n, err := jobs.FanOut(ctx, inserter, tx, seeForEach)
		require.NoError(t, err)
		require.Equal(t, 5, n)
		require.NoError(t, tx.Rollback(ctx))
		require.Zero(t, countRows(t, e.db.Pool))
	})

	t.Run("committed: one job per tenant; a nil build skips a tenant", func(t *testing.T) {
		skipped := false
		tx, err := e.db.Pool.Begin(ctx)
		require.NoError(t, err)
		n, err := jobs.FanOut(ctx, inserter, tx, func(tn *tenancy.Tenant) river.JobArgs {
			if !skipped {
				skipped = true
				return nil
			}
			return seeForEach(tn)
		})
		require.NoError(t, err)
		require.Equal(t, 4, n)
		require.NoError(t, tx.Commit(ctx))
		var distinct int
		require.NoError(t, e.db.Pool.QueryRow(ctx, `SELECT count(DISTINCT metadata->>'tenant_id') FROM public.river_job`).Scan(&distinct))
		require.Equal(t, 4, distinct)
		require.Equal(t, 4, countRows(t, e.db.Pool))
	})
}

func TestFanOutConfigIsValidated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	_, err := jobs.NewClient(e.db.Pool, jobs.Config{Logger: discard, FanOuts: []jobs.PeriodicFanOut{{ID: "x"}}})
	require.Error(t, err, "a fan-out without Build")
	_, err = jobs.NewClient(e.db.Pool, jobs.Config{Logger: discard, FanOuts: []jobs.PeriodicFanOut{
		{ID: "x", Build: seeForEach}, {ID: "x", Build: seeForEach},
	}})
	require.Error(t, err, "two fan-outs with one ID")
	_, err = jobs.NewClient(e.db.Pool, jobs.Config{Logger: discard, Maintenance: &jobs.Maintenance{}})
	require.Error(t, err, "Maintenance without its dependencies")
}

func dbSuffix() string { return uuid.NewString()[:8] }
