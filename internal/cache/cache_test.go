package cache

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// harness is one backend under the shared Store suite.
type harness struct {
	name string
	// open returns a fresh store for one test.
	open func(t *testing.T) fixture
	// ttl is a short expiry that still leaves the test plenty of time to act
	// before it passes.
	ttl time.Duration
}

// fixture is what one test of the suite works with.
type fixture struct {
	store Store
	// tenant is a name no other test uses, so keys built with Key(tenant, …)
	// never collide across parallel tests and packages; keys under it are
	// deleted when the test ends.
	tenant string
	// advance moves the store's clock forward by d: a fake clock for Memory,
	// real time for Redis.
	advance func(d time.Duration)
}

func harnesses() []harness {
	return []harness{
		{
			name: "memory",
			open: func(t *testing.T) fixture {
				t.Helper()
				m, clock := newTestMemory(0)
				return fixture{store: m, tenant: testTenant(t), advance: clock.Advance}
			},
			ttl: 50 * time.Millisecond,
		},
		{
			name: "redis",
			open: func(t *testing.T) fixture {
				t.Helper()
				r := newTestRedis(t)
				tenant := testTenant(t)
				cleanupTenant(t, r, tenant)
				return fixture{store: r, tenant: tenant, advance: func(d time.Duration) { time.Sleep(d) }}
			},
			ttl: 400 * time.Millisecond,
		},
	}
}

// testTenant returns a tenant name unique to this run.
func testTenant(t *testing.T) string {
	t.Helper()
	return "test" + rand.Text()[:16]
}

