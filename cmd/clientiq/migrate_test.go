package main

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/dbtest"
)

// migrateSummary matches the line `clientiq migrate` ends with.
var migrateSummary = regexp.MustCompile(`public: (\d+) migration\(s\) applied; river: (\d+) applied`)

// applied returns the public and River counts a migrate run printed.
func applied(t *testing.T, res result) (public, river int) {
	t.Helper()
	m := migrateSummary.FindStringSubmatch(res.stdout)
	require.NotNil(t, m, "migrate printed no summary\n%s", res)
	public, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	river, err = strconv.Atoi(m[2])
	require.NoError(t, err)
	return public, river
}

func TestMigrate(t *testing.T) {
	t.Parallel()

	t.Run("applies every migration to an empty database, then nothing", func(t *testing.T) {
		t.Parallel()
		db := dbtest.NewWith(t, &dbtest.Options{Empty: true})
		env := newEnv(t, db.URL)

		first := runCLI(t, 2*time.Minute, env, "migrate")
		require.Equal(t, exitOK, first.code, first.String())
		public, river := applied(t, first)
		require.GreaterOrEqual(t, public, 1, first.String())
		require.GreaterOrEqual(t, river, 1, first.String())

		second := runCLI(t, 2*time.Minute, env, "migrate")
		require.Equal(t, exitOK, second.code, second.String())
		public, river = applied(t, second)
		require.Zero(t, public, second.String())
		require.Zero(t, river, second.String())
	})

	t.Run("-create-db creates a missing database", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		name := "clientiq_test_createdb_" + dbtest.RandomSuffix()
		u, err := url.Parse(dbtest.AdminURL())
		require.NoError(t, err)
		u.Path = "/" + name
		t.Cleanup(func() {
			admin, err := pgx.Connect(ctx, dbtest.AdminURL())
			require.NoError(t, err)
			defer admin.Close(ctx)
			_, err = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
			require.NoError(t, err)
		})

		res := runCLI(t, 2*time.Minute, newEnv(t, u.String()), "migrate", "-create-db")

		require.Equal(t, exitOK, res.code, res.String())
		require.Contains(t, res.stdout, "created database")
		public, _ := applied(t, res)
		require.GreaterOrEqual(t, public, 1, res.String())
		admin, err := pgx.Connect(ctx, dbtest.AdminURL())
		require.NoError(t, err)
		defer admin.Close(ctx)
		var exists bool
		require.NoError(t, admin.QueryRow(ctx,
			"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists))
		require.True(t, exists)
	})

	t.Run("-create-db on an existing database only migrates", func(t *testing.T) {
		t.Parallel()
		db := dbtest.New(t)

		res := runCLI(t, 2*time.Minute, newEnv(t, db.URL), "migrate", "-create-db")

		require.Equal(t, exitOK, res.code, res.String())
		require.NotContains(t, res.stdout, "created database")
		public, _ := applied(t, res)
		require.Zero(t, public, res.String())
	})
}
