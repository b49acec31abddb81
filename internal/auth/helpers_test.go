package auth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
	"github.com/clientiq/clientiq/internal/viewercache"
)

// Helpers shared by this package's tests.

const (
	testIssuer   = "https://clientiq.test"
	testAudience = "clientiq-api"
	// testPassword is every fixture user's password unless a test says
	// otherwise.
	testPassword = "correct horse battery staple"
)

// cheapArgon2 keeps hashing fast in tests where the real cost does not
// matter; DefaultArgon2 is used only where it does (timing, PHC format).
var cheapArgon2 = auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// env is one test database with the real collaborators of auth.Service:
// the tenant service provisions schemas, an in-memory cache throttles, a
// recording notifier captures the one-time tokens, and a movable clock
// drives expiries.
type env struct {
	pool    *pgxpool.Pool
	svc     *auth.Service
	keys    *auth.KeyRing
	hasher  *auth.Hasher
	tenants *tenant.Service
	store   *cache.Memory
	notes   *recorder
	clock   *clock
}

// envOpts tune newEnv; nil means the defaults.
type envOpts struct {
	// Hasher replaces the cheap test hasher.
	Hasher *auth.Hasher
	// ReuseGrace is passed to auth.Config (0: the service's default).
	ReuseGrace time.Duration
	// Viewers is passed to auth.Config (nil: no viewer cache).
	Viewers *viewercache.Cache
}

func newEnv(t *testing.T, opts *envOpts) *env {
	t.Helper()
	if opts == nil {
		opts = &envOpts{}
	}
	tdb := dbtest.New(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := cache.NewMemory(0)
	tenants, err := tenant.NewService(tenant.Config{Pool: tdb.Pool, Cache: store, Logger: logger, BaseDomain: "clientiq.test"})
	require.NoError(t, err)
	keys := newHSRing(t, randomSecret())
	hasher := opts.Hasher
	if hasher == nil {
		hasher = auth.NewHasher(cheapArgon2, 0)
	}
	e := &env{pool: tdb.Pool, keys: keys, hasher: hasher, tenants: tenants, store: store,
		notes: &recorder{}, clock: &clock{}}
	e.svc = auth.NewService(auth.Config{
		Pool: tdb.Pool, Keys: keys, Hasher: hasher, Cache: store, Logger: logger,
		Tenants: provisioner{tenants}, Notifier: e.notes,
		ReuseGrace: opts.ReuseGrace, Now: e.clock.Now, Viewers: opts.Viewers,
	})
	return e
}

// provisioner adapts tenant.Service to auth.TenantProvisioner, as the
// application's wiring does.
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

// tenant provisions a tenant called slug.
func (e *env) tenant(t *testing.T, slug string) *tenancy.Tenant {
	t.Helper()
	tn, err := e.tenants.Create(t.Context(), tenant.CreateInput{Slug: slug, Name: "Tenant " + slug})
	require.NoError(t, err)
	return &tn.Tenant
}

// userOpts describe a fixture user; zero values get defaults.
type userOpts struct {
	// Email defaults to a unique address.
	Email string
	// Password defaults to testPassword; ignored when Hash is set.
	Password string
	// Hash is stored as is (e.g. made with older parameters).
	Hash     string
	Staff    bool
	Disabled bool
}

type fixtureUser struct {
	ID       uuid.UUID
	Email    string
	Password string
}

// user inserts a user the way signup stores one (lowercased email,
// argon2id hash of the env's hasher).
func (e *env) user(t *testing.T, opts *userOpts) *fixtureUser {
	t.Helper()
	if opts == nil {
		opts = &userOpts{}
	}
	u := &fixtureUser{ID: uuid.New(), Email: opts.Email, Password: opts.Password}
	if u.Email == "" {
		u.Email = "user-" + dbtest.RandomSuffix() + "@example.com"
	}
	if u.Password == "" {
		u.Password = testPassword
	}
	hash := opts.Hash
	if hash == "" {
		var err error
		hash, err = e.hasher.Hash(t.Context(), u.Password)
		require.NoError(t, err)
	}
	var disabled *time.Time
	if opts.Disabled {
		now := time.Now()
		disabled = &now
	}
	_, err := e.pool.Exec(t.Context(), `INSERT INTO public.users
		(id, email, password_hash, name, locale, is_staff, disabled_at, created_at, updated_at)
		VALUES ($1, $2, $3, 'Test User', 'en', $4, $5, now(), now())`, u.ID, u.Email, hash, opts.Staff, disabled)
	require.NoError(t, err)
	return u
}

// member makes u an active member of tn with roles.
func (e *env) member(t *testing.T, tn *tenancy.Tenant, u *fixtureUser, roles ...string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	err := pgx.BeginFunc(t.Context(), e.pool, func(tx pgx.Tx) error {
		var err error
		id, err = auth.AddMemberTx(t.Context(), tx, tn.Schema, u.ID, roles)
		return err
	})
	require.NoError(t, err)
	return id
}

// login logs u in on tn (nil: the platform) and requires success.
func (e *env) login(t *testing.T, tn *tenancy.Tenant, u *fixtureUser) *auth.Tokens {
	t.Helper()
	tokens, err := e.svc.Login(scoped(t.Context(), tn), u.Email, u.Password, auth.Meta{})
	require.NoError(t, err)
	require.NotEmpty(t, tokens.AccessToken)
	require.NotEmpty(t, tokens.RefreshToken)
	return tokens
}

// viewerCtx authenticates the access token in tn's scope and returns the
// context a request would carry after the middleware.
func (e *env) viewerCtx(t *testing.T, tn *tenancy.Tenant, tokens *auth.Tokens) context.Context {
	t.Helper()
	ctx := scoped(t.Context(), tn)
	v, err := e.svc.Authenticate(ctx, "Bearer "+tokens.AccessToken)
	require.NoError(t, err)
	require.NotNil(t, v)
	return tenancy.WithViewer(ctx, v)
}

// passwordHash returns u's stored hash.
func (e *env) passwordHash(t *testing.T, id uuid.UUID) string {
	t.Helper()
	var h string
	require.NoError(t, e.pool.QueryRow(t.Context(), "SELECT password_hash FROM public.users WHERE id = $1", id).Scan(&h))
	return h
}

// auditCount counts tn's audit events with action.
func (e *env) auditCount(t *testing.T, tn *tenancy.Tenant, action string) int {
	t.Helper()
	var n int
	require.NoError(t, e.pool.QueryRow(t.Context(),
		"SELECT count(*) FROM "+db.QuoteIdent(tn.Schema)+".audit_events WHERE action = $1", action).Scan(&n))
	return n
}

// scoped returns ctx in tn's scope, or the platform's when tn is nil.
func scoped(ctx context.Context, tn *tenancy.Tenant) context.Context {
	if tn == nil {
		return ctx
	}
	return tenancy.WithTenant(ctx, tn)
}

// requireCode requires err to carry code.
func requireCode(t *testing.T, err error, code apperr.Code) *apperr.Error {
	t.Helper()
	require.Error(t, err)
	ae := apperr.As(err)
	require.Equal(t, code, ae.Code, "error: %v", err)
	return ae
}

// requireInvalidToken requires the one answer to every bad access token.
func requireInvalidToken(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, auth.ErrInvalidToken)
	requireCode(t, err, apperr.CodeUnauthenticated)
}

