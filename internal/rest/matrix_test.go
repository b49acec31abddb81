package rest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/rest"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
)

// The REST authorization matrix (reliability matrix API1 and API5, as
// graph/matrix_test.go for GraphQL): every route rest.Register mounts ×
// every kind of caller, against a table of expected status classes.
// Every caller calls from where its token is good: anonymous and alpha's
// members on alpha's host, bravo's owner on bravo's host naming alpha's ids
// (the cross-tenant column: lists and creations are bravo's own, ids of
// alpha are NOT_FOUND), staff on the platform host (tenant data there is
// TENANT_NOT_FOUND, 404). Tokens used on another host are checked for every
// route by TokensAreGoodOnlyOnTheirHost.
//
// A mounted route without a row, or a row for no mounted route, fails the
// test: a new route must say who may call it.

// Status classes of the table.
const (
	c2xx = "2xx"
	c401 = "401"
	c403 = "403"
	c404 = "404"
)

// classOf is a status's class in the table (other statuses stay numbers,
// so they never match).
func classOf(status int) string {
	if status >= 200 && status < 300 {
		return c2xx
	}
	return fmt.Sprint(status)
}

// rxCase is one row: a route's expectations and how to call it.
type rxCase struct {
	// want is the class per role in roles order, space separated.
	want string
	// call returns the path under /api/v1 and the body (nil for none) of
	// r's call, creating right before it whatever the call consumes.
	call func(t *testing.T, f *rxFixtures, r role) (string, any)
	// state snapshots what the call would change: a denied call must
	// leave it as it was. Nil for reads.
	state func(t *testing.T, f *rxFixtures) string
}

// rxFixtures are alpha's rows the calls name.
type rxFixtures struct {
	h                                                   *harness
	ownerTok                                            string
	project, member, role, sub, invoice, planEdit, demo string
}

// inAlpha runs a one-value query with $A standing for alpha's schema.
func inAlpha(sql string) func(*testing.T, *rxFixtures) string {
	return func(t *testing.T, f *rxFixtures) string {
		return f.h.scalar(t, strings.ReplaceAll(sql, "$A", db.QuoteIdent(f.h.a.Schema)))
	}
}

// fixed is a call without a body that consumes nothing.
func fixed(path func(f *rxFixtures) string) func(*testing.T, *rxFixtures, role) (string, any) {
	return func(_ *testing.T, f *rxFixtures, _ role) (string, any) { return path(f), nil }
}

func with(path func(f *rxFixtures) string, body any) func(*testing.T, *rxFixtures, role) (string, any) {
	return func(_ *testing.T, f *rxFixtures, _ role) (string, any) { return path(f), body }
}

func at(p string) func(*rxFixtures) string { return func(*rxFixtures) string { return p } }

// charlie is the spare tenant of the staff lifecycle routes.
const charlie = "charlie"

// charlieIn puts charlie in status and names it.
func charlieIn(status, suffix string, body any) func(*testing.T, *rxFixtures, role) (string, any) {
	return func(t *testing.T, f *rxFixtures, _ role) (string, any) {
		f.setCharlie(t, status)
		return "/tenants/" + charlie + suffix, body
	}
}

func (f *rxFixtures) setCharlie(t *testing.T, status string) {
	t.Helper()
	ctx := context.Background()
	svc := f.h.tenants
	var err error
	switch f.h.scalar(t, `SELECT status FROM public.tenants WHERE slug = $1`, charlie) {
	case status:
		return
	case tenancy.StatusSuspended:
		_, err = svc.Reactivate(ctx, charlie)
	case tenancy.StatusPendingDeletion:
		_, err = svc.Restore(ctx, charlie)
	}
	require.NoError(t, err)
	switch status {
	case tenancy.StatusSuspended:
		_, err = svc.Suspend(ctx, charlie)
	case tenancy.StatusPendingDeletion:
		_, _, err = svc.Delete(ctx, charlie)
	}
	require.NoError(t, err)
}

