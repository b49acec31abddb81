package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Driver is ent's dialect.Driver straight over the pgx pool, with no
// database/sql between them.
//
// Through database/sql (pgx's stdlib adapter over the pool) every
// statement checked a connection out of database/sql, which opened a
// driver connection by acquiring one from pgxpool, and closed it again
// after the last row (stdlib keeps no idle connections, so the pool stays
// shared with River and the batches); each row went through driver.Value
// conversions and database/sql's convertAssign. Here a statement is
// pgxpool's Query or Exec, and rows are scanned by pgx into ent's
// destinations (sql.Scanner types such as sql.NullString and uuid.UUID,
// or plain Go types) directly.
//
// What ent needs of database/sql it still gets: sql.Result for Exec,
// sql.TxOptions for BeginTx, and an ExecContext for raw statements inside
// a transaction (audit.RecordSQL). QueryContext, which must return a
// *sql.Rows, is not offered: raw queries go to the pool.
type Driver struct {
	pool *pgxpool.Pool
}

// NewDriver returns an ent driver over pool. Closing the driver leaves the
// pool open: it belongs to whoever made it (DB.Close).
func NewDriver(pool *pgxpool.Pool) *Driver { return &Driver{pool: pool} }

var (
	_ dialect.Driver = (*Driver)(nil)
	_ dialect.Tx     = (*driverTx)(nil)
)

// Dialect is PostgreSQL.
func (d *Driver) Dialect() string { return dialect.Postgres }

// Close does nothing: the pool is the DB's.
func (d *Driver) Close() error { return nil }

// Exec runs a statement; v is nil or an *sql.Result.
func (d *Driver) Exec(ctx context.Context, query string, args, v any) error {
	return execOn(ctx, d.pool, query, args, v)
}

// Query runs a query; v is an *entsql.Rows.
func (d *Driver) Query(ctx context.Context, query string, args, v any) error {
	return queryOn(ctx, d.pool, query, args, v)
}

// ExecContext runs a raw statement (ent's client.ExecContext).
func (d *Driver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	return res, execOn(ctx, d.pool, query, args, &res)
}

// Tx begins a transaction with PostgreSQL's defaults.
func (d *Driver) Tx(ctx context.Context) (dialect.Tx, error) { return d.BeginTx(ctx, nil) }

// BeginTx begins a transaction (ent's client.BeginTx). The transaction's
// statements and its commit run under ctx; a rollback also runs when ctx
// has ended, so a healthy connection goes back to the pool clean.
func (d *Driver) BeginTx(ctx context.Context, opts *entsql.TxOptions) (dialect.Tx, error) {
	var o pgx.TxOptions
	if opts != nil {
		switch opts.Isolation {
		case sql.LevelDefault:
		case sql.LevelReadUncommitted:
			o.IsoLevel = pgx.ReadUncommitted
		case sql.LevelReadCommitted:
			o.IsoLevel = pgx.ReadCommitted
		case sql.LevelRepeatableRead, sql.LevelSnapshot:
			o.IsoLevel = pgx.RepeatableRead
		case sql.LevelSerializable:
			o.IsoLevel = pgx.Serializable
		default:
			return nil, fmt.Errorf("db: isolation level %v is not supported by PostgreSQL", opts.Isolation)
		}
		if opts.ReadOnly {
			o.AccessMode = pgx.ReadOnly
		}
	}
	tx, err := d.pool.BeginTx(ctx, o)
	if err != nil {
		return nil, err
	}
	return &driverTx{tx: tx, ctx: ctx}, nil
}

// driverTx is a pgx transaction as ent's dialect.Tx.
type driverTx struct {
	tx  pgx.Tx
	ctx context.Context
}

func (t *driverTx) Dialect() string { return dialect.Postgres }

// Close rolls back a transaction still open (dialect.Driver's Close).
func (t *driverTx) Close() error { return t.Rollback() }

func (t *driverTx) Exec(ctx context.Context, query string, args, v any) error {
	return execOn(ctx, t.tx, query, args, v)
}

func (t *driverTx) Query(ctx context.Context, query string, args, v any) error {
	return queryOn(ctx, t.tx, query, args, v)
}

func (t *driverTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	return res, execOn(ctx, t.tx, query, args, &res)
}

