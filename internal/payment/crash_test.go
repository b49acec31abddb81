package payment_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
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
	"github.com/clientiq/clientiq/internal/payment"
)

// The crash test's child process is this test binary re-run with
// -test.run=^TestHelperWorkerProcess$ and these variables.
const (
	envChild      = "CLIENTIQ_PAYMENT_CHILD"      // "1" in the child
	envDSN        = "CLIENTIQ_PAYMENT_CHILD_DSN"  // the test database
	envKillPoint  = "CLIENTIQ_PAYMENT_KILL_POINT" // where the child SIGKILLs itself; empty: never
	envKillAfter  = "CLIENTIQ_PAYMENT_KILL_AFTER" // at the n-th time it gets there
	childJobLimit = 2 * time.Second               // job timeout in the child
	childRescue   = 3 * time.Second               // RescueStuckJobsAfter in the child (above the job timeout)
	crashInvoices = 300                           // invoices in the batch
	crashKills    = 16                            // SIGKILLs of the worker process
)

// Kill points. "timer" is a SIGKILL from the parent at a random moment.
var killPoints = []string{"before_charge", "after_charge", "after_commit", "timer"}

// TestPaymentsSurviveSIGKILL works a batch of payments in a worker process
// that is SIGKILLed again and again: before the provider call, after it but
// before ClientIQ's commit, after the commit but before River hears the job
// finished, and at random moments. Then a last process drains the queue,
// and the ledgers must agree: every invoice paid once (one charge at the
// provider) or failed with a reason, nothing charged twice, nothing charged
// and forgotten, no job left behind, one notice per invoice.
func TestPaymentsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped with -short")
	}
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	_, err := d.Pool.Exec(ctx, noticeTable)
	require.NoError(t, err)
	ins, err := river.NewClient(riverpgxv5.New(d.Pool), &river.Config{Schema: dbmigrate.RiverSchema, Logger: discardLogger()})
	require.NoError(t, err)
	sb, err := payment.NewSandbox(payment.SandboxConfig{Pool: d.Pool})
	require.NoError(t, err)
	proc, err := payment.New(payment.Config{Pool: d.Pool, Providers: []payment.Provider{sb}, Inserter: ins, Enabled: true, Logger: discardLogger()})
	require.NoError(t, err)

	// The batch: mostly good cards, some declines, some flaky.
	cards := map[string]int{}
	for i := range crashInvoices {
		card := payment.CardSuccess
		switch {
		case i%10 == 3:
			card = payment.CardDeclined
		case i%20 == 7:
			card = payment.CardInsufficientFunds
		case i%20 == 11:
			card = payment.CardProcessingError
		}
		cards[card]++
		tenantID, invoiceID := seedInvoice(t, d.Pool, nil)
		require.NoError(t, pgx.BeginFunc(ctx, d.Pool, func(tx pgx.Tx) error {
			_, err := proc.EnqueueTx(ctx, tx, payment.EnqueueInput{TenantID: tenantID, InvoiceID: invoiceID,
				Amount: 4900, Currency: "EUR", PaymentMethod: card})
			return err
		}))
	}
	t.Logf("batch: %d invoices, cards %v", crashInvoices, cards)

	start := time.Now()
	kills := map[string]int{}
	var order []string
	for range crashKills {
		point := killPoints[rand.IntN(len(killPoints))]
		after := 1 + rand.IntN(6)
		cmd, out := startChild(t, d.URL, point, after)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err = <-done:
		case <-time.After(time.Duration(500+rand.IntN(1500)) * time.Millisecond):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			err = <-done
			if point != "timer" {
				point = "timer(" + point + " not reached)"
			}
		}
		require.True(t, killedBySIGKILL(err), "child did not die by SIGKILL (%v):\n%s", err, out)
		if strings.Contains(out.String(), "KILL ") {
			point = strings.TrimSpace(strings.SplitN(strings.SplitN(out.String(), "KILL ", 2)[1], "\n", 2)[0])
		}
		kills[point]++
		order = append(order, fmt.Sprintf("%s@%s", point, settledSoFar(t, d.Pool)))
		// The dead process's leadership would expire in ~15 s; end it now so
		// the next process leads (rescues stuck jobs, schedules retries).
		_, err = d.Pool.Exec(ctx, `DELETE FROM public.river_leader`)
		require.NoError(t, err)
	}
	lastKill := time.Now()
	t.Logf("kill phase: %d SIGKILLs in %s: %v", len(order), lastKill.Sub(start).Round(time.Millisecond), kills)
	t.Logf("kill order (point@settled/total): %s", strings.Join(order, " "))

	// Drain: a process that is not killed, started once the last killed
	// jobs are older than RescueStuckJobsAfter, so its rescuer frees them.
	time.Sleep(time.Until(lastKill.Add(childRescue + 500*time.Millisecond)))
	cmd, out := startChild(t, d.URL, "", 0)
	drained := false
	for deadline := time.Now().Add(75 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if count(t, d.Pool, `SELECT count(*) FROM public.payments WHERE status = 'pending'`) == 0 &&
			count(t, d.Pool, `SELECT count(*) FROM public.river_job WHERE kind = 'process_payment'
				AND state IN ('available', 'running', 'retryable', 'scheduled', 'pending')`) == 0 {
			drained = true
			break
		}
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	require.True(t, drained, "queue not drained; pending payments %d; drain child output:\n%s",
		count(t, d.Pool, `SELECT count(*) FROM public.payments WHERE status = 'pending'`), out)
	t.Logf("drained %s after the last kill; total %s", time.Since(lastKill).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))

	requireConsistentLedgers(t, d.Pool, cards)
}

