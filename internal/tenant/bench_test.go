package tenant_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/ent/project"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbmigrate"

	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/tenant"
)

// benchService provisions `existing` tenants in a fresh database.
func benchService(b *testing.B, existing int) (*tenant.Service, *dbtest.DB) {
	b.Helper()
	tdb := dbtest.New(b)
	svc, err := tenant.NewService(tenant.Config{
		Pool: tdb.Pool, Cache: cache.NewMemory(0),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), BaseDomain: "bench.test",
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := range existing {
		if _, err := svc.Create(ctx, tenant.CreateInput{Slug: fmt.Sprintf("pre%05d", i), Name: "pre"}); err != nil {
			b.Fatal(err)
		}
	}
	return svc, tdb
}

// BenchmarkProvision measures Create with 0, 100 and 1,000 tenants already
// present, reporting p50 and p99 besides the mean.
func BenchmarkProvision(b *testing.B) {
	for _, existing := range []int{0, 100, 1000} {
		// Set up once per size: the sub-benchmark body runs more than once.
		svc, _ := benchService(b, existing)
		run := 0
		b.Run(fmt.Sprintf("existing=%d", existing), func(b *testing.B) {
			run++
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				if _, err := svc.Create(ctx, tenant.CreateInput{Slug: fmt.Sprintf("b%d-%d-%07d", existing, run, i), Name: "bench"}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			benchReportPercentiles(b, lat)
		})
	}
}

// BenchmarkMigrateNothingToDo measures a fleet migration over 1,000 tenant
// schemas that are all current (one query).
func BenchmarkMigrateNothingToDo(b *testing.B) {
	svc, _ := benchService(b, 1000)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		res, err := svc.MigrateAll(ctx, tenant.MigrateOptions{Concurrency: 4})
		if err != nil || res.Behind != 0 {
			b.Fatalf("behind=%v err=%v", res, err)
		}
	}
}

func benchReportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(p(0.50), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")
}

// BenchmarkMigrateAdditive measures bringing 1,000 tenant schemas up by one
// additive migration (ALTER TABLE … ADD COLUMN), four schemas at a time.
func BenchmarkMigrateAdditive(b *testing.B) {
	svc, _ := benchService(b, 1000)
	ctx := context.Background()
	files := svc.MigrationsForTest()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		next := append(files, dbmigrate.File{
			Version: fmt.Sprintf("99990101%06d_bench", i),
			SQL:     fmt.Sprintf("ALTER TABLE projects ADD COLUMN bench_%d text;", i),
		})
		files = next
		svc.SetMigrationsForTest(next)
		b.StartTimer()
		res, err := svc.MigrateAll(ctx, tenant.MigrateOptions{Concurrency: 4})
		if err != nil || res.Migrated != 1000 || len(res.Failures) > 0 {
			b.Fatalf("migrated=%d failures=%d err=%v", res.Migrated, len(res.Failures), err)
		}
	}
}

// BenchmarkTenancyOverhead compares the same list query (20 newest
// projects) through tenant-scoped clients spread over 100 tenant schemas
// with the single-schema design: one table with a tenant_id column. The
// ratio of the two ns/op is the tenancy overhead.
func BenchmarkTenancyOverhead(b *testing.B) {
	tenants, perTenant := benchEnvInt("OVH_TENANTS", 100), 200
	svc, tdb := benchService(b, 0)
	ctx := context.Background()
	schemas := make([]string, tenants)
	ids := make([]uuid.UUID, tenants)
	for i := range tenants {
		t, err := svc.Create(ctx, tenant.CreateInput{Slug: fmt.Sprintf("ovh%03d", i), Name: "overhead"})
		if err != nil {
			b.Fatal(err)
		}
		schemas[i], ids[i] = t.Schema, t.ID
		if i == 0 {
			if _, err := tdb.Pool.Exec(ctx, `CREATE SCHEMA single;
				CREATE TABLE single.projects (LIKE `+t.Schema+`.projects INCLUDING ALL);
				ALTER TABLE single.projects ADD COLUMN tenant_id uuid NOT NULL;
				CREATE INDEX ON single.projects (tenant_id, created_at)`); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := tdb.Pool.Exec(ctx, `INSERT INTO `+t.Schema+`.projects (id, name, description, status, created_at, updated_at)
			SELECT gen_random_uuid(), 'p' || g, '', 'active', now() - g * interval '1 second', now() FROM generate_series(1, $1) g`, perTenant); err != nil {
			b.Fatal(err)
		}
		if _, err := tdb.Pool.Exec(ctx, `INSERT INTO single.projects (id, name, description, status, created_at, updated_at, tenant_id)
			SELECT gen_random_uuid(), 'p' || g, '', 'active', now() - g * interval '1 second', now(), $2 FROM generate_series(1, $1) g`, perTenant, t.ID); err != nil {
			b.Fatal(err)
		}
	}
	_, _ = tdb.Pool.Exec(ctx, "ANALYZE")
	clients := db.NewClients(tdb.Pool)

	b.Run("schema-per-tenant", func(b *testing.B) {
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(n.Add(1)) % tenants
				c, err := clients.ForSchema(schemas[i])
				if err != nil {
					b.Fatal(err)
				}
				ps, err := c.Project.Query().Order(ent.Desc(project.FieldCreatedAt)).Limit(20).All(ctx)
				if err != nil || len(ps) != 20 {
					b.Fatalf("got %d: %v", len(ps), err)
				}
			}
		})
	})
	// The single-schema design through ent as well, so only the schema
	// layout differs: one "projects" table with a tenant_id filter.
	single := ent.NewClient(ent.Driver(db.NewDriver(tdb.Pool)),
		ent.AlternateSchema(ent.ScopedSchemaConfig("single")))
	b.Run("single-schema", func(b *testing.B) {
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id := ids[int(n.Add(1))%tenants]
				ps, err := single.Project.Query().
					Where(func(s *entsql.Selector) { s.Where(entsql.EQ(s.C("tenant_id"), id)) }).
					Order(ent.Desc(project.FieldCreatedAt)).Limit(20).All(ctx)
				if err != nil || len(ps) != 20 {
					b.Fatalf("got %d: %v", len(ps), err)
				}
			}
		})
	})
}

// BenchmarkProvisionFromPool measures Create when a warm pool of
// pre-migrated schemas is kept filled (how `clientiq serve` provisions),
// with 0 and 1,000 existing tenants.
func BenchmarkProvisionFromPool(b *testing.B) {
	for _, existing := range []int{0, 1000} {
		svc, _ := benchService(b, existing)
		run := 0
		b.Run(fmt.Sprintf("existing=%d", existing), func(b *testing.B) {
			run++
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				if _, err := svc.FillPool(ctx, 1); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				if _, err := svc.Create(ctx, tenant.CreateInput{Slug: fmt.Sprintf("w%d-%d-%07d", existing, run, i), Name: "bench"}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			benchReportPercentiles(b, lat)
		})
	}
}

// benchEnvInt reads an integer knob for a benchmark from the environment.
func benchEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
