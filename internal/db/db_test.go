package db_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbtest"
)

func TestPoolConfig(t *testing.T) {
	t.Parallel()

	const url = "postgres://clientiq@db.internal:5432/clientiq?sslmode=disable"
	tests := []struct {
		name string
		cfg  db.Config
		want pgx.QueryExecMode
	}{
		{"DirectCachesNamedPreparedStatements", db.Config{URL: url}, pgx.QueryExecModeCacheStatement},
		{"TransactionPoolingCachesOnlyDescriptions", db.Config{URL: url, TransactionPooling: true}, pgx.QueryExecModeCacheDescribe},
		{"AModeInTheURLWinsOverTransactionPooling",
			db.Config{URL: url + "&default_query_exec_mode=cache_statement", TransactionPooling: true}, pgx.QueryExecModeCacheStatement},
		{"AModeInTheURLIsKeptWithoutAPooler",
			db.Config{URL: url + "&default_query_exec_mode=cache_describe"}, pgx.QueryExecModeCacheDescribe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			pcfg, err := db.PoolConfig(tt.cfg)

			require.NoError(t, err)
			require.Equal(t, tt.want, pcfg.ConnConfig.DefaultQueryExecMode)
			require.Equal(t, int32(12), pcfg.MaxConns)
			require.Equal(t, "clientiq", pcfg.ConnConfig.RuntimeParams["application_name"])
			require.NotContains(t, pcfg.ConnConfig.RuntimeParams, "default_query_exec_mode",
				"pgx consumes the mode; it must never reach PostgreSQL (or PgBouncer) as a startup parameter")
		})
	}
}

// TestOpenWithTransactionPooling runs the kinds of statement ClientIQ sends
// (jsonb passed as text, uuid[] from []uuid.UUID, the same text twice) on
// one connection of a pool opened for a transaction pooler, and requires
// that the session was left without a named prepared statement: the next
// transaction may run on another server connection, where it would not
// exist. The same statements on a direct pool do leave some, which shows
// the check can fail.
func TestOpenWithTransactionPooling(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	_, err := d.Pool.Exec(ctx, `CREATE TABLE public.pooling_probe (id uuid PRIMARY KEY, doc jsonb NOT NULL)`)
	require.NoError(t, err)

	// preparedAfter runs the statements on one connection of a pool opened
	// with cfg and counts the named statements its session holds.
	preparedAfter := func(t *testing.T, cfg db.Config) int {
		t.Helper()
		h, err := db.Open(ctx, cfg)
		require.NoError(t, err)
		t.Cleanup(h.Close)
		return withConn(t, h.Pool, func(conn *pgxpool.Conn) {
			ids := []uuid.UUID{uuid.New(), uuid.New()}
			for i, id := range ids {
				_, err := conn.Exec(ctx, `INSERT INTO public.pooling_probe (id, doc) VALUES ($1, $2)`, id, fmt.Sprintf(`{"n":%d}`, i))
				require.NoError(t, err)
			}
			for range 2 {
				var n int
				require.NoError(t, conn.QueryRow(ctx,
					`SELECT count(*) FROM public.pooling_probe WHERE id = ANY($1) AND doc ? 'n'`, ids).Scan(&n))
				require.GreaterOrEqual(t, n, 2)
			}
		})
	}

	t.Run("ForATransactionPoolerNoNamedStatementIsLeft", func(t *testing.T) {
		t.Parallel()

		require.Zero(t, preparedAfter(t, db.Config{URL: d.URL, TransactionPooling: true}))
	})

	t.Run("DirectlyStatementsArePreparedAndCached", func(t *testing.T) {
		t.Parallel()

		require.Positive(t, preparedAfter(t, db.Config{URL: d.URL}))
	})
}

// withConn runs fn on one pooled connection and returns how many named
// prepared statements that connection's session holds afterwards.
func withConn(t *testing.T, pool *pgxpool.Pool, fn func(*pgxpool.Conn)) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	fn(conn)
	var n int
	// The simple protocol, so this count prepares nothing itself.
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM pg_prepared_statements`,
		pgx.QueryExecModeSimpleProtocol).Scan(&n))
	return n
}
