package rest_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/graph"
	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/billing"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/demorequest"
	"github.com/clientiq/clientiq/internal/httpserver"
	"github.com/clientiq/clientiq/internal/jobs"
	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/notify"
	"github.com/clientiq/clientiq/internal/payment"
	"github.com/clientiq/clientiq/internal/project"
	"github.com/clientiq/clientiq/internal/rest"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
)

// The API tests run against the production handler chain on one database
// per top-level test: httpserver (request id, body limit, 404/405
// fallback) → tenant.Resolver → auth.Service.Middleware → the REST
// handlers, with GraphQL mounted beside them for the parity checks, wired
// as cmd/clientiq/serve.go wires them.
const (
	baseDomain   = "rest.test"
	password     = "rest-password-42"
	slugA        = "alpha"
	slugB        = "bravo"
	hostA        = slugA + "." + baseDomain
	hostB        = slugB + "." + baseDomain
	hostPlatform = baseDomain
)

// role is who is calling.
type role string

const (
	anonymous role = "anonymous"
	viewer    role = "viewer"
	memberR   role = "member"
	admin     role = "admin"
	owner     role = "owner"
	ownerB    role = "owner-B"
	staff     role = "staff"
)

// roles is every caller, in a stable order.
var roles = []role{anonymous, viewer, memberR, admin, owner, ownerB, staff}

// account is a signed-up user of the harness.
type account struct {
	ID    uuid.UUID
	Email string
	// Tenant is where the user signs in (nil: the platform).
	Tenant *tenancy.Tenant
}

// webhookSecret signs the Stripe events the harness's webhook accepts.
const webhookSecret = "whsec_rest_harness"

// harness is the served chain with its fixtures.
type harness struct {
	pool    *pgxpool.Pool
	auth    *auth.Service
	tenants *tenant.Service
	billing *billing.Service
	demos   *demorequest.Service
	srv     *httptest.Server
	logs    *logBuffer
	hash    string
	seq     atomic.Int64
	// routes is what rest.Register mounted.
	routes []rest.Route

	a, b  *tenancy.Tenant
	users map[role]*account
}

// provisioner adapts the tenant service to signup (as cmd/clientiq does).
type provisioner struct{ svc *tenant.Service }

func (p provisioner) CreateTx(ctx context.Context, tx pgx.Tx, in auth.ProvisionInput) (*tenancy.Tenant, error) {
	t, err := p.svc.CreateTx(ctx, tx, tenant.CreateInput{Slug: in.Slug, Name: in.Name})
	if err != nil {
		return nil, err
	}
	return &t.Tenant, nil
}

func (p provisioner) Created(ctx context.Context, t *tenancy.Tenant) {
	p.svc.Created(ctx, &tenant.Tenant{Tenant: *t})
}

// harnessOptions changes what newHarnessWith serves.
type harnessOptions struct {
	// charger turns payments on (PaymentsEnabled) and collects the
	// charges; nil serves billing with payments off, as the GraphQL
	// permission matrix does (payInvoice is FEATURE_DISABLED).
	charger billing.Charger
	// demoPerIP and demoPerEmail are the demo request throttles; 0 keeps
	// the harness's (per address high enough that no other test meets it,
	// per email the service's default: the tests use fresh emails).
	demoPerIP, demoPerEmail int
	// trustLoopback trusts X-Forwarded-For from the test client, as the
	// production server trusts its proxies, so a test can call from
	// several client addresses.
	trustLoopback bool
}

// harnessDemoPerIP is the harness's per-address demo request throttle:
// every POST /demo-requests of a harness comes from 127.0.0.1.
const harnessDemoPerIP = 10_000

// newHarness provisions a database with tenants alpha (owner, admin,
// member, viewer) and bravo (owner) and a staff user, and serves the chain
// with payments off.
func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWith(t, harnessOptions{})
}

