package playground

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// chromiumPath is where the Debian package chromium puts the browser;
// scripts/services.sh installs it.
const chromiumPath = "/usr/bin/chromium"

// fakeGraphQL stands in for the API: it answers GraphiQL's introspection with
// the schema `type Query { me: User } type User { id: ID! email: String! }`,
// answers a query for me, and keeps the headers of the requests for me.
type fakeGraphQL struct {
	mu        sync.Mutex
	queries   []string // the query of each request, in order
	meHeaders []http.Header
}

func (f *fakeGraphQL) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.queries = append(f.queries, req.Query)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.Contains(req.Query, "__schema"):
		_, _ = io.WriteString(w, introspectionResult)
	case strings.Contains(req.Query, "me"):
		f.mu.Lock()
		f.meHeaders = append(f.meHeaders, r.Header.Clone())
		f.mu.Unlock()
		_, _ = io.WriteString(w, `{"data":{"me":{"id":"u1","email":"owner@acme.test"}}}`)
	default:
		_, _ = io.WriteString(w, `{"errors":[{"message":"unexpected query"}]}`)
	}
}

func (f *fakeGraphQL) seen() (queries []string, meHeaders []http.Header) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.queries...), append([]http.Header(nil), f.meHeaders...)
}

// introspectionResult is what graphql-js's buildClientSchema needs for
// `type Query { me: User } type User { id: ID! email: String! }`.
const introspectionResult = `{"data":{"__schema":{
"description":null,
"queryType":{"name":"Query"},"mutationType":null,"subscriptionType":null,
"types":[
 {"kind":"OBJECT","name":"Query","description":null,"specifiedByURL":null,
  "fields":[{"name":"me","description":null,"args":[],"type":{"kind":"OBJECT","name":"User","ofType":null},"isDeprecated":false,"deprecationReason":null}],
  "inputFields":null,"interfaces":[],"enumValues":null,"possibleTypes":null},
 {"kind":"OBJECT","name":"User","description":null,"specifiedByURL":null,
  "fields":[
   {"name":"id","description":null,"args":[],"type":{"kind":"NON_NULL","name":null,"ofType":{"kind":"SCALAR","name":"ID","ofType":null}},"isDeprecated":false,"deprecationReason":null},
   {"name":"email","description":null,"args":[],"type":{"kind":"NON_NULL","name":null,"ofType":{"kind":"SCALAR","name":"String","ofType":null}},"isDeprecated":false,"deprecationReason":null}],
  "inputFields":null,"interfaces":[],"enumValues":null,"possibleTypes":null},
 {"kind":"SCALAR","name":"ID","description":null,"specifiedByURL":null,"fields":null,"inputFields":null,"interfaces":null,"enumValues":null,"possibleTypes":null},
 {"kind":"SCALAR","name":"String","description":null,"specifiedByURL":null,"fields":null,"inputFields":null,"interfaces":null,"enumValues":null,"possibleTypes":null},
 {"kind":"SCALAR","name":"Boolean","description":null,"specifiedByURL":null,"fields":null,"inputFields":null,"interfaces":null,"enumValues":null,"possibleTypes":null}
],
"directives":[]}}}`

// browserLog collects, from the browser's events, what must not happen on the
// page: failed loads, error statuses, requests that leave the test server,
// uncaught exceptions and console errors.
type browserLog struct {
	host string // host:port of the test server

	mu       sync.Mutex
	urls     map[network.RequestID]string
	requests []string
	problems []string
}

