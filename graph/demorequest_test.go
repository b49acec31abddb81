package graph

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/graph/generated"
	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/demorequest"
	"github.com/clientiq/clientiq/internal/reqinfo"
)

const requestDemoDoc = `mutation($in: RequestDemoInput!) { requestDemo(input: $in) { id status } }`

// demoInput is a valid requestDemo input with a fresh email.
func demoInput(h *mxHarness, company string) map[string]any {
	return map[string]any{"in": map[string]any{"name": "Dana", "email": fmt.Sprintf("Dana-%d@Initech.test", h.next()),
		"company": company, "phone": "+1 555 010 9999", "companySize": "11-50", "message": "Hello", "locale": "fr"}}
}

// serveDemo serves the harness's chain with a demo request service of its
// own (default throttles), behind a middleware recording the client's
// address as the production server does.
func (h *mxHarness) serveDemo(t *testing.T, mutate func(*demorequest.Config)) *httptest.Server {
	t.Helper()
	clients := db.NewClients(h.pool)
	cfg := demorequest.Config{Pool: h.pool, Clients: clients, Cache: cache.NewMemory(0), Logger: h.logger}
	if mutate != nil {
		mutate(&cfg)
	}
	svc, err := demorequest.NewService(cfg)
	require.NoError(t, err)
	gql := NewHandler(Config{Clients: clients, Auth: h.auth, Tenants: h.tenants, Members: h.members,
		Logger: h.logger, Version: "demo-1", DemoRequests: svc})
	chain := h.resolver.Middleware(WriteHTTPError)(h.auth.Middleware(WriteHTTPError)(gql))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		ctx, _ := reqinfo.NewWithClient(r.Context(), "test", ip, r.UserAgent())
		chain.ServeHTTP(w, r.WithContext(ctx))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestDemoRequestTypesShowProspectsNothingInternal: the payload of the
// public mutation holds only id and status, and the staff type has no
// client address or user agent at all.
func TestDemoRequestTypesShowProspectsNothingInternal(t *testing.T) {
	t.Parallel()
	schema := generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}, Directives: directives()}).Schema()
	var payload []string
	for _, f := range schema.Types["RequestDemoPayload"].Fields {
		payload = append(payload, f.Name)
	}
	require.ElementsMatch(t, []string{"id", "status"}, payload)
	for _, f := range schema.Types["DemoRequest"].Fields {
		require.NotContains(t, []string{"sourceIP", "sourceIp", "userAgent"}, f.Name)
	}
	for _, f := range schema.Types["DemoRequestWhereInput"].Fields {
		require.False(t, slices.Contains([]string{"sourceIP", "userAgent", "notes", "message"}, f.Name), f.Name)
	}
}