// newHarnessWith is newHarness with options.
func newHarnessWith(t *testing.T, opts harnessOptions) *harness {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	logs := &logBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store := cache.NewMemory(0)
	inserter, err := jobs.NewInserter(d.Pool, logger)
	require.NoError(t, err)
	tenants, err := tenant.NewService(tenant.Config{Pool: d.Pool, Cache: store, Logger: logger,
		BaseDomain: baseDomain, Jobs: inserter})
	require.NoError(t, err)
	t.Cleanup(tenants.WaitForgotten)
	keys, _, err := auth.NewKeyRing(auth.KeyRingConfig{Generate: true, Issuer: "rest", Audience: "rest"})
	require.NoError(t, err)
	hasher := auth.NewHasher(auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4)
	authSvc := auth.NewService(auth.Config{Pool: d.Pool, Keys: keys, Hasher: hasher, Cache: store, Logger: logger,
		Tenants: provisioner{tenants}, Notifier: notify.Log{Logger: logger}})
	members := member.NewService(member.Config{
		Pool: d.Pool, Sessions: auth.TenantRevoker{Auth: authSvc}, Notifier: notify.Log{Logger: logger},
		Hasher: hasher, ValidatePassword: auth.ValidatePassword, Logger: logger,
	})
	resolver := tenant.NewResolver(tenant.ResolverConfig{Pool: d.Pool, Cache: store, BaseDomain: baseDomain, Logger: logger})

	// The wiring of cmd/clientiq/serve.go.
	var trusted []netip.Prefix
	if opts.trustLoopback {
		trusted = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	server := httpserver.New(httpserver.Config{Logger: logger, TrustedProxies: trusted})
	mux := server.Mux()
	scoped := func(fail func(http.ResponseWriter, *http.Request, error), h http.Handler) http.Handler {
		return resolver.Middleware(fail)(authSvc.Middleware(fail)(h))
	}
	clients := db.NewClients(d.Pool)
	billingSvc := billing.NewService(billing.Config{Pool: d.Pool, Clients: clients, Logger: logger,
		Charger: opts.charger, PaymentsEnabled: opts.charger != nil})
	// No Notifier: the emails of a demo request are notify's tests.
	demos, err := demorequest.NewService(demorequest.Config{Pool: d.Pool, Clients: clients, Cache: store, Logger: logger,
		PerIPPerHour: cmp.Or(opts.demoPerIP, harnessDemoPerIP), PerEmailPerDay: opts.demoPerEmail})
	require.NoError(t, err)
	gql := scoped(graph.WriteHTTPError, graph.NewHandler(graph.Config{Clients: clients, Auth: authSvc,
		Tenants: tenants, Members: members, Billing: billingSvc, DemoRequests: demos, Logger: logger, Version: "rest-1"}))
	mux.Handle("/graphql", gql)
	mux.Handle("/graphql/", gql)
	restFail := func(w http.ResponseWriter, r *http.Request, err error) { rest.WriteError(w, r, logger, err) }
	routes := rest.Register(mux, rest.Config{
		Logger:       logger,
		Middleware:   func(h http.Handler) http.Handler { return scoped(restFail, h) },
		Auth:         authSvc,
		Projects:     project.NewService(clients),
		Members:      members,
		Tenants:      tenants,
		Billing:      billingSvc,
		DemoRequests: demos,
	})
	// The Stripe webhook, outside the tenant and auth middleware.
	hook := payment.NewStripeWebhook(payment.WebhookConfig{Pool: d.Pool, Inserter: inserter,
		Secrets: []string{webhookSecret}, Logger: logger})
	mux.Handle("POST "+rest.StripeWebhookPath, hook)
	mux.Handle("POST "+rest.StripeWebhookPath+"/{$}", hook)
	srv := httptest.NewServer(server.Handler())
	t.Cleanup(srv.Close)

	hash, err := hasher.Hash(ctx, password)
	require.NoError(t, err)
	h := &harness{pool: d.Pool, auth: authSvc, tenants: tenants, billing: billingSvc, demos: demos, srv: srv, logs: logs,
		hash: hash, routes: routes, users: map[role]*account{}}
	h.users[owner], h.a = h.signupOwner(t, slugA)
	h.users[ownerB], h.b = h.signupOwner(t, slugB)
	for _, r := range []role{viewer, memberR, admin} {
		u := h.newUser(t, string(r)+"@"+hostA, false)
		u.Tenant = h.a
		h.addMember(t, h.a, u.ID, string(r))
		h.users[r] = u
	}
	h.users[staff] = h.newUser(t, "staff@"+baseDomain, true)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("harness log:\n%s", logs.String())
		}
	})
	return h
}

// signupOwner signs up a tenant with its owner through auth.Signup.
func (h *harness) signupOwner(t *testing.T, slug string) (*account, *tenancy.Tenant) {
	t.Helper()
	email := "owner@" + slug + "." + baseDomain
	res, err := h.auth.Signup(context.Background(), auth.SignupInput{Email: email, Password: password,
		Name: "Owner " + slug, TenantName: "Tenant " + slug, TenantSlug: slug}, auth.Meta{})
	require.NoError(t, err)
	return &account{ID: res.User.ID, Email: email, Tenant: res.Tenant}, res.Tenant
}

// freshTenant signs up a tenant of its own for a subtest that counts rows,
// so parallel subtests cannot change what it sees. It returns the host and
// an owner token.
func (h *harness) freshTenant(t *testing.T) (string, string) {
	t.Helper()
	u, tn := h.signupOwner(t, fmt.Sprintf("fresh%d", h.next()))
	return tn.Slug + "." + baseDomain, h.loginUser(t, u).AccessToken
}

// next returns a number unique in the harness, for names.
func (h *harness) next() int64 { return h.seq.Add(1) }

