package playground

import (
	"crypto/sha256"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	testPrefix   = "/playground"
	testEndpoint = "/graphql"
)

// newServer mounts the playground the way the package doc says to.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	h := Handler(testPrefix, testEndpoint)
	mux := http.NewServeMux()
	mux.Handle(testPrefix, h)
	mux.Handle(testPrefix+"/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, url string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

func getPage(t *testing.T, srv *httptest.Server) (*http.Response, string) {
	t.Helper()
	resp, body := do(t, http.MethodGet, srv.URL+testPrefix, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return resp, string(body)
}

func sri(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

var (
	tagRe   = regexp.MustCompile(`<(script|link)\b[^>]*>`)
	attrRe  = regexp.MustCompile(`\b([a-z-]+)="([^"]*)"`)
	nonceRe = regexp.MustCompile(`'nonce-([^']+)'`)
)

type tag struct {
	name  string
	attrs map[string]string
}

func tags(page string) []tag {
	var out []tag
	for _, m := range tagRe.FindAllStringSubmatch(page, -1) {
		attrs := map[string]string{}
		for _, a := range attrRe.FindAllStringSubmatch(m[0], -1) {
			attrs[a[1]] = html.UnescapeString(a[2])
		}
		out = append(out, tag{name: m[1], attrs: attrs})
	}
	return out
}

func TestPageIsHTMLAndPostsToTheEndpoint(t *testing.T) {
	t.Parallel()
	srv := newServer(t)

	resp, page := getPage(t, srv)

	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	require.Contains(t, page, `data-endpoint="`+testEndpoint+`"`)
	require.Contains(t, page, "GraphiQL.createFetcher")
	require.Contains(t, page, "ReactDOM.createRoot")
}

func TestPageIsAlsoServedWithTrailingSlash(t *testing.T) {
	t.Parallel()
	srv := newServer(t)

	resp, body := do(t, http.MethodGet, srv.URL+testPrefix+"/", nil)

	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), `id="graphiql"`)
}

func TestPageReferencesNoOtherHost(t *testing.T) {
	t.Parallel()
	srv := newServer(t)

	_, page := getPage(t, srv)

	lower := strings.ToLower(page)
	for _, banned := range []string{"http://", "https://", "//cdn", "cdn.", "jsdelivr", "unpkg", "googleapis", "gstatic"} {
		require.NotContains(t, lower, banned)
	}
	for _, tg := range tags(page) {
		for _, attr := range []string{"src", "href"} {
			if v, ok := tg.attrs[attr]; ok && v != "data:," {
				require.True(t, strings.HasPrefix(v, testPrefix+"/assets/"), "%s %s=%q is not a local asset", tg.name, attr, v)
			}
		}
	}
}

func TestPageAssetsAreServedWithTypeAndMatchingIntegrity(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	_, page := getPage(t, srv)

	wantType := map[string]string{"script": "text/javascript; charset=utf-8", "link": "text/css; charset=utf-8"}
	seen := map[string]int{}
	for _, tg := range tags(page) {
		url := tg.attrs["src"]
		if tg.name == "link" {
			if tg.attrs["rel"] == "icon" { // an empty inline icon, so no /favicon.ico request
				require.Equal(t, "data:,", tg.attrs["href"])
				continue
			}
			require.Equal(t, "stylesheet", tg.attrs["rel"])
			url = tg.attrs["href"]
		}
		if url == "" { // the inline boot script
			continue
		}
		seen[tg.name]++

		resp, body := do(t, http.MethodGet, srv.URL+url, nil)

		require.Equal(t, http.StatusOK, resp.StatusCode, url)
		require.Equal(t, wantType[tg.name], resp.Header.Get("Content-Type"), url)
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), url)
		require.Equal(t, sri(body), tg.attrs["integrity"], url)
		require.Equal(t, "anonymous", tg.attrs["crossorigin"], url)
	}
	require.Equal(t, map[string]int{"script": 3, "link": 1}, seen)
}

func TestEmbeddedAssetsAreThePinnedUpstreamFiles(t *testing.T) {
	t.Parallel()
	// The values in assets/README.md: graphiql@4.1.2, react@18.2.0 and
	// react-dom@18.2.0 from npm, equal to gqlgen v0.17.98's defaults.
	want := map[string]string{
		"graphiql.min.js":             "sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs=",
		"graphiql.min.css":            "sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU=",
		"react.production.min.js":     "sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY=",
		"react-dom.production.min.js": "sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc=",
	}
	got := map[string]string{}
	for name, a := range assets() {
		got[name] = sri(a.body)
	}
	require.Equal(t, want, got)
}