// clock is the service's clock: real time plus an offset tests move.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// recorder is the Notifier: it keeps what would have been mailed.
type recorder struct {
	mu   sync.Mutex
	sent []mail
}

type mail struct {
	Purpose string
	To      auth.Recipient
	Token   string
	// InTx reports that the mail was handed over inside the transaction
	// that stored the token.
	InTx bool
}

func (r *recorder) PasswordReset(_ context.Context, tx pgx.Tx, to auth.Recipient, token string) error {
	return r.add(auth.PurposePasswordReset, tx, to, token)
}

func (r *recorder) EmailVerification(_ context.Context, tx pgx.Tx, to auth.Recipient, token string) error {
	return r.add(auth.PurposeEmailVerification, tx, to, token)
}

func (r *recorder) add(purpose string, tx pgx.Tx, to auth.Recipient, token string) error {
	if token == "" {
		return errors.New("recorder: empty token")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, mail{Purpose: purpose, To: to, Token: token, InTx: tx != nil})
	return nil
}

// Sent returns the mails of purpose sent to email.
func (r *recorder) Sent(purpose, email string) []mail {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(r.sent), func(m mail) bool {
		return m.Purpose != purpose || m.To.Email != email
	})
}

// median returns the median of ds (ds is sorted in place).
func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return (ds[n/2-1] + ds[n/2]) / 2
}

// lowQuartile returns the 25th percentile of ds (sorted in place). Noise on
// a shared machine only ever adds time, so the low quartile tracks the work
// a call does better than the median while the other packages' tests run.
func lowQuartile(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/4]
}

