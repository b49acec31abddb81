package rest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
)

func TestAPIPlans(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	staffTok := h.token(t, staff)

	t.Run("ListIsThePublicPriceListOnAnyHost", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct{ host, token string }{
			{hostPlatform, ""}, {hostA, ""}, {hostB, ""}, {hostA, h.token(t, viewer)}, {hostPlatform, staffTok},
		} {
			items, page := requireList(t, h.call(t, http.MethodGet, c.host, c.token, "/plans/", nil), "plan")
			var codes []string
			for _, it := range items {
				require.Equal(t, true, attrs(it)["active"], "only plans that can be chosen are listed")
				codes = append(codes, attrs(it)["code"].(string))
			}
			require.Equal(t, []string{"free", "starter", "pro", "enterprise"}, codes, "price-list order on %s", c.host)
			require.Equal(t, map[string]any{"next_cursor": nil, "has_more": false, "limit": float64(len(items))}, page)
		}
	})

	t.Run("GetByIDIsPublicAndShowsInactivePlans", func(t *testing.T) {
		t.Parallel()
		pro := requireResource(t, requireData(t, h.call(t, http.MethodGet, hostB, "", "/plans/"+h.planID(t, "pro"), nil), http.StatusOK), "plan")
		require.Equal(t, "pro", attrs(pro)["code"])
		require.Equal(t, 4900.0, attrs(pro)["price_monthly"])
		enterprise := requireResource(t, requireData(t, h.call(t, http.MethodGet, hostPlatform, "", "/plans/"+h.planID(t, "enterprise")+"/", nil), http.StatusOK), "plan")
		require.Nil(t, attrs(enterprise)["max_seats"], "null is unlimited")
		fixture := h.createPlan(t)
		p := requireResource(t, requireData(t, h.call(t, http.MethodGet, hostA, "", "/plans/"+fixture, nil), http.StatusOK), "plan")
		require.Equal(t, false, attrs(p)["active"])
	})

	t.Run("GetUnknownIsNotFound", func(t *testing.T) {
		t.Parallel()
		requireError(t, h.call(t, http.MethodGet, hostA, "", "/plans/"+uuid.NewString(), nil), http.StatusNotFound, apperr.CodeNotFound)
		requireError(t, h.call(t, http.MethodGet, hostA, "", "/plans/pro", nil), http.StatusNotFound, apperr.CodeNotFound)
	})

	t.Run("StaffUpdatesAPlan", func(t *testing.T) {
		t.Parallel()
		id := h.createPlan(t)
		rec := h.call(t, http.MethodPatch, hostPlatform, staffTok, "/plans/"+id+"/", map[string]any{
			"name": " Renamed ", "description": "new words", "price_monthly": 2500, "price_yearly": 25000, "trial_days": 0,
			"max_seats": nil, "max_projects": 7, "features": []string{"projects", "sso"},
		})
		p := attrs(requireResource(t, requireData(t, rec, http.StatusOK), "plan"))
		require.Equal(t, "Renamed", p["name"])
		require.Equal(t, "new words", p["description"])
		require.Equal(t, 2500.0, p["price_monthly"])
		require.Equal(t, 25000.0, p["price_yearly"])
		require.Equal(t, 0.0, p["trial_days"])
		require.Nil(t, p["max_seats"], "null makes the limit unlimited")
		require.Equal(t, 7.0, p["max_projects"])
		require.Equal(t, 100.0, p["max_data_items"], "an omitted limit stays")
		require.Equal(t, []any{"projects", "sso"}, p["features"])
		require.Equal(t, false, p["active"], "an omitted field stays")
		again := attrs(requireResource(t, requireData(t, h.call(t, http.MethodGet, hostA, "", "/plans/"+id, nil), http.StatusOK), "plan"))
		require.Equal(t, p, again)
	})

	t.Run("UpdateValidatesAsGraphQLDoes", func(t *testing.T) {
		t.Parallel()
		id := h.createPlan(t)
		code := h.scalar(t, `SELECT code FROM public.plans WHERE id = $1::uuid`, id)
		before := h.planRow(t, id)
		const doc = `mutation($code: String!, $in: UpdatePlanInput!) { updatePlan(code: $code, input: $in) { id } }`
		for _, c := range []struct{ rest, gql map[string]any }{
			{map[string]any{"name": "  "}, map[string]any{"name": "  "}},
			{map[string]any{"description": strings.Repeat("d", 1001)}, map[string]any{"description": strings.Repeat("d", 1001)}},
			{map[string]any{"price_monthly": -1, "price_yearly": -5}, map[string]any{"priceMonthly": -1, "priceYearly": -5}},
			{map[string]any{"trial_days": 366}, map[string]any{"trialDays": 366}},
			{map[string]any{"max_seats": -1, "max_data_items": -2}, map[string]any{"maxSeats": -1, "maxDataItems": -2}},
			{map[string]any{"features": []string{""}}, map[string]any{"features": []string{""}}},
		} {
			rec := h.call(t, http.MethodPatch, hostPlatform, staffTok, "/plans/"+id, c.rest)
			e := requireError(t, rec, http.StatusBadRequest, apperr.CodeValidation)
			res := h.gql(t, hostPlatform, staffTok, doc, map[string]any{"code": code, "in": c.gql})
			require.Equal(t, string(apperr.CodeValidation), res.outcome("updatePlan"), res.Body)
			fields, _ := res.Errors[0]["extensions"].(map[string]any)["fields"].(map[string]any)
			require.ElementsMatch(t, keys(fields), keys(details(e)), "the same fields are refused: %v", c.rest)
		}
		require.Equal(t, before, h.planRow(t, id))
	})

	t.Run("UpdateRefusesUnknownFieldsAndBadJSON", func(t *testing.T) {
		t.Parallel()
		id := h.createPlan(t)
		before := h.planRow(t, id)
		for body, field := range map[string]string{
			`{"code":"free"}`: "code", `{"currency":"EUR"}`: "currency", `{"sort_order":1}`: "sort_order",
			`{"max_seats":"ten"}`: "max_seats", `{"price_monthly":1.5}`: "price_monthly", `{"name":`: "body", `[]`: "body",
		} {
			e := requireError(t, h.call(t, http.MethodPatch, hostPlatform, staffTok, "/plans/"+id, body), http.StatusBadRequest, apperr.CodeValidation)
			require.Contains(t, details(e), field, body)
		}
		rec := h.send(t, request{method: http.MethodPatch, host: hostPlatform, token: staffTok, path: "/api/v1/plans/" + id,
			contentType: "text/plain", body: strings.NewReader(`{"name":"x"}`)})
		requireError(t, rec, http.StatusUnsupportedMediaType, apperr.CodeUnsupportedMedia)
		require.Equal(t, before, h.planRow(t, id))
	})

	t.Run("UpdateIsForStaffOnTheirHost", func(t *testing.T) {
		t.Parallel()
		id := h.createPlan(t)
		before := h.planRow(t, id)
		body := map[string]any{"description": "taken over"}
		requireError(t, h.call(t, http.MethodPatch, hostPlatform, "", "/plans/"+id, body), http.StatusUnauthorized, apperr.CodeUnauthenticated)
		for _, r := range []role{viewer, memberR, admin, owner} {
			requireError(t, h.call(t, http.MethodPatch, hostA, h.token(t, r), "/plans/"+id, body), http.StatusForbidden, apperr.CodeForbidden)
		}
		requireError(t, h.call(t, http.MethodPatch, hostB, h.token(t, ownerB), "/plans/"+id, body), http.StatusForbidden, apperr.CodeForbidden)
		requireError(t, h.call(t, http.MethodPatch, hostA, staffTok, "/plans/"+id, body), http.StatusUnauthorized, apperr.CodeUnauthenticated)
		require.Equal(t, before, h.planRow(t, id))
	})

	t.Run("UpdateUnknownIsNotFound", func(t *testing.T) {
		t.Parallel()
		requireError(t, h.call(t, http.MethodPatch, hostPlatform, staffTok, "/plans/"+uuid.NewString(), map[string]any{"description": "x"}),
			http.StatusNotFound, apperr.CodeNotFound)
	})
}

