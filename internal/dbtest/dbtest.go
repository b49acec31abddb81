// Package dbtest gives each test its own PostgreSQL database, cloned from a
// template that is migrated once per set of migrations, so test packages
// run in parallel without sharing state and leave nothing behind. Test-only:
// production code never imports it.
package dbtest

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"runtime/debug"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbmigrate"
	"github.com/clientiq/clientiq/migrations"
)

// AdminURL is the server tests create databases on: TEST_DATABASE_URL, else
// the local PostgreSQL as user postgres.
func AdminURL() string {
	return cmp.Or(os.Getenv("TEST_DATABASE_URL"), "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
}

// DB is one test's database.
type DB struct {
	// Name of the database.
	Name string
	// URL connects to it.
	URL string
	// Pool is a pgx pool on it (closed at cleanup).
	Pool *pgxpool.Pool
	// Ent is a public-schema ent client on it.
	Ent *ent.Client
}

// Options tune New.
type Options struct {
	// Empty skips migrations: the database is created empty.
	Empty bool
}

// New creates a migrated database for t and drops it when t ends.
func New(t testing.TB) *DB { return NewWith(t, nil) }

// NewWith is New with options.
func NewWith(t testing.TB, opts *Options) *DB {
	t.Helper()
	ctx := context.Background()
	admin := connectAdmin(t)
	defer admin.Close(ctx)

	name := "clientiq_test_" + randomHex(6)
	create := "CREATE DATABASE " + ident(name)
	if opts == nil || !opts.Empty {
		create += " TEMPLATE " + ident(template(t, admin))
	}
	if _, err := admin.Exec(ctx, create); err != nil {
		t.Fatalf("dbtest: create database: %v", err)
	}
	t.Cleanup(func() { drop(t, name) })

	u := withDatabase(t, AdminURL(), name)
	pcfg, err := pgxpool.ParseConfig(u)
	if err != nil {
		t.Fatalf("dbtest: parse url: %v", err)
	}
	pcfg.MaxConns = 8
	pcfg.AfterConnect = db.AfterConnect(pcfg.AfterConnect)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		t.Fatalf("dbtest: pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return &DB{
		Name: name,
		URL:  u,
		Pool: pool,
		Ent:  ent.NewClient(ent.Driver(db.NewDriver(pool))),
	}
}

// template returns the name of a migrated template database for the current
// migrations, building it once (under an advisory lock, so parallel test
// packages build it once between them).
func template(t testing.TB, admin *pgx.Conn) string {
	t.Helper()
	ctx := context.Background()
	name := "clientiq_tmpl_" + migrationsHash(t)
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(7300519002)"); err != nil {
		t.Fatalf("dbtest: lock: %v", err)
	}
	defer func() { _, _ = admin.Exec(ctx, "SELECT pg_advisory_unlock(7300519002)") }()
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatalf("dbtest: look up template: %v", err)
	}
	if exists {
		return name
	}
	building := name + "_build"
	_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(building)+" WITH (FORCE)")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident(building)); err != nil {
		t.Fatalf("dbtest: create template: %v", err)
	}
	pool, err := pgxpool.New(ctx, withDatabase(t, AdminURL(), building))
	if err != nil {
		t.Fatalf("dbtest: template pool: %v", err)
	}
	_, err = dbmigrate.Public(ctx, pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	pool.Close()
	if err != nil {
		t.Fatalf("dbtest: migrate template: %v", err)
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+ident(building)+" RENAME TO "+ident(name)); err != nil {
		t.Fatalf("dbtest: publish template: %v", err)
	}
	return name
}

// migrationsHash identifies the embedded migrations (and so the template).
func migrationsHash(t testing.TB) string {
	h := sha256.New()
	var files []string
	_ = fs.WalkDir(migrations.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	for _, f := range files {
		b, err := fs.ReadFile(migrations.FS, f)
		if err != nil {
			t.Fatalf("dbtest: read %s: %v", f, err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(b))
		h.Write(b)
	}
	// River's migrations are part of the template too.
	fmt.Fprint(h, "river:", dbmigrate.RiverSchema)
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/riverqueue/river" {
				fmt.Fprint(h, d.Version)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func connectAdmin(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("dbtest: connect to PostgreSQL at TEST_DATABASE_URL or 127.0.0.1:5432 (run .ci/run or start PostgreSQL): %v", err)
	}
	return conn
}

func drop(t testing.TB, name string) {
	ctx := context.Background()
	admin := connectAdmin(t)
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
		t.Errorf("dbtest: drop database %s: %v", name, err)
	}
}

func withDatabase(t testing.TB, base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("dbtest: parse admin url: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func ident(s string) string { return pgx.Identifier{s}.Sanitize() }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// RandomSuffix returns a random hex string for unique names in tests.
func RandomSuffix() string { return randomHex(6) }
