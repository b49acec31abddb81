package rest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/billing"
	"github.com/clientiq/clientiq/internal/demorequest"
	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/project"
	"github.com/clientiq/clientiq/internal/rest"
	"github.com/clientiq/clientiq/internal/tenant"
)

// mountedElsewhere are the documented operations rest.Register does not
// mount, each with who does. They are under /api/v1 for clients, but
// outside the REST middleware.
var mountedElsewhere = map[string]string{
	"POST " + rest.StripeWebhookPath: "payment.NewStripeWebhook, mounted by cmd/clientiq/serve.go without tenant or bearer token (the signature authenticates)",
}

// concrete fills a path template with a fresh id (and slug).
func concrete(template string) string {
	return strings.ReplaceAll(strings.ReplaceAll(template, "{id}", uuid.NewString()), "{slug}", "s"+uuid.NewString()[:8])
}

// routeOf is the "METHOD template" of a mux pattern ("" for none or the
// "/" fallback).
func routeOf(pattern string) string {
	if pattern == "" || pattern == "/" {
		return ""
	}
	return strings.TrimSuffix(strings.TrimSuffix(pattern, "{$}"), "/")
}

// allServices is a Config with every service, so Register mounts every
// route. Register only keeps the services: these tests never call a
// handler.
func allServices() rest.Config {
	logger, _ := newLogger()
	return rest.Config{Logger: logger, Auth: &auth.Service{}, Projects: &project.Service{},
		Members: &member.Service{}, Tenants: &tenant.Service{}, Billing: &billing.Service{}, DemoRequests: &demorequest.Service{}}
}

// TestOpenAPIRoutes compares the route table rest.Register returns with
// the operations of openapi.json, both ways: every mounted route is
// documented, and every documented operation is mounted, except those
// listed in mountedElsewhere.
func TestOpenAPIRoutes(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	routes := rest.Register(mux, allServices())
	d := loadOpenAPI(t)
	ops := d.operations()
	mounted := map[string]bool{}
	for _, rt := range routes {
		require.False(t, mounted[rt.String()], "%s is mounted twice", rt)
		mounted[rt.String()] = true
	}

	t.Run("EveryMountedRouteIsDocumented", func(t *testing.T) {
		t.Parallel()
		for _, rt := range routes {
			require.Contains(t, ops, rt.String(), "%s is mounted but not documented in openapi.json", rt)
		}
	})

	t.Run("EveryDocumentedOperationIsMountedOrAnExplicitException", func(t *testing.T) {
		t.Parallel()
		for _, op := range ops {
			if who, ok := mountedElsewhere[op]; ok {
				require.False(t, mounted[op], "%s is listed as mounted elsewhere (%s) but Register mounts it", op, who)
				continue
			}
			require.True(t, mounted[op], "%s is documented but Register does not mount it", op)
		}
		for op := range mountedElsewhere {
			require.Contains(t, ops, op, "the exception %s is documented", op)
		}
	})

	t.Run("TheTableIsWhatTheMuxServesWithAndWithoutTrailingSlash", func(t *testing.T) {
		t.Parallel()
		for _, rt := range routes {
			for _, path := range []string{concrete(rt.Path), concrete(rt.Path) + "/"} {
				_, pattern := mux.Handler(httptest.NewRequest(rt.Method, path, nil))
				require.Equal(t, rt.String(), routeOf(pattern), "%s %s reaches the route's handler", rt.Method, path)
			}
		}
	})

	t.Run("ARouteIsMountedOnlyWithItsService", func(t *testing.T) {
		t.Parallel()
		logger, _ := newLogger()
		bare := rest.Register(http.NewServeMux(), rest.Config{Logger: logger})
		require.Equal(t, []rest.Route{{Method: "GET", Path: "/api/v1"}, {Method: "GET", Path: "/api/v1/openapi.json"}}, bare)
		only := rest.Register(http.NewServeMux(), rest.Config{Logger: logger, Billing: &billing.Service{}})
		var billingRoutes []string
		for _, rt := range only[2:] {
			billingRoutes = append(billingRoutes, rt.String())
		}
		require.ElementsMatch(t, []string{
			"GET /api/v1/plans", "GET /api/v1/plans/{id}", "PATCH /api/v1/plans/{id}",
			"GET /api/v1/subscriptions", "GET /api/v1/subscriptions/{id}", "PATCH /api/v1/subscriptions/{id}",
			"GET /api/v1/invoices", "GET /api/v1/invoices/{id}", "POST /api/v1/invoices/{id}/pay",
		}, billingRoutes)
		demos := rest.Register(http.NewServeMux(), rest.Config{Logger: logger, DemoRequests: &demorequest.Service{}})
		var demoRoutes []string
		for _, rt := range demos[2:] {
			demoRoutes = append(demoRoutes, rt.String())
		}
		require.ElementsMatch(t, []string{
			"POST /api/v1/demo-requests", "GET /api/v1/demo-requests",
			"GET /api/v1/demo-requests/{id}", "PATCH /api/v1/demo-requests/{id}",
		}, demoRoutes)
	})
}
