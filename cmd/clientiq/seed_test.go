package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/dbtest"
)

func TestSeed(t *testing.T) {
	t.Parallel()

	t.Run("--force creates the demo tenant once", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		db := dbtest.New(t)
		env := newEnv(t, db.URL)

		first := runCLI(t, time.Minute, env, "seed", "--force")
		require.Equal(t, exitOK, first.code, first.String())
		require.Contains(t, first.stdout, `seeded demo tenant "acme"`)

		second := runCLI(t, time.Minute, env, "seed", "--force")
		require.Equal(t, exitOK, second.code, second.String())
		require.Contains(t, second.stdout, "nothing seeded")

		n, err := db.Ent.Tenant.Query().Count(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
	})

	t.Run("the seeded tenant is provisioned, so migrate stays clean", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		db := dbtest.New(t)
		env := newEnv(t, db.URL)

		seed := runCLI(t, time.Minute, env, "seed", "--force")
		require.Equal(t, exitOK, seed.code, seed.String())
		migrate := runCLI(t, time.Minute, env, "migrate")

		require.Equal(t, exitOK, migrate.code, migrate.String())
		require.Contains(t, migrate.stdout, "0 schema(s) behind", migrate.String())
		var schemaExists bool
		require.NoError(t, db.Pool.QueryRow(ctx,
			"SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'tenant_acme')").Scan(&schemaExists))
		require.True(t, schemaExists)
	})

	t.Run("without --force outside the local profile exits two", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		db := dbtest.New(t)

		res := runCLI(t, time.Minute, newEnv(t, db.URL), "seed")

		require.Equal(t, exitUsage, res.code, res.String())
		require.Contains(t, res.stderr, "--force")
		n, err := db.Ent.Tenant.Query().Count(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
	})
}
