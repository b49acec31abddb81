package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/internal/tenancy"
)

// maxPerRun bounds the subscriptions one renewal or dunning run handles;
// the next run picks up the rest.
const maxPerRun = 1000

// RenewDue renews every subscription whose period has ended, each in its
// own transaction, and returns how many it renewed. A subscription is
// claimed with FOR UPDATE SKIP LOCKED and re-checked under the lock, so two
// workers running at once never renew the same period twice. One that
// fails is logged and skipped until the next run.
func (s *Service) RenewDue(ctx context.Context) (int, error) {
	failed := []uuid.UUID{} // never nil: id = ANY(NULL) would match nothing
	n := 0
	for n+len(failed) < maxPerRun {
		done, id, err := s.renewOne(ctx, failed)
		if err != nil {
			if id == uuid.Nil || ctx.Err() != nil {
				return n, err
			}
			s.logger.ErrorContext(ctx, "billing_renewal_failed", slog.String("subscription_id", id.String()), slog.Any("error", err))
			failed = append(failed, id)
			continue
		}
		if !done {
			return n, nil
		}
		n++
	}
	return n, nil
}

// renewOne renews one due subscription not in skip; done is false when
// none is left.
func (s *Service) renewOne(ctx context.Context, skip []uuid.UUID) (done bool, id uuid.UUID, err error) {
	now := s.clock()
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		sub, err := scanSub(tx.QueryRow(ctx, `SELECT `+subColumns+` FROM public.subscriptions
			WHERE status <> 'canceled' AND current_period_end <= $1 AND NOT (id = ANY($2))
			ORDER BY current_period_end LIMIT 1 FOR UPDATE SKIP LOCKED`, now, skip))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("claim due subscription: %w", err)
		}
		id, done = sub.ID, true
		return s.renewTx(ctx, tx, sub, now)
	})
	return done, id, err
}

// renewTx applies renew's decision for sub: the subscription, its invoice
// and the invoice's charge are written together or not at all.
func (s *Service) renewTx(ctx context.Context, tx pgx.Tx, sub subRow, now time.Time) error {
	t, err := tenantTx(ctx, tx, sub.TenantID)
	if err != nil {
		return err
	}
	// The charge job is a tenant job: it is enqueued in the tenant's name.
	ctx = tenancy.WithTenant(ctx, t)
	cur, err := planTx(ctx, tx, sub.PlanID)
	if err != nil {
		return err
	}
	next := cur
	if sub.ScheduledPlanID != nil {
		if next, err = planTx(ctx, tx, *sub.ScheduledPlanID); err != nil {
			return err
		}
	}
	r := renew(sub, next.ID, priceOf(next, sub.Interval), now)
	if !CanTransition(sub.Status, r.Next.Status) {
		return fmt.Errorf("billing: renewal cannot take a subscription from %s to %s", sub.Status, r.Next.Status)
	}
	if err := s.writeSub(ctx, tx, r.Next, now); err != nil {
		return err
	}
	ch := SubscriptionChange{PlanName: next.Name, OldPlanName: cur.Name, Status: r.Next.Status, OldStatus: sub.Status,
		Reason: r.Reason, EffectiveAt: sub.PeriodEnd, Currency: next.Currency}
	if r.Bill {
		price := priceOf(next, sub.Interval)
		inv, err := insertInvoice(ctx, tx, draft{TenantID: sub.TenantID, SubscriptionID: sub.ID, Currency: next.Currency,
			PeriodStart: r.Next.PeriodStart, PeriodEnd: r.Next.PeriodEnd,
			Lines: []line{{Kind: "subscription", Amount: price, Description: fmt.Sprintf("%s (%sly)", next.Name, sub.Interval)}}}, now)
		if err != nil {
			return err
		}
		if r.Charge {
			if err := s.charge(ctx, tx, r.Next, inv, next.Currency); err != nil {
				return err
			}
		}
		ch.InvoiceNumber, ch.AmountMinor = inv.Number, inv.Total
	}
	// A plain renewal of the same plan is no news; every other outcome is.
	if r.Reason == "renewed" && r.Next.Status == sub.Status {
		return nil
	}
	return s.notify(ctx, tx, t, ch)
}

// Dun works the dunning schedule of past-due subscriptions: when a retry
// is due it charges the subscription's open and failed invoices again;
// once the last retry has failed it cancels the subscription. It returns
// how many subscriptions it acted on. With payments off it does nothing:
// no retry can be made, so none can fail.
func (s *Service) Dun(ctx context.Context) (int, error) {
	if !s.charging() {
		return 0, nil
	}
	now := s.clock()
	rows, err := s.pool.Query(ctx, `SELECT id FROM public.subscriptions WHERE status = 'past_due' ORDER BY past_due_since LIMIT $1`, maxPerRun)
	if err != nil {
		return 0, fmt.Errorf("list past-due subscriptions: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return 0, fmt.Errorf("list past-due subscriptions: %w", err)
	}
	n := 0
	for _, id := range ids {
		acted, err := s.dunOne(ctx, id, now)
		if err != nil {
			if ctx.Err() != nil {
				return n, err
			}
			s.logger.ErrorContext(ctx, "billing_dunning_failed", slog.String("subscription_id", id.String()), slog.Any("error", err))
			continue
		}
		if acted {
			n++
		}
	}
	return n, nil
}
