package tenant_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/dbmigrate"
	"github.com/clientiq/clientiq/internal/tenant"
)

// ttAddColumn is an additive tenant migration newer than any real one.
var ttAddColumn = dbmigrate.File{Version: "99990101000000_add_col", SQL: "ALTER TABLE projects ADD COLUMN extra text;"}

// ttWithMigration returns a Service on env's database whose tenant
// migrations are the real ones plus extra: the next release.
func ttWithMigration(t *testing.T, env *ttEnv, extra ...dbmigrate.File) *tenant.Service {
	t.Helper()
	svc := ttService(t, env.Pool, env.Cache, env.Base, 0)
	svc.SetMigrationsForTest(append(svc.MigrationsForTest(), extra...))
	return svc
}

// ttCreateMany provisions n tenants, a few at a time.
func ttCreateMany(t *testing.T, svc *tenant.Service, n int) []*tenant.Tenant {
	t.Helper()
	out := make([]*tenant.Tenant, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i], errs[i] = svc.Create(context.Background(), tenant.CreateInput{Slug: ttSlug(), Name: fmt.Sprint("Fleet ", i)})
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	return out
}

// ttHasExtra reports whether schema's projects table has the column extra.
func ttHasExtra(t *testing.T, env *ttEnv, schema string) bool {
	t.Helper()
	return ttCount(t, env.Pool, `SELECT count(*) FROM information_schema.columns
		WHERE table_schema = $1 AND table_name = 'projects' AND column_name = 'extra'`, schema) == 1
}

// ttProgressLog records Progress callbacks (which come from several workers).
type ttProgressLog struct {
	mu    sync.Mutex
	calls []tenant.Progress
}

func (l *ttProgressLog) record(p tenant.Progress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, p)
}

// requireReached requires one call per schema, each with total, and that
// Done+Failed reached total with done and failed.
func (l *ttProgressLog) requireReached(t *testing.T, total, done, failed int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	require.Len(t, l.calls, total)
	var last tenant.Progress
	for _, p := range l.calls {
		require.Equal(t, total, p.Total)
		require.LessOrEqual(t, p.Done+p.Failed, total)
		if p.Done+p.Failed > last.Done+last.Failed {
			last = p
		}
	}
	require.Equal(t, tenant.Progress{Done: done, Failed: failed, Total: total, Elapsed: last.Elapsed}, last)
}

