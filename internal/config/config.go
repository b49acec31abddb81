// Package config owns ClientIQ's runtime configuration: it reads the process
// environment once at start, applies the profile's defaults, validates every
// value and refuses insecure settings in production.
package config

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Profile selects defaults and how strict validation is.
type Profile string

// The profiles CLIENTIQ_ENV accepts.
const (
	ProfileLocal      Profile = "local"
	ProfileTest       Profile = "test"
	ProfileStaging    Profile = "staging"
	ProfileProduction Profile = "production"
)

// PlaygroundMode says who may open the GraphQL playground.
type PlaygroundMode string

// The values PLAYGROUND accepts.
const (
	PlaygroundOn    PlaygroundMode = "on"
	PlaygroundOff   PlaygroundMode = "off"
	PlaygroundStaff PlaygroundMode = "staff"
)

// Pooler names what sits between ClientIQ and PostgreSQL on DATABASE_URL.
type Pooler string

// The values DATABASE_POOLER accepts.
const (
	// PoolerNone: DATABASE_URL reaches PostgreSQL directly, or through a
	// pooler in session mode, which behaves the same.
	PoolerNone Pooler = "none"
	// PoolerPgBouncerTransaction: DATABASE_URL goes through PgBouncer in
	// transaction pooling mode, where consecutive transactions of one
	// client connection may run on different server connections. Named
	// prepared statements and LISTEN then do not work (see docs/scaling.md).
	PoolerPgBouncerTransaction Pooler = "pgbouncer-transaction"
)

// DefaultDatabaseURL is used in the local and test profiles when DATABASE_URL
// is unset; `make run` exports its own URL, so this is only a last resort.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/clientiq?sslmode=disable"

// MinJWTSecretBytes is the shortest HS256 secret accepted (256 bits).
const MinJWTSecretBytes = 32

