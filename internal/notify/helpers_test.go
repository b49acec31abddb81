package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/dbmigrate"
	"github.com/clientiq/clientiq/internal/mail"
	"github.com/clientiq/clientiq/internal/notify"
)

// discard swallows River's logs: its goroutines may log after a test ends.
var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// inserter returns a River client that only inserts (nothing works the
// jobs), for tests that read what was enqueued.
func inserter(t *testing.T, pool *pgxpool.Pool) *river.Client[pgx.Tx] {
	t.Helper()
	c, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: dbmigrate.RiverSchema, Logger: discard})
	require.NoError(t, err)
	return c
}

// worker returns a started River client that sends email through smtpURL.
func worker(t *testing.T, pool *pgxpool.Pool, smtpURL string) *river.Client[pgx.Tx] {
	t.Helper()
	sender, err := mail.NewSMTPSender(mail.SMTPConfig{URL: smtpURL, From: "ClientIQ <no-reply@clientiq.test>"})
	require.NoError(t, err)
	w, err := mail.NewSendEmailWorker(mail.WorkerConfig{Sender: sender, Pool: pool})
	require.NoError(t, err)
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	c, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Schema: dbmigrate.RiverSchema, Logger: discard, Workers: workers,
		Queues:            map[string]river.QueueConfig{mail.QueueEmail: {MaxWorkers: 5}},
		FetchCooldown:     20 * time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		TestOnly:          true,
	})
	require.NoError(t, err)
	require.NoError(t, c.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, c.Stop(ctx))
	})
	return c
}

func newOutbox(t *testing.T, pool *pgxpool.Pool, ins notify.Inserter, mutate func(*notify.OutboxConfig)) *notify.Outbox {
	t.Helper()
	cfg := notify.OutboxConfig{
		Inserter: ins, Pool: pool, BaseURL: "https://clientiq.test", SalesEmail: "sales@clientiq.test",
		Now: func() time.Time { return time.Date(2030, 1, 2, 3, 4, 0, 0, time.UTC) },
	}
	if mutate != nil {
		mutate(&cfg)
	}
	o, err := notify.NewOutbox(cfg)
	require.NoError(t, err)
	return o
}

// emailJobs returns the args of every send_email job, oldest first, with
// the secret fields a job names (SecretRef) added to its Data as the worker
// adds them; it fails the test when a job's own args hold a token.
func emailJobs(t *testing.T, pool *pgxpool.Pool) []mail.SendEmailArgs {
	t.Helper()
	rows, err := pool.Query(context.Background(),
		`SELECT args FROM public.river_job WHERE kind = 'send_email' ORDER BY id`)
	require.NoError(t, err)
	raw, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	require.NoError(t, err)
	out := make([]mail.SendEmailArgs, len(raw))
	for i, b := range raw {
		require.NoError(t, json.Unmarshal(b, &out[i]))
		require.NotContains(t, string(b), "token=", "a link with its token is kept with the job")
		if out[i].SecretRef == uuid.Nil {
			continue
		}
		var secret map[string]string
		require.NoError(t, pool.QueryRow(context.Background(),
			`SELECT data FROM public.email_secrets WHERE id = $1`, out[i].SecretRef).Scan(&secret))
		maps.Copy(out[i].Data, secret)
	}
	return out
}

func jobCount(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM public.river_job`).Scan(&n))
	return n
}
