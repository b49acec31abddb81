package payment_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/dbmigrate"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/payment"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// noticeTable holds what the test notifier "sends": one row per notice,
// written in the settling transaction, so a rolled-back settlement leaves
// none and a count proves exactly-once.
const noticeTable = `CREATE TABLE IF NOT EXISTS public.test_payment_notices (
	seq bigserial PRIMARY KEY, kind text NOT NULL, payment_id uuid NOT NULL, invoice_id uuid NOT NULL,
	invoice_number text NOT NULL, amount bigint NOT NULL, currency text NOT NULL, reason text NOT NULL)`

// tableNotifier records notices in test_payment_notices with the caller's tx.
type tableNotifier struct{}

func (tableNotifier) PaymentSucceeded(ctx context.Context, tx pgx.Tx, n payment.PaymentNotice) error {
	return insertNotice(ctx, tx, "receipt", n)
}

func (tableNotifier) PaymentFailed(ctx context.Context, tx pgx.Tx, n payment.PaymentNotice) error {
	return insertNotice(ctx, tx, "failure", n)
}

func insertNotice(ctx context.Context, tx pgx.Tx, kind string, n payment.PaymentNotice) error {
	_, err := tx.Exec(ctx, `INSERT INTO public.test_payment_notices
		(kind, payment_id, invoice_id, invoice_number, amount, currency, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		kind, n.PaymentID, n.InvoiceID, n.InvoiceNumber, n.Amount, n.Currency, n.Reason)
	return err
}

// env is one test's payments set-up on its own database.
type env struct {
	db      *dbtest.DB
	sandbox *payment.Sandbox
	proc    *payment.Processor
	ins     *river.Client[pgx.Tx]
	cfg     payment.Config
}

// envOpts tune newEnv; nil fields keep the defaults.
type envOpts struct {
	disabled  bool
	providers func(sb *payment.Sandbox) []payment.Provider
	sandbox   payment.SandboxConfig
	config    func(*payment.Config)
}

func newEnv(t *testing.T, opts *envOpts) *env {
	t.Helper()
	if opts == nil {
		opts = &envOpts{}
	}
	d := dbtest.New(t)
	_, err := d.Pool.Exec(context.Background(), noticeTable)
	require.NoError(t, err)
	sbCfg := opts.sandbox
	sbCfg.Pool = d.Pool
	sb, err := payment.NewSandbox(sbCfg)
	require.NoError(t, err)
	ins, err := river.NewClient(riverpgxv5.New(d.Pool), &river.Config{Schema: dbmigrate.RiverSchema, Logger: discardLogger()})
	require.NoError(t, err)
	providers := []payment.Provider{sb}
	if opts.providers != nil {
		providers = opts.providers(sb)
	}
	cfg := payment.Config{
		Pool: d.Pool, Providers: providers, Inserter: ins, Notifier: tableNotifier{}, Enabled: !opts.disabled,
		Logger: discardLogger(), RetryBase: 10 * time.Millisecond, JobTimeout: 5 * time.Second, ProviderTimeout: 2 * time.Second,
	}
	if opts.config != nil {
		opts.config(&cfg)
	}
	proc, err := payment.New(cfg)
	require.NoError(t, err)
	return &env{db: d, sandbox: sb, proc: proc, ins: ins, cfg: cfg}
}

// workers registers the payment workers of proc.
func workers(proc *payment.Processor) *river.Workers {
	w := river.NewWorkers()
	river.AddWorker(w, payment.NewProcessPaymentWorker(proc))
	river.AddWorker(w, payment.NewProcessWebhookEventWorker(proc))
	return w
}

// start runs a River client working the payments queue until the test ends.
func (e *env) start(t *testing.T) *river.Client[pgx.Tx] {
	t.Helper()
	client, err := river.NewClient(riverpgxv5.New(e.db.Pool), &river.Config{
		Schema: dbmigrate.RiverSchema, Logger: discardLogger(), TestOnly: true,
		Queues:            map[string]river.QueueConfig{payment.Queue: {MaxWorkers: 5}},
		Workers:           workers(e.proc),
		FetchPollInterval: 50 * time.Millisecond, FetchCooldown: 10 * time.Millisecond,
	})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, client.Start(ctx))
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = client.Stop(stopCtx)
	})
	return client
}

var invoiceSeq atomic.Int64

// invoiceOpts describe a seeded invoice and its tenant's subscription.
type invoiceOpts struct {
	amount    int64
	subStatus string // default past_due (since yesterday)
}

// seedInvoice creates a tenant id with a subscription and an open invoice.
func seedInvoice(t testing.TB, pool *pgxpool.Pool, opts *invoiceOpts) (tenantID, invoiceID uuid.UUID) {
	t.Helper()
	if opts == nil {
		opts = &invoiceOpts{}
	}
	amount := opts.amount
	if amount == 0 {
		amount = 4900
	}
	status := opts.subStatus
	if status == "" {
		status = "past_due"
	}
	ctx := context.Background()
	tenantID, invoiceID = uuid.New(), uuid.New()
	var pastDue *time.Time
	if status == "past_due" {
		y := time.Now().Add(-24 * time.Hour)
		pastDue = &y
	}
	_, err := pool.Exec(ctx, `INSERT INTO public.subscriptions
		(id, created_at, updated_at, tenant_id, plan_id, status, current_period_start, current_period_end, past_due_since)
		VALUES ($1, now(), now(), $2, (SELECT id FROM public.plans ORDER BY sort_order, code LIMIT 1), $3,
			now() - interval '1 day', now() + interval '29 days', $4)`, uuid.New(), tenantID, status, pastDue)
	require.NoError(t, err)
	number := fmt.Sprintf("INV-%s-%06d", tenantID.String()[:8], invoiceSeq.Add(1))
	_, err = pool.Exec(ctx, `INSERT INTO public.invoices
		(id, created_at, updated_at, tenant_id, number, status, currency, subtotal, total)
		VALUES ($1, now(), now(), $2, $3, 'open', 'EUR', $4, $4)`, invoiceID, tenantID, number, amount)
	require.NoError(t, err)
	return tenantID, invoiceID
}

// enqueue commits one sandbox payment for the invoice.
func (e *env) enqueue(t testing.TB, tenantID, invoiceID uuid.UUID, method string) uuid.UUID {
	t.Helper()
	return e.enqueueWith(t, payment.EnqueueInput{
		TenantID: tenantID, InvoiceID: invoiceID, Amount: 4900, Currency: "EUR", PaymentMethod: method,
	})
}

// enqueueWith commits one payment.
func (e *env) enqueueWith(t testing.TB, in payment.EnqueueInput) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	err := pgx.BeginFunc(context.Background(), e.db.Pool, func(tx pgx.Tx) error {
		var err error
		id, err = e.proc.EnqueueTx(context.Background(), tx, in)
		return err
	})
	require.NoError(t, err)
	return id
}

// paymentRow is a payments row as the tests read it.
type paymentRow struct {
	Status, Key, ChargeID, FailureCode, FailureReason string
	Attempts                                          int
}

func loadPayment(t testing.TB, pool *pgxpool.Pool, id uuid.UUID) paymentRow {
	t.Helper()
	var p paymentRow
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT status, idempotency_key, provider_charge_id,
		failure_code, failure_reason, attempts FROM public.payments WHERE id = $1`, id).
		Scan(&p.Status, &p.Key, &p.ChargeID, &p.FailureCode, &p.FailureReason, &p.Attempts))
	return p
}

