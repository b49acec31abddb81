package rest_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/rest"
)

// rawRequest is one hostile request, written byte for byte to a fresh TCP
// connection so that nothing on the client side cleans it up (Go's client
// refuses bad Host values, header newlines, odd request targets, …).
type rawRequest struct {
	kind    string
	method  string
	target  string
	headers [][2]string
	body    []byte
}

func (r rawRequest) bytes() []byte {
	var b bytes.Buffer
	b.Grow(len(r.body) + 512)
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", r.method, r.target)
	for _, h := range r.headers {
		b.WriteString(h[0])
		b.WriteString(": ")
		b.WriteString(h[1])
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\nConnection: close\r\n\r\n", len(r.body))
	b.Write(r.body)
	return b.Bytes()
}

// malformedGen builds deterministic hostile requests.
type malformedGen struct {
	r         *rand.Rand
	tokens    []string // valid access tokens of the harness users
	refresh   []string // valid refresh tokens
	projectID string   // a real project of alpha
}

func (g *malformedGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *malformedGen) flip(tok string) string {
	b := []byte(tok)
	for range 1 + g.r.IntN(3) {
		i := g.r.IntN(len(b))
		b[i] ^= 1 << g.r.IntN(8)
	}
	return string(b)
}

func (g *malformedGen) method(normal string) string {
	if g.r.IntN(4) != 0 {
		return normal
	}
	return g.pick("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "PROPFIND",
		"MKCOL", "get", "post", "Patch", "CONNECT", "FOO", "M-SEARCH", strings.Repeat("X", 300), "GET\x01")
}

func (g *malformedGen) host() string {
	switch g.r.IntN(10) {
	case 0, 1, 2, 3, 4:
		return hostA
	case 5, 6:
		return hostB
	case 7:
		return hostPlatform
	default:
		return g.pick("", "127.0.0.1", "[::1]:80", "127.0.0.1:99999", "localhost",
			"ALPHA."+baseDomain, "alpha."+baseDomain+".", "nope."+baseDomain, "public."+baseDomain,
			"pg_catalog."+baseDomain, "a.b.c."+hostA, "alphа."+baseDomain, "xn--80a."+baseDomain,
			strings.Repeat("a", 300)+"."+baseDomain, "alpha;DROP SCHEMA x."+baseDomain, "%00."+baseDomain,
			"alpha."+baseDomain+":0", "[fe80::1%25eth0]", "a b", "@evil.com", "alpha..rest.test")
	}
}

func (g *malformedGen) authHeader() (string, bool) {
	switch g.r.IntN(12) {
	case 0, 1, 2, 3, 4:
		return "Bearer " + g.tokens[g.r.IntN(len(g.tokens))], true
	case 5, 6, 7:
		return "", false
	case 8:
		return "Bearer " + g.flip(g.tokens[g.r.IntN(len(g.tokens))]), true
	case 9:
		return "Bearer " + g.refresh[g.r.IntN(len(g.refresh))], true
	default:
		return g.pick("Bearer "+strings.Repeat("A", 5000), "Bearer a.b.c", "Bearer ", "Bearer", "bearer "+g.tokens[0],
			"Basic YWRtaW46YWRtaW4=", "Bearer "+strings.Repeat(".", 8000), "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
			"Bearer eyJ.eyJ.", "Token x", "Bearer "+g.tokens[0]+" "+g.tokens[0], "Bearer \x7f\x80\xff",
			"Bearer eyJhbGciOiJIUzI1NiIsImtpZCI6Ii4uLy4uL2Rldi9udWxsIn0.e30.x", strings.Repeat("Bearer ", 500)), true
	}
}

func (g *malformedGen) contentType() string {
	switch g.r.IntN(8) {
	case 0, 1, 2, 3, 4:
		return "application/json"
	default:
		return g.pick("", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
			"application/json; charset=latin1", "application/json;;;", "application/graphql", "APPLICATION/JSON",
			"application/json; charset=utf-8; x=\"", "*/*", "garbage\x01", strings.Repeat("a/", 2000),
			"application/vnd.api+json", "application/json, text/plain")
	}
}

func (g *malformedGen) extraHeaders() [][2]string {
	var out [][2]string
	for range g.r.IntN(3) {
		switch g.r.IntN(8) {
		case 0:
			out = append(out, [2]string{"X-Tenant", g.pick(slugA, slugB, "public", "pg_catalog", "information_schema",
				"acme;DROP SCHEMA x", "../a", "alphа", strings.Repeat("a", 70), "", "ALPHA", "nope", "\xff\xfe", "a b")})
		case 1:
			out = append(out, [2]string{"X-Request-ID", g.pick("abc\r\nX-Injected: 1", "abc\nfoo", strings.Repeat("r", 5000),
				"\x00", "id\twith\ttabs", "ünïcode")})
		case 2:
			out = append(out, [2]string{"X-Forwarded-Host", g.pick(hostB, "evil.com", "a,b,c")})
		case 3:
			out = append(out, [2]string{"X-Forwarded-For", g.pick("1.2.3.4", "garbage", "::1, 10.0.0.1", strings.Repeat("1.", 1000))})
		case 4:
			out = append(out, [2]string{"Accept", g.pick("*/*", "text/html", "application/xml", "\x01")})
		case 5:
			out = append(out, [2]string{"Origin", g.pick("https://evil.com", "null", "http://"+hostA)})
		case 6:
			// No Transfer-Encoding: the raw bodies are not chunked, so the
			// server would wait for chunks; and net/http itself answers an
			// unknown or repeated coding with 501 (RFC 9112 §6.1).
			out = append(out, [2]string{"X-Tenant", slugB})
		case 7:
			out = append(out, [2]string{"Content-Encoding", g.pick("gzip", "br", "deflate")})
		}
	}
	return out
}

func (g *malformedGen) uuidish() string {
	return g.pick(g.projectID, "00000000-0000-0000-0000-000000000000", "not-a-uuid", "1", "-1",
		strings.ToUpper(g.projectID), g.projectID+"0", g.projectID[:10], "ffffffff-ffff-ffff-ffff-fffffffffffg",
		"%00", "..%2F..%2Fetc%2Fpasswd", strings.Repeat("9", 400), "'%20OR%201=1--", "%E2%98%83", "{id}",
		"00000000000000000000000000000000", "%FF%FE", "null", "undefined")
}

func (g *malformedGen) query() string {
	if g.r.IntN(3) != 0 {
		return ""
	}
	var ps []string
	for range 1 + g.r.IntN(4) {
		ps = append(ps, g.pick("limit=-1", "limit=1e9", "limit=0", "limit=100000000", "limit=abc", "limit=",
			"limit=99999999999999999999999", "limit=1&limit=2", "cursor=garbage", "cursor=%%%", "cursor=AAAA",
			"cursor="+strings.Repeat("Z", 4000), "cursor=gaFpxBCrkfxo08BF4obZSeCYJpT0", "cursor=%00", "access_token=x",
			"sort=-name", "filter[name]=x", "a=%ZZ", "include=owner", "limit=10", "limit=1.5", "limit=%2B5", "x="+strings.Repeat("y", 3000)))
	}
	return "?" + strings.Join(ps, "&")
}

func deep(open, close string, n int) string {
	return strings.Repeat(open, n) + strings.Repeat(close, n)
}

func (g *malformedGen) jsonBody() []byte {
	switch g.r.IntN(26) {
	case 0:
		return nil
	case 1:
		return []byte(`{"name":`)
	case 2:
		return []byte(deep("[", "]", 10_000))
	case 3:
		return []byte(deep(`{"a":`, "}", 10_000))
	case 4:
		return []byte(`{"name":1e999999,"limit":123456789012345678901234567890}`)
	case 5:
		return []byte(`{"name":5,"description":true,"status":[],"email":{},"password":null}`)
	case 6:
		return []byte("{\"name\":\"a\x00b\"}\x00")
	case 7:
		return []byte("{\"name\":\"\xff\xfe\xc3\x28\"}")
	case 8:
		return append(append([]byte(`{"name":"`), bytes.Repeat([]byte("x"), 2<<20)...), '"', '}')
	case 9:
		return []byte(`[{"name":"x"},{"name":"y"}]`)
	case 10:
		return []byte(`{"name":"x","name":"y","email":"a@b.c","email":"c@d.e"}`)
	case 11:
		return []byte(`{"name":"x"} {"name":"y"}`)
	case 12:
		return []byte(`{"role":"owner","tenant_id":"` + g.projectID + `","email_verified":true,"is_staff":true}`)
	case 13:
		return []byte(`{"email":"owner@alpha.rest.test","password":"` + strings.Repeat("p", 5000) + `"}`)
	case 14:
		return []byte(`{"email":"` + strings.Repeat("a", 3000) + `@x","password":"x"}`)
	case 15:
		return []byte(`{"refresh_token":"` + g.pick(g.flip(g.refresh[0]), "x", strings.Repeat(".", 6000), "") + `"}`)
	case 16:
		return []byte(`{"refresh_token":123}`)
	case 17:
		return []byte(`"just a string"`)
	case 18:
		return []byte(`null`)
	case 19:
		return []byte(`{"name":"\ud800","description":"\u0000"}`)
	case 20:
		return []byte(`{"attributes":{"name":"x"},"data":{"type":"project"}}`)
	case 21:
		return []byte(`{"name":"fuzz-` + strconv.Itoa(g.r.IntN(1000)) + `","attributes":` + deep(`{"a":`, "}", 500) + `}`)
	case 22:
		var b strings.Builder
		b.WriteString(`{"items":[`)
		for i := range 10_000 {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"k":1}`)
		}
		b.WriteString(`]}`)
		return []byte(b.String())
	case 23:
		return bytes.Repeat([]byte(" "), 1<<20+10)
	case 24:
		return []byte(`{"name":"` + strings.Repeat("ü", 20_000) + `"}`)
	default:
		b := make([]byte, g.r.IntN(2000))
		for i := range b {
			b[i] = byte(g.r.IntN(256))
		}
		return b
	}
}

var restRoutes = []struct{ method, path string }{
	{"GET", ""}, {"GET", "/"}, {"GET", "/openapi.json"},
	{"POST", "/auth/login"}, {"POST", "/auth/refresh"}, {"POST", "/auth/logout"},
	{"GET", "/users/me"}, {"PATCH", "/users/me"},
	{"GET", "/projects"}, {"POST", "/projects"},
	{"GET", "/projects/{id}"}, {"PUT", "/projects/{id}"}, {"PATCH", "/projects/{id}"}, {"DELETE", "/projects/{id}"},
	{"GET", "/projects/{id}/items"}, {"POST", "/projects/{id}/items"},
	{"GET", "/unknown"}, {"POST", "/projects/{id}/items/{id}"}, {"GET", "/admin"},
}

func (g *malformedGen) restPath(p string) string {
	for strings.Contains(p, "{id}") {
		p = strings.Replace(p, "{id}", g.uuidish(), 1)
	}
	p = rest.Prefix + p
	switch g.r.IntN(10) {
	case 0:
		p = strings.Replace(p, "/", "//", 1+g.r.IntN(3))
	case 1:
		p += g.pick("%00", "/../../etc/passwd", "/..", "/.", "/%2e%2e/", "%2F", "/"+strings.Repeat("s", 10_000),
			"/☃/ü", "/%C0%AE%C0%AE/", "/;jsessionid=x", "#frag", "/%", "/%G0")
	case 2:
		p = g.pick(p, "/api/v1/../v1/users/me", "/API/V1/users/me", "/api/v2/projects", "/api/v1/projects/../users/me",
			"/api/v1/%2e%2e/graphql", "//api/v1", "/api/v1/auth", "/api/v1/auth/login/extra", "/api/v1/projects/"+g.projectID+"/items/",
			"*", "http://evil.com/api/v1/users/me", "/api/v1/users/me?", "/api/v1\x00/users", "/api/v1/openapi.json/..")
	}
	return p
}

func (g *malformedGen) restRequest() rawRequest {
	route := restRoutes[g.r.IntN(len(restRoutes))]
	req := rawRequest{kind: "rest" + route.path, method: g.method(route.method)}
	req.target = g.restPath(route.path) + g.query()
	req.headers = append(req.headers, [2]string{"Host", g.host()})
	if a, ok := g.authHeader(); ok {
		if route.path == "/auth/logout" && strings.HasPrefix(a, "Bearer ") && slices.Contains(g.tokens, a[len("Bearer "):]) {
			a = "Bearer " + g.flip(a[len("Bearer "):]) // keep the shared sessions alive
		}
		req.headers = append(req.headers, [2]string{"Authorization", a})
	}
	if route.method != "GET" || g.r.IntN(5) == 0 {
		req.body = g.jsonBody()
		if ct := g.contentType(); ct != "" {
			req.headers = append(req.headers, [2]string{"Content-Type", ct})
		}
	}
	req.headers = append(req.headers, g.extraHeaders()...)
	return req
}

func (g *malformedGen) gqlDoc() string {
	switch g.r.IntN(24) {
	case 0:
		return `{ me { id email `
	case 1:
		return `{ usr { id } }`
	case 2:
		return `{ me { passwordHash } }`
	case 3:
		return "{ " + deep("me { ", "} ", 30) + "}"
	case 4:
		return "{ projects { edges { node { owner { " + deep("a { ", "} ", 20) + "} } } } }"
	case 5:
		var b strings.Builder
		b.WriteString("{ ")
		for i := range 100 {
			fmt.Fprintf(&b, "a%d: projects(first: 100) { edges { node { id name } } } ", i)
		}
		b.WriteString("}")
		return b.String()
	case 6:
		var b strings.Builder
		b.WriteString("mutation { ")
		for i := range 50 {
			fmt.Fprintf(&b, `l%d: login(input: {email: "owner@alpha.rest.test", password: "p%d"}) { accessToken } `, i, i)
		}
		b.WriteString("}")
		return b.String()
	case 7:
		return "{ __typename " + strings.Repeat("@a ", 1000) + "}"
	case 8:
		return "{ __typename " + strings.Repeat("@include(if: true) ", 20_000) + "}"
	case 9:
		return `{ version hello: version x: __typename s: version(a: "` + strings.Repeat("z", 200_000) + `") }`
	case 10:
		return `{ __schema { types { name fields { name type { name ofType { name ofType { name } } } } } } }`
	case 11:
		return `{ __type(name: "User") { name fields { name } } }`
	case 12:
		return `query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }`
	case 13:
		return `query { ...A } fragment A on Query { version ...A }`
	case 14:
		return "{ " + deep("... on Query { ", "} ", 2000) + "}"
	case 15:
		return `query Q($id: ID!, $first: Int) { project(id: $id) { id } projects(first: $first) { edges { node { id } } } }`
	case 16:
		return `{ projects(first: 99999999) { edges { node { id } } } }`
	case 17:
		return `{ projects(first: -1, after: "garbage") { edges { node { id } } } }`
	case 18:
		return `mutation { createProject(input: {name: 5}) { id } }`
	case 19:
		return `mutation { createProject(input: {name: "x", role: "owner"}) { id } }`
	case 20:
		return `subscription { x }`
	case 21:
		return `{ members { id user { email } } roles { name } myPermissions currentTenant { id slug } }`
	case 22:
		return strings.Repeat(" ", 1<<20)
	default:
		return `query A { version } query B { version }`
	}
}

func (g *malformedGen) gqlBody() []byte {
	doc := g.gqlDoc()
	q := strconv.Quote(doc)
	switch g.r.IntN(14) {
	case 0:
		return []byte(`[{"query":` + q + `},{"query":"{version}"}]`)
	case 1:
		return []byte(`{"query":` + q + `,"variables":{"id":123,"first":"ten"}}`)
	case 2:
		return []byte(`{"query":` + q + `,"variables":{"id":` + deep("[", "]", 5000) + `,"first":1e99}}`)
	case 3:
		return []byte(`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + strings.Repeat("ab", 32) + `"}}}`)
	case 4:
		return []byte(`{"query":` + q + `,"extensions":{"persistedQuery":{"version":1,"sha256Hash":"deadbeef"}}}`)
	case 5:
		return []byte(`{"query":` + q + `,"operationName":"Nope"}`)
	case 6:
		return []byte(`{"query":123}`)
	case 7:
		return []byte(`{"query":` + q + `,"variables":"not an object"}`)
	case 8:
		return []byte(`{"query":` + q)
	case 9:
		return []byte(`{"query":` + q + `,"query":"{version}"}`)
	case 10:
		return g.jsonBody()
	default:
		return []byte(`{"query":` + q + `,"variables":{"id":"` + g.uuidish() + `","first":` + g.pick("1", "-5", "100000000", "null", `"x"`) + `}}`)
	}
}

