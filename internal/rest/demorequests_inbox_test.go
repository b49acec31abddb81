package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/rest"
)

// TestAPIDemoRequestInbox pages through a harness of its own, so the list
// holds exactly the requests the test made.
func TestAPIDemoRequestInbox(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	staffTok := h.token(t, staff)
	// oldest … newest: created 4, 3, 2 and 1 hours ago.
	var ids [4]string
	for i := range ids {
		ids[i] = h.createDemoRequest(t, fmt.Sprintf("Inbox %d", i))
		_, err := h.pool.Exec(context.Background(), `UPDATE public.demo_requests SET created_at = now() - make_interval(hours => $2)
			WHERE id = $1::uuid`, ids[i], 4-i)
		require.NoError(t, err)
	}
	for id, status := range map[string]string{ids[1]: "contacted", ids[2]: "closed"} {
		rec := h.call(t, http.MethodPatch, hostPlatform, staffTok, "/demo-requests/"+id, map[string]any{"status": status})
		requireData(t, rec, http.StatusOK)
	}
	list := func(t *testing.T, query string) ([]string, map[string]any) {
		t.Helper()
		items, page := requireList(t, h.call(t, http.MethodGet, hostPlatform, staffTok, "/demo-requests"+query, nil), "demo_request")
		out := make([]string, 0, len(items))
		for _, it := range items {
			require.ElementsMatch(t, demoRequestFields, keys(attrs(it)))
			out = append(out, it["id"].(string))
		}
		return out, page
	}

	t.Run("NewestFirstInPages", func(t *testing.T) {
		t.Parallel()
		got, page := list(t, "?limit=3")
		require.Equal(t, []string{ids[3], ids[2], ids[1]}, got)
		require.Equal(t, true, page["has_more"])
		require.Equal(t, 3.0, page["limit"])
		cursor, ok := page["next_cursor"].(string)
		require.True(t, ok, "a next cursor: %v", page)
		got, page = list(t, "?limit=3&cursor="+url.QueryEscape(cursor))
		require.Equal(t, []string{ids[0]}, got)
		require.Equal(t, map[string]any{"next_cursor": nil, "has_more": false, "limit": 3.0}, page)
		got, page = list(t, "/")
		require.Equal(t, []string{ids[3], ids[2], ids[1], ids[0]}, got)
		require.Equal(t, float64(rest.DefaultLimit), page["limit"])
	})

	t.Run("FiltersByStatus", func(t *testing.T) {
		t.Parallel()
		for query, want := range map[string][]string{
			"?status=new":                          {ids[3], ids[0]},
			"?status=contacted":                    {ids[1]},
			"?status=contacted,closed":             {ids[2], ids[1]},
			"?status=closed&status=contacted":      {ids[2], ids[1]},
			"?status=qualified":                    {},
			"?status=new&limit=1":                  {ids[3]},
			"?status=new,%20contacted,closed,new":  {ids[3], ids[2], ids[1], ids[0]},
			"?status=closed,contacted&cursor=&x=y": {ids[2], ids[1]},
		} {
			got, _ := list(t, query)
			require.Equal(t, want, got, query)
		}
	})

	t.Run("AgreesWithGraphQL", func(t *testing.T) {
		t.Parallel()
		got, _ := list(t, "?status=contacted,closed")
		res := h.gql(t, hostPlatform, staffTok, `{ demoRequests(first: 10, where: {statusIn: [contacted, closed]}) { edges { node { id } } } }`, nil)
		require.Empty(t, res.Errors, res.Body)
		var gqlIDs []string
		for _, e := range res.Data["demoRequests"].(map[string]any)["edges"].([]any) {
			gqlIDs = append(gqlIDs, e.(map[string]any)["node"].(map[string]any)["id"].(string))
		}
		require.Equal(t, gqlIDs, got)
	})

	t.Run("BadParametersAreValidationErrors", func(t *testing.T) {
		t.Parallel()
		for query, field := range map[string]string{
			"?status=won": "status", "?status=new,": "status", "?status=NEW": "status",
			"?limit=0": "limit", "?limit=101": "limit", "?cursor=zz": "cursor",
		} {
			rec := h.call(t, http.MethodGet, hostPlatform, staffTok, "/demo-requests"+query, nil)
			e := requireError(t, rec, http.StatusBadRequest, apperr.CodeValidation)
			require.Contains(t, details(e), field, query)
		}
	})
}

