package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/health"
	"github.com/clientiq/clientiq/internal/jobs"
)

// databaseCheck probes pool the way cmd/clientiq/serve.go does.
func databaseCheck(pool *pgxpool.Pool) health.Check {
	d := &db.DB{Pool: pool}
	return health.Check{Name: "database", Run: func(ctx context.Context) (map[string]any, error) {
		return nil, d.Ping(ctx)
	}}
}

// cacheCheck probes store the way cmd/clientiq/serve.go does.
func cacheCheck(store cache.Store) health.Check {
	return health.Check{Name: "cache", Run: func(ctx context.Context) (map[string]any, error) {
		return map[string]any{"backend": store.Backend()}, store.Ping(ctx)
	}}
}

// jobsCheck counts River jobs the way cmd/clientiq/serve.go does.
func jobsCheck(pool *pgxpool.Pool) health.Check {
	return health.Check{Name: "jobs", Run: func(ctx context.Context) (map[string]any, error) {
		counts, err := jobs.Counts(ctx, pool)
		return map[string]any{"queues": counts, "workers_in_process": false}, err
	}}
}

// mustNotRun is a check that fails the test if probed.
func mustNotRun(t *testing.T, name string) health.Check {
	return health.Check{Name: name, Run: func(context.Context) (map[string]any, error) {
		t.Errorf("check %s ran", name)
		return nil, nil
	}}
}

// failing is a check that returns err.
func failing(name string, err error) health.Check {
	return health.Check{Name: name, Run: func(context.Context) (map[string]any, error) { return nil, err }}
}

