package rest_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
)

func TestAPIInvoices(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	t.Run("ListPagesNewestFirst", func(t *testing.T) {
		t.Parallel()
		tm := h.newTeam(t)
		oldest := h.createInvoice(t, tm.tn, &invoiceOpts{Age: 48})
		middle := h.createInvoice(t, tm.tn, &invoiceOpts{Age: 24, Status: "paid"})
		newest := h.createInvoice(t, tm.tn, nil)
		h.createInvoice(t, h.newTeam(t).tn, nil) // another tenant's
		items, page := requireList(t, h.call(t, http.MethodGet, tm.host, tm.tokens[owner], "/invoices?limit=2", nil), "invoice")
		require.Equal(t, []any{newest, middle}, []any{items[0]["id"], items[1]["id"]})
		require.Equal(t, true, page["has_more"])
		require.Equal(t, 2.0, page["limit"])
		require.NotNil(t, page["next_cursor"])
		require.NotContains(t, attrs(items[0]), "lines", "a list does not carry lines")
		require.Equal(t, "open", attrs(items[0])["status"])
		require.Equal(t, "paid", attrs(items[1])["status"])
		items, page = requireList(t, h.call(t, http.MethodGet, tm.host, tm.tokens[admin],
			"/invoices/?limit=2&cursor="+url.QueryEscape(page["next_cursor"].(string)), nil), "invoice")
		require.Len(t, items, 1)
		require.Equal(t, oldest, items[0]["id"])
		require.Equal(t, map[string]any{"next_cursor": nil, "has_more": false, "limit": 2.0}, page)
	})

	t.Run("EmptyListAndDefaultLimit", func(t *testing.T) {
		t.Parallel()
		tm := h.newTeam(t)
		items, page := requireList(t, h.call(t, http.MethodGet, tm.host, tm.tokens[owner], "/invoices", nil), "invoice")
		require.Empty(t, items)
		require.Equal(t, map[string]any{"next_cursor": nil, "has_more": false, "limit": 20.0}, page)
	})

	t.Run("BadLimitOrCursor", func(t *testing.T) {
		t.Parallel()
		tok := h.token(t, owner)
		for _, q := range []string{"limit=0", "limit=101", "limit=x", "cursor=zz"} {
			requireError(t, h.call(t, http.MethodGet, hostA, tok, "/invoices?"+q, nil), http.StatusBadRequest, apperr.CodeValidation)
		}
	})

	t.Run("GetHasItsLinesInPositionOrder", func(t *testing.T) {
		t.Parallel()
		id := h.createInvoice(t, h.a, nil)
		for _, p := range []string{"/invoices/" + id, "/invoices/" + id + "/"} {
			inv := requireResource(t, requireData(t, h.call(t, http.MethodGet, hostA, h.token(t, admin), p, nil), http.StatusOK), "invoice")
			a := attrs(inv)
			require.Equal(t, 1800.0, a["total"])
			require.Equal(t, "USD", a["currency"])
			lines := a["lines"].([]any)
			require.Len(t, lines, 2)
			first, second := lines[0].(map[string]any), lines[1].(map[string]any)
			require.Equal(t, "subscription", first["kind"])
			require.Equal(t, 1900.0, first["amount"])
			require.Equal(t, "credit", second["kind"])
			require.Equal(t, -100.0, second["amount"])
			require.Equal(t, map[string]any{"data": nil}, inv["relationships"].(map[string]any)["subscription"])
		}
	})

	t.Run("ForeignOrUnknownIsNotFound", func(t *testing.T) {
		t.Parallel()
		foreign := h.createInvoice(t, h.b, nil)
		tok := h.token(t, owner)
		unknown := requireError(t, h.call(t, http.MethodGet, hostA, tok, "/invoices/"+uuid.NewString(), nil), http.StatusNotFound, apperr.CodeNotFound)
		got := requireError(t, h.call(t, http.MethodGet, hostA, tok, "/invoices/"+foreign, nil), http.StatusNotFound, apperr.CodeNotFound)
		require.Equal(t, unknown["message"], got["message"], "no existence oracle")
		requireError(t, h.call(t, http.MethodGet, hostA, tok, "/invoices/nope", nil), http.StatusNotFound, apperr.CodeNotFound)
		requireData(t, h.call(t, http.MethodGet, hostB, h.token(t, ownerB), "/invoices/"+foreign, nil), http.StatusOK)
	})

	t.Run("ReadNeedsBillingRead", func(t *testing.T) {
		t.Parallel()
		id := h.createInvoice(t, h.a, nil)
		for _, p := range []string{"/invoices", "/invoices/" + id} {
			requireError(t, h.call(t, http.MethodGet, hostA, "", p, nil), http.StatusUnauthorized, apperr.CodeUnauthenticated)
			requireError(t, h.call(t, http.MethodGet, hostA, h.token(t, viewer), p, nil), http.StatusForbidden, apperr.CodeForbidden)
			requireError(t, h.call(t, http.MethodGet, hostA, h.token(t, memberR), p, nil), http.StatusForbidden, apperr.CodeForbidden)
			requireData(t, h.call(t, http.MethodGet, hostA, h.token(t, admin), p, nil), http.StatusOK)
		}
	})

	t.Run("PayIsFeatureDisabledWhilePaymentsAreOff", func(t *testing.T) {
		t.Parallel()
		id := h.createInvoice(t, h.a, nil)
		e := requireError(t, h.call(t, http.MethodPost, hostA, h.token(t, owner), "/invoices/"+id+"/pay", nil), http.StatusForbidden, apperr.CodeFeatureDisabled)
		require.NotEmpty(t, e["message"])
		requireError(t, h.call(t, http.MethodPost, hostA, h.token(t, admin), "/invoices/"+id+"/pay", nil), http.StatusForbidden, apperr.CodeForbidden)
		requireError(t, h.call(t, http.MethodPost, hostA, "", "/invoices/"+id+"/pay", nil), http.StatusUnauthorized, apperr.CodeUnauthenticated)
		require.Equal(t, "0", h.payments(t, id))
	})
}

