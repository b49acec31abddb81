package jobs_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/jobs"
)

// discard swallows River's logs: its goroutines may log after a test ends,
// which t.Output would not allow.
var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// jobExists reports whether the job with id is in public.river_job.
func jobExists(t *testing.T, pool *pgxpool.Pool, id int64) bool {
	t.Helper()
	var exists bool
	require.NoError(t, pool.QueryRow(context.Background(),
		"SELECT EXISTS (SELECT 1 FROM public.river_job WHERE id = $1)", id).Scan(&exists))
	return exists
}

func TestClientWorksANoopJobAndCountsIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.New(t)
	client, err := jobs.NewClient(db.Pool, jobs.Config{Logger: discard, TestOnly: true})
	require.NoError(t, err)
	completed, cancel := client.Subscribe(river.EventKindJobCompleted)
	t.Cleanup(cancel)
	require.NoError(t, client.Start(ctx))
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, client.Stop(sctx))
	})

	inserted, err := client.Insert(ctx, jobs.NoopArgs{}, nil)
	require.NoError(t, err)

	var ev *river.Event
	select {
	case ev = <-completed:
	case <-time.After(10 * time.Second):
		t.Fatal("the noop job did not complete within 10s")
	}
	require.Equal(t, inserted.Job.ID, ev.Job.ID)
	require.Equal(t, "noop", ev.Job.Kind)
	require.Equal(t, "completed", string(ev.Job.State))
	require.True(t, jobExists(t, db.Pool, inserted.Job.ID), "the job row is not in public.river_job")

	counts, err := jobs.Counts(ctx, db.Pool)
	require.NoError(t, err)
	for _, q := range jobs.Queues {
		require.Contains(t, counts, q, "every queue is reported, even an empty one")
	}
	require.Equal(t, int64(1), counts[jobs.QueueDefault][string(ev.Job.State)], "%v", counts)
	require.Empty(t, counts[jobs.QueueEmail])
}

func TestCountsReportsEveryQueueOnAnEmptyTable(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)

	counts, err := jobs.Counts(context.Background(), db.Pool)

	require.NoError(t, err)
	require.Len(t, counts, len(jobs.Queues))
	for _, q := range jobs.Queues {
		require.Empty(t, counts[q], q)
	}
}

func TestInsertTxEnqueuesOnlyWhenTheTransactionCommits(t *testing.T) {
	t.Parallel()

	t.Run("rolled back: the job never exists", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		db := dbtest.New(t)
		inserter, err := jobs.NewInserter(db.Pool, discard)
		require.NoError(t, err)
		tx, err := db.Pool.Begin(ctx)
		require.NoError(t, err)

		res, err := inserter.InsertTx(ctx, tx, jobs.NoopArgs{}, nil)
		require.NoError(t, err)
		require.NoError(t, tx.Rollback(ctx))

		require.False(t, jobExists(t, db.Pool, res.Job.ID))
		var n int
		require.NoError(t, db.Pool.QueryRow(ctx, "SELECT count(*) FROM public.river_job").Scan(&n))
		require.Zero(t, n)
	})

	t.Run("committed: the job exists", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		db := dbtest.New(t)
		inserter, err := jobs.NewInserter(db.Pool, discard)
		require.NoError(t, err)
		tx, err := db.Pool.Begin(ctx)
		require.NoError(t, err)

		res, err := inserter.InsertTx(ctx, tx, jobs.NoopArgs{}, nil)
		require.NoError(t, err)
		require.False(t, jobExists(t, db.Pool, res.Job.ID), "visible outside the transaction before commit")
		require.NoError(t, tx.Commit(ctx))

		require.True(t, jobExists(t, db.Pool, res.Job.ID))
		require.Equal(t, 1, countRows(t, db.Pool), "exactly one job")
		require.Equal(t, jobs.QueueDefault, res.Job.Queue)
	})
}

// TestPollOnlyClientWorksJobsWithoutListening: behind a transaction pooler
// a LISTEN would stay on a server connection the pooler hands to others, so
// a PollOnly client must find its jobs by polling and never LISTEN. A
// client without it does LISTEN, which shows the check can fail.
func TestPollOnlyClientWorksJobsWithoutListening(t *testing.T) {
	t.Parallel()

	// listening counts the sessions of the test's database whose last
	// statement was a LISTEN; -1 when it cannot tell. It runs inside
	// require.Eventually and Never, off the test's goroutine, so it
	// reports instead of failing.
	listening := func(pool *pgxpool.Pool) int {
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'listen %'`).Scan(&n); err != nil {
			return -1
		}
		return n
	}

	t.Run("poll only: the job is worked and nothing listens", func(t *testing.T) {
		t.Parallel()
		db := dbtest.New(t)
		client, err := jobs.NewClient(db.Pool, jobs.Config{Logger: discard, PollOnly: true})
		require.NoError(t, err)
		events := finished(t, client)
		start(t, client)

		res, err := client.Insert(context.Background(), jobs.NoopArgs{}, nil)
		require.NoError(t, err)

		require.Equal(t, river.EventKindJobCompleted, waitFor(t, events, res.Job.ID).Kind)
		require.Never(t, func() bool { return listening(db.Pool) != 0 }, 2*time.Second, 50*time.Millisecond)
	})

	t.Run("default: the client listens", func(t *testing.T) {
		t.Parallel()
		db := dbtest.New(t)
		client, err := jobs.NewClient(db.Pool, jobs.Config{Logger: discard})
		require.NoError(t, err)
		start(t, client)

		require.Eventually(t, func() bool { return listening(db.Pool) > 0 }, 10*time.Second, 50*time.Millisecond)
	})
}
