package payment

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/clientiq/clientiq/internal/apperr"
)

// Queue is the River queue payments are worked on (jobs.QueuePayments).
const Queue = "payments"

// MaxAttempts is the most attempts a payment job gets: far below River's
// default of 25 (about three weeks), so a payment the provider cannot take
// is failed within half an hour rather than left pending.
const MaxAttempts = 10

// JobInserter enqueues River jobs inside a caller's transaction
// (*river.Client[pgx.Tx] is one).
type JobInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Notifier tells the customer how a payment ended, typically by enqueuing
// an email with tx so the email exists iff the outcome commits. It is
// called exactly once per payment outcome.
type Notifier interface {
	PaymentSucceeded(ctx context.Context, tx pgx.Tx, n PaymentNotice) error
	PaymentFailed(ctx context.Context, tx pgx.Tx, n PaymentNotice) error
}

// PaymentNotice is what a receipt or a failure email says.
type PaymentNotice struct {
	TenantID, InvoiceID, PaymentID uuid.UUID
	// InvoiceNumber is the number the customer sees (INV-000123).
	InvoiceNumber string
	// Amount is in minor units of Currency.
	Amount   int64
	Currency string
	// Reason says why a payment failed; empty for a receipt.
	Reason string
}

// Config configures the Processor.
type Config struct {
	// Pool is ClientIQ's database (payments, invoices, subscriptions in the
	// public schema). Required.
	Pool *pgxpool.Pool
	// Providers are the providers payments can use, by Name(). Required
	// when Enabled.
	Providers []Provider
	// DefaultProvider is used when EnqueueInput.Provider is empty
	// (PAYMENT_PROVIDER). Default: the first of Providers.
	DefaultProvider string
	// Inserter enqueues the payment job in EnqueueTx's transaction. An
	// insert-only River client works (jobs.NewInserter). Required by
	// EnqueueTx.
	Inserter JobInserter
	// Notifier sends receipts and failure emails; nil sends none.
	Notifier Notifier
	// Enabled is ENABLE_PAYMENTS: false refuses EnqueueTx with
	// FEATURE_DISABLED (jobs already queued are still worked).
	Enabled bool
	// Logger receives the processor's logs. Default: discard.
	Logger *slog.Logger
	// JobTimeout bounds one run of a payment job. Default 30 s. River's
	// RescueStuckJobsAfter must be above it.
	JobTimeout time.Duration
	// ProviderTimeout bounds one provider call. Default 10 s; must be below
	// JobTimeout so a timed-out call still leaves time to record it.
	ProviderTimeout time.Duration
	// RetryBase scales the retry backoff: attempt² × RetryBase, capped at
	// 10 minutes. Default 5 s (5 s, 20 s, 45 s, … about 24 minutes over
	// ten attempts).
	RetryBase time.Duration
	// MaxAttempts is the attempt limit of payment jobs. Default and maximum
	// MaxAttempts (10).
	MaxAttempts int
}

// Processor enqueues payments and carries out their jobs.
type Processor struct {
	cfg       Config
	providers map[string]Provider
	logger    *slog.Logger
}

