package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/config"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/jobs"
	"github.com/clientiq/clientiq/internal/notify"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
)

// newLogger builds the process logger from the configuration.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(h).With(slog.String("service", "clientiq"))
}

// deps are the adapters a command opens and closes.
type deps struct {
	cfg    *config.Config
	logger *slog.Logger
	db     *db.DB
	ent    *ent.Client
	cache  cache.Store
}

func (d *deps) Close() {
	if d.cache != nil {
		_ = d.cache.Close()
	}
	if d.db != nil {
		d.db.Close()
	}
}

// open loads the configuration and connects to PostgreSQL (and, with
// withCache, Redis or the in-process cache).
func open(ctx context.Context, e *env, withCache bool) (*deps, error) {
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return nil, err
	}
	d := &deps{cfg: cfg, logger: newLogger(cfg, e.stderr)}
	d.logger.InfoContext(ctx, "config_loaded", slog.Any("config", cfg))

	d.db, err = db.Open(ctx, db.Config{
		URL:            cfg.DatabaseURL,
		MaxConns:       cfg.DatabaseMaxConns,
		ConnectTimeout: cfg.DatabaseConnectTimeout,
	})
	if err != nil {
		if errors.Is(err, db.ErrUnreachable) {
			return nil, fmt.Errorf("%w (DATABASE_URL %s)", err, hostOf(cfg.DatabaseURL))
		}
		return nil, err
	}
	d.ent = ent.NewClient(ent.Driver(entsql.OpenDB(dialect.Postgres, d.db.SQL)))
	if withCache {
		d.cache, err = cache.Open(ctx, cfg.RedisURL, cfg.IsDevelopment())
		if err != nil {
			d.Close()
			return nil, err
		}
		d.logger.InfoContext(ctx, "cache_selected", slog.String("backend", d.cache.Backend()))
	}
	return d, nil
}

// hostOf names the host and database of a URL for error messages, without
// credentials.
func hostOf(url string) string {
	cfg, err := db.PoolConfig(db.Config{URL: url})
	if err != nil {
		return "(unparseable)"
	}
	c := cfg.ConnConfig
	return fmt.Sprintf("host=%s port=%d database=%s", c.Host, c.Port, strings.TrimSpace(c.Database))
}

// tenantService builds the tenant service with an insert-only River client
// (purge jobs are enqueued in the deletion's transaction).
func (d *deps) tenantService() (*tenant.Service, error) {
	inserter, err := jobs.NewInserter(d.db.Pool, d.logger)
	if err != nil {
		return nil, err
	}
	var store cache.Store = d.cache
	if store == nil {
		store = cache.NewMemory(0)
	}
	return tenant.NewService(tenant.Config{
		Pool: d.db.Pool, Cache: store, Logger: d.logger,
		BaseDomain: d.cfg.BaseDomain, Jobs: inserter, DeletionGrace: d.cfg.TenantDeletionGrace,
	})
}

// workers returns every River worker of the process.
func (d *deps) workers(svc *tenant.Service) *river.Workers {
	w := jobs.Register()
	river.AddWorker(w, tenant.NewPurgeWorker(svc))
	return w
}

// authService builds the identity service: the key ring (a generated key in
// the local and test profiles when none is configured, with a warning), the
// bounded argon2id pool, and the tenant provisioner for self-service signup.
func (d *deps) authService(ctx context.Context, tenants *tenant.Service) (*auth.Service, error) {
	j := d.cfg.JWT
	keys, generated, err := auth.NewKeyRing(auth.KeyRingConfig{
		Secret: j.Secret, PreviousSecrets: j.PreviousSecrets,
		PrivateKeyFile: j.PrivateKeyFile, PreviousPublicKeyFiles: j.PreviousPublicKeyFiles,
		Generate: d.cfg.IsDevelopment(), Issuer: j.Issuer, Audience: j.Audience, AccessTTL: j.AccessTTL,
	})
	if err != nil {
		return nil, err
	}
	if generated {
		d.logger.WarnContext(ctx, "jwt_development_key",
			slog.String("detail", "no JWT_SECRET or JWT_PRIVATE_KEY_FILE: tokens are signed with a generated key and die with the process"))
	}
	return auth.NewService(auth.Config{
		Pool: d.db.Pool, Keys: keys, Hasher: auth.NewHasher(auth.DefaultArgon2, 0), Cache: d.cache,
		Logger: d.logger, Tenants: provisioner{tenants}, Notifier: notify.Log{Logger: d.logger},
		RefreshTTL: j.RefreshTTL,
	}), nil
}

// provisioner adapts the tenant service to what auth's signup needs.
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
