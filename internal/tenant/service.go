// Package tenant owns the tenant lifecycle: provisioning a tenant's schema
// with its rows in one transaction, suspension, deletion with a grace
// period and restore, custom domains, migrations over every tenant schema,
// and resolving the tenant of a request from its host.
package tenant

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbmigrate"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// Config configures the Service.
type Config struct {
	// Pool is the PostgreSQL pool. Required.
	Pool *pgxpool.Pool
	// Cache holds resolved hosts; invalidated on every change. Required.
	Cache cache.Store
	// Logger is required.
	Logger *slog.Logger
	// BaseDomain: tenants get <slug>.<BaseDomain> as primary domain by default.
	BaseDomain string
	// DeletionGrace is how long a deleted tenant can be restored before its
	// schema is dropped. Default 30 days.
	DeletionGrace time.Duration
	// Jobs enqueues the purge of a deleted tenant in the same transaction
	// as the deletion. Required by Delete.
	Jobs JobInserter
}

// Service manages tenants.
type Service struct {
	pool       *pgxpool.Pool
	cache      cache.Store
	logger     *slog.Logger
	baseDomain string
	grace      time.Duration
	jobs       JobInserter
	// claimed wakes KeepPoolFilled after a pool schema was taken.
	claimed    chan struct{}
	migrations []dbmigrate.File
	// forgetting counts the delayed second invalidations still to run
	// (see forget); WaitForgotten waits for them.
	forgetting sync.WaitGroup

	// failAfterSchema, when set (tests), is called inside the provisioning
	// transaction after the schema is migrated, to prove a failure there
	// leaves nothing behind.
	failAfterSchema func() error
}

// NewService returns a Service.
func NewService(cfg Config) (*Service, error) {
	files, err := dbmigrate.Files("tenant")
	if err != nil {
		return nil, err
	}
	return &Service{
		pool:       cfg.Pool,
		cache:      cfg.Cache,
		logger:     cfg.Logger,
		baseDomain: strings.ToLower(strings.TrimSuffix(cmp.Or(cfg.BaseDomain, "localhost"), ".")),
		grace:      cmp.Or(cfg.DeletionGrace, 30*24*time.Hour),
		jobs:       cfg.Jobs,
		claimed:    make(chan struct{}, 1),
		migrations: files,
	}, nil
}

// Tenant is a tenant as operators see it.
type Tenant struct {
	tenancy.Tenant
	DeletionRequestedAt *time.Time `json:"deletion_requested_at,omitempty"`
	CreatedAt           time.Time  `json:"created_at"`
	Domains             []Domain   `json:"domains"`
}

// Domain is one of a tenant's host names.
type Domain struct {
	Domain    string `json:"domain"`
	IsPrimary bool   `json:"is_primary"`
}

// CreateInput is what provisioning needs.
type CreateInput struct {
	Slug string
	Name string
	// Domain is the primary domain; default <slug>.<BaseDomain>.
	Domain string
}

// LatestVersion is the version every tenant schema should be at: the
// newest tenant migration, then "@" and a digest of the built-in roles, so a
// change to either brings every schema up to date in the next migrate.
func (s *Service) LatestVersion() string {
	if len(s.migrations) == 0 {
		return ""
	}
	return s.migrations[len(s.migrations)-1].Version + "@" + builtinRolesDigest()
}

// Create provisions a tenant: its schema, every tenant migration, its
// tenant and domain rows and its schema version, all in one transaction, so
// on any failure nothing is left behind. A taken slug or domain answers
// CONFLICT.
func (s *Service) Create(ctx context.Context, in CreateInput) (*Tenant, error) {
	var t *Tenant
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		t, err = s.CreateTx(ctx, tx, in)
		return err
	})
	if err != nil {
		return nil, translateCreate(err)
	}
	s.Created(ctx, t)
	return t, nil
}

// Created finishes a provisioning committed by the caller (CreateTx): it
// forgets cached "unknown tenant" answers for the new hosts.
func (s *Service) Created(ctx context.Context, t *Tenant) {
	s.invalidateTenant(ctx, t)
	s.logger.InfoContext(ctx, "tenant_created", slog.String("tenant", t.Slug), slog.String("schema", t.Schema))
}