func (g *malformedGen) gqlRequest() rawRequest {
	req := rawRequest{kind: "graphql", method: g.method("POST")}
	path := g.pick("/graphql", "/graphql", "/graphql", "/graphql/", "//graphql", "/graphql/x", "/graphql%00", "/GRAPHQL")
	if g.r.IntN(5) == 0 {
		req.method = g.method("GET")
		qs := url.Values{}
		qs.Set("query", g.gqlDoc())
		if g.r.IntN(2) == 0 {
			qs.Set("variables", g.pick(`{"id":1}`, `garbage`, `[]`))
		}
		if g.r.IntN(3) == 0 {
			qs.Set("extensions", `{"persistedQuery":{"version":1,"sha256Hash":"`+strings.Repeat("cd", 32)+`"}}`)
		}
		if g.r.IntN(4) == 0 {
			qs.Set("query", "mutation { logoutAll }")
		}
		req.target = path + "?" + qs.Encode()
	} else {
		req.target = path
		req.body = g.gqlBody()
		if ct := g.contentType(); ct != "" {
			req.headers = append(req.headers, [2]string{"Content-Type", ct})
		}
	}
	req.headers = append(req.headers, [2]string{"Host", g.host()})
	if a, ok := g.authHeader(); ok {
		req.headers = append(req.headers, [2]string{"Authorization", a})
	}
	req.headers = append(req.headers, g.extraHeaders()...)
	return req
}