// waitSettled waits until the payment is no longer pending.
func waitSettled(t testing.TB, pool *pgxpool.Pool, id uuid.UUID) paymentRow {
	t.Helper()
	var p paymentRow
	require.Eventually(t, func() bool {
		p = loadPayment(t, pool, id)
		return p.Status != "pending"
	}, 20*time.Second, 20*time.Millisecond, "payment %s still pending", id)
	return p
}

// jobState returns the state and attempt of a payment's process_payment job.
func jobState(t testing.TB, pool *pgxpool.Pool, paymentID uuid.UUID) (string, int) {
	t.Helper()
	var (
		state   string
		attempt int
	)
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT state, attempt FROM public.river_job
		WHERE kind = 'process_payment' AND args->>'payment_id' = $1`, paymentID.String()).Scan(&state, &attempt))
	return state, attempt
}

// waitJobFinal waits until the payment's job is finalized and returns it.
func waitJobFinal(t testing.TB, pool *pgxpool.Pool, paymentID uuid.UUID) (string, int) {
	t.Helper()
	var (
		state   string
		attempt int
	)
	require.Eventually(t, func() bool {
		state, attempt = jobState(t, pool, paymentID)
		return state == "completed" || state == "cancelled" || state == "discarded"
	}, 20*time.Second, 20*time.Millisecond)
	return state, attempt
}

// count runs a count query.
func count(t testing.TB, pool *pgxpool.Pool, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), query, args...).Scan(&n))
	return n
}