// userOf is whose credentials r's auth calls carry (anonymous signs in as
// alpha's viewer).
func (f *rxFixtures) userOf(r role) *account {
	if r == anonymous {
		return f.h.users[viewer]
	}
	return f.h.users[r]
}

var (
	everyone   = "2xx 2xx 2xx 2xx 2xx 2xx 2xx"
	signedIn   = "401 2xx 2xx 2xx 2xx 2xx 2xx"
	staffOnly  = "401 403 403 403 403 403 2xx"
	projRead   = "401 2xx 2xx 2xx 2xx 404 404"
	projWrite  = "401 403 2xx 2xx 2xx 404 404"
	membersAll = "401 403 2xx 2xx 2xx 2xx 404"
	membersOne = "401 403 2xx 2xx 2xx 404 404"
	manageAll  = "401 403 403 2xx 2xx 2xx 404"
	manageOne  = "401 403 403 2xx 2xx 404 404"
)

// rxCases is the table, keyed by route.
func rxCases() map[string]rxCase {
	var (
		proj = func(f *rxFixtures) string { return "/projects/" + f.project }
		mem  = func(f *rxFixtures) string { return "/users/" + f.member }
		rol  = func(f *rxFixtures) string { return "/roles/" + f.role }
		sub  = func(f *rxFixtures) string { return "/subscriptions/" + f.sub }
		inv  = func(f *rxFixtures) string { return "/invoices/" + f.invoice }
		demo = func(f *rxFixtures) string { return "/demo-requests/" + f.demo }
		n    = func(f *rxFixtures) int64 { return f.h.next() }
	)
	tenantsCount := func(t *testing.T, f *rxFixtures) string { return f.h.scalar(t, `SELECT count(*) FROM public.tenants`) }
	charlieStatus := func(t *testing.T, f *rxFixtures) string {
		return f.h.scalar(t, `SELECT status FROM public.tenants WHERE slug = $1`, charlie)
	}
	return map[string]rxCase{
		"GET /api/v1":              {want: everyone, call: fixed(at(""))},
		"GET /api/v1/openapi.json": {want: everyone, call: fixed(at("/openapi.json"))},
		"POST /api/v1/auth/login": {want: everyone, call: func(_ *testing.T, f *rxFixtures, r role) (string, any) {
			return "/auth/login", map[string]any{"email": f.userOf(r).Email, "password": password}
		}},
		"POST /api/v1/auth/refresh": {want: everyone, call: func(t *testing.T, f *rxFixtures, r role) (string, any) {
			return "/auth/refresh", map[string]any{"refresh_token": f.h.loginUser(t, f.userOf(r)).RefreshToken}
		}},
		"POST /api/v1/auth/logout": {want: signedIn, call: fixed(at("/auth/logout"))},
		"GET /api/v1/users/me":     {want: signedIn, call: fixed(at("/users/me"))},

		"GET /api/v1/projects": {want: "401 2xx 2xx 2xx 2xx 2xx 404", call: fixed(at("/projects"))},
		"POST /api/v1/projects": {want: "401 403 2xx 2xx 2xx 2xx 404", call: with(at("/projects"), map[string]any{"name": "matrix"}),
			state: inAlpha(`SELECT count(*) FROM $A.projects`)},
		"GET /api/v1/projects/{id}": {want: projRead, call: fixed(proj)},
		"PUT /api/v1/projects/{id}": {want: projWrite, call: with(proj, map[string]any{"name": "matrix-put"}),
			state: inAlpha(`SELECT count(*) FROM $A.projects WHERE name = 'matrix-put'`)},
		"PATCH /api/v1/projects/{id}": {want: projWrite, call: with(proj, map[string]any{"description": "matrix-patch"}),
			state: inAlpha(`SELECT count(*) FROM $A.projects WHERE description = 'matrix-patch'`)},
		"DELETE /api/v1/projects/{id}": {want: "401 403 403 2xx 2xx 404 404", call: func(t *testing.T, f *rxFixtures, _ role) (string, any) {
			return "/projects/" + f.h.createProject(t, hostA, f.ownerTok, "doomed"), nil
		}, state: inAlpha(`SELECT count(*) FROM $A.projects`)},
		"GET /api/v1/projects/{id}/items": {want: projRead, call: fixed(func(f *rxFixtures) string { return proj(f) + "/items" })},
		"POST /api/v1/projects/{id}/items": {want: projWrite, call: with(func(f *rxFixtures) string { return proj(f) + "/items" },
			map[string]any{"title": "matrix"}), state: inAlpha(`SELECT count(*) FROM $A.data_items`)},

		"GET /api/v1/users":      {want: membersAll, call: fixed(at("/users"))},
		"GET /api/v1/users/{id}": {want: membersOne, call: fixed(mem)},
		"PATCH /api/v1/users/{id}": {want: manageOne, call: func(t *testing.T, f *rxFixtures, _ role) (string, any) {
			return "/users/" + f.h.newMember(t, f.h.a, "viewer"), map[string]any{"status": "disabled"}
		}, state: inAlpha(`SELECT count(*) FROM $A.members WHERE status = 'disabled'`)},
		"DELETE /api/v1/users/{id}": {want: manageOne, call: func(t *testing.T, f *rxFixtures, _ role) (string, any) {
			return "/users/" + f.h.newMember(t, f.h.a, "viewer"), nil
		}, state: inAlpha(`SELECT count(*) FROM $A.members`)},
		"GET /api/v1/roles": {want: membersAll, call: fixed(at("/roles"))},
		"POST /api/v1/roles": {want: manageAll, call: func(_ *testing.T, f *rxFixtures, _ role) (string, any) {
			return "/roles", map[string]any{"name": fmt.Sprintf("mx-%d", n(f)), "permissions": []string{"projects.read"}}
		}, state: inAlpha(`SELECT count(*) FROM $A.roles`)},
		"GET /api/v1/roles/{id}": {want: membersOne, call: fixed(rol)},
		"PUT /api/v1/roles/{id}": {want: manageOne, call: func(_ *testing.T, f *rxFixtures, _ role) (string, any) {
			return rol(f), map[string]any{"name": fmt.Sprintf("mx-put-%d", n(f)), "permissions": []string{"data.read"}}
		}, state: inAlpha(`SELECT count(*) FROM $A.roles WHERE name LIKE 'mx-put-%'`)},
		"PATCH /api/v1/roles/{id}": {want: manageOne, call: func(_ *testing.T, f *rxFixtures, _ role) (string, any) {
			return rol(f), map[string]any{"description": fmt.Sprintf("mx-%d", n(f))}
		}, state: inAlpha(`SELECT count(*) FROM $A.roles WHERE description LIKE 'mx-%'`)},
		"DELETE /api/v1/roles/{id}": {want: manageOne, call: func(t *testing.T, f *rxFixtures, _ role) (string, any) {
			return "/roles/" + f.h.createRole(t, f.ownerTok), nil
		}, state: inAlpha(`SELECT count(*) FROM $A.roles`)},
		"GET /api/v1/invitations": {want: manageAll, call: fixed(at("/invitations"))},
		"POST /api/v1/invitations": {want: manageAll, call: func(_ *testing.T, f *rxFixtures, _ role) (string, any) {
			return "/invitations", map[string]any{"email": fmt.Sprintf("mx%d@example.test", n(f)), "role": "viewer"}
		}, state: inAlpha(`SELECT count(*) FROM $A.invitations`)},
		"DELETE /api/v1/invitations/{id}": {want: manageOne, call: func(t *testing.T, f *rxFixtures, _ role) (string, any) {
			rec := f.h.call(t, http.MethodPost, hostA, f.ownerTok, "/invitations", map[string]any{"email": fmt.Sprintf("mx%d@example.test", n(f)), "role": "viewer"})
			return "/invitations/" + requireResource(t, requireData(t, rec, http.StatusCreated), "invitation")["id"].(string), nil
		}, state: inAlpha(`SELECT count(*) FROM $A.invitations WHERE revoked_at IS NOT NULL`)},

		"GET /api/v1/tenants": {want: staffOnly, call: fixed(at("/tenants"))},
		"POST /api/v1/tenants": {want: staffOnly, call: func(_ *testing.T, f *rxFixtures, _ role) (string, any) {
			return "/tenants", map[string]any{"slug": fmt.Sprintf("mx%d", n(f)), "name": "Matrix"}
		}, state: tenantsCount},
		"GET /api/v1/tenants/{slug}":          {want: staffOnly, call: fixed(at("/tenants/" + charlie))},
		"PATCH /api/v1/tenants/{slug}":        {want: staffOnly, call: charlieIn(tenancy.StatusActive, "", map[string]any{"status": "suspended"}), state: charlieStatus},
		"DELETE /api/v1/tenants/{slug}":       {want: staffOnly, call: charlieIn(tenancy.StatusActive, "", nil), state: charlieStatus},
		"POST /api/v1/tenants/{slug}/restore": {want: staffOnly, call: charlieIn(tenancy.StatusPendingDeletion, "/restore", nil), state: charlieStatus},

		"GET /api/v1/plans":      {want: everyone, call: fixed(at("/plans"))},
		"GET /api/v1/plans/{id}": {want: everyone, call: fixed(func(f *rxFixtures) string { return "/plans/" + f.planEdit })},
		"PATCH /api/v1/plans/{id}": {want: staffOnly, call: func(_ *testing.T, f *rxFixtures, _ role) (string, any) {
			return "/plans/" + f.planEdit, map[string]any{"description": fmt.Sprintf("edited %d", n(f))}
		}, state: func(t *testing.T, f *rxFixtures) string { return f.h.planRow(t, f.planEdit) }},
		"GET /api/v1/subscriptions":      {want: manageAll, call: fixed(at("/subscriptions"))},
		"GET /api/v1/subscriptions/{id}": {want: manageOne, call: fixed(sub)},
		// Enterprise (no limits) when not on it, else Pro: always a change.
		"PATCH /api/v1/subscriptions/{id}": {want: "401 403 403 403 2xx 404 404", call: func(t *testing.T, f *rxFixtures, _ role) (string, any) {
			code := "enterprise"
			if strings.HasPrefix(f.h.subscriptionState(t, f.h.a), code+" ") {
				code = "pro"
			}
			return sub(f), map[string]any{"plan": code}
		}, state: func(t *testing.T, f *rxFixtures) string { return f.h.subscriptionState(t, f.h.a) }},
		"GET /api/v1/invoices":      {want: manageAll, call: fixed(at("/invoices"))},
		"GET /api/v1/invoices/{id}": {want: manageOne, call: fixed(inv)},
		// Payments are off (as in the GraphQL matrix): whoever passes the
		// billing.manage check meets FEATURE_DISABLED (403), before the
		// invoice is looked up, so bravo's owner gets 403 too.
		"POST /api/v1/invoices/{id}/pay": {want: "401 403 403 403 403 403 404", call: fixed(func(f *rxFixtures) string { return inv(f) + "/pay" }),
			state: func(t *testing.T, f *rxFixtures) string { return f.h.payments(t, f.invoice) }},

		// Anyone asks for a demo, on their own host; the inbox is staff's
		// (what the /tenants routes answer).
		"POST /api/v1/demo-requests": {want: everyone, call: func(_ *testing.T, f *rxFixtures, _ role) (string, any) {
			return "/demo-requests", demoForm(fmt.Sprintf("mx%d@prospect.test", n(f)), "Matrix")
		}},
		"GET /api/v1/demo-requests":      {want: staffOnly, call: fixed(at("/demo-requests?status=new"))},
		"GET /api/v1/demo-requests/{id}": {want: staffOnly, call: fixed(demo)},
		"PATCH /api/v1/demo-requests/{id}": {want: staffOnly, call: func(_ *testing.T, f *rxFixtures, _ role) (string, any) {
			return demo(f), map[string]any{"status": "contacted", "notes": fmt.Sprintf("mx-%d", n(f))}
		}, state: func(t *testing.T, f *rxFixtures) string { return f.h.demoRequestRow(t, f.demo) }},
	}
}

