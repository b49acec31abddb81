package billing_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/ent/invoice"
	"github.com/clientiq/clientiq/ent/invoiceline"
	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/billing"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/rbac"
)

func TestPlans(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := context.Background()

	t.Run("the seeded plans are listed in price-list order", func(t *testing.T) {
		ps, err := f.svc.Plans(ctx)
		require.NoError(t, err)
		var codes []string
		for _, p := range ps {
			codes = append(codes, p.Code)
		}
		require.Equal(t, []string{"free", "starter", "pro", "enterprise"}, codes)
	})
	t.Run("only staff on the platform update a plan", func(t *testing.T) {
		owner, _ := f.tenant(t)
		_, err := f.svc.UpdatePlanByCode(owner, "pro", billing.PlanUpdate{})
		require.Equal(t, apperr.CodeForbidden, apperr.CodeOf(err))
	})
	staff := staffCtx()
	t.Run("invalid values are refused per field", func(t *testing.T) {
		neg, long := int64(-1), string(make([]byte, 101))
		_, err := f.svc.UpdatePlanByCode(staff, "pro", billing.PlanUpdate{Name: &long, PriceMonthly: &neg})
		require.Equal(t, apperr.CodeValidation, apperr.CodeOf(err))
		require.Contains(t, apperr.As(err).Fields, "name")
		require.Contains(t, apperr.As(err).Fields, "price_monthly")
	})
	t.Run("staff change prices and make a limit unlimited", func(t *testing.T) {
		price := int64(5900)
		p, err := f.svc.UpdatePlanByCode(staff, "pro", billing.PlanUpdate{PriceMonthly: &price, MaxSeats: &billing.Limit{}})
		require.NoError(t, err)
		require.Equal(t, price, p.PriceMonthly)
		require.Nil(t, p.MaxSeats)
	})
	t.Run("an inactive plan leaves the list", func(t *testing.T) {
		off := false
		_, err := f.svc.UpdatePlanByCode(staff, "enterprise", billing.PlanUpdate{Active: &off})
		require.NoError(t, err)
		ps, err := f.svc.Plans(ctx)
		require.NoError(t, err)
		require.Len(t, ps, 3)
	})
}

func TestSubscriptionStartsOnFree(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx, tn := f.tenant(t)

	t.Run("a new tenant is on Free, active", func(t *testing.T) {
		sub, err := f.svc.Subscription(ctx)
		require.NoError(t, err)
		require.Equal(t, "Free", sub.Edges.Plan.Name)
		require.Equal(t, billing.StatusActive, string(sub.Status))
		require.Equal(t, tn.ID, sub.TenantID)
	})
	t.Run("StartTx is idempotent", func(t *testing.T) {
		before, err := f.svc.Subscription(ctx)
		require.NoError(t, err)
		tx, err := f.d.Pool.Begin(ctx)
		require.NoError(t, err)
		require.NoError(t, f.svc.StartTx(ctx, tx, tn.ID))
		require.NoError(t, tx.Commit(ctx))
		after, err := f.svc.Subscription(ctx)
		require.NoError(t, err)
		require.Equal(t, before.ID, after.ID)
	})
	t.Run("a viewer without billing.read is refused", func(t *testing.T) {
		_, err := f.svc.Subscription(f.as(tn, rbac.ProjectsRead))
		require.Equal(t, apperr.CodeForbidden, apperr.CodeOf(err))
	})
	t.Run("an admin (billing.read only) cannot change the plan", func(t *testing.T) {
		_, err := f.svc.ChangePlan(f.as(tn, rbac.BillingRead), "pro", "")
		require.Equal(t, apperr.CodeForbidden, apperr.CodeOf(err))
	})
}

