// Package playground serves the GraphiQL playground for admins from assets
// embedded in the binary; nothing loads from a CDN.
//
// The page is our own small template. It boots GraphiQL 4 with the React 18
// UMD builds (the same versions gqlgen's playground pins), adds a bar with a
// bearer token and an X-Tenant field whose values are kept in localStorage
// and sent with every request, and answers with a strict
// Content-Security-Policy whose only inline script is allowed by a nonce that
// is new on every request.
package playground

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed assets/*.js assets/*.css
var assetFiles embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	name        string // file name under assets/
	body        []byte
	contentType string
	sri         string // "sha256-<base64>", the value of integrity=
	etag        string // quoted hex sha256
	version     string // short hash, appended as ?v= to bust caches on upgrade
}

// The four files the page loads, in the order it needs them.
const (
	reactJS    = "react.production.min.js"
	reactDOMJS = "react-dom.production.min.js"
	graphiQLJS = "graphiql.min.js"
	graphiQLCS = "graphiql.min.css"
)

// assets returns every embedded file by name; it is filled on first use
// (not at start-up: a server without the playground never holds the
// 1.6 MB) from the embedded bytes, so the integrity values always match
// what is served.
var assets = sync.OnceValue(loadAssets)

func loadAssets() map[string]*asset {
	entries, err := fs.ReadDir(assetFiles, "assets")
	if err != nil {
		panic("playground: reading embedded assets: " + err.Error())
	}
	out := make(map[string]*asset, len(entries))
	for _, e := range entries {
		body, err := assetFiles.ReadFile("assets/" + e.Name())
		if err != nil {
			panic("playground: reading embedded asset " + e.Name() + ": " + err.Error())
		}
		sum := sha256.Sum256(body)
		a := &asset{
			name:    e.Name(),
			body:    body,
			sri:     "sha256-" + base64.StdEncoding.EncodeToString(sum[:]),
			etag:    `"` + hex.EncodeToString(sum[:]) + `"`,
			version: hex.EncodeToString(sum[:6]),
		}
		switch path.Ext(e.Name()) {
		case ".js":
			a.contentType = "text/javascript; charset=utf-8"
		case ".css":
			a.contentType = "text/css; charset=utf-8"
		default:
			continue
		}
		out[a.name] = a
	}
	for _, name := range []string{reactJS, reactDOMJS, graphiQLJS, graphiQLCS} {
		if out[name] == nil {
			panic("playground: embedded asset missing: " + name)
		}
	}
	return out
}

// pageData fills the page template.
type pageData struct {
	Nonce    string
	Endpoint string
	React    assetRef
	ReactDOM assetRef
	JS       assetRef
	CSS      assetRef
}

// assetRef is how the page refers to one asset.
type assetRef struct {
	URL string
	SRI string
}

// Handler returns an http.Handler that serves the playground page at prefix (e.g. "/playground") and the assets under prefix+"/assets/".
//
// The handler looks at the whole request path, so mount it unstripped for
// both prefix and prefix+"/" (with http.ServeMux: mux.Handle(prefix, h) and
// mux.Handle(prefix+"/", h)). The page is also answered at prefix+"/".
// Other paths under prefix get 404, methods other than GET and HEAD get 405.
//
// graphqlEndpoint must be a path on the same origin (e.g. "/graphql"): the
// page's Content-Security-Policy allows connections to 'self' only.
// Handler panics if prefix or graphqlEndpoint is not such a path.
func Handler(prefix, graphqlEndpoint string) http.Handler {
	prefix = strings.TrimRight(prefix, "/")
	if prefix != "" && !strings.HasPrefix(prefix, "/") {
		panic("playground: prefix must start with /: " + strconv.Quote(prefix))
	}
	if !strings.HasPrefix(graphqlEndpoint, "/") || strings.HasPrefix(graphqlEndpoint, "//") {
		panic("playground: graphqlEndpoint must be a same-origin path such as /graphql: " + strconv.Quote(graphqlEndpoint))
	}
	assetsPath := prefix + "/assets/"
	ref := func(name string) assetRef {
		a := assets()[name]
		return assetRef{URL: assetsPath + a.name + "?v=" + a.version, SRI: a.sri}
	}
	return &handler{
		pagePaths:  map[string]bool{prefix: true, prefix + "/": true},
		assetsPath: assetsPath,
		data: sync.OnceValue(func() pageData {
			return pageData{
				Endpoint: graphqlEndpoint,
				React:    ref(reactJS),
				ReactDOM: ref(reactDOMJS),
				JS:       ref(graphiQLJS),
				CSS:      ref(graphiQLCS),
			}
		}),
	}
}

type handler struct {
	pagePaths  map[string]bool
	assetsPath string
	data       func() pageData // Nonce is filled per request
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var serve func(http.ResponseWriter, *http.Request)
	switch {
	case h.pagePaths[r.URL.Path]:
		serve = h.servePage
	case strings.HasPrefix(r.URL.Path, h.assetsPath):
		a := assets()[strings.TrimPrefix(r.URL.Path, h.assetsPath)]
		if a == nil {
			http.NotFound(w, r)
			return
		}
		serve = a.serve
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	serve(w, r)
}

// csp is the page's Content-Security-Policy; %s is the per-request nonce.
// Styles need 'unsafe-inline' because GraphiQL and its editors set inline
// styles; a nonce in style-src would switch that off, so there is none.
const csp = "default-src 'none'; " +
	"script-src 'self' 'nonce-%s'; " +
	"style-src 'self' 'unsafe-inline'; " +
	"connect-src 'self'; " +
	"img-src 'self' data:; " +
	"font-src 'self' data:; " +
	"base-uri 'none'; " +
	"form-action 'none'; " +
	"frame-ancestors 'none'"

func (h *handler) servePage(w http.ResponseWriter, r *http.Request) {
	data := h.data()
	data.Nonce = rand.Text()

	var buf bytes.Buffer
	if err := page.Execute(&buf, data); err != nil {
		http.Error(w, "playground: rendering page failed", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Content-Security-Policy", fmt.Sprintf(csp, data.Nonce))
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

func (a *asset) serve(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", a.contentType)
	// The page asks for each asset with ?v=<hash of its bytes>, so a new
	// binary with new assets is fetched anew despite the long cache life.
	hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	hdr.Set("ETag", a.etag)
	hdr.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
}

// page is the playground. Its one inline script carries the request's nonce;
// it reads the endpoint from a data attribute, so nothing in it is templated
// but the nonce.
var page = template.Must(template.New("playground").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ClientIQ GraphQL playground</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{.CSS.URL}}" integrity="{{.CSS.SRI}}" crossorigin="anonymous">
<style>
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
#pg-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; padding: 6px 12px; font-size: 13px; border-bottom: 1px solid #d0d4dc; background: #f4f5f8; color: #333; }
#pg-bar label { display: flex; align-items: center; gap: 6px; }
#pg-bar input { font: inherit; padding: 3px 6px; border: 1px solid #b8bdc8; border-radius: 4px; }
#pg-token { width: 24em; }
#pg-tenant { width: 12em; }
#pg-bar .pg-endpoint { margin-left: auto; color: #666; }
#graphiql { flex: 1; min-height: 0; }
.pg-loading { height: 100%; display: flex; align-items: center; justify-content: center; font-size: 2rem; color: #888; }
</style>
</head>
<body>
<form id="pg-bar" autocomplete="off">
<label for="pg-token">Bearer token</label>
<input id="pg-token" name="pg-token" type="password" autocomplete="off" spellcheck="false" placeholder="sent as Authorization: Bearer …">
<label for="pg-tenant">X-Tenant</label>
<input id="pg-tenant" name="pg-tenant" type="text" autocomplete="off" spellcheck="false" placeholder="tenant">
<span class="pg-endpoint">POST <code>{{.Endpoint}}</code></span>
</form>
<div id="graphiql" data-endpoint="{{.Endpoint}}"><div class="pg-loading">Loading…</div></div>
<script src="{{.React.URL}}" integrity="{{.React.SRI}}" crossorigin="anonymous"></script>
<script src="{{.ReactDOM.URL}}" integrity="{{.ReactDOM.SRI}}" crossorigin="anonymous"></script>
<script src="{{.JS.URL}}" integrity="{{.JS.SRI}}" crossorigin="anonymous"></script>
<script nonce="{{.Nonce}}">
(function () {
  'use strict';
  var root = document.getElementById('graphiql');
  var endpoint = root.getAttribute('data-endpoint');
  var bar = document.getElementById('pg-bar');

  function load(key) {
    try { return window.localStorage.getItem(key) || ''; } catch (e) { return ''; }
  }
  function save(key, value) {
    try {
      if (value) { window.localStorage.setItem(key, value); } else { window.localStorage.removeItem(key); }
    } catch (e) { /* storage disabled: the value lives for this page only */ }
  }
  function field(id, key) {
    var input = document.getElementById(id);
    input.value = load(key);
    input.addEventListener('input', function () { save(key, input.value.trim()); });
    return input;
  }
  var token = field('pg-token', 'clientiq.playground.token');
  var tenant = field('pg-tenant', 'clientiq.playground.tenant');
  bar.addEventListener('submit', function (e) { e.preventDefault(); });

  // The bar's values are added to every request; a header of the same name
  // typed into GraphiQL's own headers editor wins over them.
  function fetchWithBar(url, init) {
    init = Object.assign({}, init);
    var headers = new Headers(init.headers || {});
    var t = token.value.trim().replace(/^bearer\s+/i, '');
    var x = tenant.value.trim();
    if (t && !headers.has('Authorization')) { headers.set('Authorization', 'Bearer ' + t); }
    if (x && !headers.has('X-Tenant')) { headers.set('X-Tenant', x); }
    init.headers = headers;
    init.credentials = 'same-origin';
    return window.fetch(url, init);
  }

  var fetcher = GraphiQL.createFetcher({ url: endpoint, fetch: fetchWithBar });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      isHeadersEditorEnabled: true,
      storage: GraphiQL.createLocalStorage({ namespace: 'clientiq.playground.graphiql' })
    })
  );
})();
</script>
</body>
</html>
`))