// next returns the i-th request: about 60% REST and 40% GraphQL, plus a
// few requests that break the HTTP framing itself.
func (g *malformedGen) next(i int) rawRequest {
	switch {
	case i%50 == 49:
		return g.brokenFraming()
	case g.r.IntN(10) < 6:
		return g.restRequest()
	default:
		return g.gqlRequest()
	}
}

func (g *malformedGen) brokenFraming() rawRequest {
	req := g.restRequest()
	req.kind = "framing"
	switch g.r.IntN(5) {
	case 0:
		req.target = "/api/v1/users/me HTTP/1.1\r\nX-Smuggled: 1\r\n\r\nGET /api/v1"
	case 1:
		req.headers = append(req.headers, [2]string{"X-Big", strings.Repeat("h", 70_000)})
	case 2:
		req.headers = append(req.headers, [2]string{"Bad Header", "x"}, [2]string{"", "empty"})
	case 3:
		req.headers = append(req.headers, [2]string{"Host", hostB})
	default:
		req.target = "/api/v1/" + strings.Repeat("%zz", 100)
	}
	return req
}

type malformedResult struct {
	status           int
	err              error
	resetAfterAnswer bool
}

// sendRaw writes req to a fresh connection and reads the answer. The body
// is written concurrently: the server may answer 413 and close before it
// read everything, which is not a failure when the answer arrived.
func sendRaw(addr string, req rawRequest, timeout time.Duration) malformedResult {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return malformedResult{err: fmt.Errorf("dial: %w", err)}
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	go func() { _, _ = conn.Write(req.bytes()) }()
	res, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: req.method})
	if err != nil {
		return malformedResult{err: fmt.Errorf("read response: %w", err)}
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		// net/http answers a request it cannot parse (400, 431) and closes
		// at once; the unread rest of our request then makes the kernel
		// reset the connection under the answer's body. The answer was
		// given, so that is no crash; it is counted apart.
		if res.StatusCode < 500 && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)) {
			return malformedResult{status: res.StatusCode, resetAfterAnswer: true}
		}
		return malformedResult{status: res.StatusCode, err: fmt.Errorf("read body: %w", err)}
	}
	return malformedResult{status: res.StatusCode}
}

