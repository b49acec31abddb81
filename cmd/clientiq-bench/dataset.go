package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
)

// The benchmark dataset's fixed parts.
const (
	benchDomain   = "bench.test"
	benchPassword = "bench-Password-correct-horse-42"
	singleSlug    = "single"
	// createdName names the projects scenario 3 creates; they are deleted
	// afterwards so the dataset stays what its marker says.
	createdName = "bench-created"
	// datasetFormat changes when the dataset's shape does (v2: ids
	// time-ordered, as the server assigns them).
	datasetFormat = "v2"
)

// tenantRef is one benchmark tenant and its owner.
type tenantRef struct {
	Slug   string
	ID     uuid.UUID
	UserID uuid.UUID
}

func (t tenantRef) host() string  { return t.Slug + "." + benchDomain }
func (t tenantRef) email() string { return "owner@" + t.host() }
func slugOf(i int) string         { return fmt.Sprintf("t%05d", i+1) }

// dataset is the prepared benchmark database.
type dataset struct {
	info    Dataset
	db      *db.DB
	tenants []tenantRef
	single  tenantRef
}

// prepareDataset makes sure the benchmark database holds the dataset of o:
// reused when its marker matches, else dropped and built anew.
func prepareDataset(ctx context.Context, o *options, bin string, env []string, logf func(string, ...any)) (*dataset, error) {
	name, err := databaseName(o.databaseURL)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(name, "bench") {
		return nil, fmt.Errorf("refusing database %q: the harness drops and rebuilds it, so its name must contain \"bench\"", name)
	}
	key := fmt.Sprintf("%s tenants=%d projects=%d items=%d", datasetFormat, o.tenants, o.projects, o.items)
	if _, err := runClientiq(ctx, bin, env, "migrate", "--create-db"); err != nil {
		return nil, err
	}
	d, err := db.Open(ctx, db.Config{URL: o.databaseURL, MaxConns: int32(o.provisionWorkers + 2), ApplicationName: "clientiq-bench"})
	if err != nil {
		return nil, err
	}
	ds := &dataset{db: d}
	var raw []byte
	err = d.Pool.QueryRow(ctx, `SELECT info FROM bench.dataset WHERE key = $1`, key).Scan(&raw)
	if err == nil && json.Unmarshal(raw, &ds.info) == nil {
		ds.info.Reused = true
		logf("dataset: reusing %s (%s)", name, key)
		if err := ds.load(ctx, o.tenants); err != nil {
			d.Close()
			return nil, err
		}
		if err := ds.forgetResolutions(ctx, o.redisURL); err != nil {
			d.Close()
			return nil, err
		}
		// A run that died during scenario 3 may have left its projects.
		return ds, ds.deleteCreated(ctx)
	}
	var tenants int
	if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM public.tenants`).Scan(&tenants); err != nil {
		d.Close()
		return nil, err
	}
	if tenants > 0 {
		d.Close()
		logf("dataset: %s holds another dataset; dropping it", name)
		if err := dropDatabase(ctx, o.databaseURL, name); err != nil {
			return nil, err
		}
		if _, err := runClientiq(ctx, bin, env, "migrate", "--create-db"); err != nil {
			return nil, err
		}
		if d, err = db.Open(ctx, db.Config{URL: o.databaseURL, MaxConns: int32(o.provisionWorkers + 2), ApplicationName: "clientiq-bench"}); err != nil {
			return nil, err
		}
		ds.db = d
	}
	if err := ds.build(ctx, o, logf); err != nil {
		d.Close()
		return nil, err
	}
	start := time.Now()
	if _, err := runClientiq(ctx, bin, env, "migrate"); err != nil {
		d.Close()
		return nil, err
	}
	ds.info.MigrateSeconds = time.Since(start).Seconds()
	ds.info.Database = name
	_ = d.Pool.QueryRow(ctx, `SELECT pg_database_size(current_database()) / 1048576.0`).Scan(&ds.info.SizeMiB)
	raw, _ = json.Marshal(ds.info)
	if _, err := d.Pool.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS bench;
		CREATE TABLE IF NOT EXISTS bench.dataset (key text PRIMARY KEY, built_at timestamptz NOT NULL DEFAULT now(), info jsonb NOT NULL)`); err != nil {
		d.Close()
		return nil, fmt.Errorf("create marker table: %w", err)
	}
	if _, err := d.Pool.Exec(ctx, `INSERT INTO bench.dataset (key, info) VALUES ($1, $2)`, key, raw); err != nil {
		d.Close()
		return nil, fmt.Errorf("write marker: %w", err)
	}
	return ds, nil
}