func TestChangePlan(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)

	t.Run("an upgrade invoices the proration and charges it once", func(t *testing.T) {
		ctx, tn := f.tenant(t)
		f.onPlan(t, tn, "starter", 10) // 10 of 30 days used
		sub, err := f.svc.ChangePlan(ctx, "pro", "")
		require.NoError(t, err)
		require.Equal(t, "Pro", sub.Edges.Plan.Name)
		require.Equal(t, billing.StatusActive, string(sub.Status))

		inv := f.clients.Public().Invoice.Query().Where(invoice.TenantID(tn.ID)).OnlyX(ctx)
		lines := inv.QueryLines().Order(invoiceline.ByPosition()).AllX(ctx)
		require.Len(t, lines, 2)
		require.Equal(t, int64(-1267), lines[0].Amount, "credit for 20 of 30 days of Starter")
		require.Equal(t, int64(3267), lines[1].Amount, "charge for 20 of 30 days of Pro")
		require.Equal(t, int64(2000), inv.Total)
		require.Equal(t, invoice.StatusOpen, inv.Status)
		var calls []billing.ChargeInput
		for _, c := range f.charger.Calls() {
			if c.TenantID == tn.ID {
				calls = append(calls, c)
			}
		}
		require.Len(t, calls, 1)
		require.Equal(t, billing.ChargeInput{TenantID: tn.ID, InvoiceID: inv.ID, Amount: 2000, Currency: "USD",
			Provider: "sandbox", PaymentMethod: "pm_test"}, calls[0])
	})
	t.Run("a first paid plan starts its trial and bills nothing", func(t *testing.T) {
		ctx, tn := f.tenant(t)
		sub, err := f.svc.ChangePlan(ctx, "starter", "")
		require.NoError(t, err)
		require.Equal(t, billing.StatusTrialing, string(sub.Status))
		require.NotNil(t, sub.TrialEndsAt)
		require.Zero(t, f.clients.Public().Invoice.Query().Where(invoice.TenantID(tn.ID)).CountX(ctx))
	})
	t.Run("a yearly switch credits the month and charges the year", func(t *testing.T) {
		ctx, tn := f.tenant(t)
		f.onPlan(t, tn, "starter", 15)
		sub, err := f.svc.ChangePlan(ctx, "starter", billing.IntervalYear)
		require.NoError(t, err)
		require.Equal(t, billing.IntervalYear, string(sub.Interval))
		inv := f.clients.Public().Invoice.Query().Where(invoice.TenantID(tn.ID)).OnlyX(ctx)
		require.Equal(t, int64(19000-950), inv.Total)
	})
	t.Run("a downgrade is scheduled for the period end", func(t *testing.T) {
		ctx, tn := f.tenant(t)
		f.onPlan(t, tn, "pro", 5)
		sub, err := f.svc.ChangePlan(ctx, "starter", "")
		require.NoError(t, err)
		require.Equal(t, "Pro", sub.Edges.Plan.Name)
		require.NotNil(t, sub.ScheduledPlanID)
		t.Run("choosing the current plan again unschedules it", func(t *testing.T) {
			sub, err := f.svc.ChangePlan(ctx, "pro", "")
			require.NoError(t, err)
			require.Nil(t, sub.ScheduledPlanID)
		})
	})
	t.Run("a downgrade over the new plan's limits is refused naming the limit", func(t *testing.T) {
		ctx, tn := f.tenant(t)
		f.onPlan(t, tn, "starter", 5)
		q := db.QuoteIdent(tn.Schema)
		for range 4 {
			f.exec(t, `INSERT INTO `+q+`.projects (id, name, description, status, created_at, updated_at)
				VALUES (gen_random_uuid(), 'p', '', 'active', now(), now())`)
		}
		_, err := f.svc.ChangePlan(ctx, "free", "")
		require.Equal(t, apperr.CodePlanLimit, apperr.CodeOf(err))
		require.Equal(t, []string{"4 in use, the Free plan allows 3"}, apperr.As(err).Fields["projects"])
	})
	t.Run("the current plan is a validation error", func(t *testing.T) {
		ctx, _ := f.tenant(t)
		_, err := f.svc.ChangePlan(ctx, "free", "")
		require.Equal(t, apperr.CodeValidation, apperr.CodeOf(err))
		require.Contains(t, apperr.As(err).Fields, "plan")
	})
	t.Run("an unknown plan or interval is a validation error naming the field", func(t *testing.T) {
		ctx, _ := f.tenant(t)
		_, err := f.svc.ChangePlan(ctx, "platinum", "")
		require.Contains(t, apperr.As(err).Fields, "plan")
		_, err = f.svc.ChangePlan(ctx, "pro", "weekly")
		require.Contains(t, apperr.As(err).Fields, "interval")
	})
}

func TestCancelAndResume(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx, tn := f.tenant(t)
	f.onPlan(t, tn, "starter", 5)

	t.Run("cancel ends at period end and resume undoes it", func(t *testing.T) {
		sub, err := f.svc.Cancel(ctx)
		require.NoError(t, err)
		require.True(t, sub.CancelAtPeriodEnd)
		sub, err = f.svc.Resume(ctx)
		require.NoError(t, err)
		require.False(t, sub.CancelAtPeriodEnd)
		require.Equal(t, []string{"cancel_scheduled", "resumed"}, f.notifier.Reasons())
	})
	t.Run("at period end a canceled subscription ends and cannot be resumed", func(t *testing.T) {
		_, err := f.svc.Cancel(ctx)
		require.NoError(t, err)
		f.advance(26 * 24 * time.Hour)
		n, err := f.svc.RenewDue(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, n)
		sub, err := f.svc.Subscription(ctx)
		require.NoError(t, err)
		require.Equal(t, billing.StatusCanceled, string(sub.Status))
		_, err = f.svc.Resume(ctx)
		require.Equal(t, apperr.CodeConflict, apperr.CodeOf(err))
		t.Run("choosing a plan subscribes again", func(t *testing.T) {
			sub, err := f.svc.ChangePlan(ctx, "pro", "")
			require.NoError(t, err)
			require.Equal(t, billing.StatusActive, string(sub.Status))
		})
	})
}