// Config is the whole runtime configuration. Every field is set by Load from
// one environment variable, named in its comment.
type Config struct {
	// Profile (CLIENTIQ_ENV): local, test, staging or production. Default local.
	Profile Profile
	// DatabaseURL (DATABASE_URL): PostgreSQL connection URL. Required in
	// staging and production; DefaultDatabaseURL otherwise.
	DatabaseURL string
	// DatabaseMaxConns (DATABASE_MAX_CONNS): pool size. Default 12.
	DatabaseMaxConns int32
	// DatabaseConnectTimeout (DATABASE_CONNECT_TIMEOUT): how long start-up waits
	// for PostgreSQL before giving up. Default 5s.
	DatabaseConnectTimeout time.Duration
	// DatabasePooler (DATABASE_POOLER): none, or pgbouncer-transaction when
	// DATABASE_URL goes through PgBouncer in transaction pooling mode; then
	// pgx prepares no named statements and River polls instead of
	// LISTENing. Default none.
	DatabasePooler Pooler
	// DatabaseListenURL (DATABASE_LISTEN_URL): a URL that reaches
	// PostgreSQL directly (not through a transaction pooler), for the one
	// connection each process keeps LISTENing on (the viewer cache's
	// invalidation feed). Empty: DATABASE_URL, or, with
	// DATABASE_POOLER=pgbouncer-transaction, none (the viewer cache is
	// then off).
	DatabaseListenURL string
	// RedisURL (REDIS_URL): redis:// URL. Empty means: try 127.0.0.1:6379 in the
	// local and test profiles, else use the in-process cache.
	RedisURL string
	// HTTPAddr (HTTP_ADDR): listen address. Default 127.0.0.1:8080 locally, :8080 elsewhere.
	HTTPAddr string
	// BaseDomain (BASE_DOMAIN): tenants live at <slug>.<BaseDomain>. Default localhost.
	BaseDomain string
	// AllowTenantHeader (ALLOW_TENANT_HEADER): honour X-Tenant. Default true.
	AllowTenantHeader bool
	// JWT holds the token settings (JWT_*).
	JWT JWTConfig
	// SMTPURL (SMTP_URL): smtp:// or smtps:// URL of the mail relay. Empty in
	// local means emails are written to the log; required in production.
	SMTPURL string
	// MailFrom (MAIL_FROM): sender address. Default "ClientIQ <no-reply@<BaseDomain>>".
	MailFrom string
	// SalesEmail (SALES_EMAIL): where demo requests are announced. Empty
	// sends the prospect's confirmation only.
	SalesEmail string
	// PublicScheme (PUBLIC_URL_SCHEME): http or https, the scheme of links
	// in emails. Default http in local and test, https elsewhere.
	PublicScheme string
	// Payments says how customers are charged (PAYMENT_PROVIDER, STRIPE_*).
	Payments PaymentsConfig
	// Features holds the feature flags (ENABLE_*).
	Features Features
	// Debug (DEBUG): detailed error output. Default false; refused in production.
	Debug bool
	// Playground (PLAYGROUND): on, off or staff. Default on in local, test and
	// staging; off in production, where on is refused.
	Playground PlaygroundMode
	// LogLevel (LOG_LEVEL): debug, info, warn or error. Default info.
	LogLevel string
	// LogFormat (LOG_FORMAT): json or text. Default json.
	LogFormat string
	// PprofAddr (PPROF_ADDR): where to serve Go's profiler (/debug/pprof/),
	// on a listener of its own. Empty (the default) serves none; the host
	// must be a loopback address.
	PprofAddr string
	// ViewerCacheTTL (VIEWER_CACHE_TTL): how long an authenticated viewer
	// (membership, roles, session) may be reused between requests; changes
	// invalidate it at once through PostgreSQL notifications, so this only
	// bounds memory and is a last line of defence. 0 reads the viewer on
	// every request. Default 5m: at 30s, a server with thousands of active
	// tenants reloaded a hundred viewers a second, each a statement in a
	// schema its connection had not prepared (docs/performance.md, 10 vs
	// 10,000 tenants). Off with DATABASE_POOLER=pgbouncer-transaction
	// unless DATABASE_LISTEN_URL gives a session to LISTEN on.
	ViewerCacheTTL time.Duration
	// MaxBodyBytes (HTTP_MAX_BODY_BYTES): request body limit. Default 1 MiB.
	MaxBodyBytes int64
	// MaxInFlight (HTTP_MAX_IN_FLIGHT): API requests (GraphQL, REST) served
	// at once; the rest wait their turn in arrival order. 0 admits all at
	// once. Default: DATABASE_MAX_CONNS plus twice the cores Go uses
	// (docs/performance.md has the measurements behind it).
	MaxInFlight int
	// QueueTimeout (HTTP_QUEUE_TIMEOUT): the longest an API request waits
	// for its turn before it is answered 503 SERVICE_UNAVAILABLE with
	// Retry-After. Default 5s.
	QueueTimeout time.Duration
	// GCHeapTargetMiB (GC_HEAP_TARGET_MIB): the heap size, in MiB, the
	// garbage collector lets the heap reach before it collects, while the
	// live heap is small enough (internal/gcpace); past that it collects at
	// GOGC 85. Ignored when GOGC is set. Default 24.
	GCHeapTargetMiB int
	// ShutdownTimeout (SHUTDOWN_TIMEOUT): how long in-flight requests and jobs
	// get after SIGTERM. Default 25s.
	ShutdownTimeout time.Duration
	// WriteTimeout (HTTP_WRITE_TIMEOUT): the longest a response may take. Default 30s.
	WriteTimeout time.Duration
	// WorkerConcurrency (WORKER_CONCURRENCY): River workers for the default queue. Default 10.
	WorkerConcurrency int
	// TrustedProxies (TRUSTED_PROXIES, comma-separated CIDRs): proxies whose
	// X-Forwarded-For names the client. Default none.
	TrustedProxies []string
	// TenantPoolSize (TENANT_POOL_SIZE): pre-migrated schemas kept ready so
	// provisioning is a rename. Default 5; 0 disables the pool.
	TenantPoolSize int
	// TenantDeletionGrace (TENANT_DELETION_GRACE): how long a deleted tenant
	// can be restored before its schema is dropped. Default 720h (30 days).
	TenantDeletionGrace time.Duration
}

// JWTConfig is the token configuration.
type JWTConfig struct {
	// Secret (JWT_SECRET): HS256 secret of at least 32 bytes.
	Secret string
	// PreviousSecrets (JWT_PREVIOUS_SECRETS, comma-separated): still verify
	// tokens during a key rotation's overlap window.
	PreviousSecrets []string
	// PreviousPublicKeyFiles (JWT_PREVIOUS_PUBLIC_KEY_FILES, comma-separated):
	// Ed25519 PEM public keys that still verify during a rotation.
	PreviousPublicKeyFiles []string
	// PrivateKeyFile (JWT_PRIVATE_KEY_FILE): PEM Ed25519 private key; when set
	// tokens are signed with EdDSA and Secret is ignored.
	PrivateKeyFile string
	// Issuer (JWT_ISSUER): the iss claim. Default "clientiq".
	Issuer string
	// Audience (JWT_AUDIENCE): the aud claim. Default "clientiq-api".
	Audience string
	// AccessTTL (JWT_ACCESS_TTL): access token lifetime, at most 15m. Default 15m.
	AccessTTL time.Duration
	// RefreshTTL (JWT_REFRESH_TTL): refresh token lifetime. Default 720h (30 days).
	RefreshTTL time.Duration
}

