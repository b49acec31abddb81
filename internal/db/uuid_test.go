package db_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbtest"
)

// TestUUIDParametersMeanTheSameInEveryQueryMode: uuid.UUID parameters go
// to PostgreSQL as their 16 bytes; as uuid, as text, as NULL through a nil
// pointer, in every query mode (the direct one, PgBouncer's, the simple
// protocol), they must mean what their string form meant.
func TestUUIDParametersMeanTheSameInEveryQueryMode(t *testing.T) {
	t.Parallel()
	d := dbtest.NewWith(t, &dbtest.Options{Empty: true})
	ctx := t.Context()
	u := uuid.New()
	var nilID *uuid.UUID
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeCacheDescribe,
		pgx.QueryExecModeDescribeExec, pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol} {
		t.Run(mode.String(), func(t *testing.T) {
			pcfg, err := db.PoolConfig(db.Config{URL: d.URL, MaxConns: 1})
			require.NoError(t, err)
			pcfg.ConnConfig.DefaultQueryExecMode = mode
			pool, err := pgxpool.NewWithConfig(ctx, pcfg)
			require.NoError(t, err)
			defer pool.Close()

			var asUUID uuid.UUID
			var asText, typ string
			require.NoError(t, pool.QueryRow(ctx, `SELECT $1::uuid, $2::text, pg_typeof($3::uuid)::text`, u, u, u).Scan(&asUUID, &asText, &typ))
			require.Equal(t, u, asUUID)
			require.Equal(t, u.String(), asText)
			require.Equal(t, "uuid", typ)

			var same, isNull bool
			require.NoError(t, pool.QueryRow(ctx, `SELECT $1::uuid = $2::text::uuid, $3::uuid IS NULL`, &u, u.String(), nilID).Scan(&same, &isNull))
			require.True(t, same)
			require.True(t, isNull)

			// A text column compared with a uuid parameter, as audit rows'
			// target ids are.
			require.NoError(t, pool.QueryRow(ctx, `SELECT $1::text = $2`, u.String(), u).Scan(&same))
			require.True(t, same)
		})
	}
}
