package graph

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// edgeValues collects field of every node of the connection at path in
// data (path is a dot-separated list of object keys).
func edgeValues(t *testing.T, data map[string]any, path, field string) []string {
	t.Helper()
	var cur any = data
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		require.True(t, ok, "no object at %s in %v", k, data)
		cur = m[k]
	}
	conn, ok := cur.(map[string]any)
	require.True(t, ok, "no connection at %s: %v", path, data)
	edges, _ := conn["edges"].([]any)
	out := make([]string, 0, len(edges))
	for _, e := range edges {
		node := e.(map[string]any)["node"].(map[string]any)
		out = append(out, fmt.Sprint(node[field]))
	}
	return out
}

// TestListsOrderByTheirOrderArgument covers the orderBy of the lists whose
// ordering entgql generates (tenants, a tenant's domains, audit events):
// each direction sorts, pages keep the order, and the default stays put.
func TestListsOrderByTheirOrderArgument(t *testing.T) {
	t.Parallel()
	h := newMatrixHarness(t)
	staff := h.login(t, mxStaff)
	owner := h.login(t, mxOwner)

	t.Run("tenants by slug in both directions and across pages", func(t *testing.T) {
		const doc = `query($o: TenantOrder, $after: Cursor) { tenants(first: 2, after: $after, orderBy: $o) {
			edges { node { slug } } pageInfo { hasNextPage endCursor } totalCount } }`
		var asc []string
		var after any
		for {
			r := h.post(t, mxHostPlatform, staff, doc, map[string]any{"o": map[string]any{"field": "SLUG", "direction": "ASC"}, "after": after})
			require.Empty(t, r.Errors, r.Body)
			asc = append(asc, edgeValues(t, r.Data, "tenants", "slug")...)
			info := r.Data["tenants"].(map[string]any)["pageInfo"].(map[string]any)
			if !info["hasNextPage"].(bool) {
				break
			}
			after = info["endCursor"]
		}
		require.Equal(t, []string{mxSlugA, mxSlugB, mxSlugC}, asc)
		require.True(t, slices.IsSorted(asc))

		r := h.post(t, mxHostPlatform, staff, `{ tenants(first: 10, orderBy: {field: SLUG, direction: DESC}) { edges { node { slug } } } }`, nil)
		require.Empty(t, r.Errors, r.Body)
		desc := edgeValues(t, r.Data, "tenants", "slug")
		require.Equal(t, []string{mxSlugC, mxSlugB, mxSlugA}, desc)

		r = h.post(t, mxHostPlatform, staff, `{ tenants(first: 10, orderBy: {field: CREATED_AT}) { edges { node { slug } } } }`, nil)
		require.Empty(t, r.Errors, r.Body)
		require.Equal(t, []string{mxSlugA, mxSlugB, mxSlugC}, edgeValues(t, r.Data, "tenants", "slug"), "creation order")
	})

	t.Run("an unknown order field fails validation", func(t *testing.T) {
		r := h.post(t, mxHostPlatform, staff, `{ tenants(first: 10, orderBy: {field: SCHEMA_NAME}) { totalCount } }`, nil)
		require.Len(t, r.Errors, 1, r.Body)
		require.Equal(t, "GRAPHQL_VALIDATION_FAILED", mxErrorCode(r.Errors[0]))
	})

	t.Run("a tenant's domains by domain name", func(t *testing.T) {
		for _, d := range []string{"b-shop.example.com", "a-shop.example.com", "c-shop.example.com"} {
			r := h.post(t, mxHostPlatform, staff, `mutation($s: String!, $d: String!) { addTenantDomain(slug: $s, domain: $d) { id } }`,
				map[string]any{"s": mxSlugC, "d": d})
			require.Empty(t, r.Errors, r.Body)
		}
		const doc = `query($dir: OrderDirection!) { tenants(first: 1, where: {slug: "charlie"}) { edges { node {
			domains(first: 10, orderBy: {field: DOMAIN, direction: $dir}) { edges { node { domain } } } } } } }`
		values := func(dir string) []string {
			r := h.post(t, mxHostPlatform, staff, doc, map[string]any{"dir": dir})
			require.Empty(t, r.Errors, r.Body)
			edges := r.Data["tenants"].(map[string]any)["edges"].([]any)
			require.Len(t, edges, 1)
			return edgeValues(t, edges[0].(map[string]any)["node"].(map[string]any), "domains", "domain")
		}
		asc := values("ASC")
		require.Len(t, asc, 4, "three custom domains and the tenant's own")
		require.True(t, slices.IsSorted(asc), "%v", asc)
		desc := values("DESC")
		slices.Reverse(desc)
		require.Equal(t, asc, desc)
	})

	t.Run("audit events newest first by default, oldest first or by action on request", func(t *testing.T) {
		for i := range 3 {
			r := h.post(t, mxHostA, owner, `mutation($n: String!) { createProject(input: {name: $n}) { id } }`,
				map[string]any{"n": fmt.Sprintf("audited %d", i)})
			require.Empty(t, r.Errors, r.Body)
		}
		const doc = `query($o: AuditEventOrder) { auditEvents(first: 100, orderBy: $o) { edges { node { action createdAt } } } }`
		get := func(order any) ([]string, []string) {
			r := h.post(t, mxHostA, owner, doc, map[string]any{"o": order})
			require.Empty(t, r.Errors, r.Body)
			return edgeValues(t, r.Data, "auditEvents", "createdAt"), edgeValues(t, r.Data, "auditEvents", "action")
		}
		byDefault, _ := get(nil)
		require.GreaterOrEqual(t, len(byDefault), 4, "signup and three projects were audited")
		oldest, _ := get(map[string]any{"field": "CREATED_AT", "direction": "ASC"})
		require.True(t, slices.IsSortedFunc(oldest, func(a, b string) int {
			ta, err := time.Parse(time.RFC3339Nano, a)
			require.NoError(t, err)
			tb, err := time.Parse(time.RFC3339Nano, b)
			require.NoError(t, err)
			return ta.Compare(tb)
		}), "%v", oldest)
		slices.Reverse(byDefault)
		require.Equal(t, oldest, byDefault, "the default is newest first")
		_, actions := get(map[string]any{"field": "ACTION", "direction": "ASC"})
		require.True(t, slices.IsSorted(actions), "%v", actions)
	})
}