func TestAPISubscriptions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	patch := func(t *testing.T, tm team, r role, id string, body any) map[string]any {
		t.Helper()
		rec := h.call(t, http.MethodPatch, tm.host, tm.tokens[r], "/subscriptions/"+id, body)
		return attrs(requireResource(t, requireData(t, rec, http.StatusOK), "subscription"))
	}

	t.Run("ListIsTheTenantsOneSubscription", func(t *testing.T) {
		t.Parallel()
		tm := h.newTeam(t)
		for _, r := range []role{owner, admin} {
			items, page := requireList(t, h.call(t, http.MethodGet, tm.host, tm.tokens[r], "/subscriptions", nil), "subscription")
			require.Len(t, items, 1)
			require.Equal(t, map[string]any{"next_cursor": nil, "has_more": false, "limit": 1.0}, page)
			require.Equal(t, h.subscriptionOf(t, tm.tn), items[0]["id"], "started on the first read")
			a := attrs(items[0])
			require.Equal(t, "free", a["plan"])
			require.Equal(t, "active", a["status"])
			require.Equal(t, "month", a["interval"])
			require.Equal(t, false, a["cancel_at_period_end"])
			rel := items[0]["relationships"].(map[string]any)
			require.Equal(t, map[string]any{"type": "plan", "id": h.planID(t, "free")}, rel["plan"].(map[string]any)["data"])
			require.Nil(t, rel["scheduled_plan"].(map[string]any)["data"])
		}
	})

	t.Run("GetByIDWithOrWithoutTrailingSlash", func(t *testing.T) {
		t.Parallel()
		tm := h.newTeam(t)
		id := h.subscriptionOf(t, tm.tn)
		for _, p := range []string{"/subscriptions/" + id, "/subscriptions/" + id + "/"} {
			s := requireResource(t, requireData(t, h.call(t, http.MethodGet, tm.host, tm.tokens[owner], p, nil), http.StatusOK), "subscription")
			require.Equal(t, id, s["id"])
		}
	})

	t.Run("AnotherTenantsSubscriptionIsNotFoundAndUnchanged", func(t *testing.T) {
		t.Parallel()
		mine, theirs := h.newTeam(t), h.newTeam(t)
		h.subscriptionOf(t, mine.tn)
		foreign := h.subscriptionOf(t, theirs.tn)
		before := h.subscriptionState(t, theirs.tn)
		tok := mine.tokens[owner]
		unknown := requireError(t, h.call(t, http.MethodGet, mine.host, tok, "/subscriptions/"+uuid.NewString(), nil), http.StatusNotFound, apperr.CodeNotFound)
		got := requireError(t, h.call(t, http.MethodGet, mine.host, tok, "/subscriptions/"+foreign, nil), http.StatusNotFound, apperr.CodeNotFound)
		require.Equal(t, unknown["message"], got["message"], "no existence oracle")
		for _, body := range []any{map[string]any{"plan": "pro"}, map[string]any{"cancel_at_period_end": true}} {
			requireError(t, h.call(t, http.MethodPatch, mine.host, tok, "/subscriptions/"+foreign, body), http.StatusNotFound, apperr.CodeNotFound)
		}
		require.Equal(t, before, h.subscriptionState(t, theirs.tn))
		require.Equal(t, "free - month active f f 0", h.subscriptionState(t, mine.tn), "the caller's own subscription is untouched too")
	})

	t.Run("ReadNeedsBillingRead", func(t *testing.T) {
		t.Parallel()
		tm := h.newTeam(t)
		id := h.subscriptionOf(t, tm.tn)
		for _, p := range []string{"/subscriptions", "/subscriptions/" + id} {
			requireError(t, h.call(t, http.MethodGet, tm.host, "", p, nil), http.StatusUnauthorized, apperr.CodeUnauthenticated)
			requireError(t, h.call(t, http.MethodGet, tm.host, tm.tokens[viewer], p, nil), http.StatusForbidden, apperr.CodeForbidden)
			requireError(t, h.call(t, http.MethodGet, tm.host, tm.tokens[memberR], p, nil), http.StatusForbidden, apperr.CodeForbidden)
		}
	})

	t.Run("ChangePlanUpgradesSchedulesDowngradesAndUnschedules", func(t *testing.T) {
		t.Parallel()
		tm := h.newTeam(t)
		id := h.subscriptionOf(t, tm.tn)
		s := patch(t, tm, owner, id, map[string]any{"plan": "starter", "interval": "month"})
		require.Equal(t, "starter", s["plan"])
		require.Equal(t, "trialing", s["status"], "a paid plan with a trial, for a tenant that never trialed")
		require.NotNil(t, s["trial_ends_at"])
		s = patch(t, tm, owner, id, map[string]any{"plan": "pro"})
		require.Equal(t, "pro", s["plan"])
		require.Equal(t, "trialing", s["status"])
		rec := h.call(t, http.MethodPatch, tm.host, tm.tokens[owner], "/subscriptions/"+id+"/", map[string]any{"plan": "starter"})
		res := requireResource(t, requireData(t, rec, http.StatusOK), "subscription")
		require.Equal(t, "pro", attrs(res)["plan"], "a downgrade waits for the end of the period")
		require.Equal(t, map[string]any{"type": "plan", "id": h.planID(t, "starter")},
			res["relationships"].(map[string]any)["scheduled_plan"].(map[string]any)["data"])
		require.Equal(t, "pro starter month trialing f t 0", h.subscriptionState(t, tm.tn))
		patch(t, tm, owner, id, map[string]any{"plan": "pro"})
		require.Equal(t, "pro - month trialing f t 0", h.subscriptionState(t, tm.tn), "choosing the current plan unschedules")
		h.addMember(t, tm.tn, h.newUser(t, "seat"+uuid.NewString()[:8]+"@"+tm.host, false).ID, "viewer")
		e := requireError(t, h.call(t, http.MethodPatch, tm.host, tm.tokens[owner], "/subscriptions/"+id, map[string]any{"plan": "free"}),
			http.StatusUnprocessableEntity, apperr.CodePlanLimit)
		require.Contains(t, details(e), "seats")
		require.Equal(t, "pro - month trialing f t 0", h.subscriptionState(t, tm.tn))
	})

	t.Run("CancelAndResume", func(t *testing.T) {
		t.Parallel()
		tm := h.newTeam(t)
		id := h.subscriptionOf(t, tm.tn)
		require.Equal(t, true, patch(t, tm, owner, id, map[string]any{"cancel_at_period_end": true})["cancel_at_period_end"])
		require.Equal(t, true, patch(t, tm, owner, id, map[string]any{"cancel_at_period_end": true})["cancel_at_period_end"], "again changes nothing")
		require.Equal(t, false, patch(t, tm, owner, id, map[string]any{"cancel_at_period_end": false})["cancel_at_period_end"])
	})

	t.Run("BadInputChangesNothing", func(t *testing.T) {
		t.Parallel()
		tm := h.newTeam(t)
		id := h.subscriptionOf(t, tm.tn)
		before := h.subscriptionState(t, tm.tn)
		for body, field := range map[string]string{
			`{}`: "body",
			`{"plan":"pro","cancel_at_period_end":true}`: "cancel_at_period_end",
			`{"plan":"nope"}`:                  "plan",
			`{"plan":"pro","interval":"week"}`: "interval",
			`{"interval":"year"}`:              "plan",
			`{"status":"canceled"}`:            "status",
			`{"plan":"pro","tenant_id":"x"}`:   "tenant_id",
			`{"cancel_at_period_end":"yes"}`:   "cancel_at_period_end",
			`{"plan":`:                         "body",
		} {
			e := requireError(t, h.call(t, http.MethodPatch, tm.host, tm.tokens[owner], "/subscriptions/"+id, body), http.StatusBadRequest, apperr.CodeValidation)
			require.Contains(t, details(e), field, body)
		}
		rec := h.send(t, request{method: http.MethodPatch, host: tm.host, token: tm.tokens[owner], path: "/api/v1/subscriptions/" + id,
			contentType: "text/plain", body: strings.NewReader(`{"plan":"pro"}`)})
		requireError(t, rec, http.StatusUnsupportedMediaType, apperr.CodeUnsupportedMedia)
		require.Equal(t, before, h.subscriptionState(t, tm.tn))
	})

	t.Run("WritesNeedBillingManage", func(t *testing.T) {
		t.Parallel()
		tm := h.newTeam(t)
		id := h.subscriptionOf(t, tm.tn)
		before := h.subscriptionState(t, tm.tn)
		for _, body := range []any{map[string]any{"plan": "pro"}, map[string]any{"cancel_at_period_end": true}} {
			requireError(t, h.call(t, http.MethodPatch, tm.host, "", "/subscriptions/"+id, body), http.StatusUnauthorized, apperr.CodeUnauthenticated)
			for _, r := range []role{viewer, memberR, admin} {
				requireError(t, h.call(t, http.MethodPatch, tm.host, tm.tokens[r], "/subscriptions/"+id, body), http.StatusForbidden, apperr.CodeForbidden)
			}
		}
		require.Equal(t, before, h.subscriptionState(t, tm.tn))
	})
}
