package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/billing"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/config"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/jobs"
	"github.com/clientiq/clientiq/internal/mail"
	"github.com/clientiq/clientiq/internal/notify"
	"github.com/clientiq/clientiq/internal/payment"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
	"github.com/clientiq/clientiq/internal/viewercache"
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

	// inserter is the process's insert-only River client (see riverInserter).
	inserter *river.Client[pgx.Tx]
	// shop is billing and payments, built once (see commerce).
	shop *commerce
	// viewers is the viewer cache (nil when off); serve keeps its
	// invalidation feed connected.
	viewers *viewercache.Cache
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
		URL:                cfg.DatabaseURL,
		MaxConns:           cfg.DatabaseMaxConns,
		ConnectTimeout:     cfg.DatabaseConnectTimeout,
		TransactionPooling: cfg.TransactionPooled(),
	})
	if err != nil {
		if errors.Is(err, db.ErrUnreachable) {
			return nil, fmt.Errorf("%w (DATABASE_URL %s)", err, hostOf(cfg.DatabaseURL))
		}
		return nil, err
	}
	d.ent = ent.NewClient(ent.Driver(db.NewDriver(d.db.Pool)))
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

// riverInserter returns the process's insert-only River client: jobs that
// follow from a write are inserted in the write's transaction with it.
func (d *deps) riverInserter() (*river.Client[pgx.Tx], error) {
	if d.inserter == nil {
		c, err := jobs.NewInserter(d.db.Pool, d.logger)
		if err != nil {
			return nil, err
		}
		d.inserter = c
	}
	return d.inserter, nil
}

// mailSender delivers over SMTP_URL, or writes emails to the log when it is
// empty (local and test profiles; production refuses an empty SMTP_URL).
func (d *deps) mailSender() (mail.Sender, error) {
	if d.cfg.SMTPURL == "" {
		return mail.LogSender{Logger: d.logger}, nil
	}
	s, err := mail.NewSMTPSender(mail.SMTPConfig{URL: d.cfg.SMTPURL, From: d.cfg.MailFrom})
	if err != nil {
		return nil, &config.Error{Var: "SMTP_URL", Problem: err.Error()}
	}
	return s, nil
}

// outbox enqueues emails as River jobs in the caller's transaction. Links
// point at PUBLIC_URL_SCHEME://BASE_DOMAIN (with the listen port in the
// local and test profiles, where the app is reached directly).
func (d *deps) outbox() (*notify.Outbox, error) {
	inserter, err := d.riverInserter()
	if err != nil {
		return nil, err
	}
	base := d.cfg.PublicScheme + "://" + d.cfg.BaseDomain
	if _, port, err := net.SplitHostPort(d.cfg.HTTPAddr); err == nil && d.cfg.IsDevelopment() {
		base += ":" + port
	}
	return notify.NewOutbox(notify.OutboxConfig{Inserter: inserter, Pool: d.db.Pool, BaseURL: base, SalesEmail: d.cfg.SalesEmail})
}

