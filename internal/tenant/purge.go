package tenant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/clientiq/clientiq/internal/tenancy"
)

// JobInserter enqueues River jobs inside a caller's transaction
// (*river.Client[pgx.Tx] is one).
type JobInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// PurgeArgs asks to drop a deleted tenant's schema once its grace period has
// passed. It is a platform job: it names the tenant, and runs in no tenant's
// context.
type PurgeArgs struct {
	Slug string `json:"slug" river:"unique"`
}

// Kind implements river.JobArgs.
func (PurgeArgs) Kind() string { return "tenant_purge" }

// Global marks the purge as a platform job (see jobs.GlobalArgs): it is
// enqueued and worked with no tenant in the context.
func (PurgeArgs) Global() bool { return true }

// InsertOpts puts purges on the maintenance queue, one pending per tenant.
// River requires a custom ByState to hold available, pending, running and
// scheduled (it refuses the insert otherwise); retryable is added so a purge
// that failed once is not doubled by a new deletion.
func (PurgeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       "maintenance",
		MaxAttempts: 10,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled,
		}},
	}
}

// PurgeWorker drops the schema of a tenant whose deletion grace period has
// passed; a tenant restored in the meantime is left alone.
type PurgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	svc *Service
}

// NewPurgeWorker returns the worker for PurgeArgs.
func NewPurgeWorker(svc *Service) *PurgeWorker { return &PurgeWorker{svc: svc} }

// Work implements river.Worker.
func (w *PurgeWorker) Work(ctx context.Context, job *river.Job[PurgeArgs]) error {
	now := time.Now()
	t, err := w.svc.Get(ctx, job.Args.Slug)
	if errors.Is(err, errTenantNotFound) {
		return nil // purged already
	}
	if err != nil {
		return err
	}
	// Deleted again after a restore: this job was kept (one per tenant), so
	// it waits for the new due time.
	if t.Status == tenancy.StatusPendingDeletion && t.DeletionRequestedAt != nil {
		if due := t.DeletionRequestedAt.Add(w.svc.grace); now.Before(due) {
			return river.JobSnooze(due.Sub(now))
		}
	}
	if _, err := w.svc.Purge(ctx, job.Args.Slug, now); err != nil {
		return fmt.Errorf("purge tenant %s: %w", job.Args.Slug, err)
	}
	return nil
}

// Timeout gives dropping a large schema room.
func (w *PurgeWorker) Timeout(*river.Job[PurgeArgs]) time.Duration { return 10 * time.Minute }

// PurgeSweepArgs asks to enqueue PurgeArgs for every tenant pending
// deletion whose grace period has passed: belt and braces for the purge
// scheduled at deletion (lost if the jobs table was restored from a backup,
// say). PurgeArgs is unique per tenant, so a sweep never doubles one.
type PurgeSweepArgs struct{}

// Kind implements river.JobArgs.
func (PurgeSweepArgs) Kind() string { return "tenant_purge_sweep" }

// Global marks the sweep as a platform job.
func (PurgeSweepArgs) Global() bool { return true }

// InsertOpts puts the sweep on the maintenance queue, one at a time.
func (PurgeSweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: "maintenance", UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// EnqueueOverduePurges enqueues, in one transaction, PurgeArgs for every
// tenant pending deletion since before now minus the grace period, and
// returns how many it asked for (duplicates of a purge already queued are
// skipped by River and still counted).
func (s *Service) EnqueueOverduePurges(ctx context.Context, ins JobInserter, now time.Time) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT slug FROM public.tenants
			WHERE status = $1 AND deletion_requested_at <= $2 ORDER BY deletion_requested_at, slug`,
			tenancy.StatusPendingDeletion, now.Add(-s.grace))
		if err != nil {
			return err
		}
		slugs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, slug := range slugs {
			if _, err := ins.InsertTx(ctx, tx, PurgeArgs{Slug: slug}, nil); err != nil {
				return fmt.Errorf("enqueue purge of %s: %w", slug, err)
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sweep tenant purges: %w", err)
	}
	return n, nil
}

// PurgeSweepWorker works PurgeSweepArgs, enqueuing through the River client
// that runs it.
type PurgeSweepWorker struct {
	river.WorkerDefaults[PurgeSweepArgs]
	svc *Service
}

// NewPurgeSweepWorker returns the worker for PurgeSweepArgs.
func NewPurgeSweepWorker(svc *Service) *PurgeSweepWorker { return &PurgeSweepWorker{svc: svc} }

// Work implements river.Worker.
func (w *PurgeSweepWorker) Work(ctx context.Context, _ *river.Job[PurgeSweepArgs]) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return river.JobCancel(err)
	}
	n, err := w.svc.EnqueueOverduePurges(ctx, client, time.Now())
	if err != nil {
		return err
	}
	if n > 0 {
		w.svc.logger.InfoContext(ctx, "tenant_purges_swept", slog.Int("tenants", n))
	}
	return nil
}
