package jobs_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/jobs"
	"github.com/clientiq/clientiq/internal/tenancy"
)

func TestTenantJobRunsInItsTenantOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.newTenant(t, "secret-of-a"), e.newTenant(t, "secret-of-b")
	s := newSeer()
	client, events := e.seeClient(t, s, jobs.Config{})

	for _, tc := range []struct {
		in   *tenancy.Tenant
		sees string
	}{{a, "secret-of-a"}, {b, "secret-of-b"}} {
		t.Run("enqueued in "+tc.sees+"'s tenant, it sees only that tenant's rows", func(t *testing.T) {
			res, err := client.Insert(tenancy.WithTenant(context.Background(), tc.in), SeeArgs{}, nil)
			require.NoError(t, err)
			md := metadata(t, res.Job.Metadata)
			require.Equal(t, tc.in.ID.String(), md[jobs.MetaTenantID])
			require.Equal(t, tc.in.Slug, md[jobs.MetaTenantSlug])
			require.NotContains(t, md, jobs.MetaGlobal)

			ev := waitFor(t, events, res.Job.ID)
			require.Equal(t, river.EventKindJobCompleted, ev.Kind)
			sg := <-s.ch
			require.Equal(t, res.Job.ID, sg.JobID)
			require.Equal(t, tc.in.ID, sg.TenantID)
			require.NotEmpty(t, sg.System, "a job runs as the system, with no user")
			require.NoError(t, sg.Err)
			require.Equal(t, []string{tc.sees}, sg.Projects)
		})
	}
}

func TestJobWithoutARunnableTenantIsCancelledUnworked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := newSeer()
	_, events := e.seeClient(t, s, jobs.Config{})
	raw := rawInserter(t, e.db.Pool)
	ctx := context.Background()

	cancelled := func(t *testing.T, opts *river.InsertOpts) *rivertype.JobRow {
		t.Helper()
		res, err := raw.Insert(ctx, SeeArgs{}, opts)
		require.NoError(t, err)
		ev := waitFor(t, events, res.Job.ID)
		require.Equal(t, river.EventKindJobCancelled, ev.Kind)
		require.Equal(t, rivertype.JobStateCancelled, ev.Job.State)
		return ev.Job
	}

	t.Run("no tenant metadata", func(t *testing.T) {
		job := cancelled(t, nil)
		require.Contains(t, job.Errors[0].Error, jobs.ErrNoTenantMetadata.Error())
	})
	t.Run("an unknown tenant id", func(t *testing.T) {
		job := cancelled(t, &river.InsertOpts{Metadata: []byte(`{"tenant_id":"` + uuid.NewString() + `"}`)})
		require.Contains(t, job.Errors[0].Error, jobs.ErrUnknownTenant.Error())
	})
	t.Run("a tenant id that is not a uuid", func(t *testing.T) {
		cancelled(t, &river.InsertOpts{Metadata: []byte(`{"tenant_id":"public"}`)})
	})
	t.Run("a tenant pending deletion", func(t *testing.T) {
		tn := e.newTenant(t, "doomed")
		_, _, err := e.tenants.Delete(ctx, tn.Slug)
		require.NoError(t, err)
		job := cancelled(t, &river.InsertOpts{Metadata: []byte(`{"tenant_id":"` + tn.ID.String() + `"}`)})
		require.Contains(t, job.Errors[0].Error, jobs.ErrTenantNotRunnable.Error())
	})
	t.Run("both global and a tenant", func(t *testing.T) {
		tn := e.newTenant(t, "")
		cancelled(t, &river.InsertOpts{Metadata: []byte(`{"global":true,"tenant_id":"` + tn.ID.String() + `"}`)})
	})

	// Every cancellation above happened before the worker: it saw nothing.
	require.Zero(t, s.count())
}

func TestSuspendedTenantsJobsStillRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant(t, "dunned")
	_, err := e.tenants.Suspend(context.Background(), tn.Slug)
	require.NoError(t, err)
	s := newSeer()
	client, events := e.seeClient(t, s, jobs.Config{})

	res, err := client.Insert(tenancy.WithTenant(context.Background(), tn), SeeArgs{}, nil)
	require.NoError(t, err)

	require.Equal(t, river.EventKindJobCompleted, waitFor(t, events, res.Job.ID).Kind)
	sg := <-s.ch
	require.Equal(t, tn.ID, sg.TenantID)
	require.Equal(t, []string{"dunned"}, sg.Projects)
}

func TestInsertWithoutATenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("a tenant job is refused and nothing is inserted, by the client and the inserter", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		client, _ := e.seeClient(t, newSeer(), jobs.Config{})
		inserter, err := jobs.NewInserter(e.db.Pool, discard)
		require.NoError(t, err)

		for _, c := range []*river.Client[pgx.Tx]{client, inserter} {
			_, err = c.Insert(ctx, SeeArgs{}, nil)
			require.ErrorIs(t, err, jobs.ErrTenantRequired)
			require.ErrorIs(t, err, tenancy.ErrNoTenant)
			tx, err := e.db.Pool.Begin(ctx)
			require.NoError(t, err)
			_, err = c.InsertTx(ctx, tx, SeeArgs{}, nil)
			require.ErrorIs(t, err, jobs.ErrTenantRequired)
			require.NoError(t, tx.Rollback(ctx))
			// One tenant job spoils the batch: the global one is not inserted either.
			_, err = c.InsertMany(ctx, []river.InsertManyParams{{Args: GlobalSeeArgs{}}, {Args: SeeArgs{}}})
			require.ErrorIs(t, err, jobs.ErrTenantRequired)
		}
		require.Zero(t, countRows(t, e.db.Pool))
	})

	t.Run("metadata naming a tenant is refused outside a system context", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		tn := e.newTenant(t, "")
		inserter, err := jobs.NewInserter(e.db.Pool, discard)
		require.NoError(t, err)
		opts := &river.InsertOpts{Metadata: []byte(`{"tenant_id":"` + tn.ID.String() + `"}`)}

		_, err = inserter.Insert(ctx, SeeArgs{}, opts)
		require.ErrorIs(t, err, jobs.ErrTenantRequired)

		res, err := inserter.Insert(tenancy.AsSystem(ctx, "test"), SeeArgs{}, opts)
		require.NoError(t, err)
		require.Equal(t, tn.ID.String(), metadata(t, res.Job.Metadata)[jobs.MetaTenantID])
	})

	t.Run("metadata naming another tenant inside a tenant's context is refused", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		a, b := e.newTenant(t, ""), e.newTenant(t, "")
		inserter, err := jobs.NewInserter(e.db.Pool, discard)
		require.NoError(t, err)

		_, err = inserter.Insert(tenancy.AsSystem(tenancy.WithTenant(ctx, a), "test"), SeeArgs{},
			&river.InsertOpts{Metadata: []byte(`{"tenant_id":"` + b.ID.String() + `"}`)})
		require.ErrorContains(t, err, "inside tenant")
		require.Zero(t, countRows(t, e.db.Pool))
	})

	t.Run("a tenant job cannot declare itself global through metadata", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		inserter, err := jobs.NewInserter(e.db.Pool, discard)
		require.NoError(t, err)

		_, err = inserter.Insert(ctx, SeeArgs{}, &river.InsertOpts{Metadata: []byte(`{"global":true}`)})
		require.Error(t, err)
		require.Zero(t, countRows(t, e.db.Pool))
	})

	t.Run("a global job enqueued in a tenant records it as origin only", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		tn := e.newTenant(t, "")
		inserter, err := jobs.NewInserter(e.db.Pool, discard)
		require.NoError(t, err)

		res, err := inserter.Insert(tenancy.WithTenant(ctx, tn), jobs.NoopArgs{}, &river.InsertOpts{Metadata: []byte(`{"trace":"x"}`)})
		require.NoError(t, err)

		md := metadata(t, res.Job.Metadata)
		require.Equal(t, map[string]any{jobs.MetaGlobal: true, jobs.MetaOriginTenantID: tn.ID.String(),
			jobs.MetaOriginTenantSlug: tn.Slug, "trace": "x"}, md)
	})
}

func TestGlobalJobRunsWithNoTenant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant(t, "secret")
	s := newSeer()
	client, events := e.seeClient(t, s, jobs.Config{})

	for name, ctx := range map[string]context.Context{
		"enqueued with no tenant":  context.Background(),
		"enqueued inside a tenant": tenancy.WithTenant(context.Background(), tn),
	} {
		t.Run(name, func(t *testing.T) {
			res, err := client.Insert(ctx, GlobalSeeArgs{}, nil)
			require.NoError(t, err)

			require.Equal(t, river.EventKindJobCompleted, waitFor(t, events, res.Job.ID).Kind)
			sg := <-s.ch
			require.Equal(t, uuid.Nil, sg.TenantID)
			require.NotEmpty(t, sg.System)
			require.ErrorIs(t, sg.Err, tenancy.ErrNoTenant, "no tenant data is reachable")
			require.Empty(t, sg.Projects)
		})
	}
}

func TestMaxAttemptsDefaultsAndPerKindOverride(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	inserter, err := jobs.NewInserter(e.db.Pool, discard)
	require.NoError(t, err)

	res, err := inserter.Insert(context.Background(), jobs.NoopArgs{}, nil)
	require.NoError(t, err)
	require.Equal(t, 10, res.Job.MaxAttempts)

	res, err = inserter.Insert(context.Background(), jobs.NoopArgs{}, &river.InsertOpts{MaxAttempts: 3})
	require.NoError(t, err)
	require.Equal(t, 3, res.Job.MaxAttempts)
}
