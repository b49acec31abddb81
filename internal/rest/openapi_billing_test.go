package rest_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/clientiq/clientiq/internal/rest"
)

// signedEvent is a Stripe event body with its Stripe-Signature header.
func signedEvent(t *testing.T, secret string) (json.RawMessage, http.Header) {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"id": "evt_" + strings.ReplaceAll(uuid.NewString(), "-", ""), "object": "event", "type": "customer.created",
		"created": time.Now().Unix(), "api_version": "2020-08-27", "data": map[string]any{"object": map[string]any{"id": "cus_1"}},
	})
	require.NoError(t, err)
	now := time.Now()
	sig := fmt.Sprintf("t=%d,v1=%s", now.Unix(), hex.EncodeToString(webhook.ComputeSignature(now, body, secret)))
	return body, http.Header{"Stripe-Signature": {sig}}
}

// billingLiveCases are the TestOpenAPIResponsesMatchTheDocument calls of
// the billing routes and of the Stripe webhook (which the harness mounts as
// cmd/clientiq does), with the extra headers of some, by case name. The
// harness charges through fakeCharger, so POST …/pay can answer 202.
func billingLiveCases(t *testing.T, h *harness) ([]liveCase, map[string]http.Header) {
	t.Helper()
	tok, staffTok, adminTok := h.token(t, owner), h.token(t, staff), h.token(t, admin)
	const (
		plans    = "/api/v1/plans"
		onePlan  = "/api/v1/plans/{id}"
		subs     = "/api/v1/subscriptions"
		oneSub   = "/api/v1/subscriptions/{id}"
		invoices = "/api/v1/invoices"
		oneInv   = "/api/v1/invoices/{id}"
		pay      = "/api/v1/invoices/{id}/pay"
		hook     = rest.StripeWebhookPath
	)
	pro, edited := h.planID(t, "pro"), h.createPlan(t)
	subA := h.subscriptionOf(t, h.a)
	changed := h.newTeam(t)
	changedSub := h.subscriptionOf(t, changed.tn)
	ended := h.newTeam(t)
	endedSub := h.subscriptionOf(t, ended.tn)
	_, err := h.pool.Exec(context.Background(), `UPDATE public.subscriptions SET status = 'canceled', canceled_at = now() WHERE id = $1::uuid`, endedSub)
	require.NoError(t, err)
	inv, paid, toPay := h.createInvoice(t, h.a, nil), h.createInvoice(t, h.a, &invoiceOpts{Status: "paid"}), h.createInvoice(t, h.a, nil)
	missing := uuid.NewString()
	p := func(kind, id string) string { return "/" + kind + "/" + id }
	okEvent, okHeader := signedEvent(t, webhookSecret)
	slashEvent, slashHeader := signedEvent(t, webhookSecret)
	forged, forgedHeader := signedEvent(t, "whsec_someone_else")
	headers := map[string]http.Header{"WebhookOK": okHeader, "WebhookWithTrailingSlash": slashHeader, "WebhookForged": forgedHeader}
	return []liveCase{
		{"ListPlansAnonymous", "GET", plans, "/plans", hostPlatform, "", nil, "", 200},
		{"ListPlansOnATenantHost", "GET", plans, "/plans/", hostA, tok, nil, "", 200},
		{"ListPlansBadToken", "GET", plans, "/plans", hostA, "not-a-jwt", nil, "", 401},
		{"GetPlan", "GET", onePlan, p("plans", pro), hostB, "", nil, "", 200},
		{"GetPlanUnknown", "GET", onePlan, p("plans", missing), hostA, "", nil, "", 404},
		{"UpdatePlan", "PATCH", onePlan, p("plans", edited), hostPlatform, staffTok, map[string]any{"description": "doc", "price_monthly": 1200,
			"max_seats": nil, "max_projects": 9, "features": []string{"projects"}, "active": false}, "", 200},
		{"UpdatePlanUnknownField", "PATCH", onePlan, p("plans", edited), hostPlatform, staffTok, `{"code":"x"}`, "", 400},
		{"UpdatePlanAsOwner", "PATCH", onePlan, p("plans", edited), hostA, tok, map[string]any{"description": "x"}, "", 403},
		{"UpdatePlanNotJSON", "PATCH", onePlan, p("plans", edited), hostPlatform, staffTok, "x", "text/plain", 415},
		{"UpdatePlanUnknown", "PATCH", onePlan, p("plans", missing), hostPlatform, staffTok, map[string]any{"description": "x"}, "", 404},
		{"PlansWrongMethod", "POST", plans, "/plans", hostA, tok, nil, "", 405},
		{"ListSubscriptions", "GET", subs, "/subscriptions", hostA, tok, nil, "", 200},
		{"ListSubscriptionsViewer", "GET", subs, "/subscriptions", hostA, h.token(t, viewer), nil, "", 403},
		{"GetSubscription", "GET", oneSub, p("subscriptions", subA), hostA, adminTok, nil, "", 200},
		{"GetSubscriptionOtherTenant", "GET", oneSub, p("subscriptions", subA), hostB, h.token(t, ownerB), nil, "", 404},
		{"UpdateSubscription", "PATCH", oneSub, p("subscriptions", changedSub), changed.host, changed.tokens[owner],
			map[string]any{"plan": "enterprise", "interval": "year"}, "", 200},
		{"UpdateSubscriptionOverTheLimits", "PATCH", oneSub, p("subscriptions", subA), hostA, tok, map[string]any{"plan": "free"}, "", 422},
		{"UpdateSubscriptionTwoChanges", "PATCH", oneSub, p("subscriptions", subA), hostA, tok, `{"plan":"pro","cancel_at_period_end":true}`, "", 400},
		{"UpdateSubscriptionAsAdmin", "PATCH", oneSub, p("subscriptions", subA), hostA, adminTok, map[string]any{"cancel_at_period_end": true}, "", 403},
		{"UpdateSubscriptionNotJSON", "PATCH", oneSub, p("subscriptions", subA), hostA, tok, "x", "text/plain", 415},
		{"UpdateSubscriptionUnknown", "PATCH", oneSub, p("subscriptions", missing), hostA, tok, map[string]any{"cancel_at_period_end": true}, "", 404},
		{"ResumeEndedSubscription", "PATCH", oneSub, p("subscriptions", endedSub), ended.host, ended.tokens[owner], map[string]any{"cancel_at_period_end": false}, "", 409},
		{"ListInvoices", "GET", invoices, "/invoices?limit=1", hostA, tok, nil, "", 200},
		{"ListInvoicesBadCursor", "GET", invoices, "/invoices?cursor=zz", hostA, tok, nil, "", 400},
		{"ListInvoicesAnonymous", "GET", invoices, "/invoices", hostA, "", nil, "", 401},
		{"GetInvoice", "GET", oneInv, p("invoices", inv), hostA, tok, nil, "", 200},
		{"GetInvoiceUnknown", "GET", oneInv, p("invoices", missing), hostA, tok, nil, "", 404},
		{"PayInvoice", "POST", pay, p("invoices", toPay) + "/pay", hostA, tok, nil, "", 202},
		{"PayPaidInvoice", "POST", pay, p("invoices", paid) + "/pay", hostA, tok, nil, "", 409},
		{"PayInvoiceAsAdmin", "POST", pay, p("invoices", inv) + "/pay", hostA, adminTok, nil, "", 403},
		{"PayInvoiceUnknown", "POST", pay, p("invoices", missing) + "/pay", hostA, tok, nil, "", 404},
		{"WebhookOK", "POST", hook, "", hostPlatform, "", okEvent, "", 200},
		{"WebhookWithTrailingSlash", "POST", hook, "/webhooks/stripe/", hostA, "", slashEvent, "", 200},
		{"WebhookForged", "POST", hook, "", hostPlatform, "", forged, "", 400},
		{"WebhookUnsigned", "POST", hook, "", hostPlatform, "", okEvent, "", 400},
		{"WebhookTooLarge", "POST", hook, "", hostPlatform, "", `{"id":"` + strings.Repeat("x", 1<<20) + `"}`, "", 413},
		{"WebhookWrongMethod", "GET", hook, "", hostPlatform, "", nil, "", 405},
	}, headers
}