// newUser inserts an account with the harness password.
func (h *harness) newUser(t *testing.T, email string, isStaff bool) *account {
	t.Helper()
	u := &account{ID: uuid.New(), Email: email}
	_, err := h.pool.Exec(context.Background(), `INSERT INTO public.users (id, email, password_hash, name, locale, is_staff, created_at, updated_at)
		VALUES ($1, $2, $3, $4, 'en', $5, now(), now())`, u.ID, email, h.hash, "User "+email, isStaff)
	require.NoError(t, err)
	return u
}

// addMember makes userID an active member of tn with roles.
func (h *harness) addMember(t *testing.T, tn *tenancy.Tenant, userID uuid.UUID, roles ...string) {
	t.Helper()
	require.NoError(t, pgx.BeginFunc(context.Background(), h.pool, func(tx pgx.Tx) error {
		_, err := auth.AddMemberTx(context.Background(), tx, tn.Schema, userID, roles)
		return err
	}))
}

// token signs r in where it belongs and returns a fresh access token (""
// for anonymous). It calls the service without a client address, so the
// per-address login throttle is left to the tests of the login route.
func (h *harness) token(t *testing.T, r role) string {
	t.Helper()
	if r == anonymous {
		return ""
	}
	return h.loginUser(t, h.users[r]).AccessToken
}

func (h *harness) loginUser(t *testing.T, u *account) *auth.Tokens {
	t.Helper()
	ctx := context.Background()
	if u.Tenant != nil {
		ctx = tenancy.WithTenant(ctx, u.Tenant)
	}
	tok, err := h.auth.Login(ctx, u.Email, password, auth.Meta{})
	require.NoError(t, err, "login %s", u.Email)
	return tok
}

// home is the host r signs in on.
func (h *harness) home(r role) string {
	if u := h.users[r]; u != nil && u.Tenant != nil {
		return u.Tenant.Slug + "." + baseDomain
	}
	if r == staff {
		return hostPlatform
	}
	return hostA
}

// scalar runs a one-value query (row snapshots for the no-side-effect
// checks).
func (h *harness) scalar(t *testing.T, sql string, args ...any) string {
	t.Helper()
	var v any
	require.NoError(t, h.pool.QueryRow(context.Background(), sql, args...).Scan(&v), sql)
	return fmt.Sprint(v)
}

// projectRow is a project's row as text, or "" when tn has no such row.
func (h *harness) projectRow(t *testing.T, tn *tenancy.Tenant, id string) string {
	t.Helper()
	return h.scalar(t, `SELECT coalesce((SELECT concat_ws('|', name, description, status, updated_at)
		FROM `+db.QuoteIdent(tn.Schema)+`.projects WHERE id = $1::uuid), '')`, id)
}

// countProjects counts tn's projects called name.
func (h *harness) countProjects(t *testing.T, tn *tenancy.Tenant, name string) string {
	t.Helper()
	return h.scalar(t, `SELECT count(*) FROM `+db.QuoteIdent(tn.Schema)+`.projects WHERE name = $1`, name)
}

// request is one HTTP call to the harness.
type request struct {
	method, host, token, path string
	// contentType defaults to application/json when body is set.
	contentType string
	body        io.Reader
	// header is sent as well (Stripe-Signature).
	header http.Header
}

// send makes the call over the network and returns the answer as a
// recorder, so the envelope helpers of envelope_test.go apply.
func (h *harness) send(t *testing.T, r request) *httptest.ResponseRecorder {
	t.Helper()
	req, err := http.NewRequest(r.method, h.srv.URL+r.path, r.body)
	require.NoError(t, err)
	req.Host = r.host
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	} else if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	res, err := h.srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	rec := httptest.NewRecorder()
	for k, vs := range res.Header {
		rec.Header()[k] = vs
	}
	rec.WriteHeader(res.StatusCode)
	_, err = io.Copy(rec.Body, res.Body)
	require.NoError(t, err)
	return rec
}

// call sends body (marshalled to JSON unless it is a string; nil for none)
// to a REST path under /api/v1.
func (h *harness) call(t *testing.T, method, host, token, path string, body any) *httptest.ResponseRecorder {
	t.Helper()
	r := request{method: method, host: host, token: token, path: rest.Prefix + path}
	switch b := body.(type) {
	case nil:
	case string:
		r.body = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		r.body = bytes.NewReader(raw)
	}
	return h.send(t, r)
}

// createProject creates a project through REST as token on host and
// returns its id.
func (h *harness) createProject(t *testing.T, host, token, name string) string {
	t.Helper()
	rec := h.call(t, http.MethodPost, host, token, "/projects", map[string]any{"name": name})
	data := requireData(t, rec, http.StatusCreated)
	return requireResource(t, data, "project")["id"].(string)
}
