package db

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// QueryCounter counts the statements a pool sends to PostgreSQL. It is a
// pgx tracer on the pool's ConnConfig, so it sees what goes through pgx
// directly (River, raw SQL) and what goes through ent (db.Driver), which
// runs on the same pool: "database round trips per request" is measured,
// not guessed. Counting is one atomic add per statement.
//
// What it counts: every Query, QueryRow and Exec (BEGIN and COMMIT are
// Execs, so a transaction counts them), one per SendBatch and one per
// CopyFrom. What it does not: the Parse/Describe round trip pgx makes the
// first time a connection sees a statement (its statement cache), and the
// liveness pings of idle connections; both are rare on a warm pool.
type QueryCounter struct{ n atomic.Uint64 }

// Count returns the statements counted so far.
func (c *QueryCounter) Count() uint64 { return c.n.Load() }

// TraceQueryStart implements pgx.QueryTracer.
func (c *QueryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (c *QueryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart implements pgx.BatchTracer: a batch is one round trip.
func (c *QueryCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.n.Add(1)
	return ctx
}

// TraceBatchQuery implements pgx.BatchTracer.
func (c *QueryCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

// TraceBatchEnd implements pgx.BatchTracer.
func (c *QueryCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// TraceCopyFromStart implements pgx.CopyFromTracer.
func (c *QueryCounter) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	c.n.Add(1)
	return ctx
}

// TraceCopyFromEnd implements pgx.CopyFromTracer.
func (c *QueryCounter) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}

// QueryCounterOf returns the counter PoolConfig installed on pool, or nil
// for a pool configured elsewhere.
func QueryCounterOf(pool *pgxpool.Pool) *QueryCounter {
	c, _ := pool.Config().ConnConfig.Tracer.(*QueryCounter)
	return c
}

// NewQueryCollector exports pool's statement count as the Prometheus
// counter clientiq_db_queries_total (always 0 for a pool without a
// QueryCounter).
func NewQueryCollector(pool *pgxpool.Pool) prometheus.Collector {
	c := QueryCounterOf(pool)
	return prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "clientiq_db_queries_total",
		Help: "Statements sent to PostgreSQL through the pool (River, raw SQL and ent alike).",
	}, func() float64 {
		if c == nil {
			return 0
		}
		return float64(c.Count())
	})
}
