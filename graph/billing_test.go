package graph

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/billing"
	"github.com/clientiq/clientiq/internal/db"
)

// recordingCharger inserts the pending payment row, as payment.EnqueueTx
// does, and records each charge.
type recordingCharger struct {
	mu    sync.Mutex
	calls []billing.ChargeInput
}

func (c *recordingCharger) EnqueueTx(ctx context.Context, tx pgx.Tx, in billing.ChargeInput) (uuid.UUID, error) {
	id := uuid.New()
	if _, err := tx.Exec(ctx, `INSERT INTO public.payments (id, created_at, updated_at, tenant_id, invoice_id, amount, currency,
		status, idempotency_key, provider) VALUES ($1, now(), now(), $2, $3, $4, $5, 'pending', $6, $7)`,
		id, in.TenantID, in.InvoiceID, in.Amount, in.Currency, id.String(), in.Provider); err != nil {
		return uuid.Nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, in)
	return id, nil
}

// serveBilling serves the harness's chain with another billing service.
func (h *mxHarness) serveBilling(t *testing.T, svc *billing.Service) *httptest.Server {
	t.Helper()
	gql := NewHandler(Config{Clients: db.NewClients(h.pool), Auth: h.auth, Tenants: h.tenants, Members: h.members,
		Logger: h.logger, Version: "billing-1", Billing: svc})
	srv := httptest.NewServer(h.resolver.Middleware(WriteHTTPError)(h.auth.Middleware(WriteHTTPError)(gql)))
	t.Cleanup(srv.Close)
	return srv
}

// onPlanA puts tenant A on plan code, active, 10 days into a 30-day
// monthly period, with its trial used and a card on file.
func onPlanA(t *testing.T, h *mxHarness, code string) {
	t.Helper()
	mxSubscription(t, h)
	_, err := h.pool.Exec(context.Background(), `UPDATE public.subscriptions s SET plan_id = p.id, status = 'active', interval = 'month',
		trial_ends_at = now() - interval '60 days', current_period_start = now() - interval '10 days',
		current_period_end = now() + interval '20 days', scheduled_plan_id = NULL, cancel_at_period_end = false, payment_method = 'pm_test'
		FROM public.plans p WHERE p.code = $2 AND s.tenant_id = $1`, h.a.ID, code)
	require.NoError(t, err)
}

