package payment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// Failure codes ClientIQ writes itself (providers supply decline codes).
const (
	// CodeProviderUnavailable: the last attempt still got no answer.
	CodeProviderUnavailable = "provider_unavailable"
	// CodeIdempotencyMismatch: the provider refused the stored key.
	CodeIdempotencyMismatch = "idempotency_mismatch"
)

// maxRetryDelay caps the backoff between two attempts.
const maxRetryDelay = 10 * time.Minute

// ProcessPaymentWorker charges a pending payment and records the outcome.
type ProcessPaymentWorker struct {
	river.WorkerDefaults[ProcessPaymentArgs]
	p *Processor
}

// NewProcessPaymentWorker returns the worker for ProcessPaymentArgs.
func NewProcessPaymentWorker(p *Processor) *ProcessPaymentWorker {
	return &ProcessPaymentWorker{p: p}
}

// Timeout bounds one run: the provider call plus the bookkeeping.
func (w *ProcessPaymentWorker) Timeout(*river.Job[ProcessPaymentArgs]) time.Duration {
	return w.p.cfg.JobTimeout
}

// NextRetry backs off attempt² × RetryBase, capped at ten minutes.
func (w *ProcessPaymentWorker) NextRetry(job *river.Job[ProcessPaymentArgs]) time.Time {
	a := time.Duration(max(job.Attempt, 1))
	return time.Now().Add(min(a*a*w.p.cfg.RetryBase, maxRetryDelay))
}

// payment is the part of a payments row the worker needs.
type payment struct {
	ID, TenantID, InvoiceID uuid.UUID
	Amount                  int64
	Currency, Status, Key   string
	Provider                string
	Attempts                int
}

// Work implements river.Worker.
//
// Order matters for crash safety: the attempt is counted and the stored key
// read before the provider is called; the outcome, the invoice, the
// subscription, the notice and the job's completion then commit in one
// transaction. A crash anywhere re-runs the job with the same key, and the
// provider answers the replay with its first result.
func (w *ProcessPaymentWorker) Work(ctx context.Context, job *river.Job[ProcessPaymentArgs]) error {
	pay, err := w.p.claim(ctx, job.Args.PaymentID)
	if errors.Is(err, pgx.ErrNoRows) {
		return w.p.finishedOrMissing(ctx, job.Args.PaymentID)
	}
	if err != nil {
		return err
	}
	provider := w.p.providers[pay.Provider]
	if provider == nil {
		return w.p.transient(ctx, job, pay, fmt.Errorf("payment %s: provider %q is not configured", pay.ID, pay.Provider))
	}
	customer, err := w.p.customer(ctx, pay.TenantID, pay.Provider)
	if err != nil {
		return err
	}
	callCtx, cancel := context.WithTimeout(ctx, w.p.cfg.ProviderTimeout)
	res, err := provider.Charge(callCtx, ChargeRequest{
		IdempotencyKey: pay.Key, Amount: pay.Amount, Currency: pay.Currency,
		PaymentMethod: job.Args.PaymentMethod, Customer: customer, Reference: pay.InvoiceID.String(),
		Description: "ClientIQ invoice " + pay.InvoiceID.String(),
		Metadata: map[string]string{
			"payment_id": pay.ID.String(), "invoice_id": pay.InvoiceID.String(), "tenant_id": pay.TenantID.String(),
		},
	})
	cancel()
	switch {
	case errors.Is(err, ErrIdempotencyMismatch):
		w.p.logger.ErrorContext(ctx, "payment_idempotency_mismatch", slog.String("payment_id", pay.ID.String()), slog.Any("error", err))
		return w.p.settleJob(ctx, job, pay.ID, settlement{Code: CodeIdempotencyMismatch, Reason: "the provider refused the payment's key"})
	case err != nil:
		return w.p.transient(ctx, job, pay, err)
	case res.Outcome == OutcomeSucceeded:
		return w.p.settleJob(ctx, job, pay.ID, settlement{Succeeded: true, ChargeID: res.ChargeID})
	default:
		return w.p.settleJob(ctx, job, pay.ID, settlement{
			ChargeID: res.ChargeID, Code: res.DeclineCode, Reason: declineReason(res),
		})
	}
}

// transient handles an unknown outcome: River retries it with the same key,
// except on the last attempt, where the payment is failed rather than left
// pending forever.
func (p *Processor) transient(ctx context.Context, job *river.Job[ProcessPaymentArgs], pay payment, cause error) error {
	if job.Attempt < job.MaxAttempts {
		return fmt.Errorf("charge payment %s (attempt %d): %w", pay.ID, job.Attempt, cause)
	}
	p.logger.WarnContext(ctx, "payment_provider_unavailable",
		slog.String("payment_id", pay.ID.String()), slog.Int("attempt", job.Attempt), slog.Any("error", cause))
	return p.settleJob(ctx, job, pay.ID, settlement{Code: CodeProviderUnavailable, Reason: "provider unavailable"})
}

// claim counts an attempt on a pending payment (its own autocommit, so the
// count survives a crash) and returns the row; pgx.ErrNoRows when the
// payment is not pending.
func (p *Processor) claim(ctx context.Context, id uuid.UUID) (payment, error) {
	pay := payment{ID: id}
	err := p.cfg.Pool.QueryRow(ctx, `UPDATE public.payments SET attempts = attempts + 1, updated_at = now()
		WHERE id = $1 AND status = 'pending'
		RETURNING tenant_id, invoice_id, amount, currency, status, idempotency_key, provider, attempts`, id,
	).Scan(&pay.TenantID, &pay.InvoiceID, &pay.Amount, &pay.Currency, &pay.Status, &pay.Key, &pay.Provider, &pay.Attempts)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return pay, fmt.Errorf("claim payment %s: %w", id, err)
	}
	return pay, err
}

// finishedOrMissing ends a job whose payment is no longer pending: a
// finalized payment is done (the job ran before, or a webhook settled it),
// a missing one can never be charged.
func (p *Processor) finishedOrMissing(ctx context.Context, id uuid.UUID) error {
	var status string
	err := p.cfg.Pool.QueryRow(ctx, `SELECT status FROM public.payments WHERE id = $1`, id).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("payment %s does not exist", id))
	}
	if err != nil {
		return fmt.Errorf("load payment %s: %w", id, err)
	}
	return nil
}

// customer returns the tenant's customer id at the provider, if any.
func (p *Processor) customer(ctx context.Context, tenantID uuid.UUID, provider string) (string, error) {
	var c string
	err := p.cfg.Pool.QueryRow(ctx, `SELECT provider_customer_id FROM public.subscriptions
		WHERE tenant_id = $1 AND provider = $2`, tenantID, provider).Scan(&c)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("load customer of tenant %s: %w", tenantID, err)
	}
	return c, nil
}

func declineReason(res ChargeResult) string {
	if res.Message != "" {
		return res.Message
	}
	if res.DeclineCode != "" {
		return "declined: " + res.DeclineCode
	}
	return "declined"
}

// settleJob records the outcome and completes the job in one transaction
// (river.JobCompleteTx): the bookkeeping and the job's completion commit
// together or not at all.
func (p *Processor) settleJob(ctx context.Context, job *river.Job[ProcessPaymentArgs], id uuid.UUID, s settlement) error {
	err := pgx.BeginFunc(ctx, p.cfg.Pool, func(tx pgx.Tx) error {
		if _, err := p.settle(ctx, tx, id, s); err != nil {
			return err
		}
		return completeTx(ctx, tx, job)
	})
	if err != nil {
		return fmt.Errorf("settle payment %s: %w", id, err)
	}
	return nil
}
