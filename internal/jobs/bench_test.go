package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/jobs"
	"github.com/clientiq/clientiq/internal/mail"
	"github.com/clientiq/clientiq/internal/mailtest"
	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// drain inserts the jobs built by args (b.N of them, in batches), starts
// client and waits until every job is completed: jobs per second end to
// end (insert, fetch, work, complete), ClientIQ's middleware included.
// Completions are counted from River's own event stream, not by polling
// river_job: a COUNT over the table every few milliseconds took a fifth of
// the two cores from the queue it measured. The table is checked once the
// clock has stopped.
func drain(b *testing.B, pool *pgxpool.Pool, client *river.Client[pgx.Tx], args func(i int) river.JobArgs) {
	b.Helper()
	drainInserted(b, pool, client, func(ctx context.Context) {
		for start := 0; start < b.N; start += 1000 {
			batch := make([]river.InsertManyParams, 0, 1000)
			for i := start; i < min(start+1000, b.N); i++ {
				batch = append(batch, river.InsertManyParams{Args: args(i)})
			}
			if _, err := client.InsertManyFast(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// drainInserted is drain with b.N jobs inserted by insert (on the clock).
func drainInserted(b *testing.B, pool *pgxpool.Pool, client *river.Client[pgx.Tx], insert func(context.Context)) {
	b.Helper()
	ctx := context.Background()
	events, cancelEvents := client.SubscribeConfig(&river.SubscribeConfig{ChanSize: b.N + 1000,
		Kinds: []river.EventKind{river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled}})
	defer cancelEvents()
	b.ResetTimer()
	insert(ctx)
	if err := client.Start(ctx); err != nil {
		b.Fatal(err)
	}
	timeout := time.After(10 * time.Minute)
	for done := 0; done < b.N; {
		select {
		case e := <-events:
			if e.Kind != river.EventKindJobCompleted {
				b.Fatalf("job %d: %s", e.Job.ID, e.Kind)
			}
			done++
		case <-timeout:
			b.Fatalf("only %d of %d jobs completed in 10 minutes", done, b.N)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
	var completed int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM public.river_job WHERE state = 'completed'`).Scan(&completed); err != nil {
		b.Fatal(err)
	}
	if completed != b.N {
		b.Fatalf("%d jobs completed in river_job, want %d", completed, b.N)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_ = client.Stop(sctx)
}

// BenchmarkRiverNoop is River's own throughput on this machine: a job that
// does nothing, worked by 100 workers of the default queue fetching at
// most every 5 ms (River's default 100 ms cooldown caps a queue at
// MaxWorkers jobs per 100 ms: 1,000 jobs/s here).
func BenchmarkRiverNoop(b *testing.B) {
	d := dbtest.New(b)
	client, err := jobs.NewClient(d.Pool, jobs.Config{Logger: discard, DefaultWorkers: 100, FetchCooldown: 5 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	drain(b, d.Pool, client, func(int) river.JobArgs { return jobs.NoopArgs{} })
}

// BenchmarkRiverSendEmail delivers rendered emails over SMTP into Mailpit
// with 20 email workers.
func BenchmarkRiverSendEmail(b *testing.B) {
	d := dbtest.New(b)
	mp := mailtest.Start(b)
	sender, err := mail.NewSMTPSender(mail.SMTPConfig{URL: mp.SMTPURL(), From: "ClientIQ <bench@clientiq.test>"})
	if err != nil {
		b.Fatal(err)
	}
	worker, err := mail.NewSendEmailWorker(mail.WorkerConfig{Sender: sender, Pool: d.Pool})
	if err != nil {
		b.Fatal(err)
	}
	workers := jobs.Register()
	river.AddWorker(workers, worker)
	client, err := jobs.NewClient(d.Pool, jobs.Config{Logger: discard, Workers: workers, EmailWorkers: 20})
	if err != nil {
		b.Fatal(err)
	}
	drain(b, d.Pool, client, func(i int) river.JobArgs {
		return mail.SendEmailArgs{Template: mail.TemplatePasswordReset, To: fmt.Sprintf("user%d@bench.test", i), Locale: "en",
			Data: map[string]string{"link": "https://bench.test/reset-password?token=t", "name": "Bench", "expires_at": "soon"}}
	})
}

// BenchmarkMaintenanceFanOut is a per-tenant maintenance fan-out over b.N
// tenants (run it with -benchtime Nx): one transaction enqueues a
// member_purge_invitations job per tenant (jobs.FanOut, as the hourly
// periodic job does), and the maintenance queue's two workers run each in
// its tenant's schema, tenant middleware included. Jobs (tenants) per
// second from the insert to the last completion: what bounds how many
// tenants one process's hourly maintenance can cover.
func BenchmarkMaintenanceFanOut(b *testing.B) {
	e := newEnv(b)
	for range b.N {
		e.newTenant(b, "")
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, member.NewPurgeInvitationsWorker(member.PurgeInvitationsConfig{Clients: e.clients, Logger: discard}))
	client, err := jobs.NewClient(e.db.Pool, jobs.Config{Logger: discard, Workers: workers})
	if err != nil {
		b.Fatal(err)
	}
	drainInserted(b, e.db.Pool, client, func(ctx context.Context) {
		tx, err := e.db.Pool.Begin(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer func() { _ = tx.Rollback(ctx) }()
		n, err := jobs.FanOut(ctx, client, tx, func(*tenancy.Tenant) river.JobArgs { return member.PurgeInvitationsArgs{} })
		if err != nil {
			b.Fatal(err)
		}
		if n != b.N {
			b.Fatalf("fan-out enqueued %d jobs for %d tenants", n, b.N)
		}
		if err := tx.Commit(ctx); err != nil {
			b.Fatal(err)
		}
	})
}
