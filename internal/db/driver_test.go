package db_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/ent/project"
	"github.com/clientiq/clientiq/internal/db"
)

func TestDriverReadsBackWhatEntWrote(t *testing.T) {
	t.Parallel()
	f := newClientsFixture(t)
	c := f.tenantClient(t, f.ctxA)
	owner := uuid.New()

	owned, err := c.Project.Create().SetID(db.NewID()).SetName("owned").SetOwnerID(owner).Save(f.ctxA)
	require.NoError(t, err)
	orphan, err := c.Project.Create().SetID(db.NewID()).SetName("orphan").Save(f.ctxA)
	require.NoError(t, err)
	item, err := c.DataItem.Create().SetID(db.NewID()).SetProjectID(owned.ID).SetTitle("item").
		SetAttributes(map[string]any{"size": 3.0, "tags": []any{"a"}}).SetTags([]string{"x", "y"}).Save(f.ctxA)
	require.NoError(t, err)

	got, err := c.Project.Get(f.ctxA, owned.ID)
	require.NoError(t, err)
	require.Equal(t, owned.ID, got.ID)
	require.NotNil(t, got.OwnerID, "a nullable uuid column that holds one")
	require.Equal(t, owner, *got.OwnerID)
	require.True(t, got.CreatedAt.Equal(owned.CreatedAt.Truncate(time.Microsecond)), "%v against %v", got.CreatedAt, owned.CreatedAt)

	got, err = c.Project.Get(f.ctxA, orphan.ID)
	require.NoError(t, err)
	require.Nil(t, got.OwnerID, "a NULL uuid")

	it, err := c.DataItem.Get(f.ctxA, item.ID)
	require.NoError(t, err)
	require.Equal(t, owned.ID, it.ProjectID)
	require.Equal(t, map[string]any{"size": 3.0, "tags": []any{"a"}}, it.Attributes)
	require.Equal(t, []string{"x", "y"}, it.Tags)

	n, err := c.Project.Query().Count(f.ctxA)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	ids, err := c.Project.Query().Order(project.ByName()).IDs(f.ctxA)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{orphan.ID, owned.ID}, ids, "by name")
	ok, err := c.Project.Query().Where(project.Name("nobody")).Exist(f.ctxA)
	require.NoError(t, err)
	require.False(t, ok)
}

func TestDriverExecReportsRowsAffected(t *testing.T) {
	t.Parallel()
	f := newClientsFixture(t)
	f.seed(t, f.ctxA, 3)
	c := f.tenantClient(t, f.ctxA)

	n, err := c.Project.Update().SetDescription("seen").Save(f.ctxA)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	n, err = c.Project.Delete().Where(project.Name("nobody")).Exec(f.ctxA)
	require.NoError(t, err)
	require.Zero(t, n)

	res, err := c.ExecContext(f.ctxA, "SELECT 1 FROM generate_series(1, 4)")
	require.NoError(t, err)
	rows, err := res.RowsAffected()
	require.NoError(t, err)
	require.EqualValues(t, 4, rows)
	_, err = res.LastInsertId()
	require.Error(t, err, "PostgreSQL has RETURNING instead")
}

// queryString runs a one-column, one-row query through an ent driver (or
// transaction) the way ent's generated code does.
func queryString(t *testing.T, ctx context.Context, q interface {
	Query(context.Context, string, any, any) error
}, query string) string {
	t.Helper()
	var rows entsql.Rows
	require.NoError(t, q.Query(ctx, query, []any{}, &rows))
	defer rows.Close()
	s, err := entsql.ScanString(rows)
	require.NoError(t, err)
	return s
}