// requireConsistentLedgers checks ClientIQ's books against the sandbox's.
func requireConsistentLedgers(t *testing.T, pool *pgxpool.Pool, cards map[string]int) {
	t.Helper()
	q := func(query string) int { return count(t, pool, query) }
	paid := q(`SELECT count(*) FROM public.invoices WHERE status = 'paid'`)
	failed := q(`SELECT count(*) FROM public.invoices WHERE status = 'failed'`)
	require.Equal(t, crashInvoices, paid+failed, "every invoice ends paid or failed")
	require.Zero(t, q(`SELECT count(*) FROM public.invoices WHERE status = 'paid' AND paid_at IS NULL`))
	require.Zero(t, q(`SELECT count(*) FROM public.invoices WHERE status = 'failed' AND failure_reason = ''`), "failed with a reason")
	require.Zero(t, q(`SELECT count(*) FROM public.payments WHERE status = 'failed' AND failure_reason = ''`))
	// Payments and invoices agree.
	require.Zero(t, q(`SELECT count(*) FROM public.payments p JOIN public.invoices i ON i.id = p.invoice_id
		WHERE (p.status = 'succeeded') <> (i.status = 'paid')`))
	// 0 double charges: one key and at most one succeeded charge per invoice.
	require.Zero(t, q(`SELECT count(*) FROM (SELECT reference FROM public.sandbox_charges GROUP BY reference
		HAVING count(DISTINCT idempotency_key) > 1 OR count(*) FILTER (WHERE outcome = 'succeeded') > 1) x`), "double charges")
	// 0 lost: every succeeded charge is a paid invoice, with the charge's
	// key, and every paid invoice has its charge.
	require.Zero(t, q(`SELECT count(*) FROM public.sandbox_charges c
		LEFT JOIN public.invoices i ON i.id::text = c.reference AND i.status = 'paid'
		LEFT JOIN public.payments p ON p.invoice_id = i.id AND p.idempotency_key = c.idempotency_key AND p.status = 'succeeded'
		WHERE c.outcome = 'succeeded' AND p.id IS NULL`), "charges without a paid invoice")
	require.Zero(t, q(`SELECT count(*) FROM public.invoices i WHERE i.status = 'paid' AND NOT EXISTS (
		SELECT 1 FROM public.sandbox_charges c WHERE c.reference = i.id::text AND c.outcome = 'succeeded')`), "paid without a charge")
	require.Equal(t, paid, q(`SELECT count(*) FROM public.sandbox_charges WHERE outcome = 'succeeded'`))
	// Exactly one notice per invoice, of the right kind.
	require.Zero(t, q(`SELECT count(*) FROM public.invoices i WHERE (SELECT count(*) FROM public.test_payment_notices n
		WHERE n.invoice_id = i.id AND n.kind = CASE WHEN i.status = 'paid' THEN 'receipt' ELSE 'failure' END) <> 1`))
	require.Equal(t, crashInvoices, q(`SELECT count(*) FROM public.test_payment_notices`))
	// Nothing left behind in River.
	require.Zero(t, q(`SELECT count(*) FROM public.river_job WHERE state IN ('available', 'running', 'retryable', 'scheduled', 'pending')`))
	discarded := q(`SELECT count(*) FROM public.river_job WHERE state = 'discarded'`)
	require.Zero(t, discarded)

	declined := cards[payment.CardDeclined] + cards[payment.CardInsufficientFunds]
	t.Logf("result: %d paid, %d failed (%d declined cards, %d provider unavailable)", paid, failed, declined,
		q(`SELECT count(*) FROM public.payments WHERE failure_code = 'provider_unavailable'`))
	t.Logf("sandbox: %d charges, %d requests (%d replays answered from the ledger), 0 double, 0 lost",
		q(`SELECT count(*) FROM public.sandbox_charges`), q(`SELECT coalesce(sum(requests), 0) FROM public.sandbox_charges`),
		q(`SELECT coalesce(sum(requests - 1), 0) FROM public.sandbox_charges`))
	t.Logf("attempts: max %d, payments with >1 attempt %d, jobs with attempt >1 %d",
		q(`SELECT max(attempts) FROM public.payments`), q(`SELECT count(*) FROM public.payments WHERE attempts > 1`),
		q(`SELECT count(*) FROM public.river_job WHERE kind = 'process_payment' AND attempt > 1`))
}

