package billing

import (
	"context"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// queueMaintenance is jobs.QueueMaintenance (not imported: domains do not
// import the job wiring).
const queueMaintenance = "maintenance"

// RenewArgs is the periodic job that renews due subscriptions. It is
// global: it works every tenant's subscription from the public schema.
type RenewArgs struct{}

// Kind implements river.JobArgs.
func (RenewArgs) Kind() string { return "billing_renew" }

// Global marks the job as belonging to no tenant (jobs.GlobalArgs).
func (RenewArgs) Global() bool { return true }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (RenewArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueMaintenance, UniqueOpts: uniqueWhileQueued()}
}

// DunningArgs is the periodic job that retries past-due subscriptions'
// invoices and cancels them after the last retry. Global, like RenewArgs.
type DunningArgs struct{}

// Kind implements river.JobArgs.
func (DunningArgs) Kind() string { return "billing_dunning" }

// Global marks the job as belonging to no tenant (jobs.GlobalArgs).
func (DunningArgs) Global() bool { return true }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (DunningArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueMaintenance, UniqueOpts: uniqueWhileQueued()}
}

// uniqueWhileQueued keeps one copy of a periodic job until it completes,
// so a slow run never piles up copies.
func uniqueWhileQueued() river.UniqueOpts {
	return river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}
}

// PeriodicJobs are billing's periodic jobs for the River client: renewal
// every 15 minutes and dunning every hour, both also at start.
func (s *Service) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(15*time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return RenewArgs{}, nil },
			&river.PeriodicJobOpts{ID: "billing_renew", RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return DunningArgs{}, nil },
			&river.PeriodicJobOpts{ID: "billing_dunning", RunOnStart: true}),
	}
}

// AddWorkers registers billing's workers.
func (s *Service) AddWorkers(w *river.Workers) {
	river.AddWorker(w, &renewWorker{svc: s})
	river.AddWorker(w, &dunningWorker{svc: s})
}

type renewWorker struct {
	river.WorkerDefaults[RenewArgs]
	svc *Service
}

// Work implements river.Worker.
func (w *renewWorker) Work(ctx context.Context, _ *river.Job[RenewArgs]) error {
	_, err := w.svc.RenewDue(ctx)
	return err
}

type dunningWorker struct {
	river.WorkerDefaults[DunningArgs]
	svc *Service
}

// Work implements river.Worker.
func (w *dunningWorker) Work(ctx context.Context, _ *river.Job[DunningArgs]) error {
	_, err := w.svc.Dun(ctx)
	return err
}
