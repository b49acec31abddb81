package billing

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// ChangePlan moves the subscription of the tenant in ctx to the plan with
// code planCode at interval ("" keeps the current interval)
// (billing.manage):
//   - an upgrade (a higher yearly cost) or an interval change takes effect
//     at once. Keeping the interval, the unused part of the current plan is
//     credited and the new plan charged for the rest of the period;
//     changing it, the unused part is credited, the new interval charged in
//     full and a new period starts now. The invoice is charged in the same
//     transaction when payments are enabled (left open otherwise). A paid
//     plan with a trial, chosen by a tenant that never trialed, starts the
//     trial instead and bills nothing until it ends;
//   - a downgrade (a lower yearly cost) takes effect at the end of the
//     period (scheduled_plan_id), keeps the interval, and is refused with
//     PLAN_LIMIT_EXCEEDED while the tenant uses more than the new plan
//     allows;
//   - choosing the current plan again cancels a scheduled downgrade, and
//     is a VALIDATION_ERROR when nothing is scheduled;
//   - on a subscription that has ended, any plan starts it again from now.
func (s *Service) ChangePlan(ctx context.Context, planCode, interval string) (*ent.Subscription, error) {
	t, err := s.manage(ctx)
	if err != nil {
		return nil, err
	}
	planCode, interval = strings.TrimSpace(planCode), strings.TrimSpace(interval)
	fe := apperr.FieldErrors{}
	if planCode == "" {
		fe.Add("plan", "is required")
	}
	if interval != "" && interval != IntervalMonth && interval != IntervalYear {
		fe.Add("interval", "must be month or year")
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	target, err := s.PlanByCode(ctx, planCode)
	if err != nil || !target.Active {
		return nil, apperr.Validation("invalid input: check plan", map[string][]string{"plan": {"is not a plan that can be chosen"}})
	}
	usage, err := s.usageOf(ctx)
	if err != nil {
		return nil, err
	}
	if over := exceeded(target, usage); len(over) > 0 {
		return nil, limitError(target, over)
	}
	err = s.inTx(ctx, "change plan", func(tx pgx.Tx) error {
		sub, err := lockSub(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		cur, err := planTx(ctx, tx, sub.PlanID)
		if err != nil {
			return err
		}
		if interval == "" {
			interval = sub.Interval
		}
		c := change{svc: s, tx: tx, tenant: t, sub: sub, old: sub, cur: cur, target: target, interval: interval, now: s.clock()}
		return c.apply(ctx)
	})
	if err != nil {
		return nil, err
	}
	return s.ensure(ctx, t.ID)
}

// change is one ChangePlan inside its transaction.
type change struct {
	svc         *Service
	tx          pgx.Tx
	tenant      *tenancy.Tenant
	sub, old    subRow
	cur, target *ent.Plan
	interval    string
	now         time.Time
}

func (c *change) apply(ctx context.Context) error {
	switch {
	case c.sub.Status == StatusCanceled:
		return c.restart(ctx)
	case c.target.ID == c.cur.ID && c.interval == c.sub.Interval:
		if c.sub.ScheduledPlanID == nil {
			return apperr.Validation("invalid input: check plan", map[string][]string{"plan": {"is the current plan"}})
		}
		c.sub.ScheduledPlanID = nil
		return c.save(ctx, "downgrade_unscheduled", c.sub.PeriodEnd, nil)
	case c.target.ID != c.cur.ID &&
		annualized(priceOf(c.target, c.interval), c.interval) < annualized(priceOf(c.cur, c.sub.Interval), c.sub.Interval):
		if c.interval != c.sub.Interval {
			return apperr.Validation("invalid input: check interval", map[string][]string{
				"interval": {"a downgrade keeps the current interval; change the interval after it takes effect"}})
		}
		id := c.target.ID
		c.sub.ScheduledPlanID = &id
		return c.save(ctx, "downgrade_scheduled", c.sub.PeriodEnd, nil)
	}
	return c.upgrade(ctx)
}

// upgrade switches plan (or interval) now, with proration.
func (c *change) upgrade(ctx context.Context) error {
	c.sub.PlanID, c.sub.ScheduledPlanID = c.target.ID, nil
	switch {
	case c.sub.Status == StatusTrialing:
		// The trial goes on with the new plan; nothing is billed until it ends.
		c.sub.Interval = c.interval
		return c.save(ctx, "upgrade", c.now, nil)
	case trialEligible(c.sub, c.target, c.interval):
		c.sub.Interval = c.interval
		startTrial(&c.sub, c.target, c.now)
		return c.save(ctx, "upgrade", c.now, nil)
	}
	oldPrice, newPrice := priceOf(c.cur, c.sub.Interval), priceOf(c.target, c.interval)
	var lines []line
	if c.interval == c.sub.Interval {
		p := Prorate(oldPrice, newPrice, c.sub.PeriodStart, c.sub.PeriodEnd, c.now)
		lines = c.prorationLines(p.Credit, p.Charge, "Remaining time on %s")
	} else {
		p := Prorate(oldPrice, 0, c.sub.PeriodStart, c.sub.PeriodEnd, c.now)
		c.sub.Interval, c.sub.PeriodStart, c.sub.PeriodEnd = c.interval, c.now, addInterval(c.now, c.interval)
		lines = c.prorationLines(p.Credit, 0, "")
		if newPrice > 0 {
			lines = append(lines, line{Kind: "subscription", Amount: newPrice,
				Description: fmt.Sprintf("%s (%sly)", c.target.Name, c.interval)})
		}
	}
	return c.save(ctx, "upgrade", c.now, lines)
}

// prorationLines are the credit for the unused old plan and the charge for
// the new one; a zero amount makes no line.
func (c *change) prorationLines(credit, charge int64, chargeFormat string) []line {
	var lines []line
	if credit != 0 {
		lines = append(lines, line{Kind: "proration", Amount: credit,
			Description: fmt.Sprintf("Unused time on %s (%s)", c.cur.Name, c.old.Interval+"ly")})
	}
	if charge != 0 {
		lines = append(lines, line{Kind: "proration", Amount: charge,
			Description: fmt.Sprintf(chargeFormat, c.target.Name) + " (" + c.interval + "ly)"})
	}
	return lines
}

// restart subscribes an ended subscription again, from now.
func (c *change) restart(ctx context.Context) error {
	c.sub.PlanID, c.sub.Interval, c.sub.ScheduledPlanID = c.target.ID, c.interval, nil
	c.sub.CancelAtPeriodEnd, c.sub.CanceledAt, c.sub.PastDueSince = false, nil, nil
	if trialEligible(c.sub, c.target, c.interval) {
		startTrial(&c.sub, c.target, c.now)
		return c.save(ctx, "restarted", c.now, nil)
	}
	c.sub.Status, c.sub.PeriodStart, c.sub.PeriodEnd = StatusActive, c.now, addInterval(c.now, c.interval)
	var lines []line
	if price := priceOf(c.target, c.interval); price > 0 {
		lines = []line{{Kind: "subscription", Amount: price, Description: fmt.Sprintf("%s (%sly)", c.target.Name, c.interval)}}
	}
	return c.save(ctx, "restarted", c.now, lines)
}

// save writes the subscription, the invoice of lines (when there are any)
// and its charge, and tells the notifier.
func (c *change) save(ctx context.Context, reason string, effective time.Time, lines []line) error {
	if !CanTransition(c.old.Status, c.sub.Status) {
		return fmt.Errorf("billing: subscription cannot go from %s to %s", c.old.Status, c.sub.Status)
	}
	if err := c.svc.writeSub(ctx, c.tx, c.sub, c.now); err != nil {
		return err
	}
	ch := SubscriptionChange{PlanName: c.target.Name, OldPlanName: c.cur.Name, Status: c.sub.Status,
		OldStatus: c.old.Status, Reason: reason, EffectiveAt: effective, Currency: c.target.Currency}
	if reason == "downgrade_unscheduled" {
		ch.PlanName = c.cur.Name
	}
	if len(lines) > 0 {
		inv, err := insertInvoice(ctx, c.tx, draft{TenantID: c.sub.TenantID, SubscriptionID: c.sub.ID, Currency: c.target.Currency,
			PeriodStart: c.now, PeriodEnd: c.sub.PeriodEnd, Lines: lines}, c.now)
		if err != nil {
			return err
		}
		if c.sub.Status != StatusTrialing {
			if err := c.svc.charge(ctx, c.tx, c.sub, inv, c.target.Currency); err != nil {
				return err
			}
		}
		ch.InvoiceNumber, ch.AmountMinor = inv.Number, inv.Total
	}
	return c.svc.notify(ctx, c.tx, c.tenant, ch)
}
