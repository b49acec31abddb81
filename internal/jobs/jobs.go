// Package jobs owns ClientIQ's River set-up: the queues and their
// concurrency, the worker registry, the client that serve and worker run,
// the tenant middleware that makes every job run for exactly one tenant (or
// explicitly for none), periodic jobs and per-tenant fan-out, River UI, and
// job counts for health and metrics. Job args and workers live in the domain
// packages that own them; this package wires them. See docs/jobs.md.
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
	"github.com/riverqueue/river/rivertype"

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
	// EmailWorkers is the email queue's concurrency. Default 5.
	EmailWorkers int
	// PaymentsWorkers is the payments queue's concurrency. Default 5: calls
	// to the payment provider are rate-limited on their side.
	PaymentsWorkers int
	// MaintenanceWorkers is the maintenance queue's concurrency (purges,
	// sweeps, fan-outs). Default 2.
	MaintenanceWorkers int
	// Workers holds the registered workers; nil means Register's set.
	// NewClient adds its own (fan-out, Maintenance) to it, so a registry
	// cannot be shared by two clients that both have FanOuts or Maintenance.
	Workers *river.Workers
	// JobTimeout bounds one job's run when its worker sets no Timeout.
	// Default 1 minute. A worker's Timeout must never be -1 (unbounded):
	// rescue depends on every job having a bound.
	JobTimeout time.Duration
	// LongestJobTimeout is the longest Timeout any registered worker
	// returns. Default 10 minutes (tenant.PurgeWorker). A worker that needs
	// longer must raise it, or River may rescue it while it still runs.
	LongestJobTimeout time.Duration
	// MaxAttempts is the default number of attempts of a job. Default 10.
	// A kind overrides it with InsertOpts().MaxAttempts on its args.
	MaxAttempts int
	// PeriodicJobs are added to the built-in periodic jobs (Maintenance and
	// FanOuts). Only the elected leader among the clients enqueues them.
	PeriodicJobs []*river.PeriodicJob
	// FanOuts are periodic per-tenant jobs (see PeriodicFanOut).
	FanOuts []PeriodicFanOut
	// Maintenance, when set, registers ClientIQ's built-in maintenance
	// workers and their periodic jobs (see Maintenance). Nil in processes
	// and tests that only want their own jobs.
	Maintenance *Maintenance
	// PollOnly makes the client poll for new jobs (every second) and
	// leadership instead of LISTENing for notifications: required when the
	// pool goes through a pooler in transaction mode (DATABASE_POOLER=
	// pgbouncer-transaction), where a LISTEN would be held by a server
	// connection the pooler hands to other clients. Default false.
	PollOnly bool
	// FetchCooldown is the shortest time between two fetches of every
	// queue but maintenance (which keeps maintenanceFetchCooldown). Zero
	// keeps River's default (100 ms), which bounds a queue at MaxWorkers
	// jobs per cooldown: lower it where short jobs must flow faster (the
	// River benchmark), at the price of more fetch queries.
	FetchCooldown time.Duration
	// TestOnly turns on River's test mode.
	TestOnly bool
}

// maintenanceFetchCooldown is the maintenance queue's shortest time
// between two fetches. Its jobs are many and short (a fan-out enqueues one
// per tenant; each is one statement in its tenant's schema, about 3 ms),
// and River's default cooldown of 100 ms capped its two workers at 20 jobs
// a second: an hourly fan-out over 10,000 tenants took eight minutes, and
// past 72,000 tenants it would never catch up. At 10 ms the cap is 200 jobs
// a second per process (165 measured, BenchmarkMaintenanceFanOut), and the
// queue's idle polling (FetchPollInterval) is unchanged.
const maintenanceFetchCooldown = 10 * time.Millisecond

// defaultMaxAttempts is the attempts of a job whose kind sets none: with
// River's attempt^4 backoff, ten attempts span about four hours.
const defaultMaxAttempts = 10

// rescueMargin is how long past the longest job timeout a running job must
// be before River's rescuer takes it as stuck (its process died) and makes
// it available again.
const rescueMargin = 5 * time.Minute

// Register returns the worker registry with every ClientIQ worker that
// needs no dependency added.
func Register() *river.Workers {
	w := river.NewWorkers()
	river.AddWorker(w, &NoopWorker{})
	return w
}

// NewClient returns a River client working every queue, its tables in
// dbmigrate.RiverSchema (never found through search_path), with the tenant
// middleware installed (see TenantMiddleware).
//
// RescueStuckJobsAfter is max(JobTimeout, LongestJobTimeout) plus five
// minutes: a job still running then has outlived its own timeout, so its
// process is gone, and rescuing it never runs a live job twice at once.
func NewClient(pool *pgxpool.Pool, cfg Config) (*river.Client[pgx.Tx], error) {
	workers := cfg.Workers
	if workers == nil {
		workers = Register()
	}
	periodic, err := addBuiltins(pool, workers, cfg)
	if err != nil {
		return nil, fmt.Errorf("create river client: %w", err)
	}
	jobTimeout := cmp.Or(cfg.JobTimeout, time.Minute)
	longest := max(jobTimeout, cmp.Or(cfg.LongestJobTimeout, 10*time.Minute))
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Schema: dbmigrate.RiverSchema,
		Logger: cfg.Logger,
		Queues: map[string]river.QueueConfig{
			QueueDefault:     {MaxWorkers: cmp.Or(cfg.DefaultWorkers, 10)},
			QueueEmail:       {MaxWorkers: cmp.Or(cfg.EmailWorkers, 5)},
			QueuePayments:    {MaxWorkers: cmp.Or(cfg.PaymentsWorkers, 5)},
			QueueMaintenance: {MaxWorkers: cmp.Or(cfg.MaintenanceWorkers, 2), FetchCooldown: maintenanceFetchCooldown},
		},
		Workers:              workers,
		PeriodicJobs:         append(periodic, cfg.PeriodicJobs...),
		Middleware:           []rivertype.Middleware{NewTenantMiddleware(pool)},
		JobTimeout:           jobTimeout,
		RescueStuckJobsAfter: longest + rescueMargin,
		MaxAttempts:          cmp.Or(cfg.MaxAttempts, defaultMaxAttempts),
		PollOnly:             cfg.PollOnly,
		FetchCooldown:        cfg.FetchCooldown,
		TestOnly:             cfg.TestOnly,
	})
	if err != nil {
		return nil, fmt.Errorf("create river client: %w", err)
	}
	return client, nil
}

// NewInserter returns a River client that only inserts jobs (no workers),
// for processes and tests that enqueue without working. It installs the
// tenant middleware and the same default MaxAttempts as NewClient: both are
// decided when a job is inserted, not when it is worked.
func NewInserter(pool *pgxpool.Pool, logger *slog.Logger) (*river.Client[pgx.Tx], error) {
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Schema:      dbmigrate.RiverSchema,
		Logger:      logger,
		Middleware:  []rivertype.Middleware{NewTenantMiddleware(pool)},
		MaxAttempts: defaultMaxAttempts,
	})
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

// Global implements GlobalArgs: the noop belongs to no tenant.
func (NoopArgs) Global() bool { return true }

// NoopWorker works NoopArgs.
type NoopWorker struct {
	river.WorkerDefaults[NoopArgs]
}

// Work implements river.Worker.
func (*NoopWorker) Work(context.Context, *river.Job[NoopArgs]) error { return nil }