// TestTenThousandMalformedRequestsNeverFail sends ≥10,000 deterministic
// malformed or hostile requests across /api/v1 and /graphql through the
// served chain (reliability matrix §1.12 and §2): none may answer 5xx or
// break the connection, and the server must still answer afterwards.
func TestTenThousandMalformedRequestsNeverFail(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	var tokens, refresh []string
	for _, r := range roles {
		if r == anonymous {
			continue
		}
		tok := h.loginUser(t, h.users[r])
		tokens = append(tokens, tok.AccessToken)
		refresh = append(refresh, tok.RefreshToken)
	}
	ownerTok := h.loginUser(t, h.users[owner]).AccessToken
	projectID := h.createProject(t, hostA, ownerTok, "malformed-fixture")

	const total = 10_000
	const workers = 16
	const budget = 150 * time.Second
	g := &malformedGen{r: rand.New(rand.NewPCG(20261127, 12)), tokens: tokens, refresh: refresh, projectID: projectID}
	reqs := make([]rawRequest, total)
	for i := range reqs {
		reqs[i] = g.next(i)
	}

	addr := strings.TrimPrefix(h.srv.URL, "http://")
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	start := time.Now()
	var (
		mu       sync.Mutex
		hist     = map[int]int{}
		failures []string
		sent     atomic.Int64
		resets   = map[int]int{}
		wg       sync.WaitGroup
	)
	work := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range work {
				req := reqs[i]
				res := sendRaw(addr, req, 20*time.Second)
				sent.Add(1)
				mu.Lock()
				hist[res.status]++
				if res.resetAfterAnswer {
					resets[res.status]++
				}
				if res.err != nil || res.status >= 500 {
					if len(failures) < 30 {
						failures = append(failures, fmt.Sprintf("#%d %s %s %.200q: status %d err %v",
							i, req.kind, req.method, req.target, res.status, res.err)+fmt.Sprintf(" headers %.300q", req.headers))
					}
				}
				mu.Unlock()
			}
		})
	}
feed:
	for i := range reqs {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)

	codes := make([]int, 0, len(hist))
	for c := range hist {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var histText strings.Builder
	var fivexx int
	for _, c := range codes {
		fmt.Fprintf(&histText, " %d:%d", c, hist[c])
		if c >= 500 {
			fivexx += hist[c]
		}
	}
	t.Logf("malformed requests: sent %d in %s (%d workers); status histogram (0 = transport error):%s; "+
		"connections reset after a 4xx answer, by status: %v",
		sent.Load(), elapsed.Round(time.Millisecond), workers, histText.String(), resets)

	require.NoError(t, ctx.Err(), "the run exceeded its %s budget after %d requests", budget, sent.Load())
	require.EqualValues(t, total, sent.Load())
	require.Empty(t, failures, "5xx answers or transport errors")
	require.Zero(t, fivexx)
	require.Zero(t, hist[0], "transport errors")

	// The server still answers.
	rec := h.call(t, http.MethodGet, hostA, "", "", nil)
	require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
	me := h.call(t, http.MethodGet, hostA, ownerTok, "/users/me", nil)
	require.Equal(t, http.StatusOK, me.Code, "body: %s", me.Body)
	require.NotContains(t, h.logs.String(), "panic_recovered")
}