// forgetResolutions drops the host and slug resolutions Redis may hold
// for the dataset's tenants: another benchmark database served through the
// same Redis in the last five minutes (the shared cache's TTL) left its own
// tenants under the same slugs there, and a server would answer their
// requests with that database's tenant (401: the token is for another
// one). A build needs none of it: provisioning forgets each tenant's.
func (ds *dataset) forgetResolutions(ctx context.Context, redisURL string) error {
	svc, closeSvc, err := ds.tenantService(ctx, redisURL)
	if err != nil {
		return err
	}
	defer closeSvc()
	ts := make([]*tenant.Tenant, 0, len(ds.tenants)+1)
	for _, t := range append([]tenantRef{ds.single}, ds.tenants...) {
		ts = append(ts, &tenant.Tenant{Tenant: tenancy.Tenant{ID: t.ID, Slug: t.Slug}})
	}
	return svc.ForgetCached(ctx, ts...)
}

// tenantService is the tenant service over the dataset's database and the
// server's Redis; closing it waits for its delayed cache invalidations
// (WaitForgotten), so no server sees a resolution it forgot.
func (ds *dataset) tenantService(ctx context.Context, redisURL string) (*tenant.Service, func(), error) {
	store, err := cache.Open(ctx, redisURL, false)
	if err != nil {
		return nil, nil, err
	}
	svc, err := tenant.NewService(tenant.Config{Pool: ds.db.Pool, Cache: store,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), BaseDomain: benchDomain})
	if err != nil {
		_ = store.Close()
		return nil, nil, err
	}
	return svc, func() { svc.WaitForgotten(); _ = store.Close() }, nil
}