// TestStore runs the behaviour every Store must share against both backends,
// so the in-process fallback cannot drift from Redis.
func TestStore(t *testing.T) {
	t.Parallel()

	for _, h := range harnesses() {
		t.Run(h.name, func(t *testing.T) {
			t.Parallel()

			if h.name == "redis" {
				requireRedis(t)
			}

			t.Run("GetMissingKeyReportsNotFound", func(t *testing.T) {
				t.Parallel()
				f := h.open(t)
				s, tenant := f.store, f.tenant

				v, ok, err := s.Get(t.Context(), Key(tenant, "missing"))
				require.NoError(t, err)
				require.False(t, ok)
				require.Nil(t, v)
			})

			t.Run("SetThenGetReturnsValue", func(t *testing.T) {
				t.Parallel()
				f := h.open(t)
				s, tenant := f.store, f.tenant
				k := Key(tenant, "greeting")

				require.NoError(t, s.Set(t.Context(), k, []byte("hello"), 0))
				v, ok, err := s.Get(t.Context(), k)
				require.NoError(t, err)
				require.True(t, ok)
				require.Equal(t, []byte("hello"), v)
			})

			t.Run("SetEmptyValueIsStillFound", func(t *testing.T) {
				t.Parallel()
				f := h.open(t)
				s, tenant := f.store, f.tenant
				k := Key(tenant, "empty")

				require.NoError(t, s.Set(t.Context(), k, []byte{}, 0))
				v, ok, err := s.Get(t.Context(), k)
				require.NoError(t, err)
				require.True(t, ok)
				require.Empty(t, v)
			})

			t.Run("SetOverwritesValueAndClearsTTL", func(t *testing.T) {
				t.Parallel()
				f := h.open(t)
				s, tenant := f.store, f.tenant
				k := Key(tenant, "overwrite")

				require.NoError(t, s.Set(t.Context(), k, []byte("old"), h.ttl))
				require.NoError(t, s.Set(t.Context(), k, []byte("new"), 0))
				f.advance(h.ttl + h.ttl/2)

				v, ok, err := s.Get(t.Context(), k)
				require.NoError(t, err)
				require.True(t, ok, "a Set without TTL replaces the earlier expiry")
				require.Equal(t, []byte("new"), v)
			})

			t.Run("SetWithTTLExpires", func(t *testing.T) {
				t.Parallel()
				f := h.open(t)
				s, tenant := f.store, f.tenant
				k := Key(tenant, "short-lived")

				require.NoError(t, s.Set(t.Context(), k, []byte("v"), h.ttl))
				_, ok, err := s.Get(t.Context(), k)
				require.NoError(t, err)
				require.True(t, ok, "present before the TTL passes")

				f.advance(h.ttl + h.ttl/2)
				v, ok, err := s.Get(t.Context(), k)
				require.NoError(t, err)
				require.False(t, ok, "gone after the TTL passes")
				require.Nil(t, v)
			})

			t.Run("DeleteRemovesKeys", func(t *testing.T) {
				t.Parallel()
				f := h.open(t)
				s, tenant := f.store, f.tenant
				a, b, keep := Key(tenant, "a"), Key(tenant, "b"), Key(tenant, "keep")
				for _, k := range []string{a, b, keep} {
					require.NoError(t, s.Set(t.Context(), k, []byte(k), 0))
				}

				require.NoError(t, s.Delete(t.Context(), a, b))
				for _, k := range []string{a, b} {
					_, ok, err := s.Get(t.Context(), k)
					require.NoError(t, err)
					require.False(t, ok, "%s was deleted", k)
				}
				_, ok, err := s.Get(t.Context(), keep)
				require.NoError(t, err)
				require.True(t, ok, "keys not named are kept")
			})

			t.Run("DeleteMissingOrNoKeysIsNotAnError", func(t *testing.T) {
				t.Parallel()
				f := h.open(t)
				s, tenant := f.store, f.tenant

				require.NoError(t, s.Delete(t.Context(), Key(tenant, "never-set")))
				require.NoError(t, s.Delete(t.Context()))
			})

			t.Run("EmptyKeyIsRefused", func(t *testing.T) {
				t.Parallel()
				s := h.open(t).store

				_, _, err := s.Get(t.Context(), "")
				require.ErrorIs(t, err, ErrBadKey)
				require.ErrorIs(t, s.Set(t.Context(), "", []byte("v"), 0), ErrBadKey)
				_, err = s.Allow(t.Context(), "", 1, time.Minute)
				require.ErrorIs(t, err, ErrBadKey)
			})

			t.Run("AllowRefusesHitsOverLimitUntilWindowPasses", func(t *testing.T) {
				t.Parallel()
				f := h.open(t)
				s, tenant := f.store, f.tenant
				k := Key(tenant, "login", "alice")
				window := h.ttl

				for i := 1; i <= 3; i++ {
					d, err := s.Allow(t.Context(), k, 3, window)
					require.NoError(t, err)
					require.True(t, d.Allowed, "hit %d is within the limit", i)
					require.Equal(t, i, d.Count)
					require.Equal(t, 3-i, d.Remaining)
					require.Positive(t, d.RetryAfter)
					require.LessOrEqual(t, d.RetryAfter, window)
				}

				d, err := s.Allow(t.Context(), k, 3, window)
				require.NoError(t, err)
				require.False(t, d.Allowed, "the 4th hit is over the limit")
				require.Equal(t, 4, d.Count)
				require.Zero(t, d.Remaining)
				require.Positive(t, d.RetryAfter)
				require.LessOrEqual(t, d.RetryAfter, window)

				f.advance(window + window/2)
				d, err = s.Allow(t.Context(), k, 3, window)
				require.NoError(t, err)
				require.True(t, d.Allowed, "a new window starts after the old one passes")
				require.Equal(t, 1, d.Count)
				require.Equal(t, 2, d.Remaining)
			})

			t.Run("AllowCountsEachKeySeparately", func(t *testing.T) {
				t.Parallel()
				f := h.open(t)
				s, tenant := f.store, f.tenant

				d, err := s.Allow(t.Context(), Key(tenant, "login", "alice"), 1, time.Minute)
				require.NoError(t, err)
				require.True(t, d.Allowed)
				d, err = s.Allow(t.Context(), Key(tenant, "login", "bob"), 1, time.Minute)
				require.NoError(t, err)
				require.True(t, d.Allowed, "bob's limit is not spent by alice")
			})

			t.Run("AllowCountersDoNotTouchCachedValues", func(t *testing.T) {
				t.Parallel()
				f := h.open(t)
				s, tenant := f.store, f.tenant
				k := Key(tenant, "shared-name")

				require.NoError(t, s.Set(t.Context(), k, []byte("cached"), 0))
				d, err := s.Allow(t.Context(), k, 1, h.ttl)
				require.NoError(t, err)
				require.True(t, d.Allowed, "a cached value is not a hit count")
				require.Equal(t, 1, d.Count)
				require.Positive(t, d.RetryAfter)
				require.LessOrEqual(t, d.RetryAfter, h.ttl)

				v, ok, err := s.Get(t.Context(), k)
				require.NoError(t, err)
				require.True(t, ok)
				require.Equal(t, []byte("cached"), v)

				f.advance(h.ttl + h.ttl/2)
				d, err = s.Allow(t.Context(), k, 1, h.ttl)
				require.NoError(t, err)
				require.True(t, d.Allowed, "the window still resets when a value shares the key")
			})

			t.Run("ConcurrentAllowAdmitsExactlyLimit", func(t *testing.T) {
				t.Parallel()
				f := h.open(t)
				s, tenant := f.store, f.tenant
				k := Key(tenant, "burst")
				const hits, limit = 50, 10

				var (
					wg      sync.WaitGroup
					mu      sync.Mutex
					allowed int
					counts  = map[int]bool{}
					errs    []error
				)
				for range hits {
					wg.Go(func() {
						d, err := s.Allow(t.Context(), k, limit, time.Minute)
						mu.Lock()
						defer mu.Unlock()
						if err != nil {
							errs = append(errs, err)
							return
						}
						if d.Allowed {
							allowed++
						}
						counts[d.Count] = true
					})
				}
				wg.Wait()

				require.Empty(t, errs)
				require.Equal(t, limit, allowed)
				require.Len(t, counts, hits, "every hit got its own count: the increment is atomic")
				for i := 1; i <= hits; i++ {
					require.True(t, counts[i], "count %d missing", i)
				}
			})

			t.Run("TenantsDoNotShareKeys", func(t *testing.T) {
				t.Parallel()
				f := h.open(t)
				s, tenantA := f.store, f.tenant
				tenantB := testTenant(t)
				cleanupTenant(t, s, tenantB)

				require.NoError(t, s.Set(t.Context(), Key(tenantA, "plan"), []byte("pro"), 0))
				_, ok, err := s.Get(t.Context(), Key(tenantB, "plan"))
				require.NoError(t, err)
				require.False(t, ok, "tenant B cannot read tenant A's key")

				d, err := s.Allow(t.Context(), Key(tenantA, "api"), 1, time.Minute)
				require.NoError(t, err)
				require.True(t, d.Allowed)
				d, err = s.Allow(t.Context(), Key(tenantB, "api"), 1, time.Minute)
				require.NoError(t, err)
				require.True(t, d.Allowed, "tenant A's hits do not spend tenant B's limit")
			})

			t.Run("PingSucceeds", func(t *testing.T) {
				t.Parallel()
				s := h.open(t).store

				require.NoError(t, s.Ping(t.Context()))
				require.Equal(t, h.name, s.Backend())
			})
		})
	}
}

