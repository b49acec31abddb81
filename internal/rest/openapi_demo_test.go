package rest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/demorequest"
)

// demoLiveCases are the TestOpenAPIResponsesMatchTheDocument calls of the
// demo request routes and of PATCH /subscriptions/{id} with a payment
// method. The harness throttles per address too loosely to meet, so the
// 429 case uses an email that has had its day's requests.
func demoLiveCases(t *testing.T, h *harness) []liveCase {
	t.Helper()
	staffTok, ownerTok, viewerTok := h.token(t, staff), h.token(t, owner), h.token(t, viewer)
	const (
		demos   = "/api/v1/demo-requests"
		oneDemo = "/api/v1/demo-requests/{id}"
		oneSub  = "/api/v1/subscriptions/{id}"
	)
	id, triaged, missing := h.createDemoRequest(t, "OpenAPI"), h.createDemoRequest(t, "OpenAPI triaged"), uuid.NewString()
	d := func(id string) string { return "/demo-requests/" + id }
	email := func() string { return fmt.Sprintf("openapi%d@prospect.test", h.next()) }
	spent := email()
	for range demorequest.DefaultPerEmailPerDay {
		_, err := h.demos.Create(context.Background(), demorequest.Input{Name: "Spent", Email: spent, Company: "OpenAPI"}, demorequest.Meta{})
		require.NoError(t, err)
	}
	carded := h.newTeam(t)
	cardedSub := h.subscriptionOf(t, carded.tn)
	return []liveCase{
		{"CreateDemoRequest", "POST", demos, "/demo-requests", hostPlatform, "", fullDemoForm(email(), "OpenAPI"), "", 201},
		{"CreateDemoRequestOnATenantHost", "POST", demos, "/demo-requests/", hostA, viewerTok, demoForm(email(), "OpenAPI"), "", 201},
		{"CreateDemoRequestInvalid", "POST", demos, "/demo-requests", hostA, "", map[string]any{"name": "", "email": "x", "company": "c", "company_size": "9"}, "", 400},
		{"CreateDemoRequestUnknownField", "POST", demos, "/demo-requests", hostA, "", `{"name":"n","email":"a@b.test","company":"c","status":"closed"}`, "", 400},
		{"CreateDemoRequestNotJSON", "POST", demos, "/demo-requests", hostA, "", "x", "text/plain", 415},
		{"CreateDemoRequestUnknownTenant", "POST", demos, "/demo-requests", "nope." + baseDomain, "", demoForm(email(), "OpenAPI"), "", 404},
		{"CreateDemoRequestThrottled", "POST", demos, "/demo-requests", hostPlatform, "", demoForm(spent, "OpenAPI"), "", 429},
		{"DemoRequestsWrongMethod", "DELETE", demos, "/demo-requests", hostPlatform, staffTok, nil, "", 405},
		{"ListDemoRequests", "GET", demos, "/demo-requests?limit=1", hostPlatform, staffTok, nil, "", 200},
		{"ListDemoRequestsByStatus", "GET", demos, "/demo-requests?status=new,contacted", hostPlatform, staffTok, nil, "", 200},
		{"ListDemoRequestsBadStatus", "GET", demos, "/demo-requests?status=won", hostPlatform, staffTok, nil, "", 400},
		{"ListDemoRequestsAnonymous", "GET", demos, "/demo-requests", hostPlatform, "", nil, "", 401},
		{"ListDemoRequestsAsOwner", "GET", demos, "/demo-requests", hostA, ownerTok, nil, "", 403},
		{"GetDemoRequest", "GET", oneDemo, d(id), hostPlatform, staffTok, nil, "", 200},
		{"GetDemoRequestUnknown", "GET", oneDemo, d(missing), hostPlatform, staffTok, nil, "", 404},
		{"GetDemoRequestAsViewer", "GET", oneDemo, d(id), hostA, viewerTok, nil, "", 403},
		{"UpdateDemoRequest", "PATCH", oneDemo, d(triaged), hostPlatform, staffTok, map[string]any{"status": "contacted", "notes": "Called"}, "", 200},
		{"UpdateDemoRequestEmpty", "PATCH", oneDemo, d(triaged), hostPlatform, staffTok, `{}`, "", 400},
		{"UpdateDemoRequestNotJSON", "PATCH", oneDemo, d(triaged), hostPlatform, staffTok, "x", "text/plain", 415},
		{"UpdateDemoRequestUnknown", "PATCH", oneDemo, d(missing), hostPlatform, staffTok, map[string]any{"status": "closed"}, "", 404},
		{"DemoRequestWrongMethod", "DELETE", oneDemo, d(id), hostPlatform, staffTok, nil, "", 405},
		{"SetPaymentMethod", "PATCH", oneSub, "/subscriptions/" + cardedSub, carded.host, carded.tokens[owner], map[string]any{"payment_method": "pm_card_visa"}, "", 200},
		{"SetPaymentMethodWithAPlan", "PATCH", oneSub, "/subscriptions/" + cardedSub, carded.host, carded.tokens[owner], `{"payment_method":"pm_card_visa","plan":"pro"}`, "", 400},
		{"SetPaymentMethodNotAToken", "PATCH", oneSub, "/subscriptions/" + cardedSub, carded.host, carded.tokens[owner], map[string]any{"payment_method": "4242424242424242"}, "", 400},
		{"SetPaymentMethodAsAdmin", "PATCH", oneSub, "/subscriptions/" + cardedSub, carded.host, carded.tokens[admin], map[string]any{"payment_method": "pm_card_visa"}, "", 403},
	}
}
