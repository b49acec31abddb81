package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/clientiq/clientiq/internal/tenancy"
)

// FanOut enqueues, inside tx, one tenant job per tenant whose jobs run
// (active and suspended; see TenantMiddleware), built by build. Each job's
// metadata names its own tenant, so the batch needs no tenant in ctx; it is
// inserted as the system. A nil from build skips that tenant. FanOut
// returns how many jobs it enqueued (unique jobs skipped as duplicates
// included).
//
// Per-tenant args that are unique by args must carry the tenant id in a
// `river:"unique"` field: River's unique key ignores metadata, so identical
// args for two tenants would otherwise collide.
func FanOut(ctx context.Context, client *river.Client[pgx.Tx], tx pgx.Tx, build func(*tenancy.Tenant) river.JobArgs) (int, error) {
	rows, err := tx.Query(ctx, `SELECT id, slug, name, schema_name, status FROM public.tenants
		WHERE status = ANY($1) ORDER BY created_at, id`, []string{tenancy.StatusActive, tenancy.StatusSuspended})
	if err != nil {
		return 0, fmt.Errorf("fan out: list tenants: %w", err)
	}
	tenants, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*tenancy.Tenant, error) {
		var t tenancy.Tenant
		err := row.Scan(&t.ID, &t.Slug, &t.Name, &t.Schema, &t.Status)
		return &t, err
	})
	if err != nil {
		return 0, fmt.Errorf("fan out: list tenants: %w", err)
	}
	params := make([]river.InsertManyParams, 0, len(tenants))
	for _, t := range tenants {
		args := build(t)
		if args == nil {
			continue
		}
		// Fresh options per job: nothing is shared between tenants' jobs.
		params = append(params, river.InsertManyParams{Args: args, InsertOpts: &river.InsertOpts{Metadata: tenantMetadata(t)}})
	}
	if len(params) == 0 {
		return 0, nil
	}
	if tenancy.SystemReason(ctx) == "" {
		ctx = tenancy.AsSystem(ctx, "jobs fan-out")
	}
	res, err := client.InsertManyTx(ctx, tx, params)
	if err != nil {
		return 0, fmt.Errorf("fan out: %w", err)
	}
	return len(res), nil
}

// PeriodicFanOut is per-tenant periodic work: every Interval, River's leader
// enqueues one global FanOutArgs job, whose worker enqueues Build(t) for
// every tenant (FanOut). Domains provide Build and the per-tenant worker;
// they need not import this package.
type PeriodicFanOut struct {
	// ID names the periodic job and its fan-out. Required, unique, stable:
	// queued FanOutArgs refer to it.
	ID string
	// Interval between fan-outs. Default 1 hour.
	Interval time.Duration
	// RunOnStart also fans out when a client becomes leader.
	RunOnStart bool
	// Build returns the job of one tenant, or nil to skip it. Required.
	Build func(*tenancy.Tenant) river.JobArgs
}

// FanOutArgs asks to run the fan-out with ID once. It is a global job.
type FanOutArgs struct {
	ID string `json:"id" river:"unique"`
}

// Kind implements river.JobArgs.
func (FanOutArgs) Kind() string { return "tenant_fan_out" }

// Global implements GlobalArgs: a fan-out runs for no tenant.
func (FanOutArgs) Global() bool { return true }

// InsertOpts keeps at most one fan-out of each ID waiting or running.
func (FanOutArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, UniqueOpts: uniqueWhileQueued()}
}

// uniqueWhileQueued is the UniqueOpts of periodic maintenance jobs: one per
// args until it completes, so a slow or failing run never piles up copies.
// River requires a custom ByState to hold available, pending, running and
// scheduled.
func uniqueWhileQueued() river.UniqueOpts {
	return river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}
}

// fanOutWorker works FanOutArgs.
type fanOutWorker struct {
	river.WorkerDefaults[FanOutArgs]
	pool   *pgxpool.Pool
	builds map[string]func(*tenancy.Tenant) river.JobArgs
}

// Work enqueues the tenants' jobs and completes itself in one transaction,
// so a crash either enqueues nothing and retries, or enqueues everything
// once.
func (w *fanOutWorker) Work(ctx context.Context, job *river.Job[FanOutArgs]) error {
	build := w.builds[job.Args.ID]
	if build == nil {
		return river.JobCancel(fmt.Errorf("no fan-out %q is configured in this process", job.Args.ID))
	}
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return river.JobCancel(err)
	}
	return pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		if _, err := FanOut(ctx, client, tx, build); err != nil {
			return err
		}
		_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
		return err
	})
}

// periodic returns f as a River periodic job.
func (f PeriodicFanOut) periodic() *river.PeriodicJob {
	id := f.ID
	return river.NewPeriodicJob(river.PeriodicInterval(interval(f.Interval)),
		func() (river.JobArgs, *river.InsertOpts) { return FanOutArgs{ID: id}, nil },
		&river.PeriodicJobOpts{ID: "fan_out_" + id, RunOnStart: f.RunOnStart})
}

func interval(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Hour
	}
	return d
}