// PaymentsConfig chooses and configures the payment provider.
type PaymentsConfig struct {
	// Provider (PAYMENT_PROVIDER): sandbox (built in, deterministic test
	// cards, no money moves) or stripe. Default sandbox; production refuses
	// sandbox while ENABLE_PAYMENTS is on.
	Provider string
	// StripeSecretKey (STRIPE_SECRET_KEY): sk_… key; required for stripe.
	StripeSecretKey string
	// StripeWebhookSecret (STRIPE_WEBHOOK_SECRET): whsec_… signing secret
	// of the webhook endpoint; required for stripe.
	StripeWebhookSecret string
}

// Features are the product switches of the design.
type Features struct {
	// Payments (ENABLE_PAYMENTS): charging customers. Default true.
	Payments bool
	// Analytics (ENABLE_ANALYTICS): analytics features. Default false.
	Analytics bool
	// Beta (ENABLE_BETA): beta features. Default false.
	Beta bool
}

// Error is a configuration problem: the variable and what is wrong with it.
// Its Error text is the one line printed before exiting with code 2.
type Error struct {
	Var     string
	Problem string
}

func (e *Error) Error() string { return e.Var + ": " + e.Problem }

// IsProduction reports whether the strict production rules apply.
func (c *Config) IsProduction() bool { return c.Profile == ProfileProduction }

// TransactionPooled reports whether DATABASE_URL goes through a pooler in
// transaction mode, so nothing may rely on a session: no named prepared
// statements, no LISTEN, no session advisory locks.
func (c *Config) TransactionPooled() bool { return c.DatabasePooler == PoolerPgBouncerTransaction }

// ListenURL is where a process may hold a session to LISTEN on: the
// DATABASE_LISTEN_URL, else DATABASE_URL unless that goes through a
// transaction pooler (a LISTEN there stays on a server connection other
// clients then share, and its notifications are lost). Empty: nowhere.
func (c *Config) ListenURL() string {
	switch {
	case c.DatabaseListenURL != "":
		return c.DatabaseListenURL
	case c.TransactionPooled():
		return ""
	}
	return c.DatabaseURL
}

// IsDevelopment reports whether developer conveniences (auto-detected
// services, generated keys) are allowed.
func (c *Config) IsDevelopment() bool {
	return c.Profile == ProfileLocal || c.Profile == ProfileTest
}

// Var describes one environment variable for --help output.
type Var struct {
	Name, Default, Help string
}