func TestMigrateAll(t *testing.T) {
	t.Parallel()

	t.Run("MigratesTheWholeFleet", func(t *testing.T) {
		t.Parallel()

		env := ttNew(t)
		ctx := t.Context()
		fleet := ttCreateMany(t, env.Svc, 20)
		current := env.Svc.LatestVersion()

		res, err := env.Svc.MigrateAll(ctx, tenant.MigrateOptions{})
		require.NoError(t, err)
		require.Zero(t, res.Behind, "a fresh fleet is up to date")
		require.Zero(t, res.Migrated)
		require.Empty(t, res.Failures)

		next := ttWithMigration(t, env, ttAddColumn)
		newest := next.LatestVersion()
		require.True(t, strings.HasPrefix(newest, ttAddColumn.Version), "the new file is the newest: %s", newest)
		var progress ttProgressLog

		res, err = next.MigrateAll(ctx, tenant.MigrateOptions{Concurrency: 4, Progress: progress.record})

		require.NoError(t, err)
		require.Empty(t, res.Failures)
		require.Equal(t, 20, res.Behind)
		require.Equal(t, 20, res.Migrated)
		require.Positive(t, res.Elapsed)
		progress.requireReached(t, 20, 20, 0)
		for _, tn := range fleet {
			require.True(t, ttHasExtra(t, env, tn.Schema), tn.Schema)
			require.Equal(t, newest, ttVersion(t, env.Pool, tn.Schema))
		}
		require.Equal(t, 20, ttCount(t, env.Pool, "SELECT count(*) FROM public.schema_versions WHERE version = $1", newest))
		require.Zero(t, ttCount(t, env.Pool, "SELECT count(*) FROM public.schema_versions WHERE version = $1", current))

		res, err = next.MigrateAll(ctx, tenant.MigrateOptions{Concurrency: 4})
		require.NoError(t, err)
		require.Zero(t, res.Behind, "a rerun has nothing to do")
		require.Zero(t, res.Migrated)

		// A tenant provisioned by the new release starts at its version.
		late := ttCreate(t, next, ttSlug())
		require.True(t, ttHasExtra(t, env, late.Schema))
		require.Equal(t, newest, ttVersion(t, env.Pool, late.Schema))
	})

	t.Run("OneFailingSchemaDoesNotStopTheOthers", func(t *testing.T) {
		t.Parallel()

		env := ttNew(t)
		ctx := t.Context()
		fleet := ttCreateMany(t, env.Svc, 6)
		current := env.Svc.LatestVersion()
		broken := fleet[2].Schema
		// The column already exists there, so the ALTER fails in that schema.
		_, err := env.Pool.Exec(ctx, "ALTER TABLE "+broken+".projects ADD COLUMN extra integer")
		require.NoError(t, err)
		next := ttWithMigration(t, env, ttAddColumn)
		var progress ttProgressLog

		res, err := next.MigrateAll(ctx, tenant.MigrateOptions{Concurrency: 4, Progress: progress.record})

		require.NoError(t, err)
		require.Equal(t, 6, res.Behind)
		require.Equal(t, 5, res.Migrated)
		require.Len(t, res.Failures, 1)
		require.Contains(t, res.Failures, broken)
		require.ErrorContains(t, res.Failures[broken], "extra")
		progress.requireReached(t, 6, 5, 1)
		for _, tn := range fleet {
			if tn.Schema == broken {
				require.Equal(t, current, ttVersion(t, env.Pool, tn.Schema), "a failed schema keeps its version")
				continue
			}
			require.True(t, ttHasExtra(t, env, tn.Schema), tn.Schema)
			require.Equal(t, next.LatestVersion(), ttVersion(t, env.Pool, tn.Schema))
		}

		_, err = env.Pool.Exec(ctx, "ALTER TABLE "+broken+".projects DROP COLUMN extra")
		require.NoError(t, err)

		res, err = next.MigrateAll(ctx, tenant.MigrateOptions{Concurrency: 4})

		require.NoError(t, err)
		require.Empty(t, res.Failures)
		require.Equal(t, 1, res.Behind, "the rerun resumes with the failed schema only")
		require.Equal(t, 1, res.Migrated)
		require.True(t, ttHasExtra(t, env, broken))
		require.Equal(t, 6, ttCount(t, env.Pool, "SELECT count(*) FROM public.schema_versions WHERE version = $1", next.LatestVersion()))
	})

	t.Run("AppliesEveryPendingFileInOrder", func(t *testing.T) {
		t.Parallel()

		env := ttNew(t)
		fleet := ttCreateMany(t, env.Svc, 2)
		second := dbmigrate.File{Version: "99990102000000_backfill", SQL: "UPDATE projects SET extra = 'x'; ALTER TABLE projects ALTER COLUMN extra SET NOT NULL;"}
		next := ttWithMigration(t, env, ttAddColumn, second)

		res, err := next.MigrateAll(t.Context(), tenant.MigrateOptions{Concurrency: 1})

		require.NoError(t, err)
		require.Empty(t, res.Failures)
		require.Equal(t, 2, res.Migrated)
		for _, tn := range fleet {
			require.True(t, strings.HasPrefix(next.LatestVersion(), second.Version))
			require.Equal(t, next.LatestVersion(), ttVersion(t, env.Pool, tn.Schema))
			require.Equal(t, 1, ttCount(t, env.Pool, `SELECT count(*) FROM information_schema.columns
				WHERE table_schema = $1 AND table_name = 'projects' AND column_name = 'extra' AND is_nullable = 'NO'`, tn.Schema))
		}
	})

	t.Run("SlugLimitsTheRunToOneTenant", func(t *testing.T) {
		t.Parallel()

		env := ttNew(t)
		ctx := t.Context()
		fleet := ttCreateMany(t, env.Svc, 3)
		current := env.Svc.LatestVersion()
		next := ttWithMigration(t, env, ttAddColumn)
		target := fleet[1]

		res, err := next.MigrateAll(ctx, tenant.MigrateOptions{Slug: target.Slug})

		require.NoError(t, err)
		require.Equal(t, 1, res.Behind)
		require.Equal(t, 1, res.Migrated)
		require.Empty(t, res.Failures)
		for _, tn := range fleet {
			if tn.Slug == target.Slug {
				require.Equal(t, next.LatestVersion(), ttVersion(t, env.Pool, tn.Schema))
				require.True(t, ttHasExtra(t, env, tn.Schema))
				continue
			}
			require.Equal(t, current, ttVersion(t, env.Pool, tn.Schema), "other tenants are left alone")
			require.False(t, ttHasExtra(t, env, tn.Schema))
		}

		res, err = next.MigrateAll(ctx, tenant.MigrateOptions{Slug: target.Slug})
		require.NoError(t, err)
		require.Zero(t, res.Behind, "that tenant is now up to date")

		_, err = next.MigrateAll(ctx, tenant.MigrateOptions{Slug: ttSlug()})
		ttRequireCode(t, err, apperr.CodeNotFound)

		res, err = next.MigrateAll(ctx, tenant.MigrateOptions{})
		require.NoError(t, err)
		require.Equal(t, 2, res.Behind, "the rest of the fleet")
		require.Equal(t, 2, res.Migrated)
	})

	t.Run("EmptyFleetHasNothingToDo", func(t *testing.T) {
		t.Parallel()

		env := ttNew(t)
		var progress ttProgressLog

		res, err := ttWithMigration(t, env, ttAddColumn).MigrateAll(t.Context(), tenant.MigrateOptions{Progress: progress.record})

		require.NoError(t, err)
		require.Zero(t, res.Behind)
		require.Zero(t, res.Migrated)
		progress.requireReached(t, 0, 0, 0)
	})
}