// tenantService builds the tenant service with an insert-only River client
// (purge jobs are enqueued in the deletion's transaction).
func (d *deps) tenantService() (*tenant.Service, error) {
	inserter, err := d.riverInserter()
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

// jobsConfig is the River configuration of a working process (serve with
// workers, worker): every worker, billing's periodic jobs and the built-in
// maintenance.
func (d *deps) jobsConfig(tenants *tenant.Service) (jobs.Config, error) {
	workers, err := d.workers(tenants)
	if err != nil {
		return jobs.Config{}, err
	}
	shop, err := d.commerce()
	if err != nil {
		return jobs.Config{}, err
	}
	return jobs.Config{
		Logger: d.logger, DefaultWorkers: d.cfg.WorkerConcurrency, Workers: workers,
		PeriodicJobs: shop.billing.PeriodicJobs(),
		Maintenance:  &jobs.Maintenance{Tenants: tenants, Clients: db.NewClients(d.db.Pool), Logger: d.logger},
		PollOnly:     d.cfg.TransactionPooled(),
	}, nil
}

// workers returns every River worker of the process (the maintenance
// workers are added by jobs.NewClient).
func (d *deps) workers(svc *tenant.Service) (*river.Workers, error) {
	w := jobs.Register()
	river.AddWorker(w, tenant.NewPurgeWorker(svc))
	shop, err := d.commerce()
	if err != nil {
		return nil, err
	}
	river.AddWorker(w, payment.NewProcessPaymentWorker(shop.payments))
	river.AddWorker(w, payment.NewProcessWebhookEventWorker(shop.payments))
	shop.billing.AddWorkers(w)
	sender, err := d.mailSender()
	if err != nil {
		return nil, err
	}
	mailer, err := mail.NewSendEmailWorker(mail.WorkerConfig{Sender: sender, Pool: d.db.Pool, Logger: d.logger})
	if err != nil {
		return nil, fmt.Errorf("create email worker: %w", err)
	}
	river.AddWorker(w, mailer)
	return w, nil
}

// authService builds the identity service: the key ring (a generated key in
// the local and test profiles when none is configured, with a warning), the
// bounded argon2id pool, and the tenant provisioner for self-service signup.
func (d *deps) authService(ctx context.Context, tenants *tenant.Service) (*auth.Service, error) {
	outbox, err := d.outbox()
	if err != nil {
		return nil, err
	}
	shop, err := d.commerce()
	if err != nil {
		return nil, err
	}
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
	if d.cfg.ViewerCacheTTL > 0 && d.cfg.ListenURL() != "" && d.viewers == nil {
		d.viewers = viewercache.New(viewercache.Config{TTL: d.cfg.ViewerCacheTTL})
	}
	return auth.NewService(auth.Config{
		Pool: d.db.Pool, Keys: keys, Hasher: auth.NewHasher(auth.DefaultArgon2, 0), Cache: d.cache,
		Logger: d.logger, Tenants: provisioner{svc: tenants, billing: shop.billing}, Notifier: outbox,
		RefreshTTL: j.RefreshTTL, Viewers: d.viewers,
	}), nil
}

// listenViewers keeps the viewer cache's invalidation feed (a LISTEN on a
// connection of its own) up until ctx ends; the cache answers only while
// it is. The connection goes to DATABASE_LISTEN_URL when set (behind a
// transaction pooler, the direct way to PostgreSQL), else as the pool's.
func (d *deps) listenViewers(ctx context.Context) error {
	if d.viewers == nil {
		return nil
	}
	connCfg := d.db.Pool.Config().ConnConfig.Copy()
	if u := d.cfg.DatabaseListenURL; u != "" {
		// Configured as the pool's connections are (pool settings copied
		// along with the URL taken off, connect timeout, application name).
		pcfg, err := db.PoolConfig(db.Config{URL: u, ConnectTimeout: d.cfg.DatabaseConnectTimeout, ApplicationName: "clientiq-listen"})
		if err != nil {
			return errors.New("DATABASE_LISTEN_URL cannot be parsed as a PostgreSQL URL")
		}
		connCfg = pcfg.ConnConfig
	}
	// The probe goes the way the triggers' notifications go: through the
	// pool (a transaction pooler, maybe), committed at once.
	probe := func(ctx context.Context, payload string) error {
		_, err := d.db.Pool.Exec(ctx, `SELECT pg_notify($1, $2)`, viewercache.Channel, payload)
		return err
	}
	go d.viewers.Listen(ctx, func(ctx context.Context) (*pgx.Conn, error) {
		return pgx.ConnectConfig(ctx, connCfg)
	}, probe, time.Second, d.logger)
	return nil
}

// provisioner adapts the tenant service to what auth's signup needs: the
// tenant and its Free subscription are created in the signup's transaction.
type provisioner struct {
	svc     *tenant.Service
	billing *billing.Service
}

func (p provisioner) CreateTx(ctx context.Context, tx pgx.Tx, in auth.ProvisionInput) (*tenancy.Tenant, error) {
	t, err := p.svc.CreateTx(ctx, tx, tenant.CreateInput{Slug: in.Slug, Name: in.Name})
	if err != nil {
		return nil, err
	}
	if err := p.billing.StartTx(ctx, tx, t.ID); err != nil {
		return nil, err
	}
	return &t.Tenant, nil
}

func (p provisioner) Created(ctx context.Context, t *tenancy.Tenant) {
	p.svc.Created(ctx, &tenant.Tenant{Tenant: *t})
}