func TestDemoRequestsOverGraphQL(t *testing.T) {
	t.Parallel()
	h := newMatrixHarness(t)
	staff := h.login(t, mxStaff)

	t.Run("anyone requests a demo and staff triage it", func(t *testing.T) {
		t.Parallel()
		r := h.post(t, mxHostPlatform, "", requestDemoDoc, demoInput(h, "Triage Inc"))
		require.Empty(t, r.Errors, r.Body)
		created := r.Data["requestDemo"].(map[string]any)
		require.Equal(t, "new", created["status"])
		id := created["id"].(string)

		r = h.post(t, mxHostPlatform, staff, `query($w: DemoRequestWhereInput) {
			demoRequests(first: 10, where: $w, orderBy: {field: CREATED_AT, direction: DESC}) {
				totalCount edges { node { id email company phone companySize locale status handledBy } } } }`,
			map[string]any{"w": map[string]any{"company": "Triage Inc", "status": "new"}})
		require.Empty(t, r.Errors, r.Body)
		require.Equal(t, []string{id}, edgeValues(t, r.Data, "demoRequests", "id"))
		require.Equal(t, []string{"fr"}, edgeValues(t, r.Data, "demoRequests", "locale"))
		require.Contains(t, edgeValues(t, r.Data, "demoRequests", "email")[0], "@initech.test", "stored lowercase")

		r = h.post(t, mxHostPlatform, staff, `mutation($id: ID!) {
			updateDemoRequest(id: $id, input: {status: qualified, notes: "Budget confirmed"}) { status notes handledBy } }`,
			map[string]any{"id": id})
		require.Empty(t, r.Errors, r.Body)
		updated := r.Data["updateDemoRequest"].(map[string]any)
		require.Equal(t, "qualified", updated["status"])
		require.Equal(t, "Budget confirmed", updated["notes"])
		require.Equal(t, h.users[mxStaff].ID.String(), updated["handledBy"])
	})

	t.Run("a tenant host takes requests too, from members and anonymous visitors", func(t *testing.T) {
		t.Parallel()
		r := h.post(t, mxHostA, h.login(t, mxViewer), requestDemoDoc, demoInput(h, "From A"))
		require.Empty(t, r.Errors, r.Body)
		r = h.post(t, mxHostA, "", requestDemoDoc, demoInput(h, "From A"))
		require.Empty(t, r.Errors, r.Body)
		require.Equal(t, "2", h.scalar(t, `SELECT count(*) FROM public.demo_requests WHERE company = 'From A'`))
	})

	t.Run("invalid input answers VALIDATION_ERROR with the fields", func(t *testing.T) {
		t.Parallel()
		r := h.post(t, mxHostPlatform, "", requestDemoDoc, map[string]any{"in": map[string]any{
			"name": "", "email": "nope", "company": "Initech", "companySize": "lots"}})
		require.Equal(t, string(apperr.CodeValidation), r.outcome("requestDemo"), r.Body)
		ext := r.Errors[0]["extensions"].(map[string]any)
		fields := ext["fields"].(map[string]any)
		require.Contains(t, fields, "name")
		require.Contains(t, fields, "email")
		require.Contains(t, fields, "companySize")
		require.Len(t, fields, 3)
	})

	t.Run("node shows a demo request to staff only", func(t *testing.T) {
		t.Parallel()
		id := mxDemoRequest(t, h)
		q := `query($id: ID!) { node(id: $id) { __typename ... on DemoRequest { email } } }`
		r := h.post(t, mxHostPlatform, staff, q, map[string]any{"id": id})
		require.Empty(t, r.Errors, r.Body)
		require.Equal(t, "DemoRequest", r.Data["node"].(map[string]any)["__typename"])
		for _, role := range []mxRole{mxViewer, mxAdmin, mxOwner} {
			r = h.post(t, mxHostA, h.login(t, role), q, map[string]any{"id": id})
			require.Empty(t, r.Errors, r.Body)
			require.Nil(t, r.Data["node"], "%s must not see a demo request", role)
		}
	})

	t.Run("requests are throttled per client address and per email", func(t *testing.T) {
		t.Parallel()
		srv := h.serveDemo(t, nil)
		for range demorequest.DefaultPerIPPerHour {
			r := h.postTo(t, srv, mxHostPlatform, "", requestDemoDoc, demoInput(h, "Throttled"))
			require.Empty(t, r.Errors, r.Body)
		}
		r := h.postTo(t, srv, mxHostPlatform, "", requestDemoDoc, demoInput(h, "Throttled"))
		require.Equal(t, string(apperr.CodeRateLimited), r.outcome("requestDemo"), r.Body)
		require.Equal(t, "127.0.0.1", h.scalar(t, `SELECT DISTINCT source_ip FROM public.demo_requests WHERE company = 'Throttled'`))

		srv = h.serveDemo(t, func(c *demorequest.Config) { c.PerIPPerHour = -1 })
		in := demoInput(h, "Same email")
		for range demorequest.DefaultPerEmailPerDay {
			r = h.postTo(t, srv, mxHostPlatform, "", requestDemoDoc, in)
			require.Empty(t, r.Errors, r.Body)
		}
		r = h.postTo(t, srv, mxHostPlatform, "", requestDemoDoc, in)
		require.Equal(t, string(apperr.CodeRateLimited), r.outcome("requestDemo"), r.Body)
	})

	t.Run("without the service the fields answer FEATURE_DISABLED", func(t *testing.T) {
		t.Parallel()
		off := NewHandler(Config{Clients: db.NewClients(h.pool), Auth: h.auth, Logger: h.logger, Version: "off"})
		offSrv := httptest.NewServer(h.resolver.Middleware(WriteHTTPError)(h.auth.Middleware(WriteHTTPError)(off)))
		t.Cleanup(offSrv.Close)
		r := h.postTo(t, offSrv, mxHostPlatform, "", requestDemoDoc, demoInput(h, "Off"))
		require.Equal(t, string(apperr.CodeFeatureDisabled), r.outcome("requestDemo"), r.Body)
	})
}
