package config_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/config"
)

// strongSecret is a 48-character random value (openssl rand -base64 36): long
// enough, varied enough and free of the well-known weak words.
const strongSecret = "u7Rk2QpXw9Lm4Zt1VbN8sYc3Hd6Fg0Jq5Ea+Wn/Ko2Pr7Ti="

// getenv turns a map into the getenv Load expects; unset variables read as "".
func getenv(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

// productionEnv is a production configuration Load accepts; tests copy it and
// change one variable to show that variable alone decides the outcome.
func productionEnv() map[string]string {
	return map[string]string{
		"CLIENTIQ_ENV": "production",
		"DATABASE_URL": "postgres://clientiq:dbpass@db.internal:5432/clientiq?sslmode=require",
		"JWT_SECRET":   strongSecret,
		"SMTP_URL":     "smtps://mailer:mailpass@smtp.clientiq.example:465",
		"BASE_DOMAIN":  "clientiq.example",

		"PAYMENT_PROVIDER":      "stripe",
		"STRIPE_SECRET_KEY":     "sk_live_" + strongSecret,
		"STRIPE_WEBHOOK_SECRET": "whsec_" + strongSecret,
	}
}

// with returns a copy of base with the given variables set (or, for "", unset).
func with(base map[string]string, kv ...string) map[string]string {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
			continue
		}
		out[kv[i]] = kv[i+1]
	}
	return out
}

// requireConfigError asserts err is a one-line *config.Error about name.
func requireConfigError(t *testing.T, err error, name string) *config.Error {
	t.Helper()
	require.Error(t, err)
	var cerr *config.Error
	require.True(t, errors.As(err, &cerr), "error %q (%T) is not a *config.Error", err, err)
	require.Equal(t, name, cerr.Var)
	require.NotEmpty(t, cerr.Problem)
	require.NotContains(t, err.Error(), "\n", "the error is printed as one line before exit")
	require.True(t, strings.HasPrefix(err.Error(), name+": "), "error %q should start with the variable name", err)
	return cerr
}

