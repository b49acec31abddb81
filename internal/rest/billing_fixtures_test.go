package rest_test

import (
	"cmp"
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/billing"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// fakeCharger stands in for payment.Service: it records each charge as a
// pending payment in billing's transaction, as the real one does, and
// never calls a provider.
type fakeCharger struct{}

func (fakeCharger) EnqueueTx(ctx context.Context, tx pgx.Tx, in billing.ChargeInput) (uuid.UUID, error) {
	id := uuid.New()
	_, err := tx.Exec(ctx, `INSERT INTO public.payments
		(id, created_at, updated_at, tenant_id, invoice_id, amount, currency, status, idempotency_key, provider)
		VALUES ($1, now(), now(), $2, $3, $4, $5, 'pending', $6, $7)`,
		id, in.TenantID, in.InvoiceID, in.Amount, in.Currency, "rest-"+id.String(), in.Provider)
	return id, err
}

// team is a fresh tenant with an owner, admin, member and viewer, for
// subtests that change its billing (so parallel subtests cannot meet).
type team struct {
	tn   *tenancy.Tenant
	host string
	// tokens holds an access token per role (anonymous: "").
	tokens map[role]string
}

func (h *harness) newTeam(t *testing.T) team {
	t.Helper()
	u, tn := h.signupOwner(t, fmt.Sprintf("team%d", h.next()))
	tm := team{tn: tn, host: tn.Slug + "." + baseDomain, tokens: map[role]string{anonymous: "", owner: h.loginUser(t, u).AccessToken}}
	for _, r := range []role{viewer, memberR, admin} {
		acc := h.newUser(t, fmt.Sprintf("%s%d@%s", r, h.next(), tm.host), false)
		acc.Tenant = tn
		h.addMember(t, tn, acc.ID, string(r))
		tm.tokens[r] = h.loginUser(t, acc).AccessToken
	}
	return tm
}

// subscriptionOf starts tn's subscription (on Free) when it has none, as
// signup does in production, and returns its id.
func (h *harness) subscriptionOf(t *testing.T, tn *tenancy.Tenant) string {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, pgx.BeginFunc(ctx, h.pool, func(tx pgx.Tx) error { return h.billing.StartTx(ctx, tx, tn.ID) }))
	return h.scalar(t, `SELECT id::text FROM public.subscriptions WHERE tenant_id = $1`, tn.ID)
}

// subscriptionState is tn's subscription as comparable text: plan code,
// scheduled plan code ("-" for none), interval, status,
// cancel_at_period_end and whether a trial was started (PostgreSQL's t or
// f), and how many invoices the tenant has.
func (h *harness) subscriptionState(t *testing.T, tn *tenancy.Tenant) string {
	t.Helper()
	return h.scalar(t, `SELECT coalesce((SELECT concat_ws(' ', p.code, coalesce(sp.code, '-'), s.interval, s.status,
			s.cancel_at_period_end, s.trial_ends_at IS NOT NULL,
			(SELECT count(*) FROM public.invoices i WHERE i.tenant_id = s.tenant_id))
		FROM public.subscriptions s JOIN public.plans p ON p.id = s.plan_id
		LEFT JOIN public.plans sp ON sp.id = s.scheduled_plan_id WHERE s.tenant_id = $1), 'none')`, tn.ID)
}

// invoiceOpts are the options of createInvoice.
type invoiceOpts struct {
	// Status defaults to open.
	Status string
	// Age places created_at this many hours in the past (list order).
	Age int
}

// createInvoice inserts an invoice of tn with two lines (a charge of 1900
// and a credit of 100, in position order) and returns its id.
func (h *harness) createInvoice(t *testing.T, tn *tenancy.Tenant, opts *invoiceOpts) string {
	t.Helper()
	o := invoiceOpts{Status: "open"}
	if opts != nil {
		o = *opts
		o.Status = cmp.Or(o.Status, "open")
	}
	id := h.scalar(t, `INSERT INTO public.invoices (id, created_at, updated_at, tenant_id, number, status, currency, subtotal, total)
		VALUES (gen_random_uuid(), now() - make_interval(hours => $4), now(), $1, $2, $3, 'USD', 1800, 1800) RETURNING id::text`,
		tn.ID, fmt.Sprintf("INV-REST-%d", h.next()), o.Status, o.Age)
	_, err := h.pool.Exec(context.Background(), `INSERT INTO public.invoice_lines
		(id, invoice_id, kind, description, quantity, unit_amount, amount, position) VALUES
		(gen_random_uuid(), $1, 'credit', 'Goodwill credit', 1, -100, -100, 1),
		(gen_random_uuid(), $1, 'subscription', 'Pro (monthly)', 1, 1900, 1900, 0)`, id)
	require.NoError(t, err)
	return id
}

// payments counts the payments of an invoice.
func (h *harness) payments(t *testing.T, invoiceID string) string {
	t.Helper()
	return h.scalar(t, `SELECT count(*) FROM public.payments WHERE invoice_id = $1::uuid`, invoiceID)
}

// planID is the id of the plan with code.
func (h *harness) planID(t *testing.T, code string) string {
	t.Helper()
	return h.scalar(t, `SELECT id::text FROM public.plans WHERE code = $1`, code)
}

// createPlan inserts an inactive plan of its own, so that edits cannot
// disturb the seeded price list other tests read, and returns its id.
func (h *harness) createPlan(t *testing.T) string {
	t.Helper()
	return h.scalar(t, `INSERT INTO public.plans (id, created_at, updated_at, code, name, description, currency,
			price_monthly, price_yearly, trial_days, max_seats, max_projects, max_data_items, features, active, sort_order)
		VALUES (gen_random_uuid(), now(), now(), $1, 'Fixture', 'A plan of the tests', 'USD', 1000, 10000, 7, 5, 10, 100,
			'["projects"]', false, 99) RETURNING id::text`, fmt.Sprintf("fixture%d", h.next()))
}

// planRow is a plan's editable values as text.
func (h *harness) planRow(t *testing.T, id string) string {
	t.Helper()
	return h.scalar(t, `SELECT concat_ws('|', name, description, price_monthly, price_yearly, trial_days,
		coalesce(max_seats::text, 'null'), coalesce(max_projects::text, 'null'), coalesce(max_data_items::text, 'null'),
		features::text, active, updated_at) FROM public.plans WHERE id = $1::uuid`, id)
}
