package billing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/internal/tenancy"
)

// dunOne runs one dunning step for the past-due subscription id in one
// transaction; acted is false when nothing was due (or another worker holds
// the subscription).
func (s *Service) dunOne(ctx context.Context, id uuid.UUID, now time.Time) (acted bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		sub, err := scanSub(tx.QueryRow(ctx, `SELECT `+subColumns+` FROM public.subscriptions
			WHERE id = $1 AND status = 'past_due' FOR UPDATE SKIP LOCKED`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("lock past-due subscription: %w", err)
		}
		since := now
		if sub.PastDueSince != nil {
			since = *sub.PastDueSince
		}
		var retries int
		var pending bool
		err = tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE p.created_at > $2), coalesce(bool_or(p.status = 'pending'), false)
			FROM public.payments p JOIN public.invoices i ON i.id = p.invoice_id WHERE i.subscription_id = $1`,
			sub.ID, since).Scan(&retries, &pending)
		if err != nil {
			return fmt.Errorf("count dunning retries: %w", err)
		}
		t, err := tenantTx(ctx, tx, sub.TenantID)
		if err != nil {
			return err
		}
		ctx := tenancy.WithTenant(ctx, t)
		switch dun(since, now, retries, pending, s.dunning) {
		case dunningRetry:
			acted = true
			return s.retryInvoices(ctx, tx, sub, now)
		case dunningCancel:
			acted = true
			return s.endPastDue(ctx, tx, t, sub, now)
		}
		return nil
	})
	return acted, err
}

// retryInvoices charges the subscription's unpaid invoices again. A
// past-due subscription with nothing left unpaid is active again.
func (s *Service) retryInvoices(ctx context.Context, tx pgx.Tx, sub subRow, now time.Time) error {
	rows, err := tx.Query(ctx, `SELECT id, total, currency FROM public.invoices
		WHERE subscription_id = $1 AND status IN ('open', 'failed') AND total > 0 ORDER BY created_at`, sub.ID)
	if err != nil {
		return fmt.Errorf("list unpaid invoices: %w", err)
	}
	type unpaid struct {
		ID       uuid.UUID
		Total    int64
		Currency string
	}
	invs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[unpaid])
	if err != nil {
		return fmt.Errorf("list unpaid invoices: %w", err)
	}
	if len(invs) == 0 {
		sub.Status, sub.PastDueSince = StatusActive, nil
		return s.writeSub(ctx, tx, sub, now)
	}
	for _, inv := range invs {
		if err := s.charge(ctx, tx, sub, writtenInvoice{ID: inv.ID, Total: inv.Total, Status: "open"}, inv.Currency); err != nil {
			return err
		}
	}
	return nil
}

// endPastDue cancels a subscription whose last dunning retry failed.
func (s *Service) endPastDue(ctx context.Context, tx pgx.Tx, t *tenancy.Tenant, sub subRow, now time.Time) error {
	old := sub
	sub.Status, sub.CanceledAt, sub.CancelAtPeriodEnd, sub.ScheduledPlanID = StatusCanceled, &now, false, nil
	if err := s.writeSub(ctx, tx, sub, now); err != nil {
		return err
	}
	p, err := planTx(ctx, tx, sub.PlanID)
	if err != nil {
		return err
	}
	return s.notify(ctx, tx, t, SubscriptionChange{PlanName: p.Name, OldPlanName: p.Name, Status: sub.Status,
		OldStatus: old.Status, Reason: "canceled", EffectiveAt: now})
}
