package billing

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// FreePlan is the code of the plan every tenant starts on.
const FreePlan = "free"

const subColumns = `id, tenant_id, plan_id, interval, status, trial_ends_at, current_period_start, current_period_end,
	cancel_at_period_end, canceled_at, scheduled_plan_id, past_due_since, provider, payment_method`

func scanSub(row pgx.Row) (subRow, error) {
	var s subRow
	err := row.Scan(&s.ID, &s.TenantID, &s.PlanID, &s.Interval, &s.Status, &s.TrialEndsAt, &s.PeriodStart, &s.PeriodEnd,
		&s.CancelAtPeriodEnd, &s.CanceledAt, &s.ScheduledPlanID, &s.PastDueSince, &s.Provider, &s.PaymentMethod)
	return s, err
}

// lockSub reads the tenant's subscription FOR UPDATE: every change of a
// subscription serializes on its row.
func lockSub(ctx context.Context, tx pgx.Tx, tenantID uuid.UUID) (subRow, error) {
	s, err := scanSub(tx.QueryRow(ctx, `SELECT `+subColumns+` FROM public.subscriptions WHERE tenant_id = $1 FOR UPDATE`, tenantID))
	if errors.Is(err, pgx.ErrNoRows) {
		return s, errSubscriptionNotFound
	}
	return s, err
}

// writeSub stores every mutable column of s and forgets the tenant's
// cached plan.
func (svc *Service) writeSub(ctx context.Context, tx pgx.Tx, s subRow, now time.Time) error {
	svc.plans.forget(s.TenantID)
	_, err := tx.Exec(ctx, `UPDATE public.subscriptions SET plan_id = $2, interval = $3, status = $4, trial_ends_at = $5,
		current_period_start = $6, current_period_end = $7, cancel_at_period_end = $8, canceled_at = $9,
		scheduled_plan_id = $10, past_due_since = $11, updated_at = $12 WHERE id = $1`,
		s.ID, s.PlanID, s.Interval, s.Status, s.TrialEndsAt, s.PeriodStart, s.PeriodEnd, s.CancelAtPeriodEnd,
		s.CanceledAt, s.ScheduledPlanID, s.PastDueSince, now)
	if err != nil {
		return fmt.Errorf("write subscription: %w", err)
	}
	return nil
}

// planTx reads a plan in tx (what billing charges for must be what the
// transaction saw).
func planTx(ctx context.Context, tx pgx.Tx, id uuid.UUID) (*ent.Plan, error) {
	p := &ent.Plan{}
	err := tx.QueryRow(ctx, `SELECT id, code, name, currency, price_monthly, price_yearly, trial_days,
		max_seats, max_projects, max_data_items, active FROM public.plans WHERE id = $1`, id).
		Scan(&p.ID, &p.Code, &p.Name, &p.Currency, &p.PriceMonthly, &p.PriceYearly, &p.TrialDays,
			&p.MaxSeats, &p.MaxProjects, &p.MaxDataItems, &p.Active)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errPlanNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	return p, nil
}

// tenantTx reads the tenant a job works for (its context has none).
func tenantTx(ctx context.Context, tx pgx.Tx, id uuid.UUID) (*tenancy.Tenant, error) {
	t := &tenancy.Tenant{ID: id}
	err := tx.QueryRow(ctx, `SELECT slug, name, schema_name, status FROM public.tenants WHERE id = $1`, id).
		Scan(&t.Slug, &t.Name, &t.Schema, &t.Status)
	if err != nil {
		return nil, fmt.Errorf("read tenant %s: %w", id, err)
	}
	return t, nil
}

// execer is a pgx pool or transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// insertSub starts tenantID on Free (active, a monthly period from now)
// unless it has a subscription already.
func insertSub(ctx context.Context, tx execer, tenantID uuid.UUID, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO public.subscriptions (id, created_at, updated_at, tenant_id, plan_id, interval, status,
		current_period_start, current_period_end, cancel_at_period_end, provider, provider_customer_id, payment_method)
		SELECT $1, $2, $2, $3, p.id, 'month', 'active', $2, $4, false, 'sandbox', '', '' FROM public.plans p WHERE p.code = $5
		ON CONFLICT (tenant_id) DO NOTHING`, uuid.New(), now, tenantID, addInterval(now, IntervalMonth), FreePlan)
	if err != nil {
		return fmt.Errorf("start subscription: %w", err)
	}
	return nil
}

// Line is an invoice line to write.
type line struct {
	Kind        string
	Description string
	Amount      int64
}

// draft is an invoice to write.
type draft struct {
	TenantID       uuid.UUID
	SubscriptionID uuid.UUID
	Currency       string
	PeriodStart    time.Time
	PeriodEnd      time.Time
	Lines          []line
}

// writtenInvoice is what insertInvoice made.
type writtenInvoice struct {
	ID     uuid.UUID
	Number string
	Total  int64
	Status string
}

// insertInvoice writes an invoice and its lines. The total is the sum of
// the lines but never negative; an invoice with nothing to pay is paid at
// once, the others are open (due now).
func insertInvoice(ctx context.Context, tx pgx.Tx, d draft, now time.Time) (writtenInvoice, error) {
	var sum int64
	for _, l := range d.Lines {
		sum += l.Amount
	}
	w := writtenInvoice{ID: uuid.New(), Number: invoiceNumber(now), Total: max(0, sum), Status: "open"}
	var paidAt *time.Time
	if w.Total == 0 {
		w.Status, paidAt = "paid", &now
	}
	_, err := tx.Exec(ctx, `INSERT INTO public.invoices (id, created_at, updated_at, tenant_id, subscription_id, number, status,
		currency, subtotal, total, period_start, period_end, due_at, paid_at, failure_reason)
		VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $2, $12, '')`,
		w.ID, now, d.TenantID, d.SubscriptionID, w.Number, w.Status, d.Currency, sum, w.Total, d.PeriodStart, d.PeriodEnd, paidAt)
	if err != nil {
		return w, fmt.Errorf("write invoice: %w", err)
	}
	for i, l := range d.Lines {
		if _, err := tx.Exec(ctx, `INSERT INTO public.invoice_lines (id, invoice_id, kind, description, quantity, unit_amount, amount, position)
			VALUES ($1, $2, $3, $4, 1, $5, $5, $6)`, uuid.New(), w.ID, l.Kind, l.Description, l.Amount, i); err != nil {
			return w, fmt.Errorf("write invoice line: %w", err)
		}
	}
	return w, nil
}

// invoiceNumber is a human-facing, unique number: INV-<date>-<8 hex>. The
// random part makes a collision (refused by the unique index) a one in four
// billion event per day, with no counter row every invoice would contend on.
func invoiceNumber(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "INV-" + now.UTC().Format("20060102") + "-" + strings.ToUpper(hex.EncodeToString(b[:]))
}