// newRxFixtures creates alpha's rows and the spare tenant.
func newRxFixtures(t *testing.T, h *harness) *rxFixtures {
	t.Helper()
	f := &rxFixtures{h: h, ownerTok: h.token(t, owner)}
	f.project = h.createProject(t, hostA, f.ownerTok, "matrix")
	f.member = h.newMember(t, h.a, "viewer")
	f.role = h.createRole(t, f.ownerTok)
	f.sub = h.subscriptionOf(t, h.a)
	f.invoice = h.createInvoice(t, h.a, nil)
	f.planEdit = h.createPlan(t)
	f.demo = h.createDemoRequest(t, "Matrix fixture")
	_, err := h.tenants.Create(context.Background(), tenant.CreateInput{Slug: charlie, Name: "Charlie"})
	require.NoError(t, err)
	return f
}

// rxCall makes one cell's call and checks a denied call changed nothing.
func rxCall(t *testing.T, f *rxFixtures, rt rest.Route, c rxCase, r role, host, token string) (string, string) {
	t.Helper()
	path, body := c.call(t, f, r)
	var before string
	if c.state != nil {
		before = c.state(t, f)
	}
	rec := f.h.call(t, rt.Method, host, token, path, body)
	got := classOf(rec.Code)
	if got != c2xx && c.state != nil {
		if after := c.state(t, f); after != before {
			t.Errorf("SIDE EFFECT: %s as %s on %s was denied (%d) but changed state: %s → %s", rt, r, host, rec.Code, before, after)
		}
	}
	return got, rec.Body.String()
}

func TestAPIAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cases := rxCases()

	t.Run("EveryMountedRouteHasARow", func(t *testing.T) {
		mounted := map[string]bool{}
		for _, rt := range h.routes {
			mounted[rt.String()] = true
			_, ok := cases[rt.String()]
			require.True(t, ok, "%s is mounted but has no row in rxCases: say who may call it", rt)
		}
		for name, c := range cases {
			require.True(t, mounted[name], "row %s names no mounted route", name)
			require.Len(t, strings.Fields(c.want), len(roles), "%s has a class per role", name)
		}
	})

	f := newRxFixtures(t, h)
	t.Run("EveryCellMatchesTheTable", func(t *testing.T) {
		var b strings.Builder
		fmt.Fprintf(&b, "%-40s", "route")
		for _, r := range roles {
			fmt.Fprintf(&b, " %-9s", r)
		}
		b.WriteByte('\n')
		cells, mismatches := 0, 0
		for _, rt := range h.routes {
			c, ok := cases[rt.String()]
			if !ok {
				continue // reported by EveryMountedRouteHasARow
			}
			want := strings.Fields(c.want)
			fmt.Fprintf(&b, "%-40s", rt)
			for i, r := range roles {
				got, body := rxCall(t, f, rt, c, r, h.home(r), h.token(t, r))
				cells++
				cell := got
				if got != want[i] {
					mismatches++
					cell += "≠" + want[i]
					t.Errorf("%s as %s on %s: got %s, want %s; body %s", rt, r, h.home(r), got, want[i], body)
				}
				fmt.Fprintf(&b, " %-9s", cell)
			}
			b.WriteByte('\n')
		}
		t.Logf("REST authorization matrix: %d routes × %d roles = %d cells, %d mismatches\n%s", len(h.routes), len(roles), cells, mismatches, b.String())
	})

	t.Run("TokensAreGoodOnlyOnTheirHost", func(t *testing.T) {
		// bravo's owner and staff on alpha's host, alpha's owner on the
		// platform host: refused before any handler runs, on every route.
		for _, rt := range h.routes {
			c, ok := cases[rt.String()]
			if !ok {
				continue
			}
			for _, foreign := range []struct {
				r    role
				host string
			}{{ownerB, hostA}, {staff, hostA}, {owner, hostPlatform}} {
				got, body := rxCall(t, f, rt, c, owner, foreign.host, h.token(t, foreign.r))
				require.Equal(t, c401, got, "%s with %s's token on %s: %s", rt, foreign.r, foreign.host, body)
			}
		}
	})
}