// build provisions the tenants and loads their rows.
func (ds *dataset) build(ctx context.Context, o *options, logf func(string, ...any)) error {
	// The service also forgets cached host answers in Redis, so a server
	// never sees an earlier build's tenants.
	svc, closeSvc, err := ds.tenantService(ctx, o.redisURL)
	if err != nil {
		return err
	}
	defer closeSvc()
	ds.tenants = make([]tenantRef, o.tenants)
	logf("dataset: provisioning %d tenants with %d workers", o.tenants, o.provisionWorkers)
	start := time.Now()
	err = parallel(ctx, o.tenants, o.provisionWorkers, func(ctx context.Context, i int) error {
		t, err := svc.Create(ctx, tenant.CreateInput{Slug: slugOf(i), Name: "Bench " + slugOf(i)})
		if err != nil {
			return fmt.Errorf("provision %s: %w", slugOf(i), err)
		}
		ds.tenants[i] = tenantRef{Slug: t.Slug, ID: t.ID}
		return nil
	})
	if err != nil {
		return err
	}
	ds.info = Dataset{Tenants: o.tenants, ProjectsPerTenant: o.projects, ItemsPerTenant: o.items,
		ProvisionWorkers: o.provisionWorkers, ProvisionSeconds: time.Since(start).Seconds(),
		SingleTenantRows: o.tenants * o.projects, BuiltAt: time.Now().UTC().Format(time.RFC3339)}
	ds.info.TenantsPerSecond = float64(o.tenants) / ds.info.ProvisionSeconds
	logf("dataset: %d tenants in %.1fs (%.1f/s)", o.tenants, ds.info.ProvisionSeconds, ds.info.TenantsPerSecond)
	st, err := svc.Create(ctx, tenant.CreateInput{Slug: singleSlug, Name: "Bench single schema"})
	if err != nil {
		return fmt.Errorf("provision %s: %w", singleSlug, err)
	}
	ds.single = tenantRef{Slug: st.Slug, ID: st.ID}

	// One argon2id hash for every owner: the same password everywhere.
	hash, err := auth.NewHasher(auth.DefaultArgon2, 1).Hash(ctx, benchPassword)
	if err != nil {
		return err
	}
	var planID uuid.UUID
	if err := ds.db.Pool.QueryRow(ctx, `SELECT id FROM public.plans WHERE code = 'enterprise'`).Scan(&planID); err != nil {
		return fmt.Errorf("find the enterprise plan: %w", err)
	}
	logf("dataset: loading %d projects and %d items per tenant with COPY", o.projects, o.items)
	start = time.Now()
	err = parallel(ctx, o.tenants, o.provisionWorkers, func(ctx context.Context, i int) error {
		return fill(ctx, ds.db, &ds.tenants[i], hash, planID, o.projects, o.items)
	})
	if err != nil {
		return err
	}
	if err := fill(ctx, ds.db, &ds.single, hash, planID, o.tenants*o.projects, o.tenants*o.items); err != nil {
		return err
	}
	// VACUUM (ANALYZE) sets statistics and visibility maps for every
	// table; over thousands of schemas (13 tables each) it takes about
	// 8 ms a table, an hour at 10,000 tenants, so past vacuumAllBelow
	// only the public schema and the single-schema tenant are analyzed
	// (a tenant's tiny tables are read by index whatever their statistics).
	if o.tenants < vacuumAllBelow {
		if _, err := ds.db.Pool.Exec(ctx, "VACUUM (ANALYZE)"); err != nil {
			return fmt.Errorf("vacuum: %w", err)
		}
	} else {
		var schema string
		if err := ds.db.Pool.QueryRow(ctx, `SELECT schema_name FROM public.tenants WHERE id = $1`, ds.single.ID).Scan(&schema); err != nil {
			return fmt.Errorf("find the single tenant's schema: %w", err)
		}
		for _, table := range []string{"public.tenants", "public.domains", "public.users", "public.subscriptions", "public.plans",
			db.QuoteIdent(schema) + ".projects", db.QuoteIdent(schema) + ".data_items", db.QuoteIdent(schema) + ".members"} {
			if _, err := ds.db.Pool.Exec(ctx, "VACUUM (ANALYZE) "+table); err != nil {
				return fmt.Errorf("vacuum %s: %w", table, err)
			}
		}
	}
	ds.info.LoadSeconds = time.Since(start).Seconds()
	logf("dataset: loaded in %.1fs", ds.info.LoadSeconds)
	return nil
}

// vacuumAllBelow is the tenant count from which the dataset's build
// vacuums only the shared tables and the single-schema tenant.
const vacuumAllBelow = 1000