func settledSoFar(t *testing.T, pool *pgxpool.Pool) string {
	return strconv.Itoa(count(t, pool, `SELECT count(*) FROM public.payments WHERE status <> 'pending'`)) + "/" + strconv.Itoa(crashInvoices)
}

func startChild(t *testing.T, dsn, point string, after int) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWorkerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envChild+"=1", envDSN+"="+dsn, envKillPoint+"="+point, envKillAfter+"="+strconv.Itoa(after))
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	return cmd, out
}

func killedBySIGKILL(err error) bool {
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return false
	}
	ws, ok := exit.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// TestHelperWorkerProcess is the crash test's worker process; it does
// nothing in a normal test run.
func TestHelperWorkerProcess(t *testing.T) {
	if os.Getenv(envChild) != "1" {
		t.Skip("helper process of TestPaymentsSurviveSIGKILL")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	pool, err := pgxpool.New(ctx, os.Getenv(envDSN))
	require.NoError(t, err)
	defer pool.Close()

	point := os.Getenv(envKillPoint)
	after, _ := strconv.Atoi(os.Getenv(envKillAfter))
	var hits atomic.Int64
	crash := func(at string) {
		if at == point && hits.Add(1) == int64(after) {
			fmt.Printf("KILL %s\n", at)
			_ = os.Stdout.Sync()
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // never returns: the signal is on its way
		}
	}
	sb, err := payment.NewSandbox(payment.SandboxConfig{
		Pool: pool,
		BeforeCharge: func(context.Context, payment.ChargeRequest) {
			crash("before_charge")
			time.Sleep(20 * time.Millisecond) // provider latency, so kills land mid-batch
		},
		AfterCharge: func(context.Context, payment.ChargeRequest) { crash("after_charge") },
	})
	require.NoError(t, err)
	proc, err := payment.New(payment.Config{
		Pool: pool, Providers: []payment.Provider{sb}, Notifier: tableNotifier{}, Enabled: true, Logger: discardLogger(),
		JobTimeout: childJobLimit, ProviderTimeout: time.Second, RetryBase: 50 * time.Millisecond,
	})
	require.NoError(t, err)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Schema: dbmigrate.RiverSchema, Logger: discardLogger(),
		Queues:     map[string]river.QueueConfig{payment.Queue: {MaxWorkers: 4}},
		Workers:    workers(proc),
		JobTimeout: childJobLimit, RescueStuckJobsAfter: childRescue,
		FetchPollInterval: 100 * time.Millisecond,
		// After the worker returns nil its transaction has committed the
		// outcome and completed the job; River has not recorded it yet.
		Middleware: []rivertype.Middleware{river.WorkerMiddlewareFunc(
			func(ctx context.Context, _ *rivertype.JobRow, doInner func(context.Context) error) error {
				err := doInner(ctx)
				if err == nil {
					crash("after_commit")
				}
				return err
			})},
	})
	require.NoError(t, err)
	require.NoError(t, client.Start(context.Background()))
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = client.Stop(stopCtx)
}
