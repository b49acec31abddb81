package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"github.com/riverqueue/river"

	"github.com/clientiq/clientiq/graph"
	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/buildinfo"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/config"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbmigrate"
	"github.com/clientiq/clientiq/internal/demorequest"
	"github.com/clientiq/clientiq/internal/events"
	"github.com/clientiq/clientiq/internal/health"
	"github.com/clientiq/clientiq/internal/httpserver"
	"github.com/clientiq/clientiq/internal/jobs"
	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/notify"
	"github.com/clientiq/clientiq/internal/payment"
	"github.com/clientiq/clientiq/internal/playground"
	"github.com/clientiq/clientiq/internal/project"
	"github.com/clientiq/clientiq/internal/rest"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
)

var started = time.Now()

func serveFlags(fs *flag.FlagSet) func(context.Context, *env) error {
	addr := fs.String("addr", "", "listen address (overrides HTTP_ADDR)")
	noWorkers := fs.Bool("no-workers", false, "do not run River workers in this process")
	return func(ctx context.Context, e *env) error {
		return serve(ctx, e, *addr, !*noWorkers)
	}
}

func serve(ctx context.Context, e *env, addr string, withWorkers bool) error {
	d, err := open(ctx, e, true)
	if err != nil {
		return err
	}
	defer d.Close()
	cfg, logger := d.cfg, d.logger
	defer tuneGC(e.getenv, cfg.GCHeapTargetMiB)()
	if addr == "" {
		addr = cfg.HTTPAddr
	}
	if err := requireMigrated(ctx, d); err != nil {
		return err
	}

	tenants, err := d.tenantService()
	if err != nil {
		return err
	}
	var riverClient *river.Client[pgx.Tx]
	if withWorkers {
		jcfg, err := d.jobsConfig(tenants)
		if err != nil {
			return err
		}
		riverClient, err = jobs.NewClient(d.db.Pool, jcfg)
		if err != nil {
			return err
		}
		if err := riverClient.Start(ctx); err != nil {
			return fmt.Errorf("start river workers: %w", err)
		}
		defer stopWorkers(ctx, riverClient, cfg.ShutdownTimeout, logger)
	}

	trusted, err := httpserver.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return &config.Error{Var: "TRUSTED_PROXIES", Problem: err.Error()}
	}
	metrics := httpserver.NewMetrics()
	admission := httpserver.NewAdmission(httpserver.AdmissionConfig{MaxInFlight: cfg.MaxInFlight, MaxWait: cfg.QueueTimeout})
	if err := metrics.Register(db.NewPoolCollector(d.db.Pool), db.NewQueryCollector(d.db.Pool), jobs.NewCountsCollector(d.db.Pool),
		admission); err != nil {
		return fmt.Errorf("register metrics: %w", err)
	}
	srv := httpserver.New(httpserver.Config{
		Logger:          logger,
		Metrics:         metrics,
		MaxBodyBytes:    cfg.MaxBodyBytes,
		WriteTimeout:    cfg.WriteTimeout,
		ShutdownTimeout: cfg.ShutdownTimeout,
		TrustedProxies:  trusted,
	})
	mux := srv.Mux()
	health.Register(mux, health.Config{
		Database: health.Check{Name: "database", Run: func(ctx context.Context) (map[string]any, error) {
			return nil, d.db.Ping(ctx)
		}},
		Cache: health.Check{Name: "cache", Run: func(ctx context.Context) (map[string]any, error) {
			return map[string]any{"backend": d.cache.Backend()}, d.cache.Ping(ctx)
		}},
		Others: []health.Check{{Name: "jobs", Run: func(ctx context.Context) (map[string]any, error) {
			counts, err := jobs.Counts(ctx, d.db.Pool)
			return map[string]any{"queues": counts, "workers_in_process": withWorkers}, err
		}}},
		Version: buildinfo.Version(),
		Started: started,
	})
	mux.Handle("GET /metrics", metrics.Handler())
	resolver := tenant.NewResolver(tenant.ResolverConfig{
		Pool: d.db.Pool, Cache: d.cache, BaseDomain: cfg.BaseDomain,
		AllowHeader: cfg.AllowTenantHeader, Logger: logger,
	})
	// Keep pre-migrated schemas ready, so provisioning is a rename.
	go tenants.KeepPoolFilled(ctx, cfg.TenantPoolSize, 30*time.Second)
	authSvc, err := d.authService(ctx, tenants)
	if err != nil {
		return err
	}
	if err := d.listenViewers(ctx); err != nil {
		return err
	}
	if d.viewers != nil {
		if err := metrics.Register(d.viewers.Collector()); err != nil {
			return fmt.Errorf("register metrics: %w", err)
		}
	} else if cfg.DatabaseListenURL != "" {
		logger.WarnContext(ctx, "database_listen_url_unused", slog.String("detail", "VIEWER_CACHE_TTL is 0: no viewer cache, nothing to LISTEN for"))
	}
	outbox, err := d.outbox()
	if err != nil {
		return err
	}
	scoped := func(fail func(http.ResponseWriter, *http.Request, error), h http.Handler) http.Handler {
		return admission.Middleware(fail)(resolver.Middleware(fail)(authSvc.Middleware(fail)(h)))
	}
	clients := db.NewClients(d.db.Pool)
	shop, err := d.commerce()
	if err != nil {
		return err
	}
	limits := shop.billing.Limits()
	demos, err := demorequest.NewService(demorequest.Config{Pool: d.db.Pool, Clients: clients, Cache: d.cache,
		Notifier: notify.DemoRequestEmails{Outbox: outbox}, Logger: logger})
	if err != nil {
		return err
	}
	members := member.NewService(member.Config{
		Pool: d.db.Pool, Sessions: auth.TenantRevoker{Auth: authSvc}, Notifier: outbox,
		Hasher: authSvc.Hasher(), ValidatePassword: auth.ValidatePassword, Logger: logger,
		Limits: limits, Viewers: d.viewers,
	})
	// The live feed: in memory, relayed through Redis when there is one so
	// subscribers on every replica see every change.
	var rdb *redis.Client
	if r, ok := d.cache.(*cache.Redis); ok {
		rdb = r.Client()
	}
	bus := events.NewBus(ctx, rdb, logger)
	projects := project.New(project.Config{Clients: clients, Events: bus, Limits: limits})
	gql := scoped(graph.WriteHTTPError, graph.NewHandler(graph.Config{
		Projects:      projects,
		Events:        bus,
		Clients:       clients,
		Auth:          authSvc,
		Tenants:       tenants,
		Members:       members,
		Logger:        logger,
		Version:       buildinfo.Version(),
		Introspection: !cfg.IsProduction(),
		Cache:         d.cache,
		Billing:       shop.billing,
		DemoRequests:  demos,
	}))
	mux.Handle("/graphql", gql)
	mux.Handle("/graphql/", gql)
	restFail := func(w http.ResponseWriter, r *http.Request, err error) { rest.WriteError(w, r, logger, err) }
	rest.Register(mux, rest.Config{
		Logger:       logger,
		Middleware:   func(h http.Handler) http.Handler { return scoped(restFail, h) },
		Auth:         authSvc,
		Projects:     projects,
		Members:      members,
		Tenants:      tenants,
		Billing:      shop.billing,
		DemoRequests: demos,
	})
	// Stripe posts here: no tenant, no bearer token; the signature over the
	// raw body is the authentication.
	inserter, err := d.riverInserter()
	if err != nil {
		return err
	}
	var webhookSecrets []string
	if s := cfg.Payments.StripeWebhookSecret; s != "" {
		webhookSecrets = []string{s}
	}
	stripeHook := payment.NewStripeWebhook(payment.WebhookConfig{Pool: d.db.Pool, Inserter: inserter,
		Secrets: webhookSecrets, Logger: logger})
	mux.Handle("POST "+rest.Prefix+"/webhooks/stripe", stripeHook)
	mux.Handle("POST "+rest.Prefix+"/webhooks/stripe/{$}", stripeHook)
	// River UI, for platform staff only (anyone else: 404).
	uiClient := riverClient
	if uiClient == nil {
		uiClient = inserter
	}
	ui, err := jobs.NewUI(ctx, uiClient, logger, "/riverui")
	if err != nil {
		return err
	}
	mux.Handle("/riverui/", scoped(restFail, jobs.StaffOnly(ui)))
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		jwks := authSvc.Keys().JWKS()
		if jwks == nil {
			rest.WriteError(w, r, logger, apperr.New(apperr.CodeNotFound, "no public keys: tokens are signed with a shared secret"))
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_ = json.NewEncoder(w).Encode(jwks)
	})
	switch cfg.Playground {
	case config.PlaygroundOn:
		pg := playground.Handler("/playground", "/graphql")
		mux.Handle("/playground", pg)
		mux.Handle("/playground/", pg)
	case config.PlaygroundStaff:
		// Only for a staff bearer token on the platform host; anyone else
		// gets the 404 of a route that does not exist.
		pg := scoped(restFail, staffOnly(playground.Handler("/playground", "/graphql"), logger))
		mux.Handle("/playground", pg)
		mux.Handle("/playground/", pg)
	}

	if cfg.PprofAddr != "" {
		if err := servePprof(ctx, cfg.PprofAddr, logger); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	logger.InfoContext(ctx, "http_listening", slog.String("addr", ln.Addr().String()), slog.String("version", buildinfo.Version()))
	if cfg.Profile == config.ProfileLocal {
		printURLs(e, cfg, ln.Addr().String())
	}
	releaseStartupMemory(ctx, logger)
	return srv.Serve(ctx, ln)
}

