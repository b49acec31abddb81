package tenant

import (
	"context"
	"errors"
	"fmt"
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
