package auth

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// DefaultTokenRetention is how long expired or revoked tokens are kept
// before PurgeTokensWorker deletes them.
const DefaultTokenRetention = 7 * 24 * time.Hour

// MinTokenRetention is the shortest retention the worker accepts. A revoked
// refresh-token row is what ends the session of an access token already
// issued (authenticate checks its family for a revoked row), so it must
// outlive the longest access token (15 minutes) with room to spare.
const MinTokenRetention = 24 * time.Hour

// purgeBatch bounds one DELETE, so a large backlog never holds long locks.
const purgeBatch = 5000

// PurgeTokens deletes refresh tokens and one-time user tokens that expired,
// or were revoked or used, before cutoff. A consumed refresh token that has
// not expired is kept: reuse detection needs it until it expires. It returns
// how many rows of each table it deleted.
func PurgeTokens(ctx context.Context, pool *pgxpool.Pool, cutoff time.Time) (refresh, user int64, err error) {
	refresh, err = deleteInBatches(ctx, pool, `DELETE FROM public.refresh_tokens WHERE id IN (
		SELECT id FROM public.refresh_tokens WHERE expires_at < $1 OR revoked_at < $1 LIMIT $2)`, cutoff)
	if err != nil {
		return refresh, 0, fmt.Errorf("purge refresh tokens: %w", err)
	}
	user, err = deleteInBatches(ctx, pool, `DELETE FROM public.user_tokens WHERE id IN (
		SELECT id FROM public.user_tokens WHERE expires_at < $1 OR used_at < $1 LIMIT $2)`, cutoff)
	if err != nil {
		return refresh, user, fmt.Errorf("purge user tokens: %w", err)
	}
	return refresh, user, nil
}

// deleteInBatches runs q (parameters: cutoff, batch size) until a batch
// deletes fewer rows than the batch size.
func deleteInBatches(ctx context.Context, pool *pgxpool.Pool, q string, cutoff time.Time) (int64, error) {
	var total int64
	for {
		tag, err := pool.Exec(ctx, q, cutoff, purgeBatch)
		if err != nil {
			return total, err
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < purgeBatch {
			return total, nil
		}
	}
}

// PurgeTokensArgs asks to delete tokens past their retention. It is a
// global job: tokens live in the public schema.
type PurgeTokensArgs struct{}

// Kind implements river.JobArgs.
func (PurgeTokensArgs) Kind() string { return "auth_purge_tokens" }

// Global marks the job as belonging to no tenant (see jobs.GlobalArgs).
func (PurgeTokensArgs) Global() bool { return true }

// InsertOpts puts the purge on the maintenance queue, one at a time.
func (PurgeTokensArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: "maintenance", UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// PurgeTokensConfig configures the PurgeTokensWorker.
type PurgeTokensConfig struct {
	// Pool is the PostgreSQL pool. Required.
	Pool *pgxpool.Pool
	// Logger receives a summary of each run. Required.
	Logger *slog.Logger
	// Retention is how long expired, revoked or used tokens are kept.
	// Default DefaultTokenRetention; values under MinTokenRetention are
	// raised to it.
	Retention time.Duration
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
}

// PurgeTokensWorker works PurgeTokensArgs.
type PurgeTokensWorker struct {
	river.WorkerDefaults[PurgeTokensArgs]
	cfg PurgeTokensConfig
}

// NewPurgeTokensWorker returns the worker for PurgeTokensArgs.
func NewPurgeTokensWorker(cfg PurgeTokensConfig) *PurgeTokensWorker {
	cfg.Retention = max(cmp.Or(cfg.Retention, DefaultTokenRetention), MinTokenRetention)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &PurgeTokensWorker{cfg: cfg}
}

// Work implements river.Worker.
func (w *PurgeTokensWorker) Work(ctx context.Context, _ *river.Job[PurgeTokensArgs]) error {
	refresh, user, err := PurgeTokens(ctx, w.cfg.Pool, w.cfg.Now().Add(-w.cfg.Retention))
	if err != nil {
		return err
	}
	w.cfg.Logger.InfoContext(ctx, "tokens_purged", slog.Int64("refresh_tokens", refresh), slog.Int64("user_tokens", user))
	return nil
}
