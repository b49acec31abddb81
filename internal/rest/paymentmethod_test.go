package rest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// paymentMethodOf is the token stored for tn's card ("" for none).
func (h *harness) paymentMethodOf(t *testing.T, tn *tenancy.Tenant) string {
	t.Helper()
	return h.scalar(t, `SELECT coalesce((SELECT payment_method FROM public.subscriptions WHERE tenant_id = $1), '')`, tn.ID)
}

const setPaymentMethodDoc = `mutation($pm: String!) { setPaymentMethod(paymentMethod: $pm) { id hasPaymentMethod } }`

func TestAPIPaymentMethod(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	t.Run("TheOwnerRecordsATokenAndOnlyItsPresenceIsShown", func(t *testing.T) {
		t.Parallel()
		tm := h.newTeam(t)
		id := h.subscriptionOf(t, tm.tn)
		get := func() map[string]any {
			rec := h.call(t, http.MethodGet, tm.host, tm.tokens[owner], "/subscriptions/"+id, nil)
			return attrs(requireResource(t, requireData(t, rec, http.StatusOK), "subscription"))
		}
		require.Equal(t, false, get()["has_payment_method"])
		before := h.subscriptionState(t, tm.tn)

		rec := h.call(t, http.MethodPatch, tm.host, tm.tokens[owner], "/subscriptions/"+id+"/", map[string]any{"payment_method": "pm_card_visa"})
		a := attrs(requireResource(t, requireData(t, rec, http.StatusOK), "subscription"))
		require.Equal(t, true, a["has_payment_method"])
		require.NotContains(t, rec.Body.String(), "pm_card_visa", "the token is never shown")
		require.Equal(t, "pm_card_visa", h.paymentMethodOf(t, tm.tn))
		require.Equal(t, before, h.subscriptionState(t, tm.tn), "nothing else changes")
		require.Equal(t, true, get()["has_payment_method"])
		items, _ := requireList(t, h.call(t, http.MethodGet, tm.host, tm.tokens[admin], "/subscriptions", nil), "subscription")
		require.Equal(t, true, attrs(items[0])["has_payment_method"], "billing.read sees whether there is one")

		requireData(t, h.call(t, http.MethodPatch, tm.host, tm.tokens[owner], "/subscriptions/"+id, map[string]any{"payment_method": "pm_card_mastercard"}), http.StatusOK)
		require.Equal(t, "pm_card_mastercard", h.paymentMethodOf(t, tm.tn), "a new card replaces the old")
	})

	t.Run("OneChangeAtATime", func(t *testing.T) {
		t.Parallel()
		tm := h.newTeam(t)
		id := h.subscriptionOf(t, tm.tn)
		before := h.subscriptionState(t, tm.tn)
		for body, field := range map[string]string{
			`{"payment_method":"pm_card_visa","plan":"pro"}`:                   "payment_method",
			`{"payment_method":"pm_card_visa","interval":"year"}`:              "payment_method",
			`{"payment_method":"pm_card_visa","cancel_at_period_end":true}`:    "payment_method",
			`{"payment_method":"pm_card_visa","cancel_at_period_end":false}`:   "payment_method",
			`{"payment_method":null}`:                                          "body",
			`{"payment_method":42}`:                                            "payment_method",
			`{"paymentMethod":"pm_card_visa"}`:                                 "paymentMethod",
			`{"payment_method":"pm_card_visa","plan":"pro","interval":"year"}`: "payment_method",
		} {
			e := requireError(t, h.call(t, http.MethodPatch, tm.host, tm.tokens[owner], "/subscriptions/"+id, body), http.StatusBadRequest, apperr.CodeValidation)
			require.Contains(t, details(e), field, body)
		}
		require.Equal(t, before, h.subscriptionState(t, tm.tn))
		require.Equal(t, "", h.paymentMethodOf(t, tm.tn))
	})

	t.Run("ATokenIsAllItTakesAndItIsNeverEchoed", func(t *testing.T) {
		t.Parallel()
		tm := h.newTeam(t)
		id := h.subscriptionOf(t, tm.tn)
		for _, bad := range []string{"4242424242424242", "4242 4242 4242 4242", "", "pm_", "card_1", "pm_a-b", "pm_" + strings.Repeat("x", 253)} {
			rec := h.call(t, http.MethodPatch, tm.host, tm.tokens[owner], "/subscriptions/"+id, map[string]any{"payment_method": bad})
			e := requireError(t, rec, http.StatusBadRequest, apperr.CodeValidation)
			require.Equal(t, []string{"payment_method"}, keys(details(e)), "the body's name, not the service's")
			require.Equal(t, "invalid input: check payment_method", e["message"])
			if len(bad) > len("pm_") {
				require.NotContains(t, rec.Body.String(), bad)
			}
		}
		require.Equal(t, "", h.paymentMethodOf(t, tm.tn))
	})

	t.Run("NeedsBillingManageAndTheTenantsOwnSubscription", func(t *testing.T) {
		t.Parallel()
		tm, other := h.newTeam(t), h.newTeam(t)
		id := h.subscriptionOf(t, tm.tn)
		foreign := h.subscriptionOf(t, other.tn)
		for _, pm := range []string{"pm_card_visa", "4242424242424242"} {
			body := map[string]any{"payment_method": pm}
			requireError(t, h.call(t, http.MethodPatch, tm.host, "", "/subscriptions/"+id, body), http.StatusUnauthorized, apperr.CodeUnauthenticated)
			for _, r := range []role{viewer, memberR, admin} {
				requireError(t, h.call(t, http.MethodPatch, tm.host, tm.tokens[r], "/subscriptions/"+id, body), http.StatusForbidden, apperr.CodeForbidden)
			}
			requireError(t, h.call(t, http.MethodPatch, tm.host, tm.tokens[owner], "/subscriptions/"+foreign, body), http.StatusNotFound, apperr.CodeNotFound)
			requireError(t, h.call(t, http.MethodPatch, tm.host, tm.tokens[owner], "/subscriptions/"+uuid.NewString(), body), http.StatusNotFound, apperr.CodeNotFound)
		}
		require.Equal(t, "", h.paymentMethodOf(t, tm.tn))
		require.Equal(t, "", h.paymentMethodOf(t, other.tn))
	})
}

