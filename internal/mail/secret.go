package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// An email's secret part (the link carrying a password reset, verification
// or invitation token) is kept in public.email_secrets until the email is
// sent, and the SendEmail job names the row (SendEmailArgs.SecretRef)
// instead of carrying it: River keeps a finished job's args for days, its
// UI shows them to staff, and backups copy them. The worker deletes the
// row once the email is out, or when the job is cancelled or out of
// attempts; PurgeSecrets deletes the rows left behind (a worker that died
// first) once their token has expired.

// ErrSecretGone is the worker's error for a job whose secret row is gone:
// the email was sent already, or its token expired and was purged.
var ErrSecretGone = errors.New("the email's secret part is gone (sent already, or expired)")

// execer is what a pool, a connection and a transaction all offer.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// StoreSecret keeps data, the secret fields of an email, under id until
// expires (when the token in it stops working anyway). Call it in the
// transaction that inserts the job whose SecretRef is id.
func StoreSecret(ctx context.Context, db execer, id uuid.UUID, data map[string]string, expires time.Time) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("store email secret: %w", err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO public.email_secrets (id, data, created_at, expires_at) VALUES ($1, $2, now(), $3)`,
		id, raw, expires); err != nil {
		return fmt.Errorf("store email secret: %w", err)
	}
	return nil
}

// openSecret returns the secret fields stored under id, or ErrSecretGone.
func openSecret(ctx context.Context, db execer, id uuid.UUID) (map[string]string, error) {
	var raw []byte
	err := db.QueryRow(ctx, `SELECT data FROM public.email_secrets WHERE id = $1`, id).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrSecretGone
	}
	if err != nil {
		return nil, fmt.Errorf("read email secret: %w", err)
	}
	var data map[string]string
	if err := json.Unmarshal(raw, &data); err != nil {
		return nil, fmt.Errorf("read email secret: %w", err)
	}
	return data, nil
}

// forgetSecret deletes the secret stored under id.
func forgetSecret(ctx context.Context, db execer, id uuid.UUID) error {
	if _, err := db.Exec(ctx, `DELETE FROM public.email_secrets WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete email secret: %w", err)
	}
	return nil
}

// PurgeSecrets deletes the secrets that expired before now and returns how
// many; PurgeSecretsWorker calls it periodically.
func PurgeSecrets(ctx context.Context, db execer, now time.Time) (int64, error) {
	tag, err := db.Exec(ctx, `DELETE FROM public.email_secrets WHERE expires_at < $1`, now)
	if err != nil {
		return 0, fmt.Errorf("purge email secrets: %w", err)
	}
	return tag.RowsAffected(), nil
}

// withSecret returns data with the secret fields added (a copy: the job's
// args stay as they were).
func withSecret(data, secret map[string]string) map[string]string {
	out := make(map[string]string, len(data)+len(secret))
	maps.Copy(out, data)
	maps.Copy(out, secret)
	return out
}

// PurgeSecretsArgs asks to delete the email secrets whose token expired:
// the emails River gave up on. A global job: the rows live in public.
type PurgeSecretsArgs struct{}

// Kind implements river.JobArgs.
func (PurgeSecretsArgs) Kind() string { return "mail_purge_secrets" }

// Global marks the job as belonging to no tenant (see jobs.GlobalArgs).
func (PurgeSecretsArgs) Global() bool { return true }

// InsertOpts puts the purge on the maintenance queue, one at a time.
func (PurgeSecretsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: "maintenance", UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// PurgeSecretsWorker works PurgeSecretsArgs.
type PurgeSecretsWorker struct {
	river.WorkerDefaults[PurgeSecretsArgs]
	pool   *pgxpool.Pool
	logger *slog.Logger
	now    func() time.Time
}

// NewPurgeSecretsWorker returns the worker for PurgeSecretsArgs; now is the
// clock (nil: time.Now).
func NewPurgeSecretsWorker(pool *pgxpool.Pool, logger *slog.Logger, now func() time.Time) *PurgeSecretsWorker {
	if now == nil {
		now = time.Now
	}
	return &PurgeSecretsWorker{pool: pool, logger: logger, now: now}
}

// Work implements river.Worker.
func (w *PurgeSecretsWorker) Work(ctx context.Context, _ *river.Job[PurgeSecretsArgs]) error {
	n, err := PurgeSecrets(ctx, w.pool, w.now())
	if err != nil {
		return err
	}
	w.logger.InfoContext(ctx, "email_secrets_purged", slog.Int64("rows", n))
	return nil
}