func redisStore(t *testing.T, url string) cache.Store {
	t.Helper()
	r, err := cache.NewRedis(url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// get serves GET path through a mux with cfg registered and decodes the body.
func get(t *testing.T, cfg health.Config, path string) (int, map[string]any) {
	t.Helper()
	mux := http.NewServeMux()
	health.Register(mux, cfg)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"), "%s: %s", path, rec.Body)
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "%s: %s", path, rec.Body)
	return rec.Code, body
}

func TestLiveness(t *testing.T) {
	t.Parallel()

	t.Run("AnswersOKWithoutProbingAnything", func(t *testing.T) {
		t.Parallel()
		cfg := health.Config{
			Database: mustNotRun(t, "database"),
			Cache:    mustNotRun(t, "cache"),
			Others:   []health.Check{mustNotRun(t, "jobs")},
		}
		for _, path := range []string{"/health/", "/health"} {
			status, body := get(t, cfg, path)
			require.Equal(t, http.StatusOK, status, path)
			require.Equal(t, map[string]any{"status": "ok"}, body, path)
		}
	})
}

func TestDatabaseEndpoint(t *testing.T) {
	t.Parallel()

	t.Run("RealDatabaseIsOK", func(t *testing.T) {
		t.Parallel()
		tdb := dbtest.New(t)
		cfg := health.Config{Database: databaseCheck(tdb.Pool), Cache: mustNotRun(t, "cache")}
		for _, path := range []string{"/health/db/", "/health/db"} {
			status, body := get(t, cfg, path)
			require.Equal(t, http.StatusOK, status, path)
			require.Equal(t, "ok", body["status"])
			require.Equal(t, "database", body["component"])
			require.IsType(t, float64(0), body["latency_ms"])
			require.NotContains(t, body, "error")
		}
	})

	t.Run("ClosedPoolIsUnavailable", func(t *testing.T) {
		t.Parallel()
		tdb := dbtest.New(t)
		pool, err := pgxpool.New(context.Background(), tdb.URL)
		require.NoError(t, err)
		pool.Close()
		status, body := get(t, health.Config{Database: databaseCheck(pool), Cache: mustNotRun(t, "cache")}, "/health/db/")
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Equal(t, "unavailable", body["status"])
		require.NotEmpty(t, body["error"])
		require.NotContains(t, body["error"], tdb.URL)
	})

	t.Run("CheckErrorIsUnavailable", func(t *testing.T) {
		t.Parallel()
		cfg := health.Config{Database: failing("database", errors.New("connection refused")), Cache: mustNotRun(t, "cache")}
		status, body := get(t, cfg, "/health/db/")
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Equal(t, "unavailable", body["status"])
		require.Equal(t, "connection refused", body["error"])
	})

	t.Run("LongErrorIsTruncated", func(t *testing.T) {
		t.Parallel()
		cfg := health.Config{Database: failing("database", errors.New(strings.Repeat("e", 5000))), Cache: mustNotRun(t, "cache")}
		status, body := get(t, cfg, "/health/db/")
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Len(t, body["error"], 200)
	})
}

func TestCacheEndpoint(t *testing.T) {
	t.Parallel()

	t.Run("MemoryBackendIsOK", func(t *testing.T) {
		t.Parallel()
		cfg := health.Config{Database: mustNotRun(t, "database"), Cache: cacheCheck(cache.NewMemory(0))}
		for _, path := range []string{"/health/cache/", "/health/cache"} {
			status, body := get(t, cfg, path)
			require.Equal(t, http.StatusOK, status, path)
			require.Equal(t, "ok", body["status"])
			require.Equal(t, "cache", body["component"])
			require.Equal(t, "memory", body["backend"])
		}
	})

	t.Run("RedisBackendIsOK", func(t *testing.T) {
		t.Parallel()
		cfg := health.Config{Database: mustNotRun(t, "database"), Cache: cacheCheck(redisStore(t, "redis://127.0.0.1:6379/0"))}
		status, body := get(t, cfg, "/health/cache/")
		require.Equal(t, http.StatusOK, status, body)
		require.Equal(t, "ok", body["status"])
		require.Equal(t, "redis", body["backend"])
	})

	t.Run("DeadRedisIsUnavailable", func(t *testing.T) {
		t.Parallel()
		cfg := health.Config{Database: mustNotRun(t, "database"), Cache: cacheCheck(redisStore(t, "redis://127.0.0.1:1/0"))}
		status, body := get(t, cfg, "/health/cache/")
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Equal(t, "unavailable", body["status"])
		require.Equal(t, "redis", body["backend"])
		require.NotEmpty(t, body["error"])
	})
}

func TestDetailed(t *testing.T) {
	t.Parallel()

	requireComponent := func(t *testing.T, body map[string]any, name, status string) map[string]any {
		t.Helper()
		components, ok := body["components"].(map[string]any)
		require.True(t, ok, "components: %v", body)
		c, ok := components[name].(map[string]any)
		require.True(t, ok, "component %s: %v", name, components)
		require.Equal(t, status, c["status"], "component %s: %v", name, c)
		latency, ok := c["latency_ms"].(float64)
		require.True(t, ok, "latency_ms of %s: %v", name, c)
		require.GreaterOrEqual(t, latency, 0.0)
		return c
	}

	t.Run("AllComponentsOK", func(t *testing.T) {
		t.Parallel()
		tdb := dbtest.New(t)
		cfg := health.Config{
			Database: databaseCheck(tdb.Pool),
			Cache:    cacheCheck(cache.NewMemory(0)),
			Others:   []health.Check{jobsCheck(tdb.Pool)},
			Version:  "v-test",
			Started:  time.Now().Add(-90 * time.Second),
		}
		for _, path := range []string{"/health/detailed/", "/health/detailed"} {
			status, body := get(t, cfg, path)
			require.Equal(t, http.StatusOK, status, "%s: %v", path, body)
			require.Equal(t, "ok", body["status"])
			require.NotContains(t, body, "failing")
			require.Equal(t, "v-test", body["version"])
			require.GreaterOrEqual(t, body["uptime_seconds"], 90.0)
			ts, ok := body["timestamp"].(string)
			require.True(t, ok)
			_, err := time.Parse(time.RFC3339Nano, ts)
			require.NoError(t, err)

			require.Len(t, body["components"], 3)
			requireComponent(t, body, "database", "ok")
			c := requireComponent(t, body, "cache", "ok")
			require.Equal(t, map[string]any{"backend": "memory"}, c["details"])
			j := requireComponent(t, body, "jobs", "ok")
			details, ok := j["details"].(map[string]any)
			require.True(t, ok, "jobs details: %v", j)
			require.Contains(t, details, "queues")
		}
	})

	t.Run("FailingCacheIsNamed", func(t *testing.T) {
		t.Parallel()
		tdb := dbtest.New(t)
		cfg := health.Config{
			Database: databaseCheck(tdb.Pool),
			Cache:    cacheCheck(redisStore(t, "redis://127.0.0.1:1/0")),
			Others:   []health.Check{jobsCheck(tdb.Pool)},
			Version:  "v-test",
			Started:  time.Now(),
		}
		status, body := get(t, cfg, "/health/detailed/")
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Equal(t, "unavailable", body["status"])
		require.Equal(t, []any{"cache"}, body["failing"])
		requireComponent(t, body, "database", "ok")
		requireComponent(t, body, "jobs", "ok")
		c := requireComponent(t, body, "cache", "unavailable")
		require.NotEmpty(t, c["error"])
	})

	t.Run("EveryFailingComponentIsNamed", func(t *testing.T) {
		t.Parallel()
		cfg := health.Config{
			Database: failing("database", errors.New("db down")),
			Cache:    failing("cache", errors.New("cache down")),
			Others:   []health.Check{failing("jobs", errors.New("jobs down"))},
		}
		status, body := get(t, cfg, "/health/detailed/")
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Equal(t, []any{"database", "cache", "jobs"}, body["failing"])
	})
}

func TestTimeout(t *testing.T) {
	t.Parallel()

	// blocking returns a check that blocks until release is closed,
	// watching ctx only if honorCtx.
	blocking := func(t *testing.T, name string, honorCtx bool) health.Check {
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		return health.Check{Name: name, Run: func(ctx context.Context) (map[string]any, error) {
			if !honorCtx {
				<-release
				return nil, nil
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-release:
				return nil, nil
			}
		}}
	}

	for _, tc := range []struct {
		name     string
		honorCtx bool
	}{
		{"CheckThatHonorsContextIsReportedTimedOut", true},
		{"CheckThatIgnoresContextIsReportedTimedOut", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := health.Config{
				Database: blocking(t, "database", tc.honorCtx),
				Cache:    cacheCheck(cache.NewMemory(0)),
				Timeout:  100 * time.Millisecond,
			}

			start := time.Now()
			status, body := get(t, cfg, "/health/db/")
			require.Less(t, time.Since(start), 2*time.Second)
			require.Equal(t, http.StatusServiceUnavailable, status)
			require.Equal(t, "timed out", body["error"])
			require.GreaterOrEqual(t, body["latency_ms"], 100.0)

			start = time.Now()
			status, body = get(t, cfg, "/health/detailed/")
			require.Less(t, time.Since(start), 2*time.Second)
			require.Equal(t, http.StatusServiceUnavailable, status)
			require.Equal(t, []any{"database"}, body["failing"])
			components := body["components"].(map[string]any)
			require.Equal(t, "timed out", components["database"].(map[string]any)["error"])
			require.Equal(t, "ok", components["cache"].(map[string]any)["status"])
		})
	}
}

func TestPanickingCheck(t *testing.T) {
	t.Parallel()

	cfg := health.Config{
		Database: health.Check{Name: "database", Run: func(context.Context) (map[string]any, error) {
			panic("driver bug: postgres://user:secret@db")
		}},
		Cache: cacheCheck(cache.NewMemory(0)),
	}
	status, body := get(t, cfg, "/health/db/")
	require.Equal(t, http.StatusServiceUnavailable, status)
	require.Equal(t, "check panicked", body["error"])

	status, body = get(t, cfg, "/health/detailed/")
	require.Equal(t, http.StatusServiceUnavailable, status)
	require.Equal(t, []any{"database"}, body["failing"])
	require.NotContains(t, body["components"].(map[string]any)["database"], "secret")
}