// TestAPIPaymentMethodGraphQLParity sets the payment method through REST
// on one fresh tenant and through setPaymentMethod on another, per role:
// the same outcome, the same problems, the same stored token.
func TestAPIPaymentMethodGraphQLParity(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	viaREST, viaGQL := h.newTeam(t), h.newTeam(t)
	id := h.subscriptionOf(t, viaREST.tn)
	h.subscriptionOf(t, viaGQL.tn)
	for _, pm := range []string{"4242424242424242", "pm_card_visa", "pm_", "pm_card_amex"} {
		for _, r := range []role{anonymous, viewer, memberR, admin, owner} {
			rec := h.call(t, http.MethodPatch, viaREST.host, viaREST.tokens[r], "/subscriptions/"+id, map[string]any{"payment_method": pm})
			res := h.gql(t, viaGQL.host, viaGQL.tokens[r], setPaymentMethodDoc, map[string]any{"pm": pm})
			got := restOutcome(t, rec)
			require.Equal(t, res.outcome("setPaymentMethod"), got, "%q as %s", pm, r)
			require.Equal(t, h.paymentMethodOf(t, viaGQL.tn), h.paymentMethodOf(t, viaREST.tn), "%q as %s", pm, r)
			switch got {
			case allowed:
				a := attrs(requireResource(t, requireData(t, rec, http.StatusOK), "subscription"))
				require.Equal(t, res.Data["setPaymentMethod"].(map[string]any)["hasPaymentMethod"], a["has_payment_method"])
			case string(apperr.CodeValidation):
				e := requireError(t, rec, http.StatusBadRequest, apperr.CodeValidation)
				require.Equal(t, gqlFields(t, res), details(e), "%q as %s", pm, r)
			}
		}
	}
	require.Equal(t, "pm_card_amex", h.paymentMethodOf(t, viaREST.tn))
	for _, r := range []role{admin, owner} {
		sub := h.gql(t, viaGQL.host, viaGQL.tokens[r], `{ subscription { hasPaymentMethod } }`, nil)
		rec := h.call(t, http.MethodGet, viaREST.host, viaREST.tokens[r], "/subscriptions/"+id, nil)
		require.Equal(t, sub.Data["subscription"].(map[string]any)["hasPaymentMethod"],
			attrs(requireResource(t, requireData(t, rec, http.StatusOK), "subscription"))["has_payment_method"], "read as %s", r)
	}
}