func TestDriverTransactions(t *testing.T) {
	t.Parallel()
	f := newClientsFixture(t)
	ctx := context.Background()
	drv := db.NewDriver(f.db.Pool)

	t.Run("take their options", func(t *testing.T) {
		t.Parallel()
		tx, err := drv.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable, ReadOnly: true})
		require.NoError(t, err)
		defer func() { _ = tx.Rollback() }()
		require.Equal(t, "serializable", queryString(t, ctx, tx, "SHOW transaction_isolation"))
		require.Equal(t, "on", queryString(t, ctx, tx, "SHOW transaction_read_only"))

		err = tx.Exec(ctx, "CREATE TEMP TABLE refused (id int)", []any{}, nil)
		var pgErr *pgconn.PgError
		require.True(t, errors.As(err, &pgErr), "%v", err)
		require.Equal(t, "25006", pgErr.Code, "read_only_sql_transaction")

		_, err = drv.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelLinearizable})
		require.Error(t, err, "an isolation level PostgreSQL does not have")
	})

	t.Run("commit and roll back", func(t *testing.T) {
		t.Parallel()
		c := f.tenantClient(t, f.ctxB)
		tx, err := c.Tx(f.ctxB)
		require.NoError(t, err)
		_, err = tx.Project.Create().SetName("kept").Save(f.ctxB)
		require.NoError(t, err)
		require.NoError(t, tx.Commit())
		require.ErrorIs(t, tx.Commit(), sql.ErrTxDone, "a second commit")
		_, err = tx.Project.Query().Count(f.ctxB)
		require.ErrorIs(t, err, sql.ErrTxDone, "a statement after the commit")
		_, err = tx.ExecContext(f.ctxB, "SELECT 1")
		require.ErrorIs(t, err, sql.ErrTxDone, "a raw one too")

		tx, err = c.Tx(f.ctxB)
		require.NoError(t, err)
		_, err = tx.Project.Create().SetName("dropped").Save(f.ctxB)
		require.NoError(t, err)
		require.NoError(t, tx.Rollback())
		require.ErrorIs(t, tx.Rollback(), sql.ErrTxDone, "a second rollback")

		names, err := c.Project.Query().Select(project.FieldName).Strings(f.ctxB)
		require.NoError(t, err)
		require.Equal(t, []string{"kept"}, names)
	})
}

func TestDriverQueryCancelledMidStatementReportsTheContext(t *testing.T) {
	t.Parallel()
	f := newClientsFixture(t)
	drv := db.NewDriver(f.db.Pool)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	var rows entsql.Rows
	err := drv.Query(ctx, "SELECT count(*) FROM pg_sleep(2)", []any{}, &rows)
	if err == nil {
		// What ent does with the rows: a count is one column of one row.
		_, err = entsql.ScanInt(rows)
		_ = rows.Close()
	}
	require.ErrorIs(t, err, context.DeadlineExceeded, "not a result of zero columns")
	require.Less(t, time.Since(start), 1500*time.Millisecond)

	// The same through ent, and the pool serves the next query.
	ctx, cancel = context.WithTimeout(f.ctxA, 100*time.Millisecond)
	defer cancel()
	_, err = f.tenantClient(t, f.ctxA).Project.Query().
		Where(func(s *entsql.Selector) { s.Where(entsql.ExprP("(SELECT true FROM pg_sleep(2))")) }).Count(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Equal(t, "1", queryString(t, context.Background(), drv, "SELECT '1'"))
}

func TestDriverRollsBackAfterTheContextEnded(t *testing.T) {
	t.Parallel()
	f := newClientsFixture(t)
	clients, pool := smallClients(t, f.db.URL) // one connection
	c, err := clients.Tenant(f.ctxA)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(f.ctxA)
	tx, err := c.Tx(ctx)
	require.NoError(t, err)
	_, err = tx.Project.Create().SetName("never").Save(ctx)
	require.NoError(t, err)
	cancel() // between statements: the connection itself is fine
	require.NoError(t, tx.Rollback(), "the rollback runs although the context ended")

	require.Equal(t, int32(1), pool.Stat().TotalConns(), "the connection was kept, not destroyed")
	n, err := c.Project.Query().Count(f.ctxA)
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestDriverStatementWithoutColumnsReleasesItsConnection(t *testing.T) {
	t.Parallel()
	f := newClientsFixture(t)
	_, pool := smallClients(t, f.db.URL) // one connection
	drv := db.NewDriver(pool)
	ctx := context.Background()

	var rows entsql.Rows
	require.NoError(t, drv.Query(ctx, "DO $$ BEGIN END $$", []any{}, &rows))
	cols, err := rows.Columns()
	require.NoError(t, err)
	require.Empty(t, cols)
	require.False(t, rows.Next())
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.Zero(t, pool.Stat().AcquiredConns(), "the connection went back at once")
	require.Equal(t, "1", queryString(t, ctx, drv, "SELECT '1'"))
}
