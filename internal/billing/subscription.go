package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/ent/subscription"
	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// Subscription returns the subscription of the tenant in ctx
// (billing.read), starting it on Free when the tenant has none yet.
func (s *Service) Subscription(ctx context.Context) (*ent.Subscription, error) {
	if _, err := tenancy.RequirePermission(ctx, rbac.BillingRead); err != nil {
		return nil, err
	}
	t, err := tenancy.Require(ctx)
	if err != nil {
		return nil, err
	}
	return s.ensure(ctx, t.ID)
}

// SubscriptionByID is Subscription addressed by id (REST): NOT_FOUND unless
// id is the subscription of the tenant in ctx. billing.manage suffices too:
// REST addresses a plan change by id, and whoever may change the plan sees
// the subscription in the change's answer anyway.
func (s *Service) SubscriptionByID(ctx context.Context, id uuid.UUID) (*ent.Subscription, error) {
	if _, err := tenancy.RequirePermission(ctx, rbac.BillingManage); err != nil {
		if _, rerr := tenancy.RequirePermission(ctx, rbac.BillingRead); rerr != nil {
			return nil, rerr
		}
	}
	t, err := tenancy.Require(ctx)
	if err != nil {
		return nil, err
	}
	sub, err := s.ensure(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	if sub.ID != id {
		return nil, errSubscriptionNotFound
	}
	return sub, nil
}

// StartTx starts tenantID on Free in tx (signup and provisioning call it in
// their transaction). It does nothing when the tenant has a subscription.
func (s *Service) StartTx(ctx context.Context, tx pgx.Tx, tenantID uuid.UUID) error {
	return insertSub(ctx, tx, tenantID, s.clock())
}

// ensure returns tenantID's subscription with its plan, creating it (on
// Free) first when there is none; concurrent first calls create one.
func (s *Service) ensure(ctx context.Context, tenantID uuid.UUID) (*ent.Subscription, error) {
	q := func() (*ent.Subscription, error) {
		return s.clients.Public().Subscription.Query().Where(subscription.TenantID(tenantID)).WithPlan().Only(ctx)
	}
	sub, err := q()
	if ent.IsNotFound(err) {
		if err := insertSub(ctx, s.pool, tenantID, s.clock()); err != nil {
			return nil, err
		}
		sub, err = q()
	}
	if err != nil {
		return nil, fmt.Errorf("read subscription: %w", err)
	}
	return sub, nil
}

// Cancel ends the subscription of the tenant in ctx at the end of its
// period (billing.manage). Canceling again changes nothing.
func (s *Service) Cancel(ctx context.Context) (*ent.Subscription, error) {
	return s.setCancel(ctx, true)
}

// Resume undoes Cancel before the period ends (billing.manage). A
// subscription that has ended cannot be resumed: choosing a plan
// subscribes again.
func (s *Service) Resume(ctx context.Context) (*ent.Subscription, error) {
	return s.setCancel(ctx, false)
}

func (s *Service) setCancel(ctx context.Context, cancel bool) (*ent.Subscription, error) {
	t, err := s.manage(ctx)
	if err != nil {
		return nil, err
	}
	err = s.inTx(ctx, "set cancel at period end", func(tx pgx.Tx) error {
		sub, err := lockSub(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		if sub.Status == StatusCanceled {
			return apperr.New(apperr.CodeConflict, "the subscription has ended; choose a plan to subscribe again")
		}
		if sub.CancelAtPeriodEnd == cancel {
			return nil
		}
		sub.CancelAtPeriodEnd = cancel
		now := s.clock()
		if err := s.writeSub(ctx, tx, sub, now); err != nil {
			return err
		}
		p, err := planTx(ctx, tx, sub.PlanID)
		if err != nil {
			return err
		}
		reason := "resumed"
		if cancel {
			reason = "cancel_scheduled"
		}
		return s.notify(ctx, tx, t, SubscriptionChange{PlanName: p.Name, OldPlanName: p.Name, Status: sub.Status,
			OldStatus: sub.Status, Reason: reason, EffectiveAt: sub.PeriodEnd})
	})
	if err != nil {
		return nil, err
	}
	return s.ensure(ctx, t.ID)
}

// manage checks billing.manage and makes sure the tenant in ctx has a
// subscription row to lock.
func (s *Service) manage(ctx context.Context) (*tenancy.Tenant, error) {
	if _, err := tenancy.RequirePermission(ctx, rbac.BillingManage); err != nil {
		return nil, err
	}
	t, err := tenancy.Require(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.ensure(ctx, t.ID); err != nil {
		return nil, err
	}
	return t, nil
}

// notify hands a change to the notifier, filling in the tenant.
func (s *Service) notify(ctx context.Context, tx pgx.Tx, t *tenancy.Tenant, c SubscriptionChange) error {
	if s.notifier == nil {
		return nil
	}
	c.TenantID, c.TenantSlug, c.TenantName = t.ID, t.Slug, t.Name
	if err := s.notifier.SubscriptionChanged(ctx, tx, c); err != nil {
		return fmt.Errorf("notify subscription change: %w", err)
	}
	return nil
}

// charge enqueues the collection of an invoice in tx when payments are on.
func (s *Service) charge(ctx context.Context, tx pgx.Tx, sub subRow, inv writtenInvoice, currency string) error {
	if !s.charging() || inv.Total <= 0 || inv.Status != "open" {
		return nil
	}
	_, err := s.charger.EnqueueTx(ctx, tx, ChargeInput{TenantID: sub.TenantID, InvoiceID: inv.ID, Amount: inv.Total,
		Currency: currency, Provider: sub.Provider, PaymentMethod: sub.PaymentMethod})
	if err != nil {
		return fmt.Errorf("enqueue charge of invoice %s: %w", inv.Number, err)
	}
	return nil
}

// trialEligible reports whether choosing p now starts a trial: a paid plan
// with trial days, for a tenant that never trialed.
func trialEligible(sub subRow, p *ent.Plan, interval string) bool {
	return priceOf(p, interval) > 0 && p.TrialDays > 0 && sub.TrialEndsAt == nil
}

// startTrial puts sub on a trial of p from now.
func startTrial(sub *subRow, p *ent.Plan, now time.Time) {
	end := now.AddDate(0, 0, p.TrialDays)
	sub.Status, sub.TrialEndsAt, sub.PeriodStart, sub.PeriodEnd = StatusTrialing, &end, now, end
}