// Vars lists every variable Load reads, in the order --help prints them.
var Vars = []Var{
	{"CLIENTIQ_ENV", "local", "profile: local, test, staging or production"},
	{"DATABASE_URL", DefaultDatabaseURL + " (local/test only)", "PostgreSQL URL"},
	{"DATABASE_MAX_CONNS", "12", "connection pool size"},
	{"DATABASE_CONNECT_TIMEOUT", "5s", "how long to wait for PostgreSQL at start"},
	{"DATABASE_POOLER", "none", "none, or pgbouncer-transaction when DATABASE_URL goes through PgBouncer's transaction pooling (docs/scaling.md)"},
	{"DATABASE_LISTEN_URL", "DATABASE_URL unless pooled", "PostgreSQL URL reached directly, not through a transaction pooler, for the viewer cache's LISTEN connection (one per process)"},
	{"REDIS_URL", "127.0.0.1:6379 if it answers (local/test), else in-process", "Redis URL (redis:// or rediss://)"},
	{"HTTP_ADDR", "127.0.0.1:8080 (local/test), :8080", "HTTP listen address"},
	{"HTTP_MAX_BODY_BYTES", "1048576", "request body limit in bytes"},
	{"HTTP_MAX_IN_FLIGHT", "DATABASE_MAX_CONNS + 2 × GOMAXPROCS", "API requests served at once, the rest queued in arrival order (0: no limit)"},
	{"HTTP_QUEUE_TIMEOUT", "5s", "longest wait in that queue before 503 SERVICE_UNAVAILABLE with Retry-After"},
	{"PPROF_ADDR", "", "serve Go's profiler on this loopback address (e.g. 127.0.0.1:6060); unset serves none"},
	{"GC_HEAP_TARGET_MIB", "24", "heap size in MiB the garbage collector may fill while the live heap is small (ignored when GOGC is set)"},
	{"HTTP_WRITE_TIMEOUT", "30s", "longest time a response may take"},
	{"VIEWER_CACHE_TTL", "5m", "reuse an authenticated viewer between requests for at most this long (invalidated at once on change; 0 disables; off behind pgbouncer-transaction without DATABASE_LISTEN_URL)"},
	{"SHUTDOWN_TIMEOUT", "25s", "grace period for in-flight requests and jobs on SIGTERM"},
	{"BASE_DOMAIN", "localhost", "tenants are served at <slug>.<BASE_DOMAIN>"},
	{"ALLOW_TENANT_HEADER", "true", "honour the X-Tenant header"},
	{"JWT_SECRET", "generated (local/test only)", "HS256 secret, at least 32 bytes"},
	{"JWT_PRIVATE_KEY_FILE", "", "Ed25519 PEM private key (EdDSA); overrides JWT_SECRET"},
	{"JWT_PREVIOUS_SECRETS", "", "comma-separated HS256 secrets still accepted during a rotation"},
	{"JWT_PREVIOUS_PUBLIC_KEY_FILES", "", "comma-separated Ed25519 PEM public keys still accepted during a rotation"},
	{"JWT_ISSUER", "clientiq", "iss claim"},
	{"JWT_AUDIENCE", "clientiq-api", "aud claim"},
	{"JWT_ACCESS_TTL", "15m", "access token lifetime (at most 15m)"},
	{"JWT_REFRESH_TTL", "720h", "refresh token lifetime"},
	{"SMTP_URL", "log emails (local/test only)", "smtp://user:pass@host:port or smtps://…; ?tls=none|starttls|tls"},
	{"MAIL_FROM", "ClientIQ <no-reply@BASE_DOMAIN>", "sender address"},
	{"SALES_EMAIL", "", "address that receives a notification of each demo request (unset: none is sent)"},
	{"PUBLIC_URL_SCHEME", "http (local/test), https", "scheme of the links in emails: http or https"},
	{"PAYMENT_PROVIDER", "sandbox", "sandbox (test cards, no money moves; refused in production) or stripe"},
	{"STRIPE_SECRET_KEY", "", "Stripe secret key (sk_…), required with PAYMENT_PROVIDER=stripe"},
	{"STRIPE_WEBHOOK_SECRET", "", "Stripe webhook signing secret (whsec_…), required with PAYMENT_PROVIDER=stripe"},
	{"ENABLE_PAYMENTS", "true", "feature flag: payment processing"},
	{"ENABLE_ANALYTICS", "false", "feature flag: advanced analytics"},
	{"ENABLE_BETA", "false", "feature flag: beta features"},
	{"DEBUG", "false", "detailed error output (refused in production)"},
	{"PLAYGROUND", "on; off in production", "GraphQL playground: on, off or staff"},
	{"LOG_LEVEL", "info", "debug, info, warn or error"},
	{"LOG_FORMAT", "json", "json or text"},
	{"WORKER_CONCURRENCY", "10", "River workers for the default queue"},
	{"TRUSTED_PROXIES", "", "comma-separated proxy CIDRs whose X-Forwarded-For names the client"},
	{"TENANT_POOL_SIZE", "5", "pre-migrated schemas kept ready for fast provisioning (0 disables)"},
	{"TENANT_DELETION_GRACE", "720h", "how long a deleted tenant can be restored before its schema is dropped"},
}