// CreateTx provisions a tenant inside the caller's transaction (self-service
// signup creates the owner in the same one). The caller commits, then calls
// Created. Errors are translated (VALIDATION_ERROR, CONFLICT).
func (s *Service) CreateTx(ctx context.Context, tx pgx.Tx, in CreateInput) (*Tenant, error) {
	in.Slug = strings.TrimSpace(in.Slug)
	in.Name = strings.TrimSpace(in.Name)
	defaulted := in.Domain == ""
	if defaulted {
		in.Domain = in.Slug + "." + s.baseDomain
	}
	fe := apperr.FieldErrors{}
	if err := tenancy.ValidateSlug("slug", in.Slug); err != nil {
		for k, v := range apperr.As(err).Fields {
			fe[k] = v
		}
	}
	if in.Name == "" || len(in.Name) > 200 {
		fe.Add("name", "must be 1 to 200 characters long")
	}
	domain, derr := NormalizeDomain(in.Domain)
	if derr == nil && !defaulted {
		derr = s.checkPlatformDomain(in.Slug, domain)
	}
	// A defaulted domain is built from the slug: when the slug is invalid its
	// error says it all, and a "domain" error would name a field the caller
	// never gave (and head the message, domain sorting before slug).
	if derr != nil && !(defaulted && len(fe["slug"]) > 0) {
		fe.Add("domain", derr.Error())
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}

	t := &Tenant{
		Tenant: tenancy.Tenant{
			ID: uuid.New(), Slug: in.Slug, Name: in.Name,
			Schema: tenancy.SchemaName(in.Slug), Status: tenancy.StatusActive,
		},
		Domains: []Domain{{Domain: domain, IsPrimary: true}},
	}
	err := func() error {
		// Rows first: a taken slug or domain fails here, before any DDL.
		err := tx.QueryRow(ctx, `INSERT INTO public.tenants (id, slug, name, schema_name, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, now(), now()) RETURNING created_at`,
			t.ID, t.Slug, t.Name, t.Schema, t.Status).Scan(&t.CreatedAt)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO public.domains (id, domain, tenant_id, is_primary, created_at, updated_at)
			VALUES ($1, $2, $3, true, now(), now())`, uuid.New(), domain, t.ID); err != nil {
			return err
		}
		// A warm pool schema when there is one, else a fresh one.
		claimed, err := s.claimPooled(ctx, tx, t.Schema)
		if err != nil {
			return err
		}
		if claimed {
			select {
			case s.claimed <- struct{}{}:
			default:
			}
		} else {
			if _, err := tx.Exec(ctx, "CREATE SCHEMA "+db.QuoteIdent(t.Schema)); err != nil {
				return err
			}
			if err := s.migrateInTx(ctx, tx, t.Schema, ""); err != nil {
				return err
			}
		}
		if s.failAfterSchema != nil {
			if err := s.failAfterSchema(); err != nil {
				return err
			}
		}
		return nil
	}()
	if err != nil {
		return nil, translateCreate(err)
	}
	return t, nil
}

// migrateInTx brings schema from version `from` to LatestVersion inside
// tx: the migration files after from, then the built-in roles, then the
// recorded version.
func (s *Service) migrateInTx(ctx context.Context, tx pgx.Tx, schema, from string) error {
	if err := tenancy.CheckSchema(schema); err != nil {
		return err
	}
	latest := s.LatestVersion()
	if from == latest {
		return nil
	}
	// Unqualified names in the migration files resolve to the tenant schema
	// only; SET LOCAL ends with the transaction, so the pooled connection
	// keeps nothing.
	if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+db.QuoteIdent(schema)); err != nil {
		return fmt.Errorf("set search_path: %w", err)
	}
	fromFile, _, _ := strings.Cut(from, "@")
	for _, f := range s.migrations {
		if f.Version <= fromFile {
			continue
		}
		if _, err := tx.Exec(ctx, f.SQL); err != nil {
			return fmt.Errorf("apply tenant migration %s to %s: %w", f.Version, schema, err)
		}
	}
	// Back to the default for whatever else the caller's transaction does.
	if _, err := tx.Exec(ctx, "SET LOCAL search_path TO DEFAULT"); err != nil {
		return fmt.Errorf("reset search_path: %w", err)
	}
	if err := seedBuiltinRoles(ctx, tx, schema); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO public.schema_versions (schema_name, version, updated_at) VALUES ($1, $2, now())
		ON CONFLICT (schema_name) DO UPDATE SET version = EXCLUDED.version, updated_at = now()`, schema, latest); err != nil {
		return fmt.Errorf("record version of %s: %w", schema, err)
	}
	return nil
}

// translateCreate turns the unique violations of provisioning into CONFLICT
// with the field that clashed.
func translateCreate(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == db.CodeUniqueViolation || pgErr.Code == db.CodeDuplicateSchema) {
		field, what := "slug", "is already taken"
		if strings.Contains(pgErr.ConstraintName, "domain") {
			field, what = "domain", "is already used by a tenant"
		}
		e := apperr.Wrap(apperr.CodeConflict, "a tenant with this "+field+" already exists", err)
		e.Fields = map[string][]string{field: {what}}
		return e
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	return fmt.Errorf("provision tenant: %w", err)
}

// NormalizeDomain lowercases a host name, drops a trailing dot,
// and checks it is a valid DNS name.
func NormalizeDomain(d string) (string, error) {
	d = strings.ToLower(strings.TrimSpace(d))
	d = strings.TrimSuffix(d, ".")
	if d == "" {
		return "", errors.New("is required")
	}
	if len(d) > 253 {
		return "", errors.New("is too long")
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 && d != "localhost" {
		return "", errors.New("must be a fully qualified domain name")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", errors.New("is not a valid domain name")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", errors.New("is not a valid domain name")
			}
		}
	}
	return d, nil
}