func TestLoad(t *testing.T) {
	t.Parallel()

	t.Run("EmptyEnvironmentGivesLocalDefaults", func(t *testing.T) {
		t.Parallel()

		cfg, err := config.Load(getenv(nil))
		require.NoError(t, err)

		require.Equal(t, config.ProfileLocal, cfg.Profile)
		require.True(t, cfg.IsDevelopment())
		require.False(t, cfg.IsProduction())
		require.Equal(t, config.DefaultDatabaseURL, cfg.DatabaseURL)
		require.Equal(t, int32(12), cfg.DatabaseMaxConns)
		require.Equal(t, 5*time.Second, cfg.DatabaseConnectTimeout)
		require.Equal(t, config.PoolerNone, cfg.DatabasePooler)
		require.False(t, cfg.TransactionPooled())
		require.Empty(t, cfg.RedisURL, "empty REDIS_URL means probe locally, then fall back to memory")
		require.Equal(t, "127.0.0.1:8080", cfg.HTTPAddr)
		require.Equal(t, int64(1<<20), cfg.MaxBodyBytes)
		require.Equal(t, 12+2*runtime.GOMAXPROCS(0), cfg.MaxInFlight)
		require.Equal(t, config.DefaultMaxInFlight(12), cfg.MaxInFlight)
		require.Equal(t, 5*time.Second, cfg.QueueTimeout)
		require.Equal(t, 30*time.Second, cfg.WriteTimeout)
		require.Equal(t, 25*time.Second, cfg.ShutdownTimeout)
		require.Equal(t, "localhost", cfg.BaseDomain)
		require.True(t, cfg.AllowTenantHeader)
		require.Equal(t, config.JWTConfig{
			Issuer:     "clientiq",
			Audience:   "clientiq-api",
			AccessTTL:  15 * time.Minute,
			RefreshTTL: 720 * time.Hour,
		}, cfg.JWT)
		require.Empty(t, cfg.SMTPURL)
		require.Equal(t, "ClientIQ <no-reply@localhost>", cfg.MailFrom)
		require.Equal(t, config.Features{Payments: true, Analytics: false, Beta: false}, cfg.Features)
		require.False(t, cfg.Debug)
		require.Equal(t, config.PlaygroundOn, cfg.Playground)
		require.Equal(t, "info", cfg.LogLevel)
		require.Equal(t, "json", cfg.LogFormat)
		require.Equal(t, 10, cfg.WorkerConcurrency)
	})

	t.Run("TestProfileUsesDevelopmentDefaults", func(t *testing.T) {
		t.Parallel()

		cfg, err := config.Load(getenv(map[string]string{"CLIENTIQ_ENV": "test"}))
		require.NoError(t, err)
		require.Equal(t, config.ProfileTest, cfg.Profile)
		require.True(t, cfg.IsDevelopment())
		require.Equal(t, config.DefaultDatabaseURL, cfg.DatabaseURL)
		require.Equal(t, "127.0.0.1:8080", cfg.HTTPAddr)
		require.Equal(t, config.PlaygroundOn, cfg.Playground)
	})

	t.Run("SetVariablesOverrideDefaults", func(t *testing.T) {
		t.Parallel()

		cfg, err := config.Load(getenv(map[string]string{
			"DATABASE_URL":             "postgresql://u:p@localhost/other",
			"DATABASE_MAX_CONNS":       " 40 ",
			"DATABASE_CONNECT_TIMEOUT": "2s",
			"DATABASE_POOLER":          "PgBouncer-Transaction",
			"REDIS_URL":                "rediss://cache.internal:6380/2",
			"HTTP_ADDR":                ":9090",
			"HTTP_MAX_BODY_BYTES":      "2048",
			"HTTP_MAX_IN_FLIGHT":       "0",
			"HTTP_QUEUE_TIMEOUT":       "250ms",
			"HTTP_WRITE_TIMEOUT":       "10s",
			"SHUTDOWN_TIMEOUT":         "0s",
			"BASE_DOMAIN":              "Example.COM.",
			"ALLOW_TENANT_HEADER":      "no",
			"JWT_ISSUER":               "iss",
			"JWT_AUDIENCE":             "aud",
			"JWT_ACCESS_TTL":           "5m",
			"JWT_REFRESH_TTL":          "24h",
			"SMTP_URL":                 "smtp://relay:2525?tls=starttls",
			"MAIL_FROM":                "Ops <ops@example.com>",
			"ENABLE_PAYMENTS":          "0",
			"ENABLE_ANALYTICS":         "TRUE",
			"ENABLE_BETA":              "on",
			"DEBUG":                    "yes",
			"PLAYGROUND":               "Staff",
			"LOG_LEVEL":                "DEBUG",
			"LOG_FORMAT":               "text",
			"WORKER_CONCURRENCY":       "3",
		}))
		require.NoError(t, err)

		require.Equal(t, "postgresql://u:p@localhost/other", cfg.DatabaseURL)
		require.Equal(t, int32(40), cfg.DatabaseMaxConns)
		require.Equal(t, 2*time.Second, cfg.DatabaseConnectTimeout)
		require.Equal(t, config.PoolerPgBouncerTransaction, cfg.DatabasePooler, "pooler names are case-insensitive")
		require.Equal(t, "rediss://cache.internal:6380/2", cfg.RedisURL)
		require.Equal(t, ":9090", cfg.HTTPAddr)
		require.Equal(t, int64(2048), cfg.MaxBodyBytes)
		require.Zero(t, cfg.MaxInFlight, "0 admits every request at once")
		require.Equal(t, 250*time.Millisecond, cfg.QueueTimeout)
		require.Equal(t, 10*time.Second, cfg.WriteTimeout)
		require.Zero(t, cfg.ShutdownTimeout)
		require.Equal(t, "example.com", cfg.BaseDomain, "domains are lower-cased and lose the trailing dot")
		require.False(t, cfg.AllowTenantHeader)
		require.Equal(t, "iss", cfg.JWT.Issuer)
		require.Equal(t, "aud", cfg.JWT.Audience)
		require.Equal(t, 5*time.Minute, cfg.JWT.AccessTTL)
		require.Equal(t, 24*time.Hour, cfg.JWT.RefreshTTL)
		require.Equal(t, "smtp://relay:2525?tls=starttls", cfg.SMTPURL)
		require.Equal(t, "Ops <ops@example.com>", cfg.MailFrom)
		require.Equal(t, config.Features{Payments: false, Analytics: true, Beta: true}, cfg.Features)
		require.True(t, cfg.Debug)
		require.Equal(t, config.PlaygroundStaff, cfg.Playground)
		require.Equal(t, "debug", cfg.LogLevel)
		require.Equal(t, "text", cfg.LogFormat)
		require.Equal(t, 3, cfg.WorkerConcurrency)
	})

	t.Run("MailFromDefaultFollowsBaseDomain", func(t *testing.T) {
		t.Parallel()

		cfg, err := config.Load(getenv(map[string]string{"BASE_DOMAIN": "acme.test"}))
		require.NoError(t, err)
		require.Equal(t, "ClientIQ <no-reply@acme.test>", cfg.MailFrom)
	})

	t.Run("StagingListensOnAllInterfacesWithPlaygroundOn", func(t *testing.T) {
		t.Parallel()

		cfg, err := config.Load(getenv(map[string]string{
			"CLIENTIQ_ENV": "staging",
			"DATABASE_URL": "postgres://db.internal/clientiq",
		}))
		require.NoError(t, err)
		require.Equal(t, config.ProfileStaging, cfg.Profile)
		require.False(t, cfg.IsDevelopment())
		require.False(t, cfg.IsProduction())
		require.Equal(t, ":8080", cfg.HTTPAddr)
		require.Equal(t, config.PlaygroundOn, cfg.Playground)
	})
}