func TestBilling(t *testing.T) {
	t.Parallel()
	h := newMatrixHarness(t)
	charger := &recordingCharger{}
	srv := h.serveBilling(t, billing.NewService(billing.Config{Pool: h.pool, Clients: db.NewClients(h.pool),
		Charger: charger, PaymentsEnabled: true, Logger: h.logger}))
	hostB := mxSlugB + "." + mxBaseDomain
	owner, ownerB := h.login(t, mxOwner), h.loginUser(t, h.users[mxOtherOwner]).AccessToken
	post := func(host, token, doc string, vars map[string]any) mxResponse {
		return h.postTo(t, srv, host, token, doc, vars)
	}
	const invoicesDoc = `query { invoices(first: 10) { totalCount edges { node { id total status lines { kind amount } } } } }`

	t.Run("plans are listed to anyone", func(t *testing.T) {
		r := post(mxHostPlatform, "", `query { plans { name priceMonthly } }`, nil)
		require.Empty(t, r.Errors, r.Body)
		require.Len(t, r.Data["plans"], 4)
		require.Equal(t, "Free", r.Data["plans"].([]any)[0].(map[string]any)["name"])
	})
	t.Run("a new tenant is on Free, active", func(t *testing.T) {
		r := post(hostB, ownerB, `query { subscription { status plan { name } } }`, nil)
		require.Empty(t, r.Errors, r.Body)
		require.Equal(t, map[string]any{"status": "active", "plan": map[string]any{"name": "Free"}}, r.Data["subscription"])
	})
	var invoiceA string
	t.Run("an upgrade invoices the proration and charges once", func(t *testing.T) {
		onPlanA(t, h, "starter")
		r := post(mxHostA, owner, `mutation { changePlan(input: {plan: "pro"}) { status plan { name } } }`, nil)
		require.Empty(t, r.Errors, r.Body)
		require.Equal(t, map[string]any{"status": "active", "plan": map[string]any{"name": "Pro"}}, r.Data["changePlan"])
		r = post(mxHostA, owner, invoicesDoc, nil)
		require.Empty(t, r.Errors, r.Body)
		conn := r.Data["invoices"].(map[string]any)
		require.EqualValues(t, 1, conn["totalCount"])
		node := conn["edges"].([]any)[0].(map[string]any)["node"].(map[string]any)
		invoiceA = node["id"].(string)
		lines := node["lines"].([]any)
		require.Len(t, lines, 2)
		require.Less(t, lines[0].(map[string]any)["amount"].(float64), 0.0, "the credit is negative")
		require.Greater(t, lines[1].(map[string]any)["amount"].(float64), 0.0, "the charge is positive")
		require.Len(t, charger.calls, 1)
		require.Equal(t, invoiceA, charger.calls[0].InvoiceID.String())
		require.EqualValues(t, node["total"], charger.calls[0].Amount)
	})
	t.Run("a downgrade over the plan's limits is PLAN_LIMIT_EXCEEDED naming the limit", func(t *testing.T) {
		for range 4 {
			mxProject(t, h)
		}
		r := post(mxHostA, owner, `mutation { changePlan(input: {plan: "free", interval: month}) { status } }`, nil)
		require.Equal(t, string(apperr.CodePlanLimit), r.outcome("changePlan"), r.Body)
		fields, _ := r.Errors[0]["extensions"].(map[string]any)["fields"].(map[string]any)
		require.Contains(t, fields, "projects", r.Body)
	})
	t.Run("cancel and resume", func(t *testing.T) {
		r := post(mxHostA, owner, `mutation { cancelSubscription { cancelAtPeriodEnd status } }`, nil)
		require.Empty(t, r.Errors, r.Body)
		require.Equal(t, map[string]any{"cancelAtPeriodEnd": true, "status": "active"}, r.Data["cancelSubscription"])
		r = post(mxHostA, owner, `mutation { resumeSubscription { cancelAtPeriodEnd } }`, nil)
		require.Empty(t, r.Errors, r.Body)
		require.Equal(t, map[string]any{"cancelAtPeriodEnd": false}, r.Data["resumeSubscription"])
	})
	t.Run("tenant B sees none of A's invoices, listed or by id", func(t *testing.T) {
		r := post(hostB, ownerB, invoicesDoc, nil)
		require.Empty(t, r.Errors, r.Body)
		require.EqualValues(t, 0, r.Data["invoices"].(map[string]any)["totalCount"])
		r = post(hostB, ownerB, `query($id: ID!) { invoice(id: $id) { id } }`, map[string]any{"id": invoiceA})
		require.Empty(t, r.Errors, r.Body)
		require.Nil(t, r.Data["invoice"])
		foreign := post(hostB, ownerB, `mutation($id: ID!) { payInvoice(id: $id) { id } }`, map[string]any{"id": invoiceA})
		unknown := post(hostB, ownerB, `mutation($id: ID!) { payInvoice(id: $id) { id } }`, map[string]any{"id": uuid.New()})
		require.Equal(t, string(apperr.CodeNotFound), foreign.outcome("payInvoice"), foreign.Body)
		require.Equal(t, unknown.message(), foreign.message())
	})
	t.Run("payInvoice with payments disabled is FEATURE_DISABLED", func(t *testing.T) {
		r := h.post(t, mxHostA, owner, `mutation($id: ID!) { payInvoice(id: $id) { id } }`, map[string]any{"id": invoiceA})
		require.Equal(t, string(apperr.CodeFeatureDisabled), r.outcome("payInvoice"), r.Body)
	})
	t.Run("staff edit a plan", func(t *testing.T) {
		staff := h.login(t, mxStaff)
		r := post(mxHostPlatform, staff, `mutation { updatePlan(code: "starter", input: {maxSeats: null, priceMonthly: 2900}) { maxSeats priceMonthly } }`, nil)
		require.Empty(t, r.Errors, r.Body)
		require.Equal(t, map[string]any{"maxSeats": nil, "priceMonthly": float64(2900)}, r.Data["updatePlan"])
		r = post(mxHostPlatform, staff, `mutation { updatePlan(code: "starter", input: {trialDays: -1}) { name } }`, nil)
		require.Equal(t, string(apperr.CodeValidation), r.outcome("updatePlan"), r.Body)
		require.Equal(t, fmt.Sprint(map[string]any{"trial_days": []any{"must be 0 to 365"}}),
			fmt.Sprint(r.Errors[0]["extensions"].(map[string]any)["fields"]))
	})
}