// fill gives tenant t its owner (a member with the owner role), an
// Enterprise subscription (no plan limits, so scenario 3 may create
// projects) and its rows, in one transaction.
func fill(ctx context.Context, d *db.DB, t *tenantRef, hash string, planID uuid.UUID, projects, items int) error {
	schema := tenancy.SchemaName(t.Slug)
	t.UserID = uuid.New()
	return pgx.BeginFunc(ctx, d.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO public.users (id, created_at, updated_at, email, password_hash, name, locale, is_staff, email_verified_at)
			VALUES ($1, now(), now(), $2, $3, 'Bench Owner', 'en', false, now())`, t.UserID, t.email(), hash); err != nil {
			return fmt.Errorf("create owner of %s: %w", t.Slug, err)
		}
		if _, err := auth.AddMemberTx(ctx, tx, schema, t.UserID, []string{rbac.RoleOwner}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO public.subscriptions (id, created_at, updated_at, tenant_id, plan_id, interval, status,
				current_period_start, current_period_end, cancel_at_period_end, provider, provider_customer_id, payment_method)
			VALUES ($1, now(), now(), $2, $3, 'year', 'active', now(), now() + interval '1 year', false, 'sandbox', '', '')`,
			uuid.New(), t.ID, planID); err != nil {
			return fmt.Errorf("subscribe %s: %w", t.Slug, err)
		}
		base := time.Now().UTC().Truncate(time.Second)
		ids := make([]uuid.UUID, projects)
		n := 0
		_, err := tx.CopyFrom(ctx, pgx.Identifier{schema, "projects"},
			[]string{"id", "created_at", "updated_at", "name", "description", "status", "owner_id"},
			pgx.CopyFromFunc(func() ([]any, error) {
				if n == projects {
					return nil, nil
				}
				// Oldest first, with the time-ordered ids the server gives
				// the projects and items it creates (db.NewID), so a
				// tenant's rows lie in id order on disk as they would in a
				// database ClientIQ filled.
				ids[n] = db.NewID()
				at := base.Add(-time.Duration(projects-1-n) * time.Second)
				n++
				return []any{ids[n-1], at, at, fmt.Sprintf("Project %d", n), "", "active", t.UserID}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy projects of %s: %w", t.Slug, err)
		}
		if projects == 0 {
			return nil
		}
		n = 0
		_, err = tx.CopyFrom(ctx, pgx.Identifier{schema, "data_items"},
			[]string{"id", "created_at", "updated_at", "title", "attributes", "tags", "project_id"},
			pgx.CopyFromFunc(func() ([]any, error) {
				if n == items {
					return nil, nil
				}
				at := base.Add(-time.Duration(items-1-n) * time.Millisecond)
				n++
				return []any{db.NewID(), at, at, fmt.Sprintf("Item %d", n),
					[]byte(fmt.Sprintf(`{"n":%d,"source":"bench"}`, n)), []byte(`["bench","load"]`), ids[n%projects]}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy items of %s: %w", t.Slug, err)
		}
		return nil
	})
}

// load reads a reused dataset's tenants and owners.
func (ds *dataset) load(ctx context.Context, want int) error {
	rows, err := ds.db.Pool.Query(ctx, `SELECT t.slug, t.id, u.id FROM public.tenants t
		JOIN public.users u ON u.email = 'owner@' || t.slug || '.' || $1 ORDER BY t.slug`, benchDomain)
	if err != nil {
		return fmt.Errorf("load tenants: %w", err)
	}
	refs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tenantRef, error) {
		var t tenantRef
		return t, r.Scan(&t.Slug, &t.ID, &t.UserID)
	})
	if err != nil {
		return fmt.Errorf("load tenants: %w", err)
	}
	for _, t := range refs {
		if t.Slug == singleSlug {
			ds.single = t
		} else {
			ds.tenants = append(ds.tenants, t)
		}
	}
	if len(ds.tenants) != want || ds.single.Slug == "" {
		return fmt.Errorf("dataset marker says %d tenants and %q, found %d", want, singleSlug, len(ds.tenants))
	}
	return nil
}

// deleteCreated removes the projects scenario 3 created (and their audit
// events), in every benchmark schema.
func (ds *dataset) deleteCreated(ctx context.Context) error {
	all := append([]tenantRef{ds.single}, ds.tenants...)
	return parallel(ctx, len(all), 4, func(ctx context.Context, i int) error {
		q := db.QuoteIdent(tenancy.SchemaName(all[i].Slug))
		_, err := ds.db.Pool.Exec(ctx, `DELETE FROM `+q+`.projects WHERE name = $1`, createdName)
		if err != nil {
			return fmt.Errorf("delete created projects of %s: %w", all[i].Slug, err)
		}
		return nil
	})
}

// databaseName is the database a URL names.
func databaseName(url string) (string, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "", errors.New("invalid database URL")
	}
	return cfg.Database, nil
}

// dropDatabase drops name, connecting to the postgres database of the same
// server.
func dropDatabase(ctx context.Context, url, name string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to drop %s: %w", name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db.QuoteIdent(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// parallel runs fn for 0..n-1 on workers goroutines and returns the first
// error (the others then stop taking work).
func parallel(ctx context.Context, n, workers int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range max(1, workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}
