package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/billing"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/demorequest"
	"github.com/clientiq/clientiq/internal/events"
	"github.com/clientiq/clientiq/internal/jobs"
	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/project"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
)

// The permission matrix runs against the production handler chain on one
// database: tenants alpha and bravo signed up by their owners, alpha's
// viewer, member and admin, a staff user, and a spare tenant (charlie) for
// the staff lifecycle operations.
const (
	mxBaseDomain = "matrix.test"
	mxPassword   = "matrix-password-42"
	mxSlugA      = "alpha"
	mxSlugB      = "bravo"
	mxSlugC      = "charlie"
)

// Hosts a request can be sent to.
const (
	mxHostA        = mxSlugA + "." + mxBaseDomain
	mxHostPlatform = mxBaseDomain
)

// mxRole is a column of the matrix: who is calling.
type mxRole string

const (
	mxAnonymous  mxRole = "anonymous"
	mxViewer     mxRole = "viewer"
	mxMember     mxRole = "member"
	mxAdmin      mxRole = "admin"
	mxOwner      mxRole = "owner"
	mxOtherOwner mxRole = "owner-B"
	mxStaff      mxRole = "staff"
)

// mxRoles is the column order.
var mxRoles = []mxRole{mxAnonymous, mxViewer, mxMember, mxAdmin, mxOwner, mxOtherOwner, mxStaff}

// mxUser is a signed-up account of the harness.
type mxUser struct {
	ID    uuid.UUID
	Email string
	// MemberID is the membership in the user's tenant (uuid.Nil for staff).
	MemberID uuid.UUID
	// Tenant is where the user signs in (nil: the platform).
	Tenant *tenancy.Tenant
}

// mxOutbox is the harness's notifier: it keeps invitation tokens so a
// matrix cell can accept a fresh invitation.
type mxOutbox struct {
	mu      sync.Mutex
	invites map[uuid.UUID]string
}

func (o *mxOutbox) PasswordReset(context.Context, pgx.Tx, auth.Recipient, string) error { return nil }

func (o *mxOutbox) EmailVerification(context.Context, pgx.Tx, auth.Recipient, string) error {
	return nil
}

func (o *mxOutbox) Invitation(_ context.Context, _ pgx.Tx, inv member.InvitationEmail) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.invites[inv.InvitationID] = inv.Token
	return nil
}

func (o *mxOutbox) invitationToken(id uuid.UUID) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.invites[id]
}

// mxProvisioner adapts the tenant service to signup (as cmd/clientiq does).
type mxProvisioner struct{ svc *tenant.Service }

func (p mxProvisioner) CreateTx(ctx context.Context, tx pgx.Tx, in auth.ProvisionInput) (*tenancy.Tenant, error) {
	t, err := p.svc.CreateTx(ctx, tx, tenant.CreateInput{Slug: in.Slug, Name: in.Name})
	if err != nil {
		return nil, err
	}
	return &t.Tenant, nil
}

func (p mxProvisioner) Created(ctx context.Context, t *tenancy.Tenant) {
	p.svc.Created(ctx, &tenant.Tenant{Tenant: *t})
}

// mxHarness is the served handler chain with its fixtures.
type mxHarness struct {
	pool    *pgxpool.Pool
	auth    *auth.Service
	tenants *tenant.Service
	members *member.Service
	outbox  *mxOutbox
	srv     *httptest.Server
	logs    *mxLog
	// hash is mxPassword hashed once, for users inserted directly.
	hash string
	seq  atomic.Int64

	a, b  *tenancy.Tenant
	users map[mxRole]*mxUser

	// For serveWith: what the handler chain is built from.
	resolver *tenant.Resolver
	logger   *slog.Logger
	bus      *events.Bus
	// billing runs with payments off and no plan limits enforced (the
	// matrix creates more projects than Free allows).
	billing *billing.Service
	// demo runs demo requests without throttles (every matrix cell comes
	// from one address) and without emails.
	demo *demorequest.Service
}

