package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbmigrate"
)

// Counts returns the number of jobs per queue and state.
func Counts(ctx context.Context, pool *pgxpool.Pool) (map[string]map[string]int64, error) {
	rows, err := pool.Query(ctx, "SELECT queue, state::text, count(*) FROM "+
		db.QuoteIdent(dbmigrate.RiverSchema)+".river_job GROUP BY queue, state")
	if err != nil {
		return nil, fmt.Errorf("count river jobs: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]int64{}
	for _, q := range Queues {
		out[q] = map[string]int64{}
	}
	for rows.Next() {
		var q, s string
		var n int64
		if err := rows.Scan(&q, &s, &n); err != nil {
			return nil, fmt.Errorf("count river jobs: %w", err)
		}
		if out[q] == nil {
			out[q] = map[string]int64{}
		}
		out[q][s] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count river jobs: %w", err)
	}
	return out, nil
}

// CountsCollector exports Counts to Prometheus at scrape time.
type CountsCollector struct {
	pool *pgxpool.Pool
	desc *prometheus.Desc
}

// NewCountsCollector returns a collector of River job counts.
func NewCountsCollector(pool *pgxpool.Pool) *CountsCollector {
	return &CountsCollector{pool: pool, desc: prometheus.NewDesc("clientiq_river_jobs",
		"River jobs by queue and state.", []string{"queue", "state"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *CountsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *CountsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := Counts(ctx, c.pool)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for q, states := range counts {
		for s, n := range states {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), q, s)
		}
	}
}