// Load reads the configuration from getenv (os.Getenv in production code, a
// map in tests) and validates it. The error, when not nil, is an *Error.
func Load(getenv func(string) string) (*Config, error) {
	r := reader{getenv: getenv}
	c := &Config{}

	switch p := Profile(cmp.Or(strings.TrimSpace(getenv("CLIENTIQ_ENV")), "local")); p {
	case ProfileLocal, ProfileTest, ProfileStaging, ProfileProduction:
		c.Profile = p
	default:
		return nil, &Error{"CLIENTIQ_ENV", fmt.Sprintf("unknown profile %q (want local, test, staging or production)", p)}
	}
	dev := c.IsDevelopment()

	c.DatabaseURL = r.str("DATABASE_URL", "")
	if c.DatabaseURL == "" {
		if !dev {
			return nil, &Error{"DATABASE_URL", "required in the " + string(c.Profile) + " profile"}
		}
		c.DatabaseURL = DefaultDatabaseURL
	}
	if err := validateDatabaseURL(c.DatabaseURL); err != nil {
		return nil, &Error{"DATABASE_URL", err.Error()}
	}
	c.DatabaseMaxConns = int32(r.intRange("DATABASE_MAX_CONNS", 12, 1, 1000))
	c.DatabaseConnectTimeout = r.duration("DATABASE_CONNECT_TIMEOUT", 5*time.Second, 100*time.Millisecond, 5*time.Minute)
	switch p := Pooler(strings.ToLower(r.str("DATABASE_POOLER", string(PoolerNone)))); p {
	case PoolerNone, PoolerPgBouncerTransaction:
		c.DatabasePooler = p
		if err := validateExecMode(c.DatabaseURL, p); err != nil {
			r.fail("DATABASE_URL", err.Error())
		}
	default:
		r.fail("DATABASE_POOLER", fmt.Sprintf("unknown pooler %q (want none or pgbouncer-transaction)", p))
	}
	if c.DatabaseListenURL = r.str("DATABASE_LISTEN_URL", ""); c.DatabaseListenURL != "" {
		if err := validateDatabaseURL(c.DatabaseListenURL); err != nil {
			r.fail("DATABASE_LISTEN_URL", err.Error())
		} else if c.TransactionPooled() && c.DatabaseListenURL == c.DatabaseURL {
			r.fail("DATABASE_LISTEN_URL", "is DATABASE_URL, which goes through the transaction pooler: LISTEN needs a direct connection to PostgreSQL")
		}
	}

	c.RedisURL = r.str("REDIS_URL", "")
	if c.RedisURL != "" {
		if err := validateRedisURL(c.RedisURL); err != nil {
			r.fail("REDIS_URL", err.Error())
		}
	}

	c.HTTPAddr = r.str("HTTP_ADDR", map[bool]string{true: "127.0.0.1:8080", false: ":8080"}[dev])
	if _, port, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		r.fail("HTTP_ADDR", fmt.Sprintf("%q is not host:port", c.HTTPAddr))
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		r.fail("HTTP_ADDR", fmt.Sprintf("%q has an invalid port", c.HTTPAddr))
	}
	c.PprofAddr = r.str("PPROF_ADDR", "")
	if c.PprofAddr != "" {
		host, _, err := net.SplitHostPort(c.PprofAddr)
		if ip, perr := netip.ParseAddr(host); err != nil || host != "localhost" && (perr != nil || !ip.IsLoopback()) {
			r.fail("PPROF_ADDR", fmt.Sprintf("%q must be a loopback host:port (the profiler exposes the process's internals)", c.PprofAddr))
		}
	}
	c.MaxBodyBytes = int64(r.intRange("HTTP_MAX_BODY_BYTES", 1<<20, 1024, 1<<30))
	c.MaxInFlight = r.intRange("HTTP_MAX_IN_FLIGHT", DefaultMaxInFlight(int(c.DatabaseMaxConns)), 0, 100000)
	c.GCHeapTargetMiB = r.intRange("GC_HEAP_TARGET_MIB", 24, 4, 1<<20)
	c.QueueTimeout = r.duration("HTTP_QUEUE_TIMEOUT", 5*time.Second, 10*time.Millisecond, 10*time.Minute)
	c.WriteTimeout = r.duration("HTTP_WRITE_TIMEOUT", 30*time.Second, time.Second, time.Hour)
	c.ShutdownTimeout = r.duration("SHUTDOWN_TIMEOUT", 25*time.Second, 0, 10*time.Minute)
	c.ViewerCacheTTL = r.duration("VIEWER_CACHE_TTL", 5*time.Minute, 0, 10*time.Minute)

	c.BaseDomain = strings.TrimSuffix(strings.ToLower(r.str("BASE_DOMAIN", "localhost")), ".")
	if !validHostname(c.BaseDomain) {
		r.fail("BASE_DOMAIN", fmt.Sprintf("%q is not a valid domain name", c.BaseDomain))
	}
	c.AllowTenantHeader = r.boolean("ALLOW_TENANT_HEADER", true)

	c.JWT = JWTConfig{
		Secret:                 getenv("JWT_SECRET"),
		PrivateKeyFile:         r.str("JWT_PRIVATE_KEY_FILE", ""),
		PreviousSecrets:        splitList(getenv("JWT_PREVIOUS_SECRETS")),
		PreviousPublicKeyFiles: splitList(getenv("JWT_PREVIOUS_PUBLIC_KEY_FILES")),
		Issuer:                 r.str("JWT_ISSUER", "clientiq"),
		Audience:               r.str("JWT_AUDIENCE", "clientiq-api"),
		AccessTTL:              r.duration("JWT_ACCESS_TTL", 15*time.Minute, 30*time.Second, 15*time.Minute),
		RefreshTTL:             r.duration("JWT_REFRESH_TTL", 30*24*time.Hour, time.Minute, 365*24*time.Hour),
	}
	if c.JWT.Secret != "" && len(c.JWT.Secret) < MinJWTSecretBytes {
		r.fail("JWT_SECRET", fmt.Sprintf("too short: %d bytes, need at least %d (256 bits)", len(c.JWT.Secret), MinJWTSecretBytes))
	}
	for _, prev := range c.JWT.PreviousSecrets {
		if len(prev) < MinJWTSecretBytes {
			r.fail("JWT_PREVIOUS_SECRETS", fmt.Sprintf("each secret needs at least %d bytes", MinJWTSecretBytes))
		}
	}
	if c.JWT.Secret != "" && isWeakSecret(c.JWT.Secret) {
		r.fail("JWT_SECRET", "is a well-known default or has too little variety; generate one with `openssl rand -base64 48`")
	}

	c.SMTPURL = r.str("SMTP_URL", "")
	if c.SMTPURL != "" {
		if err := validateSMTPURL(c.SMTPURL); err != nil {
			r.fail("SMTP_URL", err.Error())
		}
	}
	c.MailFrom = r.str("MAIL_FROM", "ClientIQ <no-reply@"+c.BaseDomain+">")

	c.SalesEmail = r.str("SALES_EMAIL", "")
	if c.SalesEmail != "" {
		if a, err := mail.ParseAddress(c.SalesEmail); err != nil || a.Name != "" {
			r.fail("SALES_EMAIL", "must be a plain email address (sales@example.com)")
		}
	}
	c.PublicScheme = strings.ToLower(r.str("PUBLIC_URL_SCHEME", map[bool]string{true: "http", false: "https"}[dev]))
	if c.PublicScheme != "http" && c.PublicScheme != "https" {
		r.fail("PUBLIC_URL_SCHEME", fmt.Sprintf("unknown scheme %q (want http or https)", c.PublicScheme))
	}
	c.Payments = PaymentsConfig{
		Provider:            strings.ToLower(r.str("PAYMENT_PROVIDER", "sandbox")),
		StripeSecretKey:     getenv("STRIPE_SECRET_KEY"),
		StripeWebhookSecret: getenv("STRIPE_WEBHOOK_SECRET"),
	}
	switch c.Payments.Provider {
	case "sandbox":
	case "stripe":
		if !strings.HasPrefix(c.Payments.StripeSecretKey, "sk_") && !strings.HasPrefix(c.Payments.StripeSecretKey, "rk_") {
			r.fail("STRIPE_SECRET_KEY", "required with PAYMENT_PROVIDER=stripe: a secret (sk_…) or restricted (rk_…) key")
		}
		if !strings.HasPrefix(c.Payments.StripeWebhookSecret, "whsec_") {
			r.fail("STRIPE_WEBHOOK_SECRET", "required with PAYMENT_PROVIDER=stripe: the endpoint's signing secret (whsec_…)")
		}
	default:
		r.fail("PAYMENT_PROVIDER", fmt.Sprintf("unknown provider %q (want sandbox or stripe)", c.Payments.Provider))
	}

	c.Features = Features{
		Payments:  r.boolean("ENABLE_PAYMENTS", true),
		Analytics: r.boolean("ENABLE_ANALYTICS", false),
		Beta:      r.boolean("ENABLE_BETA", false),
	}
	c.Debug = r.boolean("DEBUG", false)

	defPlayground := PlaygroundOn
	if c.IsProduction() {
		defPlayground = PlaygroundOff
	}
	switch m := PlaygroundMode(strings.ToLower(r.str("PLAYGROUND", string(defPlayground)))); m {
	case PlaygroundOn, PlaygroundOff, PlaygroundStaff:
		c.Playground = m
	default:
		r.fail("PLAYGROUND", fmt.Sprintf("unknown mode %q (want on, off or staff)", m))
	}

	c.LogLevel = strings.ToLower(r.str("LOG_LEVEL", "info"))
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		r.fail("LOG_LEVEL", fmt.Sprintf("unknown level %q (want debug, info, warn or error)", c.LogLevel))
	}
	c.LogFormat = strings.ToLower(r.str("LOG_FORMAT", "json"))
	if c.LogFormat != "json" && c.LogFormat != "text" {
		r.fail("LOG_FORMAT", fmt.Sprintf("unknown format %q (want json or text)", c.LogFormat))
	}
	c.WorkerConcurrency = r.intRange("WORKER_CONCURRENCY", 10, 1, 10000)
	c.TenantPoolSize = r.intRange("TENANT_POOL_SIZE", 5, 0, 1000)
	c.TrustedProxies = splitList(getenv("TRUSTED_PROXIES"))
	for _, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				r.fail("TRUSTED_PROXIES", fmt.Sprintf("%q is not a CIDR or an IP address", p))
			}
		}
	}
	c.TenantDeletionGrace = r.duration("TENANT_DELETION_GRACE", 30*24*time.Hour, time.Minute, 10*365*24*time.Hour)

	if r.err != nil {
		return nil, r.err
	}
	if c.IsProduction() {
		if err := c.refuseInsecureDefaults(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// refuseInsecureDefaults holds the production-only rules: everything that is
// convenient on a laptop and dangerous on the internet.
func (c *Config) refuseInsecureDefaults() error {
	switch {
	case c.JWT.Secret == "" && c.JWT.PrivateKeyFile == "":
		return &Error{"JWT_SECRET", "required in production (or set JWT_PRIVATE_KEY_FILE); the generated development key is refused"}
	case c.Debug:
		return &Error{"DEBUG", "debug error output is refused in production"}
	case c.Playground == PlaygroundOn:
		return &Error{"PLAYGROUND", "an open playground is refused in production (use off or staff)"}
	case c.SMTPURL == "":
		return &Error{"SMTP_URL", "required in production (emails would otherwise be lost)"}
	case c.BaseDomain == "localhost":
		return &Error{"BASE_DOMAIN", "must be the public domain in production, not localhost"}
	case c.Features.Payments && c.Payments.Provider == "sandbox":
		return &Error{"PAYMENT_PROVIDER", "the sandbox takes no real money; set stripe in production (or ENABLE_PAYMENTS=false)"}
	case c.PublicScheme != "https":
		return &Error{"PUBLIC_URL_SCHEME", "links in emails must use https in production"}
	case smtpSkipsVerify(c.SMTPURL):
		return &Error{"SMTP_URL", "skip_verify (no TLS certificate check) is refused in production"}
	}
	return nil
}

// weakSecrets are values that appear in tutorials and .env.example files.
var weakSecrets = []string{"secret", "changeme", "change-me", "your-secret", "jwt-secret", "django-insecure", "development", "clientiq"}

func isWeakSecret(s string) bool {
	l := strings.ToLower(s)
	for _, w := range weakSecrets {
		if strings.Contains(l, w) {
			return true
		}
	}
	distinct := map[rune]struct{}{}
	for _, r := range s {
		distinct[r] = struct{}{}
	}
	return len(distinct) < 10
}

func validateDatabaseURL(s string) error {
	if !strings.HasPrefix(s, "postgres://") && !strings.HasPrefix(s, "postgresql://") {
		return errors.New("must be a postgres:// or postgresql:// URL")
	}
	if _, err := pgx.ParseConfig(s); err != nil {
		return errors.New("cannot be parsed as a PostgreSQL URL")
	}
	return nil
}

// validateExecMode checks a default_query_exec_mode set in DATABASE_URL
// (pgx reads it from there and refuses unknown values; ClientIQ picks a mode
// itself when it is unset). exec and simple_protocol type every argument
// from its Go value, and pgx cannot encode the []uuid.UUID that ClientIQ
// binds to uuid[] parameters that way, so both are refused. Through a
// transaction pooler describe_exec is refused too: its describe and execute
// steps are two round trips, which may reach two different server
// connections. cache_statement is left to the operator: it needs PgBouncer
// 1.21 or newer with max_prepared_statements > 0 (docs/scaling.md).
func validateExecMode(s string, p Pooler) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("cannot be parsed as a URL")
	}
	switch mode := u.Query().Get("default_query_exec_mode"); {
	case mode == "exec" || mode == "simple_protocol":
		return fmt.Errorf("default_query_exec_mode=%s cannot encode uuid[] arguments; leave it unset (or use cache_describe)", mode)
	case p == PoolerPgBouncerTransaction && mode == "describe_exec":
		return fmt.Errorf("default_query_exec_mode=describe_exec cannot work through a transaction pooler (DATABASE_POOLER=%s)", p)
	}
	return nil
}

func validateRedisURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
		return errors.New("must be a redis://, rediss:// or unix:// URL")
	}
	if u.Scheme != "unix" && u.Host == "" {
		return errors.New("has no host")
	}
	return nil
}

func validateSMTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") {
		return errors.New("must be an smtp:// or smtps:// URL")
	}
	if u.Hostname() == "" {
		return errors.New("has no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n <= 0 || n > 65535 {
			return errors.New("has an invalid port")
		}
	}
	if u.Opaque != "" || u.Path != "" && u.Path != "/" {
		return errors.New("has a path (want smtp://[user:pass@]host[:port][?tls=…])")
	}
	q := u.Query()
	for k := range q {
		if k != "tls" && k != "skip_verify" {
			return fmt.Errorf("unknown parameter %q (want tls or skip_verify)", k)
		}
	}
	switch q.Get("tls") {
	case "", "none", "starttls", "tls", "opportunistic":
	default:
		return errors.New("tls must be none, opportunistic, starttls or tls")
	}
	if v := q.Get("skip_verify"); v != "" {
		if _, err := strconv.ParseBool(v); err != nil {
			return errors.New("skip_verify must be true or false")
		}
	}
	return nil
}

// smtpSkipsVerify reports whether an SMTP URL turns certificate checks off.
func smtpSkipsVerify(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	v, _ := strconv.ParseBool(u.Query().Get("skip_verify"))
	return v
}

func validHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// reader parses typed values and keeps the first problem it meets, so Load
// reads straight through and reports one line.
type reader struct {
	getenv func(string) string
	err    *Error
}

func (r *reader) fail(name, problem string) {
	if r.err == nil {
		r.err = &Error{name, problem}
	}
}

func (r *reader) str(name, def string) string {
	return cmp.Or(strings.TrimSpace(r.getenv(name)), def)
}

func (r *reader) boolean(name string, def bool) bool {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true
	case "0", "false", "no", "off":
		return false
	}
	r.fail(name, fmt.Sprintf("%q is not a boolean (want true or false)", v))
	return def
}

func (r *reader) intRange(name string, def, lo, hi int) int {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		r.fail(name, fmt.Sprintf("%q is not an integer", v))
		return def
	}
	if n < lo || n > hi {
		r.fail(name, fmt.Sprintf("%d is out of range [%d, %d]", n, lo, hi))
		return def
	}
	return n
}

func (r *reader) duration(name string, def, lo, hi time.Duration) time.Duration {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		r.fail(name, fmt.Sprintf("%q is not a duration (e.g. 30s, 15m)", v))
		return def
	}
	if d < lo || d > hi {
		r.fail(name, fmt.Sprintf("%s is out of range [%s, %s]", d, lo, hi))
		return def
	}
	return d
}