// requireMigrated refuses to serve a database whose public schema is behind
// the binary: the fix is one command, and serving would fail later anyway.
func requireMigrated(ctx context.Context, d *deps) error {
	pending, err := dbmigrate.Pending(ctx, d.db.Pool)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return fmt.Errorf("database is not migrated (%d pending: %s); run `clientiq migrate`",
			len(pending), strings.Join(pending, ", "))
	}
	return nil
}

func stopWorkers(ctx context.Context, c *river.Client[pgx.Tx], timeout time.Duration, logger *slog.Logger) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := c.Stop(sctx); err != nil {
		logger.WarnContext(ctx, "river_soft_stop_timed_out", slog.Any("error", err))
		hctx, hcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer hcancel()
		_ = c.StopAndCancel(hctx)
	}
	logger.InfoContext(ctx, "river_stopped")
}

// printURLs tells a developer running `make run` where everything is.
func printURLs(e *env, cfg *config.Config, addr string) {
	_, port, _ := net.SplitHostPort(addr)
	base := "http://" + cfg.BaseDomain + ":" + port
	fmt.Fprintf(e.stdout, `
ClientIQ %s is serving (profile %s)
  GraphQL     %s/graphql
  Playground  %s/playground
  REST        %s/api/v1/
  Health      %s/health/detailed/
  Metrics     %s/metrics
  Demo tenant http://acme.%s:%s/ (X-Tenant: acme)

`, buildinfo.Version(), cfg.Profile, base, base, base, base, base, cfg.BaseDomain, port)
}