func TestAPIPayInvoice(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, harnessOptions{charger: fakeCharger{}})

	t.Run("PayEnqueuesOneChargeAndAnswersAccepted", func(t *testing.T) {
		t.Parallel()
		id := h.createInvoice(t, h.a, nil)
		rec := h.call(t, http.MethodPost, hostA, h.token(t, owner), "/invoices/"+id+"/pay/", nil)
		inv := requireResource(t, requireData(t, rec, http.StatusAccepted), "invoice")
		require.Equal(t, id, inv["id"])
		require.Equal(t, "open", attrs(inv)["status"], "open until the payment reports back")
		require.Len(t, attrs(inv)["lines"], 2)
		require.Equal(t, "1", h.payments(t, id))
		requireError(t, h.call(t, http.MethodPost, hostA, h.token(t, owner), "/invoices/"+id+"/pay", nil), http.StatusConflict, apperr.CodeConflict)
		require.Equal(t, "1", h.payments(t, id), "a double click charges once")
	})

	t.Run("PaidOrVoidInvoiceIsConflict", func(t *testing.T) {
		t.Parallel()
		for _, status := range []string{"paid", "void"} {
			id := h.createInvoice(t, h.a, &invoiceOpts{Status: status})
			requireError(t, h.call(t, http.MethodPost, hostA, h.token(t, owner), "/invoices/"+id+"/pay", nil), http.StatusConflict, apperr.CodeConflict)
			require.Equal(t, "0", h.payments(t, id))
		}
	})

	t.Run("FailedInvoiceCanBePaidAgain", func(t *testing.T) {
		t.Parallel()
		id := h.createInvoice(t, h.a, &invoiceOpts{Status: "failed"})
		requireData(t, h.call(t, http.MethodPost, hostA, h.token(t, owner), "/invoices/"+id+"/pay", nil), http.StatusAccepted)
		require.Equal(t, "1", h.payments(t, id))
	})

	t.Run("ForeignOrUnknownInvoiceIsNotFound", func(t *testing.T) {
		t.Parallel()
		foreign := h.createInvoice(t, h.b, nil)
		tok := h.token(t, owner)
		unknown := requireError(t, h.call(t, http.MethodPost, hostA, tok, "/invoices/"+uuid.NewString()+"/pay", nil), http.StatusNotFound, apperr.CodeNotFound)
		got := requireError(t, h.call(t, http.MethodPost, hostA, tok, "/invoices/"+foreign+"/pay", nil), http.StatusNotFound, apperr.CodeNotFound)
		require.Equal(t, unknown["message"], got["message"])
		require.Equal(t, "0", h.payments(t, foreign))
	})

	t.Run("PayNeedsBillingManage", func(t *testing.T) {
		t.Parallel()
		id := h.createInvoice(t, h.a, nil)
		for _, r := range []role{viewer, memberR, admin} {
			requireError(t, h.call(t, http.MethodPost, hostA, h.token(t, r), "/invoices/"+id+"/pay", nil), http.StatusForbidden, apperr.CodeForbidden)
		}
		require.Equal(t, "0", h.payments(t, id))
	})
}
