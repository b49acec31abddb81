package rest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAPIBillingGraphQLParity runs the same plan changes through REST on
// one fresh tenant and through GraphQL on another: every step must have
// the same authorization outcome per role and leave both subscriptions in
// the same state.
func TestAPIBillingGraphQLParity(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const doc = `mutation($in: ChangePlanInput!) {
		changePlan(input: $in) { id status interval cancelAtPeriodEnd plan { code } scheduledPlan { code } } }`

	t.Run("ChangePlanAgreesPerRoleAndEndsInTheSameState", func(t *testing.T) {
		t.Parallel()
		viaREST, viaGQL := h.newTeam(t), h.newTeam(t)
		id := h.subscriptionOf(t, viaREST.tn)
		h.subscriptionOf(t, viaGQL.tn)
		steps := []struct {
			plan, interval string
			// want is the outcome per role; the allowed role's change is
			// what the next step starts from.
			want map[role]string
		}{
			{"pro", "month", map[role]string{anonymous: "UNAUTHENTICATED", viewer: "FORBIDDEN", memberR: "FORBIDDEN", admin: "FORBIDDEN", owner: allowed}},
			{"starter", "", map[role]string{viewer: "FORBIDDEN", admin: "FORBIDDEN", owner: allowed}},
			{"enterprise", "year", map[role]string{viewer: "FORBIDDEN", admin: "FORBIDDEN", owner: allowed}},
		}
		for _, step := range steps {
			for _, r := range []role{anonymous, viewer, memberR, admin, owner} {
				want, ok := step.want[r]
				if !ok {
					continue
				}
				body := map[string]any{"plan": step.plan}
				in := map[string]any{"plan": step.plan}
				if step.interval != "" {
					body["interval"], in["interval"] = step.interval, step.interval
				}
				rec := h.call(t, http.MethodPatch, viaREST.host, viaREST.tokens[r], "/subscriptions/"+id, body)
				gres := h.gql(t, viaGQL.host, viaGQL.tokens[r], doc, map[string]any{"in": in})
				got := restOutcome(t, rec)
				require.Equal(t, gres.outcome("changePlan"), got, "%s to %s: REST and GraphQL agree", r, step.plan)
				require.Equal(t, want, got, "%s to %s", r, step.plan)
				require.Equal(t, h.subscriptionState(t, viaGQL.tn), h.subscriptionState(t, viaREST.tn), "after %s to %s", r, step.plan)
				if got != allowed {
					continue
				}
				a := attrs(requireResource(t, requireData(t, rec, http.StatusOK), "subscription"))
				g := gres.Data["changePlan"].(map[string]any)
				require.Equal(t, g["status"], a["status"])
				require.Equal(t, g["interval"], a["interval"])
				require.Equal(t, g["cancelAtPeriodEnd"], a["cancel_at_period_end"])
				require.Equal(t, g["plan"].(map[string]any)["code"], a["plan"])
			}
		}
		// Both ended on Enterprise yearly (an upgrade with an interval
		// change, during the trial Starter started).
		require.Equal(t, "enterprise - year trialing f t 0", h.subscriptionState(t, viaREST.tn))
	})

	t.Run("CancelAndResumeAgreePerRole", func(t *testing.T) {
		t.Parallel()
		viaREST, viaGQL := h.newTeam(t), h.newTeam(t)
		id := h.subscriptionOf(t, viaREST.tn)
		h.subscriptionOf(t, viaGQL.tn)
		for _, step := range []struct {
			cancel bool
			field  string
		}{{true, "cancelSubscription"}, {false, "resumeSubscription"}} {
			for _, r := range []role{anonymous, viewer, memberR, admin, owner} {
				rec := h.call(t, http.MethodPatch, viaREST.host, viaREST.tokens[r], "/subscriptions/"+id, map[string]any{"cancel_at_period_end": step.cancel})
				gres := h.gql(t, viaGQL.host, viaGQL.tokens[r], `mutation { `+step.field+` { cancelAtPeriodEnd } }`, nil)
				require.Equal(t, gres.outcome(step.field), restOutcome(t, rec), "%s as %s", step.field, r)
				require.Equal(t, h.subscriptionState(t, viaGQL.tn), h.subscriptionState(t, viaREST.tn), "%s as %s", step.field, r)
			}
		}
	})

	t.Run("ReadsAgreePerRole", func(t *testing.T) {
		t.Parallel()
		tm := h.newTeam(t)
		id := h.subscriptionOf(t, tm.tn)
		inv := h.createInvoice(t, tm.tn, nil)
		for _, r := range []role{anonymous, viewer, memberR, admin, owner} {
			tok := tm.tokens[r]
			sub := h.gql(t, tm.host, tok, `query { subscription { id } }`, nil)
			require.Equal(t, sub.outcome("subscription"), restOutcome(t, h.call(t, http.MethodGet, tm.host, tok, "/subscriptions", nil)), "list as %s", r)
			require.Equal(t, sub.outcome("subscription"), restOutcome(t, h.call(t, http.MethodGet, tm.host, tok, "/subscriptions/"+id, nil)), "get as %s", r)
			invs := h.gql(t, tm.host, tok, `query { invoices(first: 5) { totalCount } }`, nil)
			require.Equal(t, invs.outcome("invoices"), restOutcome(t, h.call(t, http.MethodGet, tm.host, tok, "/invoices", nil)), "invoices as %s", r)
			one := h.gql(t, tm.host, tok, `query($id: ID!) { invoice(id: $id) { id } }`, map[string]any{"id": inv})
			require.Equal(t, one.outcome("invoice"), restOutcome(t, h.call(t, http.MethodGet, tm.host, tok, "/invoices/"+inv, nil)), "invoice as %s", r)
		}
	})
}

// TestAPIBillingManageWithoutRead is what a custom role holding
// billing.manage but not billing.read gets: REST lets it change the plan
// as GraphQL does (SubscriptionByID accepts billing.manage), and paying an
// invoice answers with the invoice rather than FORBIDDEN after the charge
// was enqueued.
func TestAPIBillingManageWithoutRead(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, harnessOptions{charger: fakeCharger{}})
	tm := h.newTeam(t)
	rec := h.call(t, http.MethodPost, tm.host, tm.tokens[owner], "/roles", map[string]any{"name": "payer", "permissions": []string{"billing.manage"}})
	requireData(t, rec, http.StatusCreated)
	payer := h.newUser(t, "payer@"+tm.host, false)
	payer.Tenant = tm.tn
	h.addMember(t, tm.tn, payer.ID, "payer")
	tok := h.loginUser(t, payer).AccessToken
	id := h.subscriptionOf(t, tm.tn)

	gres := h.gql(t, tm.host, tok, `mutation { cancelSubscription { cancelAtPeriodEnd } }`, nil)
	require.Equal(t, allowed, gres.outcome("cancelSubscription"), gres.Body)
	rec = h.call(t, http.MethodPatch, tm.host, tok, "/subscriptions/"+id, map[string]any{"cancel_at_period_end": false})
	require.Equal(t, allowed, restOutcome(t, rec), "REST agrees with GraphQL: %s", rec.Body)

	inv := h.createInvoice(t, tm.tn, nil)
	rec = h.call(t, http.MethodPost, tm.host, tok, "/invoices/"+inv+"/pay", nil)
	if restOutcome(t, rec) != allowed {
		require.Equal(t, "0", h.payments(t, inv), "a refused payment charges nothing")
	}
}