// LogValue prints the configuration for the start-up log with every secret
// masked, so the log shows what runs without leaking what protects it.
func (c *Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("profile", string(c.Profile)),
		slog.String("database_url", redactURL(c.DatabaseURL)),
		slog.String("database_pooler", string(c.DatabasePooler)),
		slog.String("database_listen_url", redactURL(c.DatabaseListenURL)),
		slog.String("redis_url", redactURL(c.RedisURL)),
		slog.String("http_addr", c.HTTPAddr),
		slog.String("base_domain", c.BaseDomain),
		slog.Bool("allow_tenant_header", c.AllowTenantHeader),
		slog.Bool("jwt_secret_set", c.JWT.Secret != ""),
		slog.Bool("jwt_private_key_set", c.JWT.PrivateKeyFile != ""),
		slog.String("smtp_url", redactURL(c.SMTPURL)),
		slog.String("payment_provider", c.Payments.Provider),
		slog.Bool("stripe_secret_key_set", c.Payments.StripeSecretKey != ""),
		slog.Bool("enable_payments", c.Features.Payments),
		slog.Bool("enable_analytics", c.Features.Analytics),
		slog.Bool("enable_beta", c.Features.Beta),
		slog.Bool("debug", c.Debug),
		slog.String("playground", string(c.Playground)),
	)
}

// redactURL drops the password from a URL (and its query, which may carry one).
func redactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	u.RawQuery = ""
	return u.String()
}

// splitList splits a comma-separated value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// DefaultMaxInFlight is HTTP_MAX_IN_FLIGHT's default for a pool of
// dbConns connections: enough requests to keep every database connection
// busy (a write waits on its commit, not on a CPU) plus two per core for
// work that needs no connection. More would only take turns on the same
// cores and connections, each waiting longer; fewer starves writes (4 on
// two cores cut creates by a quarter).
func DefaultMaxInFlight(dbConns int) int { return dbConns + 2*runtime.GOMAXPROCS(0) }
