package dbmigrate_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/dbmigrate"
	"github.com/clientiq/clientiq/internal/dbtest"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// publicVersions lists the embedded public migrations.
func publicVersions(t *testing.T) []string {
	t.Helper()
	files, err := dbmigrate.Files("public")
	require.NoError(t, err)
	require.NotEmpty(t, files, "migrations/public holds no .sql file")
	versions := make([]string, len(files))
	for i, f := range files {
		versions[i] = f.Version
	}
	return versions
}

// recorded returns the versions in public.schema_migrations, in order.
func recorded(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT version FROM public.schema_migrations ORDER BY version")
	require.NoError(t, err)
	versions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return versions
}

func TestFilesAreSortedSQLFiles(t *testing.T) {
	t.Parallel()

	for _, dir := range []string{"public", "tenant"} {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()

			files, err := dbmigrate.Files(dir)

			require.NoError(t, err)
			for i, f := range files {
				require.NotEmpty(t, f.SQL, f.Version)
				if i > 0 {
					require.Less(t, files[i-1].Version, f.Version)
				}
			}
		})
	}

	t.Run("an unknown directory is an error", func(t *testing.T) {
		t.Parallel()

		_, err := dbmigrate.Files("nope")

		require.Error(t, err)
	})
}

func TestPublic(t *testing.T) {
	t.Parallel()

	t.Run("applies every file and River's migrations to public, then nothing", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		db := dbtest.NewWith(t, &dbtest.Options{Empty: true})
		want := publicVersions(t)

		first, err := dbmigrate.Public(ctx, db.Pool, testLogger(t))

		require.NoError(t, err)
		require.Equal(t, want, first.Applied)
		require.Positive(t, first.RiverSteps)
		require.Equal(t, want, recorded(t, db.Pool))

		var riverJob *string
		require.NoError(t, db.Pool.QueryRow(ctx, "SELECT to_regclass('public.river_job')::text").Scan(&riverJob))
		require.NotNil(t, riverJob, "public.river_job does not exist")
		rows, err := db.Pool.Query(ctx, `SELECT schemaname || '.' || tablename FROM pg_tables
			WHERE tablename LIKE 'river\_%' AND schemaname <> 'public'`)
		require.NoError(t, err)
		elsewhere, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		require.Empty(t, elsewhere, "River tables outside public")

		second, err := dbmigrate.Public(ctx, db.Pool, testLogger(t))

		require.NoError(t, err)
		require.Empty(t, second.Applied)
		require.Zero(t, second.RiverSteps)
		require.Equal(t, want, recorded(t, db.Pool))
	})

	t.Run("concurrent runs apply each file once", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		db := dbtest.NewWith(t, &dbtest.Options{Empty: true})
		want := publicVersions(t)

		const runs = 2
		results := make([]*dbmigrate.Result, runs)
		errs := make([]error, runs)
		var wg sync.WaitGroup
		for i := range runs {
			wg.Go(func() { results[i], errs[i] = dbmigrate.Public(ctx, db.Pool, testLogger(t)) })
		}
		wg.Wait()

		var applied []string
		riverSteps := 0
		for i := range runs {
			require.NoError(t, errs[i], "run %d", i)
			applied = append(applied, results[i].Applied...)
			riverSteps += results[i].RiverSteps
		}
		require.ElementsMatch(t, want, applied, "every file applied exactly once between the runs")
		require.Positive(t, riverSteps)
		require.Equal(t, want, recorded(t, db.Pool))
	})
}

func TestPending(t *testing.T) {
	t.Parallel()

	t.Run("lists every file on an empty database", func(t *testing.T) {
		t.Parallel()
		db := dbtest.NewWith(t, &dbtest.Options{Empty: true})

		pending, err := dbmigrate.Pending(context.Background(), db.Pool)

		require.NoError(t, err)
		require.Equal(t, publicVersions(t), pending)
	})

	t.Run("lists nothing on a migrated database", func(t *testing.T) {
		t.Parallel()
		db := dbtest.New(t)

		pending, err := dbmigrate.Pending(context.Background(), db.Pool)

		require.NoError(t, err)
		require.Empty(t, pending)
	})
}

func TestApplyOne(t *testing.T) {
	t.Parallel()

	t.Run("a failing file leaves neither its DDL nor a record", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		db := dbtest.New(t)
		conn, err := db.Pool.Acquire(ctx)
		require.NoError(t, err)
		defer conn.Release()

		err = dbmigrate.ApplyOne(ctx, conn.Conn(), dbmigrate.File{Version: "999_bad", SQL: "CREATE TABLE ok_t(x int); SELECT nope_fn();"})

		require.ErrorContains(t, err, "999_bad")
		var table *string
		require.NoError(t, db.Pool.QueryRow(ctx, "SELECT to_regclass('public.ok_t')::text").Scan(&table))
		require.Nil(t, table, "ok_t survived a failed migration")
		var n int
		require.NoError(t, db.Pool.QueryRow(ctx,
			"SELECT count(*) FROM public.schema_migrations WHERE version = '999_bad'").Scan(&n))
		require.Zero(t, n)
	})

	t.Run("a good file is applied and recorded together", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		db := dbtest.New(t)
		conn, err := db.Pool.Acquire(ctx)
		require.NoError(t, err)
		defer conn.Release()

		err = dbmigrate.ApplyOne(ctx, conn.Conn(), dbmigrate.File{Version: "999_good", SQL: "CREATE TABLE good_t(x int); CREATE INDEX ON good_t (x);"})

		require.NoError(t, err)
		var table *string
		require.NoError(t, db.Pool.QueryRow(ctx, "SELECT to_regclass('public.good_t')::text").Scan(&table))
		require.NotNil(t, table)
		require.Contains(t, recorded(t, db.Pool), "999_good")
	})
}
