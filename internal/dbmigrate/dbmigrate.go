// Package dbmigrate applies ClientIQ's versioned SQL migrations (the files
// embedded from migrations/) and River's own migrations. Each applied file is
// recorded in a revision table, so running it again applies nothing.
package dbmigrate

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/migrations"
)

// RiverSchema is where River's tables live: named explicitly so River never
// finds its tables through a search_path.
const RiverSchema = "public"

// lockKey serializes concurrent migrators (several replicas starting at once).
const lockKey = 7_300_519_001

// File is one migration: its version (the file name without .sql) and SQL.
type File struct {
	Version string
	SQL     string
}

// Files returns the migrations in dir ("public" or "tenant") in order.
func Files(dir string) ([]File, error) {
	entries, err := fs.ReadDir(migrations.FS, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations/%s: %w", dir, err)
	}
	var files []File
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		b, err := fs.ReadFile(migrations.FS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		files = append(files, File{Version: strings.TrimSuffix(e.Name(), ".sql"), SQL: string(b)})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Version < files[j].Version })
	return files, nil
}

// Result says what a run did.
type Result struct {
	Applied    []string
	RiverSteps int
}

// Public applies the public-schema migrations and River's, under an
// advisory lock, and returns what it applied.
func Public(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) (*Result, error) {
	files, err := Files("public")
	if err != nil {
		return nil, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(lockKey)); err != nil {
		return nil, fmt.Errorf("take migration lock: %w", err)
	}
	defer func() {
		// A fresh context: the caller's may be cancelled, and the lock must go.
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(lockKey))
	}()

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS public.schema_migrations (
		version text PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("create public.schema_migrations: %w", err)
	}
	applied := map[string]bool{}
	rows, err := conn.Query(ctx, "SELECT version FROM public.schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("read public.schema_migrations: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read public.schema_migrations: %w", err)
	}
	for _, v := range versions {
		applied[v] = true
	}

	res := &Result{}
	for _, f := range files {
		if applied[f.Version] {
			continue
		}
		if err := applyOne(ctx, conn.Conn(), f); err != nil {
			return res, err
		}
		logger.InfoContext(ctx, "migration_applied", slog.String("schema", "public"), slog.String("version", f.Version))
		res.Applied = append(res.Applied, f.Version)
	}

	n, err := River(ctx, pool)
	res.RiverSteps = n
	if err != nil {
		return res, err
	}
	return res, nil
}

// applyOne runs one file and records it in one transaction, so a failing
// file leaves neither partial DDL nor a record behind.
func applyOne(ctx context.Context, conn *pgx.Conn, f File) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin migration %s: %w", f.Version, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, "SET LOCAL search_path TO public"); err != nil {
		return fmt.Errorf("migration %s: set search_path: %w", f.Version, err)
	}
	// No arguments: pgx sends the file with the simple protocol, so a file
	// may hold several statements.
	if _, err := tx.Exec(ctx, f.SQL); err != nil {
		return fmt.Errorf("apply migration %s: %w", f.Version, err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO public.schema_migrations (version) VALUES ($1)", f.Version); err != nil {
		return fmt.Errorf("record migration %s: %w", f.Version, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit migration %s: %w", f.Version, err)
	}
	return nil
}

// River applies River's migrations to RiverSchema and returns how many
// versions it applied.
func River(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: RiverSchema})
	if err != nil {
		return 0, fmt.Errorf("river migrator: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return 0, fmt.Errorf("river migrations: %w", err)
	}
	return len(res.Versions), nil
}

// Pending returns the public migrations not yet applied (for health and
// for refusing to serve an unmigrated database).
func Pending(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	files, err := Files("public")
	if err != nil {
		return nil, err
	}
	rows, err := pool.Query(ctx, "SELECT version FROM public.schema_migrations")
	if err != nil {
		if !db.HasCode(err, db.CodeUndefinedTable) {
			return nil, fmt.Errorf("read public.schema_migrations: %w", err)
		}
		all := make([]string, len(files))
		for i, f := range files {
			all[i] = f.Version
		}
		return all, nil
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read public.schema_migrations: %w", err)
	}
	done := map[string]bool{}
	for _, v := range versions {
		done[v] = true
	}
	var pending []string
	for _, f := range files {
		if !done[f.Version] {
			pending = append(pending, f.Version)
		}
	}
	return pending, nil
}
