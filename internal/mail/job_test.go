package mail_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/dbmigrate"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/mail"
	"github.com/clientiq/clientiq/internal/mailtest"
)

// discard swallows River's logs: its goroutines may log after a test ends.
var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// quickRetry retries a failed job after one second instead of River's
// attempt⁴ seconds, so an outage test takes seconds.
type quickRetry struct{}

func (quickRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(time.Second) }

// startRiver runs a River client working the email queue with sender.
func startRiver(t *testing.T, pool *pgxpool.Pool, sender mail.Sender) *river.Client[pgx.Tx] {
	t.Helper()
	worker, err := mail.NewSendEmailWorker(mail.WorkerConfig{Sender: sender, Pool: pool})
	require.NoError(t, err)
	workers := river.NewWorkers()
	river.AddWorker(workers, worker)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Schema:            dbmigrate.RiverSchema,
		Logger:            discard,
		Queues:            map[string]river.QueueConfig{mail.QueueEmail: {MaxWorkers: 5}},
		Workers:           workers,
		RetryPolicy:       quickRetry{},
		FetchCooldown:     20 * time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		TestOnly:          true,
	})
	require.NoError(t, err)
	require.NoError(t, client.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, client.Stop(ctx))
	})
	return client
}

func resetArgs(to string) mail.SendEmailArgs {
	return mail.SendEmailArgs{Template: mail.TemplatePasswordReset, To: to, Data: fixtures[mail.TemplatePasswordReset]}
}

// waitForJob waits for the first event of kind on ch.
func waitForJob(t *testing.T, ch <-chan *river.Event) *river.Event {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(20 * time.Second):
		t.Fatal("no job event within 20s")
		return nil
	}
}

func TestSendEmailArgs(t *testing.T) {
	t.Parallel()
	a := mail.SendEmailArgs{}
	require.Equal(t, "send_email", a.Kind())
	require.True(t, a.Global())
	require.Equal(t, "email", a.InsertOpts().Queue)
	require.Equal(t, 10, a.InsertOpts().MaxAttempts)
}

func TestSendEmailWorker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("renders and delivers a job", func(t *testing.T) {
		t.Parallel()
		db, mp := dbtest.New(t), mailtest.Start(t)
		client := startRiver(t, db.Pool, newSender(t, mp.SMTPURL()))
		done, cancel := client.Subscribe(river.EventKindJobCompleted)
		t.Cleanup(cancel)

		res, err := client.Insert(ctx, resetArgs("olga@acme.test"), nil)
		require.NoError(t, err)
		require.Equal(t, "email", res.Job.Queue)

		require.Equal(t, res.Job.ID, waitForJob(t, done).Job.ID)
		m := mp.Message(mp.WaitForMessages(1, 10*time.Second)[0].ID)
		require.Equal(t, "Reset your ClientIQ password", m.Subject)
		require.Contains(t, m.Text, fixtures[mail.TemplatePasswordReset]["link"])
		require.Equal(t, fmt.Sprintf("send-email-%d@clientiq.test", res.Job.ID), m.MessageID)
	})

	t.Run("an unknown template cancels the job", func(t *testing.T) {
		t.Parallel()
		db, mp := dbtest.New(t), mailtest.Start(t)
		client := startRiver(t, db.Pool, newSender(t, mp.SMTPURL()))
		cancelled, cancel := client.Subscribe(river.EventKindJobCancelled)
		t.Cleanup(cancel)

		res, err := client.Insert(ctx, mail.SendEmailArgs{Template: "nope", To: "olga@acme.test"}, nil)
		require.NoError(t, err)

		ev := waitForJob(t, cancelled)
		require.Equal(t, res.Job.ID, ev.Job.ID)
		require.Equal(t, 1, ev.Job.Attempt, "cancelled on the first attempt, no retries")
		require.Empty(t, mp.Messages())
	})

	t.Run("missing template data cancels the job", func(t *testing.T) {
		t.Parallel()
		db, mp := dbtest.New(t), mailtest.Start(t)
		client := startRiver(t, db.Pool, newSender(t, mp.SMTPURL()))
		cancelled, cancel := client.Subscribe(river.EventKindJobCancelled)
		t.Cleanup(cancel)

		_, err := client.Insert(ctx, mail.SendEmailArgs{Template: mail.TemplatePasswordReset, To: "olga@acme.test",
			Data: map[string]string{"name": "Olga"}}, nil)
		require.NoError(t, err)

		require.Equal(t, 1, waitForJob(t, cancelled).Job.Attempt)
		require.Empty(t, mp.Messages())
	})

	t.Run("a mailbox the server refuses cancels the job with the address masked", func(t *testing.T) {
		t.Parallel()
		db := dbtest.New(t)
		mp := mailtest.StartWith(t, &mailtest.Options{AllowedRecipients: `@allowed\.test$`})
		client := startRiver(t, db.Pool, newSender(t, mp.SMTPURL()))
		cancelled, cancel := client.Subscribe(river.EventKindJobCancelled)
		t.Cleanup(cancel)

		_, err := client.Insert(ctx, resetArgs("ghost@refused.test"), nil)
		require.NoError(t, err)

		ev := waitForJob(t, cancelled)
		require.Equal(t, 1, ev.Job.Attempt)
		require.Len(t, ev.Job.Errors, 1)
		require.Contains(t, ev.Job.Errors[0].Error, "g***@refused.test")
		require.NotContains(t, ev.Job.Errors[0].Error, "ghost@refused.test")
	})

	t.Run("smtp down: every email arrives exactly once after recovery", func(t *testing.T) {
		t.Parallel()
		db, mp := dbtest.New(t), mailtest.Start(t)
		mp.Stop()
		client := startRiver(t, db.Pool, newSender(t, mp.SMTPURL()))
		done, cancel := client.Subscribe(river.EventKindJobCompleted)
		t.Cleanup(cancel)

		const n = 5
		for i := range n {
			_, err := client.Insert(ctx, resetArgs(fmt.Sprintf("user%d@acme.test", i)), nil)
			require.NoError(t, err)
		}
		// Every job has failed at least once against the stopped server.
		require.Eventually(t, func() bool {
			var failed int
			require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM public.river_job
				WHERE kind = 'send_email' AND coalesce(array_length(errors, 1), 0) >= 1`).Scan(&failed))
			return failed == n
		}, 20*time.Second, 50*time.Millisecond)

		mp.Restart()
		for range n {
			waitForJob(t, done)
		}
		list := mp.WaitForMessages(n, 10*time.Second)
		require.Len(t, list, n)
		for i := range n {
			require.Len(t, mp.MessagesTo(fmt.Sprintf("user%d@acme.test", i)), 1)
		}
		var states []string
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT array_agg(DISTINCT state::text) FROM public.river_job`).Scan(&states))
		require.Equal(t, []string{"completed"}, states)
	})
}

func TestSendEmailWorkerTimeoutExceedsTheSMTPTimeout(t *testing.T) {
	t.Parallel()
	w, err := mail.NewSendEmailWorker(mail.WorkerConfig{Sender: newSender(t, "smtp://x"), Pool: &pgxpool.Pool{}})
	require.NoError(t, err)
	require.Equal(t, 10*time.Second, w.Timeout(nil))

	_, err = mail.NewSendEmailWorker(mail.WorkerConfig{})
	require.ErrorContains(t, err, "Sender")
	_, err = mail.NewSendEmailWorker(mail.WorkerConfig{Sender: newSender(t, "smtp://x")})
	require.ErrorContains(t, err, "Pool")
}