func TestKey(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		tenant string
		parts  []string
		want   string
	}{
		{"PlatformKeyStartsWithP", "", []string{"a", "b"}, "p:a:b"},
		{"PlatformKeyWithoutParts", "", nil, "p"},
		{"TenantKeyStartsWithTenant", "acme", []string{"x"}, "t:acme:x"},
		{"TenantKeyWithSeveralParts", "acme", []string{"session", "42"}, "t:acme:session:42"},
		{"TenantKeyWithoutParts", "acme", nil, "t:acme"},
		{"TenantNamedPIsNotThePlatform", "p", []string{"a"}, "t:p:a"},
		{"SeparatorInTenantIsEscaped", "acme:x", []string{"y"}, "t:acme%3Ax:y"},
		{"EscapeCharacterInTenantIsEscaped", "acme%3Ax", []string{"y"}, "t:acme%253Ax:y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, Key(tt.tenant, tt.parts...))
		})
	}
}

func TestKeyNeverCollidesAcrossTenants(t *testing.T) {
	t.Parallel()

	tenants := []string{"", "acme", "acme:x", "acme%3Ax", "acm", "p", "t", "t:acme", "x"}
	partSets := [][]string{nil, {"x"}, {"x", "y"}, {"y"}, {"acme", "x"}, {"t", "acme", "x"}, {"x:y"}, {""}}

	owner := map[string]string{}
	for _, tenant := range tenants {
		for _, parts := range partSets {
			k := Key(tenant, parts...)
			if prev, seen := owner[k]; seen {
				require.Equal(t, prev, tenant, "tenants %q and %q both own key %q", prev, tenant, k)
			}
			owner[k] = tenant
		}
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()

	t.Run("NoURLWithoutProbeIsMemory", func(t *testing.T) {
		t.Parallel()

		s, err := Open(t.Context(), "", false)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		require.Equal(t, "memory", s.Backend())
		require.IsType(t, &Memory{}, s)
		require.NoError(t, s.Ping(t.Context()))
	})

	t.Run("NoURLWithProbeFindsLocalRedis", func(t *testing.T) {
		t.Parallel()
		requireRedis(t)

		s, err := Open(t.Context(), "", true)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		require.Equal(t, "redis", s.Backend())
		require.NoError(t, s.Ping(t.Context()))
	})

	t.Run("URLGivesRedisEvenWhenUnreachable", func(t *testing.T) {
		t.Parallel()

		s, err := Open(t.Context(), "redis://127.0.0.1:1/0", false)
		require.NoError(t, err, "Open does not ping: a Redis down at start shows in the health check")
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		require.Equal(t, "redis", s.Backend())

		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		require.Error(t, s.Ping(ctx))
	})

	t.Run("MalformedURLIsAnError", func(t *testing.T) {
		t.Parallel()

		s, err := Open(t.Context(), "http://127.0.0.1:6379", false)
		require.Error(t, err)
		require.Nil(t, s)
	})
}

func TestDecide(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name         string
		count, limit int
		want         Decision
	}{
		{"FirstHit", 1, 3, Decision{Allowed: true, Count: 1, Remaining: 2, RetryAfter: time.Second}},
		{"LastAllowedHit", 3, 3, Decision{Allowed: true, Count: 3, Remaining: 0, RetryAfter: time.Second}},
		{"OverLimitNeverNegativeRemaining", 7, 3, Decision{Allowed: false, Count: 7, Remaining: 0, RetryAfter: time.Second}},
		{"ZeroLimitRefusesEverything", 1, 0, Decision{Allowed: false, Count: 1, Remaining: 0, RetryAfter: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, decide(tt.count, tt.limit, time.Second))
		})
	}
}

// cleanupTenant deletes every key under tenant from s when the test ends
// (Redis only: a Memory store dies with the test).
func cleanupTenant(t *testing.T, s Store, tenant string) {
	t.Helper()
	r, ok := s.(*Redis)
	if !ok {
		return
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, pattern := range []string{Key(tenant) + ":*", "rl:" + Key(tenant) + ":*"} {
			var keys []string
			iter := r.Client().Scan(ctx, 0, pattern, 1000).Iterator()
			for iter.Next(ctx) {
				keys = append(keys, iter.Val())
			}
			require.NoError(t, iter.Err(), fmt.Sprintf("scan keys %s", pattern))
			require.NoError(t, r.Delete(ctx, keys...))
		}
	})
}