func workerFlags(fs *flag.FlagSet) func(context.Context, *env) error {
	return func(ctx context.Context, e *env) error {
		d, err := open(ctx, e, false)
		if err != nil {
			return err
		}
		defer d.Close()
		if err := requireMigrated(ctx, d); err != nil {
			return err
		}
		tenants, err := d.tenantService()
		if err != nil {
			return err
		}
		jcfg, err := d.jobsConfig(tenants)
		if err != nil {
			return err
		}
		c, err := jobs.NewClient(d.db.Pool, jcfg)
		if err != nil {
			return err
		}
		if err := c.Start(ctx); err != nil {
			return fmt.Errorf("start river workers: %w", err)
		}
		d.logger.InfoContext(ctx, "worker_started", slog.String("version", buildinfo.Version()))
		<-ctx.Done()
		stopWorkers(ctx, c, d.cfg.ShutdownTimeout, d.logger)
		return nil
	}
}

func versionFlags(fs *flag.FlagSet) func(context.Context, *env) error {
	return func(_ context.Context, e *env) error {
		fmt.Fprintln(e.stdout, buildinfo.Version())
		return nil
	}
}

// staffOnly serves next to platform staff and answers everyone else as an
// unknown route.
func staffOnly(next http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := tenancy.RequireStaff(r.Context()); err != nil {
			rest.NotFound(logger)(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// servePprof serves Go's profiler on its own loopback listener (PPROF_ADDR)
// until ctx ends: never on the API's mux, so no route of the API exposes it.
func servePprof(ctx context.Context, addr string, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen for pprof on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.WarnContext(ctx, "pprof_stopped", slog.Any("error", err))
		}
	}()
	logger.InfoContext(ctx, "pprof_listening", slog.String("addr", ln.Addr().String()))
	return nil
}
