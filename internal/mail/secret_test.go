package mail_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/mail"
	"github.com/clientiq/clientiq/internal/mailtest"
)

func secretCount(t *testing.T, db *dbtest.DB) int {
	t.Helper()
	var n int
	require.NoError(t, db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM public.email_secrets`).Scan(&n))
	return n
}

func TestSendEmailWorkerSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	link := fixtures[mail.TemplatePasswordReset]["link"]

	// sealedReset is resetArgs with its link stored apart, as notify.Outbox
	// enqueues it.
	sealedReset := func(t *testing.T, client *river.Client[pgx.Tx], db *dbtest.DB, to string, opts *river.InsertOpts) {
		t.Helper()
		args := resetArgs(to)
		args.Data = maps.Clone(args.Data)
		delete(args.Data, "link")
		args.SecretRef = uuid.New()
		require.NoError(t, pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
			if _, err := client.InsertTx(ctx, tx, args, opts); err != nil {
				return err
			}
			return mail.StoreSecret(ctx, tx, args.SecretRef, map[string]string{"link": link}, time.Now().Add(time.Hour))
		}))
	}

	t.Run("the stored link is mailed and then deleted", func(t *testing.T) {
		t.Parallel()
		db, mp := dbtest.New(t), mailtest.Start(t)
		client := startRiver(t, db.Pool, newSender(t, mp.SMTPURL()))
		done, cancel := client.Subscribe(river.EventKindJobCompleted)
		t.Cleanup(cancel)

		sealedReset(t, client, db, "olga@acme.test", nil)

		waitForJob(t, done)
		m := mp.Message(mp.WaitForMessages(1, 10*time.Second)[0].ID)
		require.Contains(t, m.Text, link)
		require.Zero(t, secretCount(t, db), "the secret is deleted once the email is sent")
		var args string
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT args::text FROM public.river_job`).Scan(&args))
		require.NotContains(t, args, link, "the finished job does not keep the link")
	})

	t.Run("a job whose secret is gone is cancelled without an email", func(t *testing.T) {
		t.Parallel()
		db, mp := dbtest.New(t), mailtest.Start(t)
		client := startRiver(t, db.Pool, newSender(t, mp.SMTPURL()))
		cancelled, cancel := client.Subscribe(river.EventKindJobCancelled)
		t.Cleanup(cancel)

		args := resetArgs("olga@acme.test")
		args.SecretRef = uuid.New() // never stored, or purged
		_, err := client.Insert(ctx, args, nil)
		require.NoError(t, err)

		ev := waitForJob(t, cancelled)
		require.Equal(t, 1, ev.Job.Attempt, "cancelled on the first attempt, no retries")
		require.Contains(t, ev.Job.Errors[0].Error, "secret part is gone")
		require.Empty(t, mp.Messages())
	})

	t.Run("a job cancelled for good takes its secret with it", func(t *testing.T) {
		t.Parallel()
		db := dbtest.New(t)
		mp := mailtest.StartWith(t, &mailtest.Options{AllowedRecipients: `@allowed\.test$`})
		client := startRiver(t, db.Pool, newSender(t, mp.SMTPURL()))
		cancelled, cancel := client.Subscribe(river.EventKindJobCancelled)
		t.Cleanup(cancel)

		sealedReset(t, client, db, "ghost@refused.test", nil)

		waitForJob(t, cancelled)
		require.Zero(t, secretCount(t, db))
	})

	t.Run("a job out of attempts takes its secret with it", func(t *testing.T) {
		t.Parallel()
		db, mp := dbtest.New(t), mailtest.Start(t)
		mp.Stop()
		client := startRiver(t, db.Pool, newSender(t, mp.SMTPURL()))
		failed, cancel := client.Subscribe(river.EventKindJobFailed)
		t.Cleanup(cancel)

		sealedReset(t, client, db, "olga@acme.test", &river.InsertOpts{MaxAttempts: 2})

		require.Equal(t, 1, waitForJob(t, failed).Job.Attempt)
		require.Equal(t, 1, secretCount(t, db), "kept for the retry")
		ev := waitForJob(t, failed)
		require.Equal(t, 2, ev.Job.Attempt)
		require.Equal(t, "discarded", string(ev.Job.State))
		require.Zero(t, secretCount(t, db), "deleted with the last attempt")
	})
}

func TestPurgeSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.New(t)
	now := time.Now()
	expired, live := uuid.New(), uuid.New()
	require.NoError(t, mail.StoreSecret(ctx, db.Pool, expired, map[string]string{"link": "old"}, now.Add(-time.Minute)))
	require.NoError(t, mail.StoreSecret(ctx, db.Pool, live, map[string]string{"link": "new"}, now.Add(time.Hour)))

	n, err := mail.PurgeSecrets(ctx, db.Pool, now)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	var left uuid.UUID
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT id FROM public.email_secrets`).Scan(&left))
	require.Equal(t, live, left, "only the expired secret is purged")

	require.Equal(t, "mail_purge_secrets", mail.PurgeSecretsArgs{}.Kind())
	require.True(t, mail.PurgeSecretsArgs{}.Global())
}