// subscribe opens a graphql-transport-ws subscription on host with token
// (sent in connection_init), publishes one project event for tenant A, and
// returns the first result: data when the event arrived, errors otherwise
// (a refused token closes the connection: UNAUTHENTICATED).
func (h *mxHarness) subscribe(t *testing.T, host, token, doc string) mxResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/graphql"
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Host: host, Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		// The tenant middleware refused the upgrade (unknown host).
		return mxResponse{Body: err.Error(), Errors: []map[string]any{{"extensions": map[string]any{"code": "TENANT_NOT_FOUND"}}}}
	}
	defer c.CloseNow()
	init := map[string]any{"type": "connection_init", "payload": map[string]any{}}
	if token != "" {
		init["payload"] = map[string]any{"Authorization": "Bearer " + token}
	}
	require.NoError(t, wsjson.Write(ctx, c, init))
	var msg map[string]any
	if err := wsjson.Read(ctx, c, &msg); err != nil || msg["type"] != "connection_ack" {
		return mxResponse{Body: fmt.Sprint(msg, err), Errors: []map[string]any{{"extensions": map[string]any{"code": "UNAUTHENTICATED"}}}}
	}
	require.NoError(t, wsjson.Write(ctx, c, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": doc}}))
	// Publish until the subscriber sees an event or an error arrives.
	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				h.bus.Publish(context.Background(), events.Event{TenantID: h.a.ID, Kind: "project.created", ID: uuid.New()})
			}
		}
	}()
	for {
		msg = nil
		require.NoError(t, wsjson.Read(ctx, c, &msg))
		switch msg["type"] {
		case "next":
			payload, _ := msg["payload"].(map[string]any)
			out := mxResponse{Body: fmt.Sprint(payload)}
			out.Data, _ = payload["data"].(map[string]any)
			if errs, ok := payload["errors"].([]any); ok {
				for _, e := range errs {
					m, _ := e.(map[string]any)
					out.Errors = append(out.Errors, m)
				}
			}
			return out
		case "error":
			out := mxResponse{Body: fmt.Sprint(msg)}
			errs, _ := msg["payload"].([]any)
			for _, e := range errs {
				m, _ := e.(map[string]any)
				out.Errors = append(out.Errors, m)
			}
			return out
		}
	}
}

// serveWith serves the same chain over other ent clients (a counting driver).
func (h *mxHarness) serveWith(t *testing.T, clients *db.Clients) *httptest.Server {
	t.Helper()
	gql := NewHandler(Config{Clients: clients, Auth: h.auth, Tenants: h.tenants, Members: h.members,
		Logger: h.logger, Version: "matrix-1", Billing: h.billing, DemoRequests: h.demo})
	srv := httptest.NewServer(h.resolver.Middleware(WriteHTTPError)(h.auth.Middleware(WriteHTTPError)(gql)))
	t.Cleanup(srv.Close)
	return srv
}