func TestLoadRejectsMalformedVariables(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		env     map[string]string
		wantVar string
	}{
		{"UnknownProfile", map[string]string{"CLIENTIQ_ENV": "prod"}, "CLIENTIQ_ENV"},
		{"DatabaseURLNotAURL", map[string]string{"DATABASE_URL": "::not a url::"}, "DATABASE_URL"},
		{"DatabaseURLWrongScheme", map[string]string{"DATABASE_URL": "mysql://root:pw@localhost:3306/clientiq"}, "DATABASE_URL"},
		{"DatabaseURLUnparseablePort", map[string]string{"DATABASE_URL": "postgres://localhost:notaport/clientiq"}, "DATABASE_URL"},
		{"DatabaseMaxConnsNotANumber", map[string]string{"DATABASE_MAX_CONNS": "abc"}, "DATABASE_MAX_CONNS"},
		{"DatabaseMaxConnsZero", map[string]string{"DATABASE_MAX_CONNS": "0"}, "DATABASE_MAX_CONNS"},
		{"DatabaseMaxConnsTooLarge", map[string]string{"DATABASE_MAX_CONNS": "1001"}, "DATABASE_MAX_CONNS"},
		{"DatabaseConnectTimeoutWithoutUnit", map[string]string{"DATABASE_CONNECT_TIMEOUT": "5"}, "DATABASE_CONNECT_TIMEOUT"},
		{"DatabaseConnectTimeoutTooShort", map[string]string{"DATABASE_CONNECT_TIMEOUT": "1ms"}, "DATABASE_CONNECT_TIMEOUT"},
		{"DatabasePoolerUnknown", map[string]string{"DATABASE_POOLER": "pgbouncer"}, "DATABASE_POOLER"},
		{"DatabasePoolerSessionModeIsNotAValue", map[string]string{"DATABASE_POOLER": "pgbouncer-session"}, "DATABASE_POOLER"},
		{"DatabaseURLUnknownExecMode", map[string]string{"DATABASE_URL": "postgres://localhost/clientiq?default_query_exec_mode=fast"}, "DATABASE_URL"},
		{"RedisURLWrongScheme", map[string]string{"REDIS_URL": "http://x"}, "REDIS_URL"},
		{"RedisURLWithoutHost", map[string]string{"REDIS_URL": "redis:///0"}, "REDIS_URL"},
		{"HTTPAddrWithoutHostPart", map[string]string{"HTTP_ADDR": "8080"}, "HTTP_ADDR"},
		{"HTTPAddrPortOutOfRange", map[string]string{"HTTP_ADDR": ":99999"}, "HTTP_ADDR"},
		{"HTTPAddrPortNotANumber", map[string]string{"HTTP_ADDR": "localhost:http"}, "HTTP_ADDR"},
		{"PprofAddrNotLoopback", map[string]string{"PPROF_ADDR": "0.0.0.0:6060"}, "PPROF_ADDR"},
		{"PprofAddrNotHostPort", map[string]string{"PPROF_ADDR": "6060"}, "PPROF_ADDR"},
		{"HTTPMaxBodyBytesTooSmall", map[string]string{"HTTP_MAX_BODY_BYTES": "10"}, "HTTP_MAX_BODY_BYTES"},
		{"HTTPMaxInFlightNegative", map[string]string{"HTTP_MAX_IN_FLIGHT": "-1"}, "HTTP_MAX_IN_FLIGHT"},
		{"HTTPMaxInFlightNotANumber", map[string]string{"HTTP_MAX_IN_FLIGHT": "lots"}, "HTTP_MAX_IN_FLIGHT"},
		{"HTTPQueueTimeoutTooShort", map[string]string{"HTTP_QUEUE_TIMEOUT": "1ms"}, "HTTP_QUEUE_TIMEOUT"},
		{"HTTPWriteTimeoutNotADuration", map[string]string{"HTTP_WRITE_TIMEOUT": "soon"}, "HTTP_WRITE_TIMEOUT"},
		{"ShutdownTimeoutNegative", map[string]string{"SHUTDOWN_TIMEOUT": "-1s"}, "SHUTDOWN_TIMEOUT"},
		{"BaseDomainWithSpace", map[string]string{"BASE_DOMAIN": "bad domain"}, "BASE_DOMAIN"},
		{"BaseDomainEmptyLabel", map[string]string{"BASE_DOMAIN": "a..b"}, "BASE_DOMAIN"},
		{"BaseDomainLabelStartsWithHyphen", map[string]string{"BASE_DOMAIN": "-acme.example"}, "BASE_DOMAIN"},
		{"AllowTenantHeaderNotABoolean", map[string]string{"ALLOW_TENANT_HEADER": "sometimes"}, "ALLOW_TENANT_HEADER"},
		{"JWTSecretTooShort", map[string]string{"JWT_SECRET": "Xk9#q2Lm7!"}, "JWT_SECRET"},
		{"JWTSecretOneCharacterRepeated", map[string]string{"JWT_SECRET": strings.Repeat("a", 40)}, "JWT_SECRET"},
		{"JWTSecretContainsChangeme", map[string]string{"JWT_SECRET": "Q7w!e9R2t$Y4u^I6o&P8changeme0Zx1Cv3Bn5Mm"}, "JWT_SECRET"},
		{"JWTSecretContainsSecretInAnyCase", map[string]string{"JWT_SECRET": "Q7w!e9R2t$Y4u^I6o&P8SeCrEt0Zx1Cv3Bn5Mm7K"}, "JWT_SECRET"},
		{"JWTAccessTTLOverFifteenMinutes", map[string]string{"JWT_ACCESS_TTL": "1h"}, "JWT_ACCESS_TTL"},
		{"JWTAccessTTLUnderThirtySeconds", map[string]string{"JWT_ACCESS_TTL": "10s"}, "JWT_ACCESS_TTL"},
		{"JWTRefreshTTLOverAYear", map[string]string{"JWT_REFRESH_TTL": "9000h"}, "JWT_REFRESH_TTL"},
		{"SMTPURLWrongScheme", map[string]string{"SMTP_URL": "ftp://x"}, "SMTP_URL"},
		{"SMTPURLUnknownTLSMode", map[string]string{"SMTP_URL": "smtp://host?tls=bogus"}, "SMTP_URL"},
		{"SMTPURLWithoutHost", map[string]string{"SMTP_URL": "smtp://:587"}, "SMTP_URL"},
		{"SMTPURLUnknownParameter", map[string]string{"SMTP_URL": "smtp://host?auth=cram"}, "SMTP_URL"},
		{"SMTPURLWithPath", map[string]string{"SMTP_URL": "smtp://host/relay"}, "SMTP_URL"},
		{"SMTPURLSkipVerifyNotABoolean", map[string]string{"SMTP_URL": "smtp://host?skip_verify=maybe"}, "SMTP_URL"},
		{"SMTPURLPortOutOfRange", map[string]string{"SMTP_URL": "smtp://host:70000"}, "SMTP_URL"},
		{"SalesEmailNotAnAddress", map[string]string{"SALES_EMAIL": "sales team"}, "SALES_EMAIL"},
		{"SalesEmailWithDisplayName", map[string]string{"SALES_EMAIL": "Sales <sales@example.com>"}, "SALES_EMAIL"},
		{"PublicURLSchemeUnknown", map[string]string{"PUBLIC_URL_SCHEME": "ftp"}, "PUBLIC_URL_SCHEME"},
		{"PaymentProviderUnknown", map[string]string{"PAYMENT_PROVIDER": "paypal"}, "PAYMENT_PROVIDER"},
		{"StripeWithoutSecretKey", map[string]string{"PAYMENT_PROVIDER": "stripe", "STRIPE_WEBHOOK_SECRET": "whsec_x"}, "STRIPE_SECRET_KEY"},
		{"StripeWithPublishableKey", map[string]string{"PAYMENT_PROVIDER": "stripe", "STRIPE_SECRET_KEY": "pk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}, "STRIPE_SECRET_KEY"},
		{"StripeWithoutWebhookSecret", map[string]string{"PAYMENT_PROVIDER": "stripe", "STRIPE_SECRET_KEY": "sk_test_x"}, "STRIPE_WEBHOOK_SECRET"},
		{"EnablePaymentsNotABoolean", map[string]string{"ENABLE_PAYMENTS": "maybe"}, "ENABLE_PAYMENTS"},
		{"EnableAnalyticsNotABoolean", map[string]string{"ENABLE_ANALYTICS": "2"}, "ENABLE_ANALYTICS"},
		{"EnableBetaNotABoolean", map[string]string{"ENABLE_BETA": "y"}, "ENABLE_BETA"},
		{"DebugNotABoolean", map[string]string{"DEBUG": "verbose"}, "DEBUG"},
		{"PlaygroundUnknownMode", map[string]string{"PLAYGROUND": "sometimes"}, "PLAYGROUND"},
		{"LogLevelUnknown", map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		{"LogFormatUnknown", map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT"},
		{"WorkerConcurrencyZero", map[string]string{"WORKER_CONCURRENCY": "0"}, "WORKER_CONCURRENCY"},
		{"ValueWithEmbeddedNewlineStaysOneLine", map[string]string{"LOG_LEVEL": "info\nlevel=forged"}, "LOG_LEVEL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			cfg, err := config.Load(getenv(tt.env))
			require.Nil(t, cfg)
			requireConfigError(t, err, tt.wantVar)
		})
	}
}

func TestLoadDatabasePooler(t *testing.T) {
	t.Parallel()

	const viaPgBouncer = "postgres://clientiq@pgbouncer.internal:6432/clientiq"

	t.Run("PgBouncerTransactionPoolingIsTransactionPooled", func(t *testing.T) {
		t.Parallel()

		cfg, err := config.Load(getenv(map[string]string{"DATABASE_URL": viaPgBouncer, "DATABASE_POOLER": "pgbouncer-transaction"}))
		require.NoError(t, err)
		require.Equal(t, config.PoolerPgBouncerTransaction, cfg.DatabasePooler)
		require.True(t, cfg.TransactionPooled())
	})

	t.Run("ExplicitNoneIsNotTransactionPooled", func(t *testing.T) {
		t.Parallel()

		cfg, err := config.Load(getenv(map[string]string{"DATABASE_POOLER": " none "}))
		require.NoError(t, err)
		require.Equal(t, config.PoolerNone, cfg.DatabasePooler)
		require.False(t, cfg.TransactionPooled())
	})

	// cache_statement is allowed: PgBouncer 1.21+ with
	// max_prepared_statements > 0 tracks named statements.
	for _, mode := range []string{"cache_describe", "cache_statement"} {
		t.Run("AcceptsExecMode"+mode+"ThroughThePooler", func(t *testing.T) {
			t.Parallel()

			cfg, err := config.Load(getenv(map[string]string{
				"DATABASE_URL":    viaPgBouncer + "?default_query_exec_mode=" + mode,
				"DATABASE_POOLER": "pgbouncer-transaction",
			}))
			require.NoError(t, err)
			require.True(t, cfg.TransactionPooled())
		})
	}

	t.Run("AcceptsDescribeExecWithoutAPooler", func(t *testing.T) {
		t.Parallel()

		_, err := config.Load(getenv(map[string]string{"DATABASE_URL": viaPgBouncer + "?default_query_exec_mode=describe_exec"}))
		require.NoError(t, err)
	})

	// Both type arguments from their Go values: pgx cannot send the
	// []uuid.UUID ClientIQ binds to uuid[] parameters.
	for _, mode := range []string{"exec", "simple_protocol"} {
		for _, pooler := range []string{"none", "pgbouncer-transaction"} {
			t.Run("RefusesExecMode"+mode+"With"+pooler, func(t *testing.T) {
				t.Parallel()

				cfg, err := config.Load(getenv(map[string]string{
					"DATABASE_URL":    viaPgBouncer + "?default_query_exec_mode=" + mode,
					"DATABASE_POOLER": pooler,
				}))
				require.Nil(t, cfg)
				cerr := requireConfigError(t, err, "DATABASE_URL")
				require.Contains(t, cerr.Problem, "uuid[]")
			})
		}
	}

	t.Run("RefusesDescribeExecThroughThePooler", func(t *testing.T) {
		t.Parallel()

		cfg, err := config.Load(getenv(map[string]string{
			"DATABASE_URL":    viaPgBouncer + "?sslmode=disable&default_query_exec_mode=describe_exec",
			"DATABASE_POOLER": "pgbouncer-transaction",
		}))
		require.Nil(t, cfg)
		cerr := requireConfigError(t, err, "DATABASE_URL")
		require.Contains(t, cerr.Problem, "describe_exec")
		require.Contains(t, cerr.Problem, "transaction pooler")
	})

	t.Run("ListensOnDatabaseURLWithoutAPooler", func(t *testing.T) {
		t.Parallel()

		cfg, err := config.Load(getenv(map[string]string{"DATABASE_URL": viaPgBouncer}))
		require.NoError(t, err)
		require.Equal(t, viaPgBouncer, cfg.ListenURL())
	})

	t.Run("ListensNowhereBehindThePoolerByDefault", func(t *testing.T) {
		t.Parallel()

		cfg, err := config.Load(getenv(map[string]string{"DATABASE_URL": viaPgBouncer, "DATABASE_POOLER": "pgbouncer-transaction"}))
		require.NoError(t, err)
		require.Empty(t, cfg.ListenURL())
	})

	t.Run("ListensOnDatabaseListenURLBehindThePooler", func(t *testing.T) {
		t.Parallel()

		const direct = "postgres://clientiq@db.internal:5432/clientiq"
		cfg, err := config.Load(getenv(map[string]string{"DATABASE_URL": viaPgBouncer, "DATABASE_POOLER": "pgbouncer-transaction",
			"DATABASE_LISTEN_URL": direct}))
		require.NoError(t, err)
		require.Equal(t, direct, cfg.ListenURL())
		require.Equal(t, viaPgBouncer, cfg.DatabaseURL)
	})

	t.Run("RefusesAListenURLThroughThePooler", func(t *testing.T) {
		t.Parallel()

		cfg, err := config.Load(getenv(map[string]string{"DATABASE_URL": viaPgBouncer, "DATABASE_POOLER": "pgbouncer-transaction",
			"DATABASE_LISTEN_URL": viaPgBouncer}))
		require.Nil(t, cfg)
		cerr := requireConfigError(t, err, "DATABASE_LISTEN_URL")
		require.Contains(t, cerr.Problem, "direct connection")
	})

	t.Run("RefusesAListenURLThatIsNotPostgreSQL", func(t *testing.T) {
		t.Parallel()

		cfg, err := config.Load(getenv(map[string]string{"DATABASE_LISTEN_URL": "redis://127.0.0.1:6379"}))
		require.Nil(t, cfg)
		requireConfigError(t, err, "DATABASE_LISTEN_URL")
	})

	t.Run("ProductionAcceptsThePooler", func(t *testing.T) {
		t.Parallel()

		cfg, err := config.Load(getenv(with(productionEnv(), "DATABASE_POOLER", "pgbouncer-transaction")))
		require.NoError(t, err)
		require.True(t, cfg.TransactionPooled())
	})
}

func TestLoadReportsFirstProblemOnly(t *testing.T) {
	t.Parallel()

	_, err := config.Load(getenv(map[string]string{
		"DATABASE_MAX_CONNS": "abc",
		"LOG_LEVEL":          "loud",
		"LOG_FORMAT":         "xml",
	}))
	requireConfigError(t, err, "DATABASE_MAX_CONNS")
}

func TestLoadRequiresDatabaseURLOutsideDevelopment(t *testing.T) {
	t.Parallel()

	for _, profile := range []string{"staging", "production"} {
		t.Run(profile, func(t *testing.T) {
			t.Parallel()

			env := map[string]string{"CLIENTIQ_ENV": profile}
			if profile == "production" {
				env = with(productionEnv(), "DATABASE_URL", "")
			}
			cfg, err := config.Load(getenv(env))
			require.Nil(t, cfg)
			cerr := requireConfigError(t, err, "DATABASE_URL")
			require.Contains(t, cerr.Problem, profile)
		})
	}
}

func TestLoadProduction(t *testing.T) {
	t.Parallel()

	t.Run("AcceptsAHardenedConfig", func(t *testing.T) {
		t.Parallel()

		cfg, err := config.Load(getenv(productionEnv()))
		require.NoError(t, err)
		require.True(t, cfg.IsProduction())
		require.False(t, cfg.IsDevelopment())
		require.Equal(t, strongSecret, cfg.JWT.Secret)
		require.Equal(t, ":8080", cfg.HTTPAddr)
		require.Equal(t, "clientiq.example", cfg.BaseDomain)
		require.Equal(t, "ClientIQ <no-reply@clientiq.example>", cfg.MailFrom)
		require.False(t, cfg.Debug)
	})

	t.Run("DefaultsPlaygroundToOff", func(t *testing.T) {
		t.Parallel()

		cfg, err := config.Load(getenv(productionEnv()))
		require.NoError(t, err)
		require.Equal(t, config.PlaygroundOff, cfg.Playground)
	})

	for _, mode := range []config.PlaygroundMode{config.PlaygroundOff, config.PlaygroundStaff} {
		t.Run("AcceptsPlayground"+strings.ToUpper(string(mode[:1]))+string(mode[1:]), func(t *testing.T) {
			t.Parallel()

			cfg, err := config.Load(getenv(with(productionEnv(), "PLAYGROUND", string(mode))))
			require.NoError(t, err)
			require.Equal(t, mode, cfg.Playground)
		})
	}

	t.Run("AcceptsPrivateKeyFileInsteadOfSecret", func(t *testing.T) {
		t.Parallel()

		cfg, err := config.Load(getenv(with(productionEnv(),
			"JWT_SECRET", "",
			"JWT_PRIVATE_KEY_FILE", "/run/secrets/jwt_ed25519.pem",
		)))
		require.NoError(t, err)
		require.Empty(t, cfg.JWT.Secret)
		require.Equal(t, "/run/secrets/jwt_ed25519.pem", cfg.JWT.PrivateKeyFile)
	})

	refusals := []struct {
		name    string
		env     map[string]string
		wantVar string
	}{
		{"RefusesMissingJWTSecretAndKey", with(productionEnv(), "JWT_SECRET", ""), "JWT_SECRET"},
		{"RefusesWeakJWTSecret", with(productionEnv(), "JWT_SECRET", strings.Repeat("a", 40)), "JWT_SECRET"},
		{"RefusesDebug", with(productionEnv(), "DEBUG", "true"), "DEBUG"},
		{"RefusesOpenPlayground", with(productionEnv(), "PLAYGROUND", "on"), "PLAYGROUND"},
		{"RefusesMissingSMTPURL", with(productionEnv(), "SMTP_URL", ""), "SMTP_URL"},
		{"RefusesLocalhostBaseDomain", with(productionEnv(), "BASE_DOMAIN", "localhost"), "BASE_DOMAIN"},
		{"RefusesDefaultBaseDomain", with(productionEnv(), "BASE_DOMAIN", ""), "BASE_DOMAIN"},
		{"RefusesSandboxPaymentsWhilePaymentsAreOn", with(productionEnv(), "PAYMENT_PROVIDER", "sandbox"), "PAYMENT_PROVIDER"},
		{"RefusesHTTPLinks", with(productionEnv(), "PUBLIC_URL_SCHEME", "http"), "PUBLIC_URL_SCHEME"},
		{"RefusesSMTPWithoutCertificateChecks", with(productionEnv(), "SMTP_URL", "smtps://m:p@smtp.clientiq.example:465?skip_verify=true"), "SMTP_URL"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			cfg, err := config.Load(getenv(tt.env))
			require.Nil(t, cfg)
			requireConfigError(t, err, tt.wantVar)
		})
	}
}

func TestConfigLogValueMasksSecrets(t *testing.T) {
	t.Parallel()

	const (
		dbPassword    = "db-Pa55word-7f3c"
		redisPassword = "redis-Pa55word-91ab"
		smtpPassword  = "smtp-Pa55word-c0de"
		queryPassword = "query-Pa55word-5eed"
	)
	cfg, err := config.Load(getenv(with(productionEnv(),
		"DATABASE_URL", "postgres://clientiq:"+dbPassword+"@db.internal:5432/clientiq?sslmode=require&password="+queryPassword,
		"REDIS_URL", "redis://default:"+redisPassword+"@cache.internal:6379/0",
		"SMTP_URL", "smtp://mailer:"+smtpPassword+"@smtp.clientiq.example:587?tls=starttls",
	)))
	require.NoError(t, err)

	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.InfoContext(t.Context(), "config_loaded", slog.Any("config", cfg))

	out := buf.String()
	for _, secret := range []string{dbPassword, redisPassword, smtpPassword, queryPassword, strongSecret} {
		require.NotContains(t, out, secret)
	}

	// The masked log still says what runs: hosts, users and which secrets are set.
	var line struct {
		Config map[string]any `json:"config"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	require.Equal(t, "production", line.Config["profile"])
	require.Equal(t, "postgres://clientiq:xxxxx@db.internal:5432/clientiq", line.Config["database_url"])
	require.Equal(t, "none", line.Config["database_pooler"])
	require.Equal(t, "redis://default:xxxxx@cache.internal:6379/0", line.Config["redis_url"])
	require.Equal(t, "smtp://mailer:xxxxx@smtp.clientiq.example:587", line.Config["smtp_url"])
	require.Equal(t, true, line.Config["jwt_secret_set"])
	require.Equal(t, false, line.Config["jwt_private_key_set"])
	require.Equal(t, "off", line.Config["playground"])
}

func TestErrorIsVariableAndProblem(t *testing.T) {
	t.Parallel()

	err := &config.Error{Var: "LOG_LEVEL", Problem: `unknown level "loud"`}
	require.Equal(t, `LOG_LEVEL: unknown level "loud"`, err.Error())
}

func TestVarsListsEveryVariableOnce(t *testing.T) {
	t.Parallel()

	seen := map[string]bool{}
	for _, v := range config.Vars {
		require.NotEmpty(t, v.Name)
		require.NotEmpty(t, v.Help, "variable %s has no help text", v.Name)
		require.False(t, seen[v.Name], "variable %s listed twice", v.Name)
		seen[v.Name] = true
	}

	// Every variable Load reads must be documented for --help: record the
	// names Load asks for and compare.
	asked := map[string]bool{}
	_, err := config.Load(func(name string) string {
		asked[name] = true
		return productionEnv()[name]
	})
	require.NoError(t, err)
	for name := range asked {
		require.True(t, seen[name], "Load reads %s but Vars does not list it", name)
	}
}
