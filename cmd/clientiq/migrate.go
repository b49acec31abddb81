package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/clientiq/clientiq/internal/config"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbmigrate"
	"github.com/clientiq/clientiq/internal/tenant"
)

func migrateFlags(fs *flag.FlagSet) func(context.Context, *env) error {
	createDB := fs.Bool("create-db", false, "create the database named in DATABASE_URL when it does not exist")
	concurrency := fs.Int("concurrency", 4, "tenant schemas migrated at once")
	only := fs.String("tenant", "", "migrate only this tenant's schema (by slug)")
	return func(ctx context.Context, e *env) error {
		if len(e.args) > 0 {
			return usageError{"unexpected arguments: " + strings.Join(e.args, " ")}
		}
		cfg, err := config.Load(e.getenv)
		if err != nil {
			return err
		}
		if cfg.TransactionPooled() {
			// Migrations hold a session advisory lock and run DDL over
			// several statements: a transaction pooler would hand them to
			// different server connections.
			return &config.Error{Var: "DATABASE_POOLER", Problem: "migrate must reach PostgreSQL directly: run it with DATABASE_POOLER=none and DATABASE_URL pointing at the server, not at PgBouncer"}
		}
		if *createDB {
			created, err := db.EnsureDatabase(ctx, db.Config{URL: cfg.DatabaseURL, ConnectTimeout: cfg.DatabaseConnectTimeout})
			if err != nil {
				return err
			}
			if created {
				fmt.Fprintln(e.stdout, "created database")
			}
		}
		d, err := open(ctx, e, false)
		if err != nil {
			return err
		}
		defer d.Close()
		if *concurrency < 1 || *concurrency > 256 {
			return usageError{"--concurrency must be between 1 and 256"}
		}
		start := time.Now()
		res, err := dbmigrate.Public(ctx, d.db.Pool, d.logger)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "public: %d migration(s) applied; river: %d applied (%s)\n",
			len(res.Applied), res.RiverSteps, time.Since(start).Round(time.Millisecond))

		svc, err := d.tenantService()
		if err != nil {
			return err
		}
		tres, err := svc.MigrateAll(ctx, tenant.MigrateOptions{
			Concurrency: *concurrency,
			Slug:        *only,
			Progress:    progressPrinter(e),
		})
		if err != nil {
			return cliErr(err)
		}
		fmt.Fprintf(e.stdout, "tenants: %d schema(s) behind, %d migrated, %d failed, now at %s (%s)\n",
			tres.Behind, tres.Migrated, len(tres.Failures), svc.LatestVersion(), tres.Elapsed.Round(time.Millisecond))
		d.logger.InfoContext(ctx, "migrate_complete",
			slog.Int("public_applied", len(res.Applied)),
			slog.Int("river_applied", res.RiverSteps),
			slog.Int("tenant_schemas_migrated", tres.Migrated),
			slog.Int("tenant_schemas_failed", len(tres.Failures)),
			slog.Duration("elapsed", time.Since(start)))
		if len(tres.Failures) > 0 {
			for schema, ferr := range tres.Failures {
				fmt.Fprintf(e.stderr, "  %s: %v\n", schema, ferr)
			}
			return fmt.Errorf("%d tenant schema(s) failed to migrate; fix and rerun (migrated schemas are not touched again)", len(tres.Failures))
		}
		return nil
	}
}

// progressPrinter reports fleet migration progress on stderr about once a
// second (and at the end): done/total, rate and ETA.
func progressPrinter(e *env) func(tenant.Progress) {
	var mu sync.Mutex
	var last time.Time
	return func(p tenant.Progress) {
		mu.Lock()
		defer mu.Unlock()
		end := p.Done+p.Failed == p.Total
		if !end && time.Since(last) < time.Second {
			return
		}
		last = time.Now()
		fmt.Fprintf(e.stderr, "tenants: %d/%d migrated, %d failed, %.0f/s, ETA %s\n",
			p.Done, p.Total, p.Failed, p.Rate(), p.ETA().Round(time.Second))
	}
}
