package cache

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testRedisURL is the Redis the tests use. CI provides it and `make services`
// starts it locally; the tests fail rather than skip without it, so a missing
// Redis can never pass as green.
const testRedisURL = LocalRedisURL

// requireRedis fails the test with a clear message when Redis does not answer.
func requireRedis(t *testing.T) {
	t.Helper()
	r, err := NewRedis(testRedisURL)
	require.NoError(t, err)
	defer func() { _ = r.Close() }()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	require.NoError(t, r.Ping(ctx),
		"the cache tests need Redis at %s (run `make services`); they fail instead of skipping so CI cannot pass without it", testRedisURL)
}

// newTestRedis returns a Redis store closed when the test ends.
func newTestRedis(t *testing.T) *Redis {
	t.Helper()
	requireRedis(t)
	r, err := NewRedis(testRedisURL)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.Close()) })
	return r
}

func TestNewRedis(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		url     string
		wantErr bool
	}{
		{"AcceptsRedisURL", "redis://127.0.0.1:6379/0", false},
		{"AcceptsRedisURLWithPassword", "redis://:pw@127.0.0.1:6379/1", false},
		{"AcceptsTLSURL", "rediss://cache.internal:6380/0", false},
		{"AcceptsUnixSocket", "unix:///var/run/redis.sock", false},
		{"RefusesHTTPURL", "http://127.0.0.1:6379", true},
		{"RefusesBadDatabaseNumber", "redis://127.0.0.1:6379/notanumber", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			r, err := NewRedis(tt.url)
			if tt.wantErr {
				require.Error(t, err)
				require.Nil(t, r)
				return
			}
			require.NoError(t, err)
			require.NoError(t, r.Close())
		})
	}
}

func TestRedis(t *testing.T) {
	t.Parallel()

	t.Run("AllowKeepsCountersApartFromValues", func(t *testing.T) {
		t.Parallel()
		r := newTestRedis(t)
		tenant := testTenant(t)
		cleanupTenant(t, r, tenant)
		k := Key(tenant, "login")

		_, err := r.Allow(t.Context(), k, 5, time.Minute)
		require.NoError(t, err)

		n, err := r.Client().Get(t.Context(), "rl:"+k).Int()
		require.NoError(t, err)
		require.Equal(t, 1, n, "the counter lives under rl:<key>")
		ttl, err := r.Client().PTTL(t.Context(), "rl:"+k).Result()
		require.NoError(t, err)
		require.Positive(t, ttl)
		require.LessOrEqual(t, ttl, time.Minute)
	})

	t.Run("AllowRestoresMissingExpiry", func(t *testing.T) {
		t.Parallel()
		r := newTestRedis(t)
		tenant := testTenant(t)
		cleanupTenant(t, r, tenant)
		k := Key(tenant, "login")

		// A counter left without expiry (a crash between INCR and PEXPIRE in
		// an older version, or a manual SET) must not lock the key forever.
		require.NoError(t, r.Client().Set(t.Context(), "rl:"+k, 9, 0).Err())

		d, err := r.Allow(t.Context(), k, 5, time.Minute)
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.Equal(t, 10, d.Count)
		require.Positive(t, d.RetryAfter)
		require.LessOrEqual(t, d.RetryAfter, time.Minute)

		ttl, err := r.Client().PTTL(t.Context(), "rl:"+k).Result()
		require.NoError(t, err)
		require.Positive(t, ttl, "the counter expires again")
	})

	t.Run("UnreachableServerReturnsErrors", func(t *testing.T) {
		t.Parallel()
		r, err := NewRedis("redis://127.0.0.1:1/0")
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, r.Close()) })

		// Each call retries its dial for a while, so the calls run side by side.
		ops := []struct {
			name string
			call func(t *testing.T, ctx context.Context) error
		}{
			{"GetIsAnErrorNotAMiss", func(t *testing.T, ctx context.Context) error {
				_, ok, err := r.Get(ctx, "p:k")
				require.False(t, ok)
				return err
			}},
			{"Set", func(_ *testing.T, ctx context.Context) error { return r.Set(ctx, "p:k", []byte("v"), 0) }},
			{"Delete", func(_ *testing.T, ctx context.Context) error { return r.Delete(ctx, "p:k") }},
			{"AllowIsAnErrorAndNotAllowed", func(t *testing.T, ctx context.Context) error {
				d, err := r.Allow(ctx, "p:k", 5, time.Minute)
				require.False(t, d.Allowed, "the caller decides how to fail; the zero Decision does not allow")
				return err
			}},
			{"Ping", func(_ *testing.T, ctx context.Context) error { return r.Ping(ctx) }},
		}
		for _, op := range ops {
			t.Run(op.name, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				defer cancel()
				require.Error(t, op.call(t, ctx))
			})
		}
	})
}
