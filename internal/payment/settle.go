package payment

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// settlement is a payment's final outcome, from a provider's answer or a
// webhook.
type settlement struct {
	// Succeeded is true for a collected payment; false means failed with
	// Code and Reason.
	Succeeded bool
	// ChargeID is the provider's id; empty keeps the stored one.
	ChargeID     string
	Code, Reason string
}

// settle applies s to payment id and everything that follows from it, in
// tx, and reports whether anything changed. The payment row is locked
// first, so concurrent settlements of one payment (a duplicated job, a job
// and a webhook) apply one after the other, and the second finds the first.
//
// Transitions: pending → succeeded or failed; failed → succeeded (the
// provider collected after all, e.g. a late webhook after "provider
// unavailable"). succeeded is final: no late or duplicated event moves it
// back. So the customer gets one receipt, or one failure email followed
// by at most one receipt.
func (p *Processor) settle(ctx context.Context, tx pgx.Tx, id uuid.UUID, s settlement) (bool, error) {
	var (
		status string
		n      = PaymentNotice{PaymentID: id}
	)
	err := tx.QueryRow(ctx, `SELECT status, tenant_id, invoice_id, amount, currency
		FROM public.payments WHERE id = $1 FOR UPDATE`, id,
	).Scan(&status, &n.TenantID, &n.InvoiceID, &n.Amount, &n.Currency)
	if err != nil {
		return false, fmt.Errorf("lock payment: %w", err)
	}
	if status == "succeeded" || (status == "failed" && !s.Succeeded) {
		return false, nil
	}
	if err := tx.QueryRow(ctx, `SELECT number FROM public.invoices WHERE id = $1`, n.InvoiceID).Scan(&n.InvoiceNumber); err != nil {
		return false, fmt.Errorf("load invoice %s: %w", n.InvoiceID, err)
	}
	if s.Succeeded {
		err = p.recordPaid(ctx, tx, id, n, s)
	} else {
		n.Reason = truncate(s.Reason, 500)
		err = p.recordFailed(ctx, tx, id, n, s)
	}
	if err != nil {
		return false, err
	}
	p.logger.InfoContext(ctx, "payment_settled", slog.String("payment_id", id.String()),
		slog.String("invoice_id", n.InvoiceID.String()), slog.Bool("succeeded", s.Succeeded),
		slog.String("from", status), slog.String("failure_code", s.Code))
	return true, nil
}

func (p *Processor) recordPaid(ctx context.Context, tx pgx.Tx, id uuid.UUID, n PaymentNotice, s settlement) error {
	if _, err := tx.Exec(ctx, `UPDATE public.payments SET status = 'succeeded',
			provider_charge_id = coalesce(nullif($2, ''), provider_charge_id),
			failure_code = '', failure_reason = '', processed_at = now(), updated_at = now()
		WHERE id = $1`, id, truncate(s.ChargeID, 255)); err != nil {
		return fmt.Errorf("record payment succeeded: %w", err)
	}
	// Money received is the truth, whatever the invoice said before.
	if _, err := tx.Exec(ctx, `UPDATE public.invoices SET status = 'paid', paid_at = coalesce(paid_at, now()),
			failure_reason = '', updated_at = now()
		WHERE id = $1`, n.InvoiceID); err != nil {
		return fmt.Errorf("record invoice paid: %w", err)
	}
	// A paid invoice ends dunning; trialing and canceled are billing's.
	if _, err := tx.Exec(ctx, `UPDATE public.subscriptions SET status = 'active', past_due_since = NULL, updated_at = now()
		WHERE tenant_id = $1 AND status = 'past_due'`, n.TenantID); err != nil {
		return fmt.Errorf("reactivate subscription: %w", err)
	}
	if p.cfg.Notifier != nil {
		if err := p.cfg.Notifier.PaymentSucceeded(ctx, tx, n); err != nil {
			return fmt.Errorf("notify payment succeeded: %w", err)
		}
	}
	return nil
}

func (p *Processor) recordFailed(ctx context.Context, tx pgx.Tx, id uuid.UUID, n PaymentNotice, s settlement) error {
	if _, err := tx.Exec(ctx, `UPDATE public.payments SET status = 'failed',
			provider_charge_id = coalesce(nullif($2, ''), provider_charge_id),
			failure_code = $3, failure_reason = $4, processed_at = now(), updated_at = now()
		WHERE id = $1`, id, truncate(s.ChargeID, 255), truncate(s.Code, 64), n.Reason); err != nil {
		return fmt.Errorf("record payment failed: %w", err)
	}
	// An invoice paid (or voided) some other way stays so.
	if _, err := tx.Exec(ctx, `UPDATE public.invoices SET status = 'failed', failure_reason = $2, updated_at = now()
		WHERE id = $1 AND status IN ('draft', 'open', 'failed')`, n.InvoiceID, n.Reason); err != nil {
		return fmt.Errorf("record invoice failed: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE public.subscriptions SET status = 'past_due',
			past_due_since = coalesce(past_due_since, now()), updated_at = now()
		WHERE tenant_id = $1 AND status IN ('trialing', 'active', 'past_due')`, n.TenantID); err != nil {
		return fmt.Errorf("mark subscription past due: %w", err)
	}
	if p.cfg.Notifier != nil {
		if err := p.cfg.Notifier.PaymentFailed(ctx, tx, n); err != nil {
			return fmt.Errorf("notify payment failed: %w", err)
		}
	}
	return nil
}

// completeTx completes a running job inside tx. River then finds the job
// completed already when the worker returns, and leaves it so.
func completeTx[T river.JobArgs](ctx context.Context, tx pgx.Tx, job *river.Job[T]) error {
	if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
		return fmt.Errorf("complete job %d: %w", job.ID, err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary: the columns are varchar counted in runes, and
	// a split rune is invalid UTF-8.
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