// TestAPIDemoRequestThrottle trusts X-Forwarded-For from the test client,
// as production trusts its proxies, so the calls come from several client
// addresses; the per-address and per-email limits are 2.
func TestAPIDemoRequestThrottle(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, harnessOptions{trustLoopback: true, demoPerIP: 2, demoPerEmail: 2})
	post := func(t *testing.T, ip string, body any) *httptest.ResponseRecorder {
		t.Helper()
		r := request{method: http.MethodPost, host: hostPlatform, path: rest.Prefix + "/demo-requests",
			header: http.Header{"X-Forwarded-For": {ip}}}
		r.body = jsonBody(t, body)
		return h.send(t, r)
	}
	fresh := func(company string) map[string]any {
		return demoForm(fmt.Sprintf("throttle%d@prospect.test", h.next()), company)
	}
	requireThrottled := func(t *testing.T, res *httptest.ResponseRecorder) {
		t.Helper()
		e := requireError(t, res, http.StatusTooManyRequests, apperr.CodeRateLimited)
		require.Equal(t, []string{"retry_after_seconds"}, keys(details(e)))
		secs, err := strconv.Atoi(details(e)["retry_after_seconds"].([]any)[0].(string))
		require.NoError(t, err)
		require.True(t, secs > 0 && secs <= 24*3600, "retry after %d s", secs)
	}

	t.Run("PerClientAddress", func(t *testing.T) {
		t.Parallel()
		for range 2 {
			requireData(t, post(t, "203.0.113.7", fresh("Per IP")), http.StatusCreated)
		}
		requireThrottled(t, post(t, "203.0.113.7", fresh("Per IP")))
		require.Equal(t, "2", h.countDemoRequests(t, "Per IP"), "a throttled request stores nothing")
		requireData(t, post(t, "203.0.113.8", fresh("Other IP")), http.StatusCreated)
		require.Equal(t, "203.0.113.8", h.scalar(t, `SELECT source_ip FROM public.demo_requests WHERE company = 'Other IP'`),
			"the address is the client's, as httpserver resolves it")
	})

	t.Run("PerEmail", func(t *testing.T) {
		t.Parallel()
		form := fresh("Per email")
		requireData(t, post(t, "198.51.100.1", form), http.StatusCreated)
		requireData(t, post(t, "198.51.100.2", form), http.StatusCreated)
		requireThrottled(t, post(t, "198.51.100.3", form))
		require.Equal(t, "2", h.countDemoRequests(t, "Per email"))
	})

	t.Run("InvalidRequestsAreNotCounted", func(t *testing.T) {
		t.Parallel()
		for range 3 {
			requireError(t, post(t, "198.51.100.9", map[string]any{"name": "", "email": "x", "company": "Bad"}),
				http.StatusBadRequest, apperr.CodeValidation)
		}
		requireData(t, post(t, "198.51.100.9", fresh("Counted")), http.StatusCreated)
	})

	t.Run("RESTAndGraphQLShareTheThrottle", func(t *testing.T) {
		t.Parallel()
		const doc = `mutation($in: RequestDemoInput!) { requestDemo(input: $in) { id } }`
		gqlFrom := func(ip string) gqlResponse {
			var out gqlResponse
			rec := h.send(t, request{method: http.MethodPost, host: hostPlatform, path: "/graphql", header: http.Header{"X-Forwarded-For": {ip}},
				body: jsonBody(t, map[string]any{"query": doc, "variables": map[string]any{"in": fresh("Shared")}})})
			out.Body = rec.Body.String()
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out), out.Body)
			return out
		}
		requireData(t, post(t, "192.0.2.44", fresh("Shared")), http.StatusCreated)
		require.Equal(t, allowed, gqlFrom("192.0.2.44").outcome("requestDemo"))
		requireThrottled(t, post(t, "192.0.2.44", fresh("Shared")))
		require.Equal(t, string(apperr.CodeRateLimited), gqlFrom("192.0.2.44").outcome("requestDemo"))
	})

	t.Run("AnswersAsTheSignInThrottleDoes", func(t *testing.T) {
		t.Parallel()
		// The per-address sign-in limit is the layer's other throttle: its
		// 429 has the same shape (details.retry_after_seconds, and the same
		// headers).
		var login *httptest.ResponseRecorder
		for i := range auth.IPAttemptLimit + 1 {
			login = h.send(t, request{method: http.MethodPost, host: hostPlatform, path: rest.Prefix + "/auth/login",
				header: http.Header{"X-Forwarded-For": {"192.0.2.99"}},
				body:   jsonBody(t, map[string]any{"email": fmt.Sprintf("nobody%d@%s", i, baseDomain), "password": "wrong-password-1"})})
		}
		requireThrottled(t, login)
		for range 2 {
			post(t, "192.0.2.99", fresh("Like login"))
		}
		demo := post(t, "192.0.2.99", fresh("Like login"))
		requireThrottled(t, demo)
		for _, rec := range []*httptest.ResponseRecorder{login, demo} {
			secs, err := strconv.Atoi(rec.Header().Get("Retry-After"))
			require.NoError(t, err, "Retry-After says when to come back, in seconds")
			require.Positive(t, secs)
		}
	})
}

// jsonBody marshals v as a request body.
func jsonBody(t *testing.T, v any) io.Reader {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return bytes.NewReader(raw)
}
