// Package db owns ClientIQ's connection to PostgreSQL: the pgx pool, the
// ent driver over it, start-up checks, and the translation of
// PostgreSQL errors into apperr codes.
package db

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Config says how to reach PostgreSQL.
type Config struct {
	// URL is a postgres:// connection URL.
	URL string
	// MaxConns is the pool size. Default 12.
	MaxConns int32
	// ConnectTimeout bounds dialing and the start-up ping. Default 5s.
	ConnectTimeout time.Duration
	// ApplicationName is reported to PostgreSQL (pg_stat_activity). Default "clientiq".
	ApplicationName string
	// TransactionPooling says URL goes through a pooler in transaction mode
	// (DATABASE_POOLER=pgbouncer-transaction): each transaction, and each
	// statement outside one, may run on another server connection, so
	// nothing can rely on state a connection kept from an earlier round
	// trip. The pool then runs every query in TransactionPoolingExecMode,
	// unless URL sets default_query_exec_mode itself.
	TransactionPooling bool
}

// TransactionPoolingExecMode is the query mode used behind a transaction
// pooler. pgx's default mode caches named prepared statements on each
// connection, which a pooler that moves the client between server
// connections breaks ("prepared statement … does not exist" or "already
// exists"); PgBouncer tracks them only from 1.21 with
// max_prepared_statements > 0, and Debian 12 ships 1.18. CacheDescribe
// uses only the unnamed statement and sends each execution self-contained
// (Parse, Bind, Execute in one round trip), with the parameter types
// PostgreSQL described, so every argument is encoded exactly as with the
// default mode. QueryExecModeExec and the simple protocol are one round
// trip too, but infer types from the Go values: ClientIQ passes []uuid.UUID
// for uuid[] parameters, which pgx cannot encode without a described type
// (see docs/scaling.md).
const TransactionPoolingExecMode = pgx.QueryExecModeCacheDescribe

// DB is the shared handle: one pgx pool for River, raw SQL and ent (through
// Driver).
type DB struct {
	Pool *pgxpool.Pool
}

// ErrUnreachable marks a database that did not answer at start.
var ErrUnreachable = errors.New("database unreachable")

// Open connects and pings within cfg.ConnectTimeout, so a wrong host or a
// stopped server ends start-up quickly with ErrUnreachable, never a hang.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	pcfg, err := PoolConfig(cfg)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, cmp.Or(cfg.ConnectTimeout, 5*time.Second))
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%w: %s", ErrUnreachable, describeConnError(err))
	}
	return &DB{Pool: pool}, nil
}

// PoolConfig turns cfg into a pgxpool configuration.
func PoolConfig(cfg Config) (*pgxpool.Config, error) {
	pcfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, errors.New("parse DATABASE_URL: invalid connection URL")
	}
	pcfg.MaxConns = cmp.Or(cfg.MaxConns, 12)
	pcfg.ConnConfig.ConnectTimeout = cmp.Or(cfg.ConnectTimeout, 5*time.Second)
	if _, ok := pcfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		pcfg.ConnConfig.RuntimeParams["application_name"] = cmp.Or(cfg.ApplicationName, "clientiq")
	}
	if cfg.TransactionPooling && !strings.Contains(cfg.URL, "default_query_exec_mode=") {
		pcfg.ConnConfig.DefaultQueryExecMode = TransactionPoolingExecMode
	}
	pcfg.MaxConnLifetime = time.Hour
	pcfg.MaxConnIdleTime = 10 * time.Minute
	pcfg.HealthCheckPeriod = 30 * time.Second
	pcfg.AfterConnect = AfterConnect(pcfg.AfterConnect)
	// Count statements (clientiq_db_queries_total); one atomic add each.
	if pcfg.ConnConfig.Tracer == nil {
		pcfg.ConnConfig.Tracer = &QueryCounter{}
	}
	return pcfg, nil
}

// Close releases the pool.
func (d *DB) Close() {
	d.Pool.Close()
}

// Ping runs one round trip to PostgreSQL.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	return d.Pool.QueryRow(ctx, "SELECT 1").Scan(&one)
}

// describeConnError keeps the useful part of a connection error (the host
// and the reason) without the password that a DSN-bearing error might carry.
func describeConnError(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return fmt.Sprintf("%s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return "timed out connecting"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out connecting"
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return connErr.Error()
	}
	return err.Error()
}

// QuoteIdent quotes a PostgreSQL identifier (schema or table name) safely.
func QuoteIdent(name string) string { return pgx.Identifier{name}.Sanitize() }
