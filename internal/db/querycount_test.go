package db_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbtest"
)

func TestQueryCounter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := db.Open(ctx, db.Config{URL: dbtest.New(t).URL, MaxConns: 4})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	counter := db.QueryCounterOf(d.Pool)
	require.NotNil(t, counter, "PoolConfig installs the counter")
	const n = 7

	t.Run("counts statements sent through pgx", func(t *testing.T) {
		before := counter.Count()
		for range n {
			var one int
			require.NoError(t, d.Pool.QueryRow(ctx, "SELECT 1").Scan(&one))
		}
		require.Equal(t, uint64(n), counter.Count()-before)
	})

	t.Run("counts statements sent through ent", func(t *testing.T) {
		client := ent.NewClient(ent.Driver(db.NewDriver(d.Pool)))
		before := counter.Count()
		for range n {
			_, err := client.Plan.Query().Count(ctx)
			require.NoError(t, err)
		}
		require.Equal(t, uint64(n), counter.Count()-before)
	})

	t.Run("counts a transaction's BEGIN and COMMIT", func(t *testing.T) {
		before := counter.Count()
		tx, err := d.Pool.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, "SELECT 1")
		require.NoError(t, err)
		require.NoError(t, tx.Commit(ctx))
		require.Equal(t, uint64(3), counter.Count()-before)
	})

	t.Run("is exported as clientiq_db_queries_total", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		require.NoError(t, reg.Register(db.NewQueryCollector(d.Pool)))
		families, err := reg.Gather()
		require.NoError(t, err)
		require.Len(t, families, 1)
		require.Equal(t, "clientiq_db_queries_total", families[0].GetName())
		require.Equal(t, float64(counter.Count()), families[0].GetMetric()[0].GetCounter().GetValue())
	})
}
