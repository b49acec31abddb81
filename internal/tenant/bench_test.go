package tenant_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"testing"
	"time"

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