func TestRenewDue(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx, tn := f.tenant(t)
	f.onPlan(t, tn, "starter", 29)
	f.advance(2 * 24 * time.Hour)

	t.Run("two workers at once renew a due period once", func(t *testing.T) {
		var wg sync.WaitGroup
		counts := make([]int, 4)
		for i := range counts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := f.svc.RenewDue(context.Background())
				require.NoError(t, err)
				counts[i] = n
			}()
		}
		wg.Wait()
		require.Equal(t, 1, counts[0]+counts[1]+counts[2]+counts[3])
		invs := f.clients.Public().Invoice.Query().Where(invoice.TenantID(tn.ID)).AllX(ctx)
		require.Len(t, invs, 1)
		require.Equal(t, int64(1900), invs[0].Total)
		sub, err := f.svc.Subscription(ctx)
		require.NoError(t, err)
		require.True(t, sub.CurrentPeriodEnd.After(f.clock()))
	})
	t.Run("a scheduled downgrade applies at renewal", func(t *testing.T) {
		_, err := f.svc.ChangePlan(ctx, "free", "")
		require.NoError(t, err)
		f.advance(31 * 24 * time.Hour)
		_, err = f.svc.RenewDue(context.Background())
		require.NoError(t, err)
		sub, err := f.svc.Subscription(ctx)
		require.NoError(t, err)
		require.Equal(t, "Free", sub.Edges.Plan.Name)
		require.Nil(t, sub.ScheduledPlanID)
	})
}

func TestTrialEndsPastDueWithoutCardAndDunningCancels(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx, tn := f.tenant(t)
	_, err := f.svc.ChangePlan(ctx, "starter", "")
	require.NoError(t, err)
	f.advance(15 * 24 * time.Hour)
	_, err = f.svc.RenewDue(context.Background())
	require.NoError(t, err)
	sub, err := f.svc.Subscription(ctx)
	require.NoError(t, err)
	require.Equal(t, billing.StatusPastDue, string(sub.Status))
	require.Equal(t, 1, f.clients.Public().Invoice.Query().Where(invoice.TenantID(tn.ID), invoice.StatusEQ(invoice.StatusOpen)).CountX(ctx))

	for i := range 3 {
		f.advance(3 * 24 * time.Hour)
		n, err := f.svc.Dun(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, n, "retry %d", i+1)
		// The provider fails the retry.
		f.exec(t, `UPDATE public.payments SET status = 'failed' WHERE tenant_id = $1`, tn.ID)
	}
	require.Len(t, f.charger.Calls(), 3)
	f.advance(3 * 24 * time.Hour)
	_, err = f.svc.Dun(context.Background())
	require.NoError(t, err)
	sub, err = f.svc.Subscription(ctx)
	require.NoError(t, err)
	require.Equal(t, billing.StatusCanceled, string(sub.Status))
}

func TestInvoicesAreTenantScoped(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctxA, a := f.tenant(t)
	ctxB, _ := f.tenant(t)
	f.onPlan(t, a, "starter", 10)
	_, err := f.svc.ChangePlan(ctxA, "pro", "")
	require.NoError(t, err)
	connA, err := f.svc.Invoices(ctxA, billing.Page{}, nil, nil)
	require.NoError(t, err)
	require.Equal(t, 1, connA.TotalCount)
	idA := connA.Edges[0].Node.ID

	t.Run("tenant B lists none of A's invoices", func(t *testing.T) {
		conn, err := f.svc.Invoices(ctxB, billing.Page{}, nil, nil)
		require.NoError(t, err)
		require.Zero(t, conn.TotalCount)
	})
	t.Run("tenant B reading A's invoice is NOT_FOUND like an unknown id", func(t *testing.T) {
		_, err := f.svc.Invoice(ctxB, idA)
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))
		_, err2 := f.svc.Invoice(ctxB, uuid.New())
		require.Equal(t, apperr.As(err2).Message, apperr.As(err).Message)
	})
	t.Run("tenant B paying A's invoice is NOT_FOUND", func(t *testing.T) {
		_, err := f.svc.PayInvoice(ctxB, idA)
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))
	})
	t.Run("paying while a charge is pending is a conflict", func(t *testing.T) {
		_, err := f.svc.PayInvoice(ctxA, idA)
		require.Equal(t, apperr.CodeConflict, apperr.CodeOf(err))
	})
}

