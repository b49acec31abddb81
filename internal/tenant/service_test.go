package tenant_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/dbmigrate"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/jobs"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
)

// Helpers shared by this package's tests are prefixed tt: another test file
// of the package defines its own.

// ttLogger logs warnings and errors into the test's output.
func ttLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// ttEnv is one test's database with a Service on it.
type ttEnv struct {
	DB    *dbtest.DB
	Pool  *pgxpool.Pool
	Svc   *tenant.Service
	Cache cache.Store
	// Base is the Service's BaseDomain.
	Base string
}

// ttNew returns a fresh database and a Service on it with an in-process
// cache and a random base domain.
func ttNew(t *testing.T) *ttEnv {
	t.Helper()
	return ttNewWith(t, cache.NewMemory(0), ttBase())
}

// ttNewWith is ttNew with a given cache and base domain.
func ttNewWith(t *testing.T, store cache.Store, base string) *ttEnv {
	t.Helper()
	d := dbtest.New(t)
	return &ttEnv{DB: d, Pool: d.Pool, Svc: ttService(t, d.Pool, store, base, 0), Cache: store, Base: base}
}

// ttService returns a Service on pool (grace 0: the default 30 days) with
// an insert-only River client, as the binary wires it.
func ttService(t *testing.T, pool *pgxpool.Pool, store cache.Store, base string, grace time.Duration) *tenant.Service {
	t.Helper()
	inserter, err := jobs.NewInserter(pool, ttLogger(t))
	require.NoError(t, err)
	svc, err := tenant.NewService(tenant.Config{
		Pool: pool, Cache: store, Logger: ttLogger(t), BaseDomain: base, DeletionGrace: grace, Jobs: inserter,
	})
	require.NoError(t, err)
	return svc
}

// ttSlug returns a random valid slug.
func ttSlug() string { return "t" + dbtest.RandomSuffix() }

// ttBase returns a random base domain, so tests sharing Redis never share keys.
func ttBase() string { return "b" + dbtest.RandomSuffix() + ".test" }

// ttCreate provisions a tenant with slug and its default domain.
func ttCreate(t *testing.T, svc *tenant.Service, slug string) *tenant.Tenant {
	t.Helper()
	tn, err := svc.Create(t.Context(), tenant.CreateInput{Slug: slug, Name: "Tenant " + slug})
	require.NoError(t, err)
	return tn
}

// ttRequireCode requires err to be an *apperr.Error with code and returns it.
func ttRequireCode(t *testing.T, err error, code apperr.Code) *apperr.Error {
	t.Helper()
	require.Error(t, err)
	var ae *apperr.Error
	require.ErrorAs(t, err, &ae, "want an apperr with code %s, got %v", code, err)
	require.Equal(t, code, ae.Code, "error: %v", err)
	return ae
}

// ttRequireField requires err to be an *apperr.Error with code naming field.
func ttRequireField(t *testing.T, err error, code apperr.Code, field string) {
	t.Helper()
	ae := ttRequireCode(t, err, code)
	require.Contains(t, ae.Fields, field, "error: %v", err)
	require.NotEmpty(t, ae.Fields[field])
}

// ttCount runs a query answering one integer.
func ttCount(t *testing.T, pool *pgxpool.Pool, q string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), q, args...).Scan(&n))
	return n
}

// ttSchemaExists reports whether PostgreSQL has a schema named name.
func ttSchemaExists(t *testing.T, pool *pgxpool.Pool, name string) bool {
	t.Helper()
	return ttCount(t, pool, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", name) == 1
}

// ttVersion returns the recorded version of schema ("" when none).
func ttVersion(t *testing.T, pool *pgxpool.Pool, schema string) string {
	t.Helper()
	var v string
	err := pool.QueryRow(context.Background(), "SELECT version FROM public.schema_versions WHERE schema_name = $1", schema).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return ""
	}
	require.NoError(t, err)
	return v
}