// newMatrixHarness provisions the database and fixtures and serves the
// chain tenant.Resolver → auth.Service.Middleware → graph handler, wired
// as cmd/clientiq/serve.go wires it.
func newMatrixHarness(t *testing.T) *mxHarness {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	logs := &mxLog{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store := cache.NewMemory(0)
	inserter, err := jobs.NewInserter(d.Pool, logger)
	require.NoError(t, err)
	tenants, err := tenant.NewService(tenant.Config{Pool: d.Pool, Cache: store, Logger: logger,
		BaseDomain: mxBaseDomain, Jobs: inserter})
	require.NoError(t, err)
	t.Cleanup(tenants.WaitForgotten)
	keys, _, err := auth.NewKeyRing(auth.KeyRingConfig{Generate: true, Issuer: "matrix", Audience: "matrix"})
	require.NoError(t, err)
	hasher := auth.NewHasher(auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4)
	outbox := &mxOutbox{invites: map[uuid.UUID]string{}}
	authSvc := auth.NewService(auth.Config{Pool: d.Pool, Keys: keys, Hasher: hasher, Cache: store, Logger: logger,
		Tenants: mxProvisioner{tenants}, Notifier: outbox})
	members := member.NewService(member.Config{
		Pool: d.Pool, Sessions: auth.TenantRevoker{Auth: authSvc}, Notifier: outbox,
		Hasher: hasher, ValidatePassword: auth.ValidatePassword, Logger: logger,
	})
	resolver := tenant.NewResolver(tenant.ResolverConfig{Pool: d.Pool, Cache: store, BaseDomain: mxBaseDomain, Logger: logger})
	bus := events.NewBus(ctx, nil, logger)
	clients := db.NewClients(d.Pool)
	billingSvc := billing.NewService(billing.Config{Pool: d.Pool, Clients: clients, Logger: logger})
	demo, err := demorequest.NewService(demorequest.Config{Pool: d.Pool, Clients: clients, Cache: store, Logger: logger,
		PerIPPerHour: -1, PerEmailPerDay: -1})
	require.NoError(t, err)
	gql := NewHandler(Config{Clients: clients, Auth: authSvc, Tenants: tenants, Members: members,
		Logger: logger, Version: "matrix-1", Events: bus, Projects: project.NewServiceWithEvents(clients, bus), Billing: billingSvc,
		DemoRequests: demo})
	srv := httptest.NewServer(resolver.Middleware(WriteHTTPError)(authSvc.Middleware(WriteHTTPError)(gql)))
	t.Cleanup(srv.Close)

	hash, err := hasher.Hash(ctx, mxPassword)
	require.NoError(t, err)
	h := &mxHarness{pool: d.Pool, auth: authSvc, tenants: tenants, members: members, outbox: outbox,
		srv: srv, logs: logs, hash: hash, users: map[mxRole]*mxUser{},
		resolver: resolver, logger: logger, bus: bus, billing: billingSvc, demo: demo}

	h.users[mxOwner], h.a = h.signupOwner(t, mxSlugA)
	h.users[mxOtherOwner], h.b = h.signupOwner(t, mxSlugB)
	for _, r := range []mxRole{mxViewer, mxMember, mxAdmin} {
		u := h.newUser(t, string(r)+"@"+mxHostA, false)
		u.Tenant = h.a
		u.MemberID = h.addMember(t, h.a, u.ID, string(r))
		h.users[r] = u
	}
	h.users[mxStaff] = h.newUser(t, "staff@"+mxBaseDomain, true)
	_, err = tenants.Create(ctx, tenant.CreateInput{Slug: mxSlugC, Name: "Charlie"})
	require.NoError(t, err)
	return h
}

// signupOwner signs up a tenant with its owner through auth.Signup.
func (h *mxHarness) signupOwner(t *testing.T, slug string) (*mxUser, *tenancy.Tenant) {
	t.Helper()
	ctx := context.Background()
	email := "owner@" + slug + "." + mxBaseDomain
	res, err := h.auth.Signup(ctx, auth.SignupInput{Email: email, Password: mxPassword, Name: "Owner " + slug,
		TenantName: "Tenant " + slug, TenantSlug: slug}, auth.Meta{})
	require.NoError(t, err)
	u := &mxUser{ID: res.User.ID, Email: email, Tenant: res.Tenant}
	require.NoError(t, h.pool.QueryRow(ctx, `SELECT id FROM `+db.QuoteIdent(res.Tenant.Schema)+`.members WHERE user_id = $1`,
		u.ID).Scan(&u.MemberID))
	return u, res.Tenant
}

// next returns a number unique in the harness, for names.
func (h *mxHarness) next() int64 { return h.seq.Add(1) }

// newUser inserts an account with mxPassword.
func (h *mxHarness) newUser(t *testing.T, email string, staff bool) *mxUser {
	t.Helper()
	u := &mxUser{ID: uuid.New(), Email: email}
	_, err := h.pool.Exec(context.Background(), `INSERT INTO public.users (id, email, password_hash, name, locale, is_staff, created_at, updated_at)
		VALUES ($1, $2, $3, $4, 'en', $5, now(), now())`, u.ID, email, h.hash, "User "+email, staff)
	require.NoError(t, err)
	return u
}

// addMember makes userID an active member of tn with roles.
func (h *mxHarness) addMember(t *testing.T, tn *tenancy.Tenant, userID uuid.UUID, roles ...string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	require.NoError(t, pgx.BeginFunc(context.Background(), h.pool, func(tx pgx.Tx) error {
		var err error
		id, err = auth.AddMemberTx(context.Background(), tx, tn.Schema, userID, roles)
		return err
	}))
	return id
}

// throwawayMember adds a fresh viewer to tn and returns its member id.
func (h *mxHarness) throwawayMember(t *testing.T, tn *tenancy.Tenant) uuid.UUID {
	t.Helper()
	u := h.newUser(t, fmt.Sprintf("spare-%d@%s.%s", h.next(), tn.Slug, mxBaseDomain), false)
	return h.addMember(t, tn, u.ID, rbac.RoleViewer)
}

// login signs a role in where it belongs and returns its access token
// ("" for anonymous). Every cell gets a fresh session, so a cell that
// logs out or changes a password cannot spoil the next one.
func (h *mxHarness) login(t *testing.T, r mxRole) string {
	t.Helper()
	if r == mxAnonymous {
		return ""
	}
	return h.loginUser(t, h.users[r]).AccessToken
}

func (h *mxHarness) loginUser(t *testing.T, u *mxUser) *auth.Tokens {
	t.Helper()
	ctx := context.Background()
	if u.Tenant != nil {
		ctx = tenancy.WithTenant(ctx, u.Tenant)
	}
	tok, err := h.auth.Login(ctx, u.Email, mxPassword, auth.Meta{})
	require.NoError(t, err, "login %s", u.Email)
	return tok
}

// ownerCtx is a service context as the owner of u's tenant, authenticated
// the way the middleware does it, for creating fixtures.
func (h *mxHarness) ownerCtx(t *testing.T, u *mxUser) context.Context {
	t.Helper()
	ctx := tenancy.WithTenant(context.Background(), u.Tenant)
	v, err := h.auth.Authenticate(ctx, "Bearer "+h.loginUser(t, u).AccessToken)
	require.NoError(t, err)
	return tenancy.WithViewer(ctx, v)
}

// invitation creates a pending invitation in owner's tenant and returns its
// id and raw token.
func (h *mxHarness) invitation(t *testing.T, owner *mxUser) (uuid.UUID, string) {
	t.Helper()
	email := fmt.Sprintf("invitee-%d@example.com", h.next())
	inv, err := h.members.Invite(h.ownerCtx(t, owner), email, rbac.RoleViewer, member.Meta{})
	require.NoError(t, err)
	return inv.ID, h.outbox.invitationToken(inv.ID)
}

// customRole creates a custom role in owner's tenant and returns its id.
func (h *mxHarness) customRole(t *testing.T, owner *mxUser) uuid.UUID {
	t.Helper()
	r, err := h.members.CreateRole(h.ownerCtx(t, owner), fmt.Sprintf("custom-%d", h.next()), "a fixture",
		[]string{string(rbac.ProjectsRead)}, member.Meta{})
	require.NoError(t, err)
	return r.ID
}

// oneTimeToken stores a reset or verification token for a fresh user and
// returns the raw token.
func (h *mxHarness) oneTimeToken(t *testing.T, purpose string) string {
	t.Helper()
	u := h.newUser(t, fmt.Sprintf("token-%d@example.com", h.next()), false)
	token, hash := auth.NewOpaqueToken()
	_, err := h.pool.Exec(context.Background(), `INSERT INTO public.user_tokens (id, user_id, purpose, token_hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4, now(), now() + interval '1 hour')`, uuid.New(), u.ID, purpose, hash)
	require.NoError(t, err)
	return token
}

// scalar runs a one-value query (snapshots for the no-side-effect checks).
func (h *mxHarness) scalar(t *testing.T, sql string, args ...any) string {
	t.Helper()
	var v any
	require.NoError(t, h.pool.QueryRow(context.Background(), sql, args...).Scan(&v), sql)
	return fmt.Sprint(v)
}

// mxResponse is a GraphQL answer with its HTTP status and raw body.
type mxResponse struct {
	Status int
	Body   string
	Data   map[string]any   `json:"data"`
	Errors []map[string]any `json:"errors"`
}

// post sends a GraphQL request to host with an optional bearer token.
func (h *mxHarness) post(t *testing.T, host, token, doc string, vars map[string]any) mxResponse {
	t.Helper()
	return h.postTo(t, h.srv, host, token, doc, vars)
}

// postTo is post against another server of the harness.
func (h *mxHarness) postTo(t *testing.T, srv *httptest.Server, host, token, doc string, vars map[string]any) mxResponse {
	t.Helper()
	payload, err := json.Marshal(map[string]any{"query": doc, "variables": vars})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(payload))
	require.NoError(t, err)
	req.Host = host
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(res.Body)
	require.NoError(t, err)
	out := mxResponse{Status: res.StatusCode, Body: buf.String()}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &out), "body: %s", out.Body)
	return out
}