func TestPaymentsOff(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &fixtureOpts{PaymentsOff: true})
	ctx, tn := f.tenant(t)
	f.onPlan(t, tn, "starter", 10)

	t.Run("an upgrade leaves its invoice open and charges nothing", func(t *testing.T) {
		_, err := f.svc.ChangePlan(ctx, "pro", "")
		require.NoError(t, err)
		require.Empty(t, f.charger.Calls())
		inv := f.clients.Public().Invoice.Query().Where(invoice.TenantID(tn.ID)).OnlyX(ctx)
		require.Equal(t, invoice.StatusOpen, inv.Status)
		t.Run("paying it is FEATURE_DISABLED", func(t *testing.T) {
			_, err := f.svc.PayInvoice(ctx, inv.ID)
			require.Equal(t, apperr.CodeFeatureDisabled, apperr.CodeOf(err))
		})
	})
}

func TestLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx, tn := f.tenant(t)
	l := f.svc.Limits()
	q := db.QuoteIdent(tn.Schema)

	t.Run("under the limit passes", func(t *testing.T) {
		require.NoError(t, l.CheckProjects(ctx, 3))
		require.NoError(t, l.CheckSeats(ctx, 3))
	})
	t.Run("over the limit is PLAN_LIMIT_EXCEEDED with usage and limit", func(t *testing.T) {
		err := l.CheckProjects(ctx, 4)
		require.Equal(t, apperr.CodePlanLimit, apperr.CodeOf(err))
		require.Equal(t, []string{"4 in use, the Free plan allows 3"}, apperr.As(err).Fields["projects"])
	})
	t.Run("pending invitations hold seats", func(t *testing.T) {
		for i := range 3 {
			f.exec(t, `INSERT INTO `+q+`.invitations (id, email, role, token_hash, created_at, expires_at)
				VALUES (gen_random_uuid(), $1, 'viewer', decode(md5(random()::text), 'hex'), now(), now() + interval '1 day')`, "i"+string(rune('a'+i))+"@example.com")
		}
		err := l.CheckSeats(ctx, 1)
		require.Equal(t, apperr.CodePlanLimit, apperr.CodeOf(err))
		require.Contains(t, apperr.As(err).Fields, "seats")
	})
	t.Run("an unlimited plan allows anything", func(t *testing.T) {
		f.onPlan(t, tn, "enterprise", 1)
		require.NoError(t, l.CheckDataItems(ctx, 1_000_000_000))
	})
	t.Run("without a tenant nothing is counted", func(t *testing.T) {
		require.Error(t, l.CheckSeats(context.Background(), 1))
	})
}

func TestLimitChecksReuseThePlanBriefly(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx, tn := f.tenant(t, rbac.BillingManage)
	l := f.svc.Limits()
	require.Equal(t, apperr.CodePlanLimit, apperr.CodeOf(l.CheckProjects(ctx, 4)), "Free allows 3")

	t.Run("a change through the service counts at once", func(t *testing.T) {
		_, err := f.svc.ChangePlan(ctx, "pro", "")
		require.NoError(t, err)
		require.NoError(t, l.CheckProjects(ctx, 4))
	})
	t.Run("a change written elsewhere counts within a second", func(t *testing.T) {
		f.exec(t, `UPDATE public.subscriptions SET plan_id = (SELECT id FROM public.plans WHERE code = 'free') WHERE tenant_id = $1`, tn.ID)
		require.NoError(t, l.CheckProjects(ctx, 4), "the plan read a moment ago is reused")
		f.advance(time.Second)
		require.Equal(t, apperr.CodePlanLimit, apperr.CodeOf(l.CheckProjects(ctx, 4)))
	})
	t.Run("a canceled subscription has Free's limits whatever its plan", func(t *testing.T) {
		f.exec(t, `UPDATE public.subscriptions SET plan_id = (SELECT id FROM public.plans WHERE code = 'pro'), status = 'canceled'
			WHERE tenant_id = $1`, tn.ID)
		f.svc.ForgetPlans()
		require.Equal(t, apperr.CodePlanLimit, apperr.CodeOf(l.CheckProjects(ctx, 4)))
		f.exec(t, `UPDATE public.subscriptions SET status = 'active' WHERE tenant_id = $1`, tn.ID)
		f.svc.ForgetPlans()
		require.NoError(t, l.CheckProjects(ctx, 4), "active on Pro again")
	})
	t.Run("a tenant without a subscription gets one on Free", func(t *testing.T) {
		f.exec(t, `DELETE FROM public.subscriptions WHERE tenant_id = $1`, tn.ID)
		f.svc.ForgetPlans()
		require.Equal(t, apperr.CodePlanLimit, apperr.CodeOf(l.CheckProjects(ctx, 4)))
		var n int
		require.NoError(t, f.d.Pool.QueryRow(ctx, `SELECT count(*) FROM public.subscriptions WHERE tenant_id = $1`, tn.ID).Scan(&n))
		require.Equal(t, 1, n)
	})
}