func (b *browserLog) event(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		u := ev.Request.URL
		b.urls[ev.RequestID] = u
		short := u
		if len(short) > 80 {
			short = short[:80] + "…"
		}
		b.requests = append(b.requests, ev.Request.Method+" "+short)
		if p, err := url.Parse(u); err != nil {
			b.problems = append(b.problems, fmt.Sprintf("unparsable request URL %q: %v", u, err))
		} else if p.Scheme != "data" && p.Scheme != "blob" && p.Host != b.host {
			b.problems = append(b.problems, "request to another host: "+u)
		}
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			b.problems = append(b.problems, fmt.Sprintf("HTTP %d for %s", ev.Response.Status, ev.Response.URL))
		}
	case *network.EventLoadingFailed:
		b.problems = append(b.problems, fmt.Sprintf("request failed: %s: %s (blocked: %q, canceled: %v)",
			b.urls[ev.RequestID], ev.ErrorText, ev.BlockedReason, ev.Canceled))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		b.problems = append(b.problems, "uncaught exception: "+msg)
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			var parts []string
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			b.problems = append(b.problems, "console error: "+strings.Join(parts, " "))
		}
	}
}

func (b *browserLog) report() (requests, problems []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.requests...), append([]string(nil), b.problems...)
}

// TestPlaygroundInABrowser loads the playground in headless Chromium, sends a
// query with the token and tenant typed into the bar, and checks that the
// answer shows, that the API got both headers, and that the page loaded
// everything from its own origin without a failure.
func TestPlaygroundInABrowser(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s is needed for this test (%v): run scripts/services.sh (as root it installs the Debian package chromium)", chromiumPath, err)
	}

	api := &fakeGraphQL{}
	h := Handler(testPrefix, testEndpoint)
	mux := http.NewServeMux()
	mux.Handle(testPrefix, h)
	mux.Handle(testPrefix+"/", h)
	mux.Handle(testEndpoint, api)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	srvURL, err := url.Parse(srv.URL)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	// The machine may have no internet: without the background-networking
	// flags Chromium's own connections fail, and a fresh profile keeps runs
	// apart.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.WindowSize(1280, 900),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()

	log := &browserLog{host: srvURL.Host, urls: map[network.RequestID]string{}}
	require.NoError(t, chromedp.Listen(bctx, log.event), "starting Chromium")

	const token = "tok-123.abc"
	err = chromedp.Do(bctx,
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{})
			return err
		}),
		chromedp.Navigate(srv.URL+testPrefix),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-container")),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-query-editor .CodeMirror")),
		chromedp.SendKeys(chromedp.CSS("#pg-token"), token),
		chromedp.SendKeys(chromedp.CSS("#pg-tenant"), "acme"),
		chromedp.Evaluate[chromedp.Void](
			`document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue('{ me { id email } }')`),
		chromedp.Click(chromedp.CSS(".graphiql-execute-button")),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Poll[bool](`(function () {
				var cm = document.querySelector('.graphiql-response .CodeMirror');
				var text = cm && cm.CodeMirror ? cm.CodeMirror.getValue() : '';
				return text.indexOf('owner@acme.test') >= 0;
			})()`, chromedp.WithPollingTimeout(0), chromedp.WithPollingInterval(100*time.Millisecond))(ctx, t)
			return err
		}),
	)
	requests, problems := log.report()
	if err != nil {
		var response string
		if resp, rerr := chromedp.Run(bctx, chromedp.Evaluate[string](
			`(document.querySelector('.graphiql-response') || document.body).innerText`)); rerr == nil {
			response = resp
		}
		t.Fatalf("driving the playground: %v\nresponse pane: %q\nrequests: %q\nproblems: %q", err, response, requests, problems)
	}

	t.Logf("requests of the page: %q", requests)
	require.Empty(t, problems, "the page must load everything from its own origin without errors; requests: %q", requests)
	queries, seen := api.seen()
	require.NotEmpty(t, queries)
	require.Contains(t, queries[0], "__schema", "GraphiQL first loads the schema")
	require.NotEmpty(t, seen, "the API got no query for me; queries: %q", queries)
	last := seen[len(seen)-1]
	require.Equal(t, "Bearer "+token, last.Get("Authorization"))
	require.Equal(t, "acme", last.Get("X-Tenant"))
}