func (t *driverTx) Tx(context.Context) (dialect.Tx, error) {
	return nil, errors.New("db: a transaction cannot begin another one")
}

// Commit commits under the transaction's context. A commit refused (the
// context ended, or the connection broke) leaves nothing behind: pgxpool
// destroys a connection it gets back inside a transaction.
func (t *driverTx) Commit() error {
	return txErr(t.tx.Commit(t.ctx))
}

// Rollback rolls back, also when the transaction's context has ended (up
// to five seconds), so the connection returns to the pool usable.
func (t *driverTx) Rollback() error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), 5*time.Second)
	defer cancel()
	return txErr(t.tx.Rollback(ctx))
}

// txErr answers a statement, commit or rollback on a transaction already
// ended with database/sql's sql.ErrTxDone, as ent's callers expect.
func txErr(err error) error {
	if errors.Is(err, pgx.ErrTxClosed) {
		return sql.ErrTxDone
	}
	return err
}

// querier is what a pool and a transaction both offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func execOn(ctx context.Context, q querier, query string, args, v any) error {
	argv, ok := args.([]any)
	if !ok && args != nil {
		return fmt.Errorf("db: invalid type %T for args, expected []any", args)
	}
	switch v := v.(type) {
	case nil:
		_, err := q.Exec(ctx, query, argv...)
		return txErr(err)
	case *sql.Result:
		tag, err := q.Exec(ctx, query, argv...)
		if err != nil {
			return txErr(err)
		}
		*v = result(tag.RowsAffected())
		return nil
	default:
		return fmt.Errorf("db: invalid type %T for an Exec result, expected *sql.Result", v)
	}
}

func queryOn(ctx context.Context, q querier, query string, args, v any) error {
	vr, ok := v.(*entsql.Rows)
	if !ok {
		return fmt.Errorf("db: invalid type %T for a Query result, expected *sql.Rows", v)
	}
	argv, ok := args.([]any)
	if !ok && args != nil {
		return fmt.Errorf("db: invalid type %T for args, expected []any", args)
	}
	r, err := q.Query(ctx, query, argv...)
	if err != nil {
		return txErr(err)
	}
	if len(r.FieldDescriptions()) == 0 {
		// No row description: the statement failed before one came (pgx
		// keeps that error, a cancellation say, until the rows close), or
		// it returns no rows at all. ent would read the first as a result
		// of zero columns. Closed rows give their connection back, so
		// nothing may read them after this.
		r.Close()
		if err := r.Err(); err != nil {
			return txErr(err)
		}
		*vr = entsql.Rows{ColumnScanner: noRows{}}
		return nil
	}
	*vr = entsql.Rows{ColumnScanner: &rows{Rows: r}}
	return nil
}

// rows is pgx's result set as ent's ColumnScanner.
type rows struct {
	pgx.Rows
}

// Close releases the rows (and their connection, back to the pool).
func (r *rows) Close() error {
	r.Rows.Close()
	return nil
}

// Columns names the result's columns.
func (r *rows) Columns() ([]string, error) {
	fds := r.FieldDescriptions()
	names := make([]string, len(fds))
	for i, fd := range fds {
		names[i] = fd.Name
	}
	return names, nil
}

// ColumnTypes is not available without database/sql; ent then scans a
// column it does not know into an any (ScanTypeOf).
func (r *rows) ColumnTypes() ([]*sql.ColumnType, error) {
	return nil, errors.New("db: column types are not available from pgx rows")
}

// NextResultSet: a query has one result set.
func (r *rows) NextResultSet() bool { return false }

// noRows is the result of a statement that returns no columns.
type noRows struct{}

func (noRows) Close() error                            { return nil }
func (noRows) Columns() ([]string, error)              { return []string{}, nil }
func (noRows) ColumnTypes() ([]*sql.ColumnType, error) { return nil, nil }
func (noRows) Err() error                              { return nil }
func (noRows) Next() bool                              { return false }
func (noRows) NextResultSet() bool                     { return false }
func (noRows) Scan(...any) error                       { return errors.New("db: the statement returned no columns") }

// result is an Exec's sql.Result.
type result int64

func (r result) LastInsertId() (int64, error) {
	return 0, errors.New("db: LastInsertId is not supported by PostgreSQL; use RETURNING")
}

func (r result) RowsAffected() (int64, error) { return int64(r), nil }