// ttRequireNothingLeft requires that no trace of slug, its schema or domain
// exists.
func ttRequireNothingLeft(t *testing.T, pool *pgxpool.Pool, slug, domain string) {
	t.Helper()
	schema := tenancy.SchemaName(slug)
	require.False(t, ttSchemaExists(t, pool, schema), "schema %s", schema)
	require.Zero(t, ttCount(t, pool, "SELECT count(*) FROM public.tenants WHERE slug = $1 OR schema_name = $2", slug, schema))
	require.Zero(t, ttCount(t, pool, "SELECT count(*) FROM public.domains WHERE domain = $1", domain))
	require.Zero(t, ttCount(t, pool, "SELECT count(*) FROM public.schema_versions WHERE schema_name = $1", schema))
}

// ttTenantSchemasAndRows counts tenant schemas and tenant rows in one
// snapshot: they must always be equal (no orphan schema, no schemaless row).
func ttTenantSchemasAndRows(t *testing.T, pool *pgxpool.Pool) (schemas, rows int) {
	t.Helper()
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tenant\_%'),
		(SELECT count(*) FROM public.tenants)`).Scan(&schemas, &rows))
	return schemas, rows
}

// ttTables lists the tables of schema.
func ttTables(t *testing.T, pool *pgxpool.Pool, schema string) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(),
		"SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1", schema)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return names
}

func TestCreate(t *testing.T) {
	t.Parallel()

	env := ttNewWith(t, cache.NewMemory(0), "Example.Test")

	t.Run("ProvisionsSchemaRowsAndVersion", func(t *testing.T) {
		t.Parallel()

		slug := ttSlug() + "-co"
		before := time.Now()

		tn, err := env.Svc.Create(t.Context(), tenant.CreateInput{Slug: slug, Name: "  Acme Co  "})
		require.NoError(t, err)

		schema := "tenant_" + strings.ReplaceAll(slug, "-", "_")
		require.Equal(t, slug, tn.Slug)
		require.Equal(t, "Acme Co", tn.Name)
		require.Equal(t, schema, tn.Schema)
		require.Equal(t, tenancy.StatusActive, tn.Status)
		require.Equal(t, []tenant.Domain{{Domain: slug + ".example.test", IsPrimary: true}}, tn.Domains)
		require.WithinDuration(t, before, tn.CreatedAt, time.Minute)

		require.True(t, ttSchemaExists(t, env.Pool, schema))
		tables := ttTables(t, env.Pool, schema)
		require.Subset(t, tables, []string{"data_items", "projects"})
		require.ElementsMatch(t, ttMigrationTables(t), tables)

		got, err := env.Svc.Get(t.Context(), slug)
		require.NoError(t, err)
		require.Equal(t, tn.ID, got.ID)
		require.Equal(t, schema, got.Schema)
		require.Equal(t, tenancy.StatusActive, got.Status)
		require.Nil(t, got.DeletionRequestedAt)
		require.Equal(t, tn.Domains, got.Domains)

		require.Equal(t, 1, ttCount(t, env.Pool,
			"SELECT count(*) FROM public.domains WHERE tenant_id = $1 AND domain = $2 AND is_primary", tn.ID, slug+".example.test"))
		require.NotEmpty(t, env.Svc.LatestVersion())
		require.Equal(t, env.Svc.LatestVersion(), ttVersion(t, env.Pool, schema))
	})

	t.Run("LatestVersionNamesTheLastTenantMigrationFile", func(t *testing.T) {
		t.Parallel()

		files := ttMigrationFiles(t)

		want := strings.TrimSuffix(filepath.Base(files[len(files)-1]), ".sql")
		file, _, _ := strings.Cut(env.Svc.LatestVersion(), "@")
		require.Equal(t, want, file)
	})

	t.Run("StoresAGivenDomainNormalized", func(t *testing.T) {
		t.Parallel()

		slug := ttSlug()

		tn, err := env.Svc.Create(t.Context(), tenant.CreateInput{Slug: slug, Name: "Shop", Domain: "Shop-" + slug + ".Example.COM."})
		require.NoError(t, err)

		want := []tenant.Domain{{Domain: "shop-" + slug + ".example.com", IsPrimary: true}}
		require.Equal(t, want, tn.Domains)
		got, err := env.Svc.Get(t.Context(), slug)
		require.NoError(t, err)
		require.Equal(t, want, got.Domains)
	})

	t.Run("AcceptsItsOwnSubdomainOrADeeperOneGivenExplicitly", func(t *testing.T) {
		t.Parallel()

		for _, d := range []string{"%s.EXAMPLE.test", "shop.%s.example.test"} {
			slug := ttSlug()

			tn, err := env.Svc.Create(t.Context(), tenant.CreateInput{Slug: slug, Name: "N", Domain: fmt.Sprintf(d, slug)})

			require.NoError(t, err)
			require.Equal(t, strings.ToLower(fmt.Sprintf(d, slug)), tn.Domains[0].Domain)
		}
	})

	t.Run("LongSlugGetsAShortValidSchemaName", func(t *testing.T) {
		t.Parallel()

		// Two 63-character slugs that differ only after the point where the
		// schema name is cut must still get two schemas.
		prefix := ttSlug() + strings.Repeat("x", 63-13-2)
		slugs := []string{prefix + "-a", prefix + "-b"}
		schemas := map[string]bool{}
		for _, slug := range slugs {
			require.Len(t, slug, 63)

			tn := ttCreate(t, env.Svc, slug)

			require.LessOrEqual(t, len(tn.Schema), 63)
			require.True(t, tenancy.ValidSchema(tn.Schema), tn.Schema)
			require.True(t, ttSchemaExists(t, env.Pool, tn.Schema), tn.Schema)
			require.ElementsMatch(t, ttMigrationTables(t), ttTables(t, env.Pool, tn.Schema))
			require.Equal(t, env.Svc.LatestVersion(), ttVersion(t, env.Pool, tn.Schema))
			schemas[tn.Schema] = true
		}
		require.Len(t, schemas, 2)
	})
}

func TestCreateRejectsInvalidInput(t *testing.T) {
	t.Parallel()

	env := ttNew(t)

	tests := []struct {
		name   string
		in     tenant.CreateInput
		fields []string
	}{
		{"SlugTooShort", tenant.CreateInput{Slug: "ab", Name: "N"}, []string{"slug"}},
		{"SlugTooLong", tenant.CreateInput{Slug: strings.Repeat("a", 64), Name: "N"}, []string{"slug"}},
		{"SlugEmpty", tenant.CreateInput{Slug: "", Name: "N"}, []string{"slug"}},
		{"SlugUppercase", tenant.CreateInput{Slug: "Acme", Name: "N"}, []string{"slug"}},
		{"SlugUnderscore", tenant.CreateInput{Slug: "ac_me", Name: "N", Domain: "acme.example.com"}, []string{"slug"}},
		{"SlugLeadingHyphen", tenant.CreateInput{Slug: "-acme", Name: "N", Domain: "acme.example.com"}, []string{"slug"}},
		{"SlugTrailingHyphen", tenant.CreateInput{Slug: "acme-", Name: "N", Domain: "acme.example.com"}, []string{"slug"}},
		{"SlugWithDot", tenant.CreateInput{Slug: "ac.me", Name: "N"}, []string{"slug"}},
		{"SlugWithSpace", tenant.CreateInput{Slug: "ac me", Name: "N", Domain: "acme.example.com"}, []string{"slug"}},
		{"SlugReservedWWW", tenant.CreateInput{Slug: "www", Name: "N"}, []string{"slug"}},
		{"SlugReservedAPI", tenant.CreateInput{Slug: "api", Name: "N"}, []string{"slug"}},
		{"SlugReservedAdmin", tenant.CreateInput{Slug: "admin", Name: "N"}, []string{"slug"}},
		{"SlugReservedApp", tenant.CreateInput{Slug: "app", Name: "N"}, []string{"slug"}},
		{"SlugReservedPublic", tenant.CreateInput{Slug: "public", Name: "N"}, []string{"slug"}},
		{"SlugReservedStatic", tenant.CreateInput{Slug: "static", Name: "N"}, []string{"slug"}},
		{"SlugReservedMail", tenant.CreateInput{Slug: "mail", Name: "N"}, []string{"slug"}},
		{"SlugReservedPgUnderscore", tenant.CreateInput{Slug: "pg_x", Name: "N", Domain: "pgx.example.com"}, []string{"slug"}},
		{"SlugReservedPgHyphen", tenant.CreateInput{Slug: "pg-x", Name: "N"}, []string{"slug"}},
		{"NameEmpty", tenant.CreateInput{Slug: "acme", Name: ""}, []string{"name"}},
		{"NameBlank", tenant.CreateInput{Slug: "acme", Name: "   "}, []string{"name"}},
		{"NameTooLong", tenant.CreateInput{Slug: "acme", Name: strings.Repeat("n", 201)}, []string{"name"}},
		{"DomainWithUnderscore", tenant.CreateInput{Slug: "acme", Name: "N", Domain: "ac_me.example.com"}, []string{"domain"}},
		{"DomainSingleLabel", tenant.CreateInput{Slug: "acme", Name: "N", Domain: "intranet"}, []string{"domain"}},
		{"DomainEmptyLabel", tenant.CreateInput{Slug: "acme", Name: "N", Domain: "acme..example.com"}, []string{"domain"}},
		{"DomainLeadingHyphenLabel", tenant.CreateInput{Slug: "acme", Name: "N", Domain: "-acme.example.com"}, []string{"domain"}},
		{"DomainWithPath", tenant.CreateInput{Slug: "acme", Name: "N", Domain: "acme.example.com/x"}, []string{"domain"}},
		{"EverythingWrong", tenant.CreateInput{Slug: "A", Name: "", Domain: "bad domain"}, []string{"slug", "name", "domain"}},
		{"DomainIsThePlatformDomain", tenant.CreateInput{Slug: "acme", Name: "N", Domain: strings.ToUpper(env.Base) + "."}, []string{"domain"}},
		{"DomainIsAnotherSlugsSubdomain", tenant.CreateInput{Slug: "acme", Name: "N", Domain: "other." + env.Base}, []string{"domain"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			tn, err := env.Svc.Create(t.Context(), tt.in)

			require.Nil(t, tn)
			ae := ttRequireCode(t, err, apperr.CodeValidation)
			for _, f := range tt.fields {
				require.Contains(t, ae.Fields, f, "error: %v", err)
			}
		})
	}

	// Runs after the parallel subtests above: none of them created anything.
	t.Cleanup(func() {
		schemas, rows := ttTenantSchemasAndRows(t, env.Pool)
		require.Zero(t, schemas)
		require.Zero(t, rows)
		require.Zero(t, ttCount(t, env.Pool, "SELECT count(*) FROM public.domains"))
		require.Zero(t, ttCount(t, env.Pool, "SELECT count(*) FROM public.schema_versions"))
	})
}

func TestCreateIsAtomic(t *testing.T) {
	t.Parallel()

	env := ttNew(t)

	t.Run("FailureAfterSchemaLeavesNothing", func(t *testing.T) {
		t.Parallel()

		svc := ttService(t, env.Pool, env.Cache, env.Base, 0)
		injected := errors.New("injected failure after schema")
		var called bool
		svc.SetFailAfterSchemaForTest(func() error { called = true; return injected })
		slug := ttSlug()

		tn, err := svc.Create(t.Context(), tenant.CreateInput{Slug: slug, Name: "Doomed"})

		require.Nil(t, tn)
		require.ErrorIs(t, err, injected)
		require.True(t, called, "the hook runs after the schema is migrated")
		ttRequireNothingLeft(t, env.Pool, slug, slug+"."+env.Base)

		// Nothing left means the slug is free again.
		svc.SetFailAfterSchemaForTest(nil)
		ttCreate(t, svc, slug)
	})

	t.Run("FailingMigrationLeavesNothing", func(t *testing.T) {
		t.Parallel()

		svc := ttService(t, env.Pool, env.Cache, env.Base, 0)
		files := svc.MigrationsForTest()
		require.NotEmpty(t, files)
		// The real DDL of the last file runs, then its last statement fails.
		files[len(files)-1].SQL += "\nCREATE TABLE broken (id uuid REFERENCES no_such_table (id));"
		svc.SetMigrationsForTest(files)
		slug := ttSlug()

		tn, err := svc.Create(t.Context(), tenant.CreateInput{Slug: slug, Name: "Doomed"})

		require.Nil(t, tn)
		require.Error(t, err)
		require.ErrorContains(t, err, "no_such_table")
		ttRequireNothingLeft(t, env.Pool, slug, slug+"."+env.Base)
	})

	t.Run("TakenSlugLeavesTheExistingTenantAlone", func(t *testing.T) {
		t.Parallel()

		slug := ttSlug()
		first := ttCreate(t, env.Svc, slug)

		_, err := env.Svc.Create(t.Context(), tenant.CreateInput{Slug: slug, Name: "Again", Domain: "again-" + slug + ".example.com"})

		ttRequireField(t, err, apperr.CodeConflict, "slug")
		got, err := env.Svc.Get(t.Context(), slug)
		require.NoError(t, err)
		require.Equal(t, first.ID, got.ID)
		require.Equal(t, first.Domains, got.Domains)
		require.Zero(t, ttCount(t, env.Pool, "SELECT count(*) FROM public.domains WHERE domain = $1", "again-"+slug+".example.com"))
	})
}

func TestCreateConcurrently(t *testing.T) {
	t.Parallel()

	const n = 8

	// race runs n Creates at once and returns their errors.
	race := func(t *testing.T, svc *tenant.Service, in func(i int) tenant.CreateInput) []error {
		t.Helper()
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = svc.Create(context.Background(), in(i))
			})
		}
		close(start)
		wg.Wait()
		return errs
	}

	requireOneWinner := func(t *testing.T, errs []error, field string) {
		t.Helper()
		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
				continue
			}
			ttRequireField(t, err, apperr.CodeConflict, field)
		}
		require.Equal(t, 1, wins, "errors: %v", errs)
	}

	t.Run("SameSlugHasOneWinner", func(t *testing.T) {
		t.Parallel()

		env := ttNew(t)
		slug := ttSlug()

		errs := race(t, env.Svc, func(i int) tenant.CreateInput {
			return tenant.CreateInput{Slug: slug, Name: fmt.Sprint("Racer ", i), Domain: fmt.Sprintf("racer%d-%s.example.com", i, slug)}
		})

		requireOneWinner(t, errs, "slug")
		schemas, rows := ttTenantSchemasAndRows(t, env.Pool)
		require.Equal(t, 1, rows)
		require.Equal(t, rows, schemas, "orphan schemas")
		require.Equal(t, 1, ttCount(t, env.Pool, "SELECT count(*) FROM public.domains"))
		require.Equal(t, 1, ttCount(t, env.Pool, "SELECT count(*) FROM public.schema_versions"))
	})

	t.Run("SameDomainHasOneWinner", func(t *testing.T) {
		t.Parallel()

		env := ttNew(t)
		domain := "shared-" + dbtest.RandomSuffix() + ".example.com"

		errs := race(t, env.Svc, func(i int) tenant.CreateInput {
			return tenant.CreateInput{Slug: ttSlug(), Name: fmt.Sprint("Racer ", i), Domain: domain}
		})

		requireOneWinner(t, errs, "domain")
		schemas, rows := ttTenantSchemasAndRows(t, env.Pool)
		require.Equal(t, 1, rows)
		require.Equal(t, rows, schemas, "orphan schemas")
		require.Equal(t, 1, ttCount(t, env.Pool, "SELECT count(*) FROM public.domains"))
		require.Equal(t, 1, ttCount(t, env.Pool, "SELECT count(*) FROM public.schema_versions"))
	})
}

// ttMigrationFiles lists migrations/tenant/*.sql on disk, in order.
func ttMigrationFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "migrations", "tenant", "*.sql"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	sort.Strings(files)
	return files
}

// ttCreateTableRE finds the tables a migration file creates.
var ttCreateTableRE = regexp.MustCompile(`(?i)CREATE TABLE (?:IF NOT EXISTS )?"?([a-z0-9_]+)"?`)

// ttMigrationTables lists the tables migrations/tenant/*.sql create.
func ttMigrationTables(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, f := range ttMigrationFiles(t) {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range ttCreateTableRE.FindAllStringSubmatch(string(b), -1) {
			names = append(names, m[1])
		}
	}
	require.Subset(t, names, []string{"data_items", "projects"})
	return names
}

// ttCatalog describes schema's tables, columns, indexes and constraints as
// sorted lines, with the schema's own name replaced so two schemas compare.
func ttCatalog(t *testing.T, pool *pgxpool.Pool, schema string) []string {
	t.Helper()
	const q = `
	SELECT format('relation %s kind=%s', c.relname, c.relkind)
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = $1 AND c.relkind <> 'i'
	UNION ALL
	SELECT format('column %s.%s #%s %s notnull=%s default=%s identity=%s generated=%s',
		c.relname, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull,
		coalesce(pg_get_expr(d.adbin, d.adrelid), '<none>'), a.attidentity, a.attgenerated)
	FROM pg_attribute a
	JOIN pg_class c ON c.oid = a.attrelid
	JOIN pg_namespace n ON n.oid = c.relnamespace
	LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped
	UNION ALL
	SELECT format('index %s %s', indexname, indexdef) FROM pg_indexes WHERE schemaname = $1
	UNION ALL
	SELECT format('constraint %s.%s type=%s %s', c.relname, con.conname, con.contype, pg_get_constraintdef(con.oid))
	FROM pg_constraint con
	JOIN pg_class c ON c.oid = con.conrelid
	JOIN pg_namespace n ON n.oid = con.connamespace
	WHERE n.nspname = $1
	UNION ALL
	SELECT format('trigger %s.%s %s', c.relname, tg.tgname, pg_get_triggerdef(tg.oid))
	FROM pg_trigger tg
	JOIN pg_class c ON c.oid = tg.tgrelid
	JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = $1 AND NOT tg.tgisinternal
	UNION ALL
	SELECT format('function %s(%s)', p.proname, pg_get_function_identity_arguments(p.oid))
	FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE n.nspname = $1`
	rows, err := pool.Query(context.Background(), q, schema)
	require.NoError(t, err)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	for i, l := range lines {
		lines[i] = strings.ReplaceAll(l, schema+".", "<schema>.")
	}
	sort.Strings(lines)
	return lines
}

func TestCreateMatchesTheMigrationFilesCatalog(t *testing.T) {
	t.Parallel()

	env := ttNew(t)
	ctx := t.Context()
	tn := ttCreate(t, env.Svc, ttSlug())

	// The reference: the files on disk applied by hand, one transaction each.
	const ref = "tenant_ref"
	_, err := env.Pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{ref}.Sanitize())
	require.NoError(t, err)
	for _, f := range ttMigrationFiles(t) {
		sql, err := os.ReadFile(f)
		require.NoError(t, err)
		err = pgx.BeginFunc(ctx, env.Pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+pgx.Identifier{ref}.Sanitize()); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, string(sql))
			return err
		})
		require.NoError(t, err, f)
	}

	got := ttCatalog(t, env.Pool, tn.Schema)
	want := ttCatalog(t, env.Pool, ref)

	require.Equal(t, want, got)
	// Guard against comparing two empty catalogs.
	require.Contains(t, got, "relation projects kind=r")
	require.Contains(t, got, "relation data_items kind=r")
	require.Greater(t, len(got), 10)
	require.NotContains(t, strings.Join(got, "\n"), tn.Schema)
}

// Proves the embedded migrations are the files on disk (the test above
// compares against the disk).
func TestEmbeddedTenantMigrationsAreTheFilesOnDisk(t *testing.T) {
	t.Parallel()

	embedded, err := dbmigrate.Files("tenant")
	require.NoError(t, err)
	disk := ttMigrationFiles(t)
	require.Len(t, embedded, len(disk))
	for i, f := range disk {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.Equal(t, strings.TrimSuffix(filepath.Base(f), ".sql"), embedded[i].Version)
		require.Equal(t, string(b), embedded[i].SQL)
	}
}