// New validates cfg and returns a Processor.
func New(cfg Config) (*Processor, error) {
	if cfg.Pool == nil {
		return nil, errors.New("payment: Config.Pool is required")
	}
	if cfg.Enabled && len(cfg.Providers) == 0 {
		return nil, errors.New("payment: enabled without providers")
	}
	cfg.JobTimeout = cmp.Or(cfg.JobTimeout, 30*time.Second)
	cfg.ProviderTimeout = cmp.Or(cfg.ProviderTimeout, 10*time.Second)
	cfg.RetryBase = cmp.Or(cfg.RetryBase, 5*time.Second)
	cfg.MaxAttempts = cmp.Or(cfg.MaxAttempts, MaxAttempts)
	if cfg.ProviderTimeout >= cfg.JobTimeout {
		return nil, fmt.Errorf("payment: ProviderTimeout %s must be below JobTimeout %s", cfg.ProviderTimeout, cfg.JobTimeout)
	}
	if cfg.MaxAttempts < 1 || cfg.MaxAttempts > MaxAttempts {
		return nil, fmt.Errorf("payment: MaxAttempts %d outside 1..%d", cfg.MaxAttempts, MaxAttempts)
	}
	p := &Processor{cfg: cfg, providers: map[string]Provider{}, logger: cfg.Logger}
	if p.logger == nil {
		p.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	for _, pr := range cfg.Providers {
		p.providers[pr.Name()] = pr
	}
	if len(cfg.Providers) > 0 {
		p.cfg.DefaultProvider = cmp.Or(cfg.DefaultProvider, cfg.Providers[0].Name())
		if p.providers[p.cfg.DefaultProvider] == nil {
			return nil, fmt.Errorf("payment: default provider %q is not configured", p.cfg.DefaultProvider)
		}
	}
	return p, nil
}

// EnqueueInput is one invoice to collect.
type EnqueueInput struct {
	TenantID, InvoiceID uuid.UUID
	// Amount is in minor units of Currency (ISO 4217, three letters).
	Amount   int64
	Currency string
	// Provider names the provider; empty means Config.DefaultProvider.
	Provider string
	// PaymentMethod is the provider's card token; empty means the
	// customer's default (the sandbox: success).
	PaymentMethod string
}

// IdempotencyKey is the key a payment is charged under: derived from the
// payment row's id, written before any provider call and sent unchanged on
// every retry. It never changes for one payment.
func IdempotencyKey(paymentID uuid.UUID) string { return "clientiq_pay_" + paymentID.String() }

// EnqueueTx records a pending payment for an invoice and enqueues the job
// that charges it, both in tx: if tx rolls back there is neither a payment
// nor a job. It returns the payment id. While the invoice has a pending
// payment, that payment is returned instead of a second one (and its job
// re-enqueued if it was lost), so calling twice never charges twice. A paid
// invoice is a CONFLICT.
func (p *Processor) EnqueueTx(ctx context.Context, tx pgx.Tx, in EnqueueInput) (uuid.UUID, error) {
	if !p.cfg.Enabled {
		return uuid.Nil, apperr.New(apperr.CodeFeatureDisabled, "payments are disabled")
	}
	if p.cfg.Inserter == nil {
		return uuid.Nil, errors.New("payment: EnqueueTx needs Config.Inserter")
	}
	in.Provider = cmp.Or(in.Provider, p.cfg.DefaultProvider)
	fe := apperr.FieldErrors{}
	if in.TenantID == uuid.Nil {
		fe.Add("tenantId", "is required")
	}
	if in.InvoiceID == uuid.Nil {
		fe.Add("invoiceId", "is required")
	}
	if in.Amount <= 0 {
		fe.Add("amount", "must be positive")
	}
	if len(in.Currency) != 3 {
		fe.Add("currency", "must be a three-letter ISO 4217 code")
	}
	if p.providers[in.Provider] == nil {
		fe.Add("provider", "is not configured")
	}
	if len(in.PaymentMethod) > 255 {
		fe.Add("paymentMethod", "is too long")
	}
	if err := fe.Err(); err != nil {
		return uuid.Nil, err
	}

	// Lock the invoice: concurrent enqueues for one invoice serialize here,
	// so two pending payments (two keys, two charges) cannot both be made.
	var status string
	err := tx.QueryRow(ctx, `SELECT status FROM public.invoices WHERE id = $1 AND tenant_id = $2 FOR UPDATE`,
		in.InvoiceID, in.TenantID).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, apperr.New(apperr.CodeNotFound, "no such invoice")
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("enqueue payment: lock invoice %s: %w", in.InvoiceID, err)
	}
	if status == "paid" || status == "void" {
		return uuid.Nil, apperr.New(apperr.CodeConflict, "invoice is "+status)
	}
	id, err := p.pendingPayment(ctx, tx, in.InvoiceID)
	if err != nil {
		return uuid.Nil, err
	}
	if id == uuid.Nil {
		id = uuid.New()
		_, err = tx.Exec(ctx, `INSERT INTO public.payments
				(id, created_at, updated_at, tenant_id, invoice_id, amount, currency, status, idempotency_key, provider)
			VALUES ($1, now(), now(), $2, $3, $4, $5, 'pending', $6, $7)`,
			id, in.TenantID, in.InvoiceID, in.Amount, in.Currency, IdempotencyKey(id), in.Provider)
		if err != nil {
			return uuid.Nil, fmt.Errorf("enqueue payment: insert payment: %w", err)
		}
	}
	args := ProcessPaymentArgs{PaymentID: id, PaymentMethod: in.PaymentMethod}
	if _, err := p.cfg.Inserter.InsertTx(ctx, tx, args, &river.InsertOpts{MaxAttempts: p.cfg.MaxAttempts}); err != nil {
		return uuid.Nil, fmt.Errorf("enqueue payment: insert job: %w", err)
	}
	return id, nil
}

// pendingPayment returns the invoice's pending payment, or uuid.Nil.
func (p *Processor) pendingPayment(ctx context.Context, tx pgx.Tx, invoiceID uuid.UUID) (uuid.UUID, error) {
	var id uuid.UUID
	err := tx.QueryRow(ctx, `SELECT id FROM public.payments WHERE invoice_id = $1 AND status = 'pending'
		ORDER BY created_at LIMIT 1`, invoiceID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, nil
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("enqueue payment: find pending payment: %w", err)
	}
	return id, nil
}

// ProcessPaymentArgs asks to charge one pending payment. It is a global
// job: the payment row names its tenant, and billing is in the public
// schema.
type ProcessPaymentArgs struct {
	PaymentID uuid.UUID `json:"payment_id" river:"unique"`
	// PaymentMethod is the card token to charge (not a secret: a provider
	// reference). It is not part of the uniqueness.
	PaymentMethod string `json:"payment_method,omitempty"`
}

// Kind implements river.JobArgs.
func (ProcessPaymentArgs) Kind() string { return "process_payment" }

// Global marks the job as running for no tenant (jobs.GlobalArgs).
func (ProcessPaymentArgs) Global() bool { return true }

// InsertOpts puts payments on their queue, at most one job per payment
// until it is finalized.
func (ProcessPaymentArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: MaxAttempts, UniqueOpts: uniqueWhileActive()}
}

// uniqueWhileActive is unique by args among jobs not yet finalized. River
// requires available, pending, running and scheduled; retryable is added so
// a failing job is not doubled.
func uniqueWhileActive() river.UniqueOpts {
	return river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}
}
