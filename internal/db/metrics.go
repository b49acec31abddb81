package db

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// PoolCollector exports pgxpool statistics to Prometheus.
type PoolCollector struct {
	pool  *pgxpool.Pool
	descs map[string]*prometheus.Desc
}

// NewPoolCollector returns a collector over pool.
func NewPoolCollector(pool *pgxpool.Pool) *PoolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("clientiq_db_pool_"+name, help, nil, nil)
	}
	return &PoolCollector{pool: pool, descs: map[string]*prometheus.Desc{
		"total":        d("conns_total", "Connections in the pool."),
		"acquired":     d("conns_acquired", "Connections in use."),
		"idle":         d("conns_idle", "Idle connections."),
		"max":          d("conns_max", "Pool size limit."),
		"acquires":     d("acquires_total", "Successful acquires."),
		"empty":        d("empty_acquires_total", "Acquires that waited because no connection was idle."),
		"canceled":     d("canceled_acquires_total", "Acquires cancelled by their context."),
		"acquire_secs": d("acquire_wait_seconds_total", "Time spent waiting to acquire."),
		"new":          d("new_conns_total", "Connections opened."),
	}}
}

// Describe implements prometheus.Collector.
func (c *PoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *PoolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	g := func(k string, v float64) { ch <- prometheus.MustNewConstMetric(c.descs[k], prometheus.GaugeValue, v) }
	n := func(k string, v float64) { ch <- prometheus.MustNewConstMetric(c.descs[k], prometheus.CounterValue, v) }
	g("total", float64(s.TotalConns()))
	g("acquired", float64(s.AcquiredConns()))
	g("idle", float64(s.IdleConns()))
	g("max", float64(s.MaxConns()))
	n("acquires", float64(s.AcquireCount()))
	n("empty", float64(s.EmptyAcquireCount()))
	n("canceled", float64(s.CanceledAcquireCount()))
	n("acquire_secs", s.AcquireDuration().Seconds())
	n("new", float64(s.NewConnsCount()))
}