// cpuTime is the CPU time this process has used (user + system). Other
// processes (the other test packages running beside this one) do not count,
// so it measures the work of a call where wall time measures the machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// requireComparableTimes runs a and b interleaved n times each and requires
// the CPU time they use to differ by at most tolerance (a fraction of the
// larger), comparing low quartiles (noise only ever adds). Callers must not
// run in parallel with other tests of the package, whose work would count.
// The measurement is retried up to attempts times and passes when any
// attempt is within bounds; wall times are logged for reference.
func requireComparableTimes(t *testing.T, n, attempts int, tolerance float64, a, b func()) {
	t.Helper()
	var gaps []float64
	for attempt := 1; attempt <= attempts; attempt++ {
		da, dbs := make([]time.Duration, 0, n), make([]time.Duration, 0, n)
		wa, wb := make([]time.Duration, 0, n), make([]time.Duration, 0, n)
		for i := range n {
			// Alternate which runs first so neither always follows the other.
			first, second, df, ds, wf, ws := a, b, &da, &dbs, &wa, &wb
			if i%2 == 1 {
				first, second, df, ds, wf, ws = b, a, &dbs, &da, &wb, &wa
			}
			start, cpu := time.Now(), cpuTime()
			first()
			*df = append(*df, cpuTime()-cpu)
			*wf = append(*wf, time.Since(start))
			start, cpu = time.Now(), cpuTime()
			second()
			*ds = append(*ds, cpuTime()-cpu)
			*ws = append(*ws, time.Since(start))
		}
		ma, mb := lowQuartile(da), lowQuartile(dbs)
		gap := float64((ma - mb).Abs()) / float64(max(ma, mb))
		t.Logf("attempt %d: CPU low quartile a=%v b=%v gap=%.1f%% (wall medians a=%v b=%v)",
			attempt, ma, mb, gap*100, median(wa), median(wb))
		if gap <= tolerance {
			return
		}
		gaps = append(gaps, gap)
	}
	require.Failf(t, "timings differ", "CPU-time gaps %v exceed %.0f%% in every attempt", gaps, tolerance*100)
}

// randomSecret returns a fresh 256-bit HS256 secret.
func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newHSRing returns an HS256 ring signing with secret and still verifying
// with previous.
func newHSRing(t *testing.T, secret string, previous ...string) *auth.KeyRing {
	t.Helper()
	k, generated, err := auth.NewKeyRing(auth.KeyRingConfig{Secret: secret, PreviousSecrets: previous,
		Issuer: testIssuer, Audience: testAudience})
	require.NoError(t, err)
	require.False(t, generated)
	return k
}

// newEdKey writes a fresh Ed25519 key pair as PEM files and returns them.
func newEdKey(t *testing.T) (priv ed25519.PrivateKey, privFile, pubFile string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	require.NoError(t, err)
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	dir := t.TempDir()
	privFile, pubFile = filepath.Join(dir, "jwt.key"), filepath.Join(dir, "jwt.pub")
	require.NoError(t, os.WriteFile(privFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600))
	return priv, privFile, pubFile
}

// newEdRing returns an EdDSA ring from a fresh key file, and the key.
func newEdRing(t *testing.T, previousPubFiles ...string) (*auth.KeyRing, ed25519.PrivateKey) {
	t.Helper()
	priv, privFile, _ := newEdKey(t)
	k, generated, err := auth.NewKeyRing(auth.KeyRingConfig{PrivateKeyFile: privFile, PreviousPublicKeyFiles: previousPubFiles,
		Issuer: testIssuer, Audience: testAudience})
	require.NoError(t, err)
	require.False(t, generated)
	return k, priv
}

// issue signs a token for a random user, tenant and session.
func issue(t *testing.T, k *auth.KeyRing) string {
	t.Helper()
	tok, _, err := k.Issue(auth.AccessInput{UserID: uuid.New(), TenantID: uuid.New(), SessionID: uuid.New()})
	require.NoError(t, err)
	return tok
}

// unverified decodes a token's header and claims without checking anything.
func unverified(t *testing.T, raw string) (map[string]any, jwt.MapClaims) {
	t.Helper()
	claims := jwt.MapClaims{}
	tok, _, err := jwt.NewParser().ParseUnverified(raw, claims)
	require.NoError(t, err)
	return tok.Header, claims
}

// ringKID returns the kid the ring signs with.
func ringKID(t *testing.T, k *auth.KeyRing) string {
	t.Helper()
	h, _ := unverified(t, issue(t, k))
	kid, _ := h["kid"].(string)
	require.NotEmpty(t, kid)
	return kid
}