func TestAssetsAreCachedLongAndRevalidateByETag(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	url := srv.URL + testPrefix + "/assets/graphiql.min.css"

	resp, _ := do(t, http.MethodGet, url, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "public, max-age=31536000, immutable", resp.Header.Get("Cache-Control"))
	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)

	resp, body := do(t, http.MethodGet, url, http.Header{"If-None-Match": {etag}})
	require.Equal(t, http.StatusNotModified, resp.StatusCode)
	require.Empty(t, body)
}

func TestCSPAllowsOnlyTheInlineScriptCarryingTheRequestNonce(t *testing.T) {
	t.Parallel()
	srv := newServer(t)

	resp, page := getPage(t, srv)

	policy := resp.Header.Get("Content-Security-Policy")
	require.NotEmpty(t, policy)
	for _, directive := range []string{
		"default-src 'none'",
		"style-src 'self' 'unsafe-inline'",
		"connect-src 'self'",
		"img-src 'self' data:",
		"font-src 'self' data:",
	} {
		require.Contains(t, policy, directive)
	}
	require.NotContains(t, policy, "unsafe-eval")
	m := nonceRe.FindStringSubmatch(policy)
	require.NotNil(t, m, policy)
	nonce := m[1]
	require.GreaterOrEqual(t, len(nonce), 16)
	require.Contains(t, policy, "script-src 'self' 'nonce-"+nonce+"'")

	var inline []tag
	for _, tg := range tags(page) {
		if tg.name == "script" && tg.attrs["src"] == "" {
			inline = append(inline, tg)
		}
	}
	require.Len(t, inline, 1)
	require.Equal(t, nonce, inline[0].attrs["nonce"])
}

func TestNonceIsNewOnEveryRequest(t *testing.T) {
	t.Parallel()
	srv := newServer(t)

	first, _ := getPage(t, srv)
	second, _ := getPage(t, srv)

	require.NotEqual(t,
		first.Header.Get("Content-Security-Policy"),
		second.Header.Get("Content-Security-Policy"))
}

func TestPageHasTokenAndTenantInputsSentAsHeaders(t *testing.T) {
	t.Parallel()
	srv := newServer(t)

	_, page := getPage(t, srv)

	require.Contains(t, page, `id="pg-token"`)
	require.Contains(t, page, `id="pg-tenant"`)
	require.Contains(t, page, "Bearer token")
	require.Contains(t, page, "localStorage")
	require.Contains(t, page, `'Authorization', 'Bearer ' + t`)
	require.Contains(t, page, `'X-Tenant', x`)
}

func TestHeadAnswersWithoutBody(t *testing.T) {
	t.Parallel()
	srv := newServer(t)

	for _, path := range []string{testPrefix, testPrefix + "/assets/react.production.min.js"} {
		resp, body := do(t, http.MethodHead, srv.URL+path, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.Empty(t, body, path)
	}
}

func TestOtherMethodsAreRejectedWith405(t *testing.T) {
	t.Parallel()
	srv := newServer(t)

	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		for _, path := range []string{testPrefix, testPrefix + "/assets/graphiql.min.js"} {
			resp, _ := do(t, method, srv.URL+path, nil)
			require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "%s %s", method, path)
			require.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
		}
	}
}

func TestUnknownPathsUnderThePrefixAre404(t *testing.T) {
	t.Parallel()
	srv := newServer(t)

	for _, path := range []string{
		testPrefix + "/assets/",
		testPrefix + "/assets/nope.js",
		testPrefix + "/assets/README.md",
		testPrefix + "/assets/index.umd.js.map",
		testPrefix + "/assets/%2e%2e/playground.go",
		testPrefix + "/other",
	} {
		resp, _ := do(t, http.MethodGet, srv.URL+path, nil)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}
}

func TestHandlerRefusesAnEndpointOnAnotherOrigin(t *testing.T) {
	t.Parallel()

	for _, endpoint := range []string{"https://api.example.com/graphql", "//example.com/graphql", "graphql", ""} {
		require.Panics(t, func() { Handler(testPrefix, endpoint) }, endpoint)
	}
	require.NotPanics(t, func() { Handler("", "/graphql") })
}
