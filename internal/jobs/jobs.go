// Package jobs owns ClientIQ's River set-up: the queues and their
// concurrency, the worker registry, the client that serve and worker run,
// and job counts for health and metrics. Job args and workers live in the
// domain packages that own them; this package wires them.
package jobs

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/clientiq/clientiq/internal/dbmigrate"
)

// Queue names.
const (
	QueueDefault     = river.QueueDefault
	QueueEmail       = "email"
	QueuePayments    = "payments"
	QueueMaintenance = "maintenance"
)

// Queues lists every queue, for counts and health.
var Queues = []string{QueueDefault, QueueEmail, QueuePayments, QueueMaintenance}

// Config configures the River client.
type Config struct {
	// Logger receives River's logs. Required.
	Logger *slog.Logger
	// DefaultWorkers is the default queue's concurrency. Default 10.
	DefaultWorkers int
	// Workers holds the registered workers; nil means Register's set.
	Workers *river.Workers
	// JobTimeout bounds one job's run. Default 1 minute.
	JobTimeout time.Duration
	// TestOnly turns on River's test mode.
	TestOnly bool
}

// Register returns the worker registry with every ClientIQ worker added.
func Register() *river.Workers {
	w := river.NewWorkers()
	river.AddWorker(w, &NoopWorker{})
	return w
}

// NewClient returns a River client working every queue, its tables in
// dbmigrate.RiverSchema (never found through search_path).
func NewClient(pool *pgxpool.Pool, cfg Config) (*river.Client[pgx.Tx], error) {
	workers := cfg.Workers
	if workers == nil {
		workers = Register()
	}
	jobTimeout := cmp.Or(cfg.JobTimeout, time.Minute)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Schema: dbmigrate.RiverSchema,
		Logger: cfg.Logger,
		Queues: map[string]river.QueueConfig{
			QueueDefault:     {MaxWorkers: cmp.Or(cfg.DefaultWorkers, 10)},
			QueueEmail:       {MaxWorkers: 5},
			QueuePayments:    {MaxWorkers: 5},
			QueueMaintenance: {MaxWorkers: 2},
		},
		Workers:    workers,
		JobTimeout: jobTimeout,
		// Rescue only jobs stuck well past the longest timeout, so a slow
		// job is never run twice at once.
		RescueStuckJobsAfter: 10*jobTimeout + time.Minute,
		MaxAttempts:          10,
		TestOnly:             cfg.TestOnly,
	})
	if err != nil {
		return nil, fmt.Errorf("create river client: %w", err)
	}
	return client, nil
}

// NewInserter returns a River client that only inserts jobs (no workers),
// for processes and tests that enqueue without working.
func NewInserter(pool *pgxpool.Pool, logger *slog.Logger) (*river.Client[pgx.Tx], error) {
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: dbmigrate.RiverSchema, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("create river inserter: %w", err)
	}
	return client, nil
}

// NoopArgs is a job that does nothing: it measures River's own throughput
// (make bench) and proves end to end that workers run.
type NoopArgs struct{}

// Kind implements river.JobArgs.
func (NoopArgs) Kind() string { return "noop" }

// NoopWorker works NoopArgs.
type NoopWorker struct {
	river.WorkerDefaults[NoopArgs]
}

// Work implements river.Worker.
func (*NoopWorker) Work(context.Context, *river.Job[NoopArgs]) error { return nil }