// mxAllow is the outcome of a call that succeeded.
const mxAllow = "allow"

// outcome is what happened to field: mxAllow, or the code of the error on
// that field or on the whole request (a refused token, an unknown host).
func (r mxResponse) outcome(field string) string {
	for _, e := range r.Errors {
		path, _ := e["path"].([]any)
		if len(path) == 0 || path[0] == field {
			code := mxErrorCode(e)
			if code == "" {
				return "NO_CODE"
			}
			return code
		}
	}
	if _, ok := r.Data[field]; !ok {
		return "NO_DATA"
	}
	return mxAllow
}

// message is the message of the first error, for the oracle check.
func (r mxResponse) message() string {
	if len(r.Errors) == 0 {
		return ""
	}
	m, _ := r.Errors[0]["message"].(string)
	return m
}

// mxErrorCode is an error's extensions.code.
func mxErrorCode(e map[string]any) string {
	ext, _ := e["extensions"].(map[string]any)
	code, _ := ext["code"].(string)
	return code
}

// mxLog collects the harness's log lines (internal errors are logged
// there, and printed when the matrix fails).
type mxLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *mxLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *mxLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// setCharlie puts the spare tenant in status (via active), so a staff
// lifecycle cell always starts from the state its operation needs.
func (h *mxHarness) setCharlie(t *testing.T, status string) {
	t.Helper()
	ctx := context.Background()
	cur := h.scalar(t, `SELECT status FROM public.tenants WHERE slug = $1`, mxSlugC)
	if cur == status {
		return
	}
	var err error
	switch cur {
	case tenancy.StatusSuspended:
		_, err = h.tenants.Reactivate(ctx, mxSlugC)
	case tenancy.StatusPendingDeletion:
		_, err = h.tenants.Restore(ctx, mxSlugC)
	}
	require.NoError(t, err)
	switch status {
	case tenancy.StatusSuspended:
		_, err = h.tenants.Suspend(ctx, mxSlugC)
	case tenancy.StatusPendingDeletion:
		_, _, err = h.tenants.Delete(ctx, mxSlugC)
	}
	require.NoError(t, err)
}

// charlieDomain adds a fresh non-primary domain to the spare tenant.
func (h *mxHarness) charlieDomain(t *testing.T) string {
	t.Helper()
	d := fmt.Sprintf("d%d.example.org", h.next())
	_, err := h.tenants.AddDomain(context.Background(), mxSlugC, d)
	require.NoError(t, err)
	return d
}
