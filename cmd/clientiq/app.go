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
	"github.com/riverqueue/river"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/config"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/jobs"
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
		BaseDomain: d.cfg.BaseDomain, Jobs: inserter,
	})
}

// workers returns every River worker of the process.
func (d *deps) workers(svc *tenant.Service) *river.Workers {
	w := jobs.Register()
	river.AddWorker(w, tenant.NewPurgeWorker(svc))
	return w
}
