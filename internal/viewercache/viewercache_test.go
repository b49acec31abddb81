package viewercache

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newLive(t *testing.T, cfg Config) (*Cache, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	cfg.Now = clock.Now
	c := New(cfg)
	c.SetLive(true)
	return c, clock
}

func viewer(user uuid.UUID, roles ...string) *tenancy.Viewer {
	return &tenancy.Viewer{UserID: user, MemberID: uuid.New(), Roles: roles,
		Permissions: rbac.NewSet([]rbac.Permission{rbac.ProjectsRead})}
}

func TestCacheAnswersUntilAnInvalidationCoversTheEntry(t *testing.T) {
	t.Parallel()
	user, other := uuid.New(), uuid.New()
	k := Key{Schema: "tenant_acme", User: user, Session: uuid.New()}
	kOtherTenant := Key{Schema: "tenant_beta", User: user, Session: k.Session}
	kOtherUser := Key{Schema: "tenant_acme", User: other, Session: uuid.New()}

	for name, invalidate := range map[string]func(c *Cache){
		"tenant": func(c *Cache) { c.InvalidateTenant("tenant_acme") },
		"user":   func(c *Cache) { c.InvalidateUser(user) },
		"all":    func(c *Cache) { c.InvalidateAll() },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, _ := newLive(t, Config{})
			for _, key := range []Key{k, kOtherTenant, kOtherUser} {
				c.Put(key, c.Begin(), viewer(key.User, "owner"))
			}
			got, ok := c.Get(k)
			require.True(t, ok)
			require.Equal(t, []string{"owner"}, got.Roles)

			invalidate(c)
			_, ok = c.Get(k)
			require.False(t, ok, "the entry is gone after the invalidation")
			_, okTenant := c.Get(kOtherTenant)
			_, okUser := c.Get(kOtherUser)
			switch name {
			case "tenant":
				require.True(t, okTenant, "another tenant's entry of the same user stays")
				require.False(t, okUser, "every viewer of the tenant goes")
			case "user":
				require.False(t, okTenant, "the user goes in every tenant")
				require.True(t, okUser, "another user stays")
			case "all":
				require.False(t, okTenant)
				require.False(t, okUser)
			}

			c.Put(k, c.Begin(), viewer(user, "viewer"))
			got, ok = c.Get(k)
			require.True(t, ok, "read again after the invalidation, it is cached again")
			require.Equal(t, []string{"viewer"}, got.Roles)
		})
	}
}

func TestChangeWhileAViewerIsReadIsNotCachedOver(t *testing.T) {
	t.Parallel()
	user := uuid.New()
	k := Key{Schema: "tenant_acme", User: user, Session: uuid.New()}
	for name, invalidate := range map[string]func(c *Cache){
		"tenant": func(c *Cache) { c.InvalidateTenant("tenant_acme") },
		"user":   func(c *Cache) { c.InvalidateUser(user) },
		"all":    func(c *Cache) { c.InvalidateAll() },
		"feed reconnected": func(c *Cache) {
			c.SetLive(false)
			c.SetLive(true)
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, _ := newLive(t, Config{})
			token := c.Begin() // the rows are about to be read …
			invalidate(c)      // … a change commits meanwhile …
			c.Put(k, token, viewer(user, "owner"))
			_, ok := c.Get(k)
			require.False(t, ok, "the answer read before the change must not be served")
		})
	}
}

func TestNothingIsServedWhileTheFeedIsDown(t *testing.T) {
	t.Parallel()
	c, _ := newLive(t, Config{})
	k := Key{Schema: "tenant_acme", User: uuid.New(), Session: uuid.New()}
	c.Put(k, c.Begin(), viewer(k.User))
	c.SetLive(false)
	_, ok := c.Get(k)
	require.False(t, ok)
	c.Put(k, c.Begin(), viewer(k.User))
	require.Zero(t, c.Len(), "nothing is stored while down")
	c.SetLive(true)
	_, ok = c.Get(k)
	require.False(t, ok, "what was cached before the outage is not served after it")

	var nilCache *Cache
	require.False(t, nilCache.Live())
	nilCache.Put(k, nilCache.Begin(), viewer(k.User))
	_, ok = nilCache.Get(k)
	require.False(t, ok, "a nil cache caches nothing")
	nilCache.InvalidateTenant("x")
	nilCache.InvalidateUser(k.User)
	nilCache.InvalidateAll()
}

func TestEntriesExpireAndTheCacheIsBounded(t *testing.T) {
	t.Parallel()
	c, clock := newLive(t, Config{TTL: time.Second, MaxEntries: 3})
	k := Key{Schema: "tenant_acme", User: uuid.New(), Session: uuid.New()}
	c.Put(k, c.Begin(), viewer(k.User))
	clock.Advance(999 * time.Millisecond)
	_, ok := c.Get(k)
	require.True(t, ok)
	clock.Advance(time.Millisecond)
	_, ok = c.Get(k)
	require.False(t, ok, "expired at the TTL")

	for range 10 {
		key := Key{Schema: "tenant_acme", User: uuid.New(), Session: uuid.New()}
		c.Put(key, c.Begin(), viewer(key.User))
		require.LessOrEqual(t, c.Len(), 3)
	}
}

func TestRefreshingAnEntryOfAFullCacheKeepsTheOthers(t *testing.T) {
	t.Parallel()
	c, clock := newLive(t, Config{TTL: time.Second, MaxEntries: 3})
	keys := make([]Key, 3)
	for i := range keys {
		keys[i] = Key{Schema: "tenant_acme", User: uuid.New(), Session: uuid.New()}
		c.Put(keys[i], c.Begin(), viewer(keys[i].User))
	}
	clock.Advance(500 * time.Millisecond)
	c.Put(keys[0], c.Begin(), viewer(keys[0].User)) // reloaded, as after it expired
	require.Equal(t, 3, c.Len())
	for _, k := range keys {
		_, ok := c.Get(k)
		require.True(t, ok, "a refresh of one entry of a full cache must not empty it")
	}
	extra := Key{Schema: "tenant_acme", User: uuid.New(), Session: uuid.New()}
	c.Put(extra, c.Begin(), viewer(extra.User))
	require.Equal(t, 1, c.Len(), "a new key of a full cache empties it")
}

func TestOldInvalidationStampsArePrunedWithoutReviving(t *testing.T) {
	t.Parallel()
	c, clock := newLive(t, Config{TTL: time.Second})
	k := Key{Schema: "tenant_acme", User: uuid.New(), Session: uuid.New()}
	c.Put(k, c.Begin(), viewer(k.User))
	c.InvalidateTenant("tenant_acme")
	clock.Advance(2 * time.Second)
	for range 2000 { // enough stamps to trigger pruning
		c.InvalidateUser(uuid.New())
	}
	c.mu.RLock()
	_, kept := c.tenants["tenant_acme"]
	c.mu.RUnlock()
	require.False(t, kept, "stamps older than the TTL are pruned")
	_, ok := c.Get(k)
	require.False(t, ok, "the invalidated entry stays invalid (it has expired)")
}

func TestGetReturnsACopy(t *testing.T) {
	t.Parallel()
	c, _ := newLive(t, Config{})
	k := Key{User: uuid.New(), Session: uuid.New()}
	c.Put(k, c.Begin(), viewer(k.User))
	v, ok := c.Get(k)
	require.True(t, ok)
	v.ImpersonatorID = uuid.New()
	again, ok := c.Get(k)
	require.True(t, ok)
	require.Equal(t, uuid.Nil, again.ImpersonatorID, "a caller's change does not reach the cache")
}

func TestNotificationPayloads(t *testing.T) {
	t.Parallel()
	user := uuid.New()
	kTenant := Key{Schema: "tenant_acme", User: uuid.New(), Session: uuid.New()}
	kUser := Key{Schema: "tenant_beta", User: user, Session: uuid.New()}
	for payload, gone := range map[string][]Key{
		"t:tenant_acme":      {kTenant},
		"u:" + user.String(): {kUser},
		"u:not-a-uuid":       {kTenant, kUser},
		"t:":                 {kTenant, kUser},
		"garbage":            {kTenant, kUser},
		// Another process checking its own feed: nothing to drop.
		"probe:" + uuid.NewString(): nil,
	} {
		c, _ := newLive(t, Config{})
		c.Put(kTenant, c.Begin(), viewer(kTenant.User))
		c.Put(kUser, c.Begin(), viewer(kUser.User))
		c.apply(payload)
		for _, k := range []Key{kTenant, kUser} {
			_, ok := c.Get(k)
			require.Equal(t, !containsKey(gone, k), ok, "payload %q, key %v", payload, k)
		}
	}
}

func containsKey(keys []Key, k Key) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

func TestCollectorCountsLookupsWhileLive(t *testing.T) {
	t.Parallel()
	c := New(Config{})
	live := func(v string) *strings.Reader {
		return strings.NewReader("# HELP clientiq_viewer_cache_live 1 while the viewer cache answers (its invalidation feed is up), else 0.\n" +
			"# TYPE clientiq_viewer_cache_live gauge\nclientiq_viewer_cache_live " + v + "\n")
	}
	k := Key{Schema: "tenant_acme", User: uuid.New(), Session: uuid.New()}
	c.Get(k) // not live: not a lookup
	require.NoError(t, testutil.CollectAndCompare(c.Collector(), live("0"), "clientiq_viewer_cache_live"))
	c.SetLive(true)
	c.Get(k)
	c.Put(k, c.Begin(), viewer(k.User))
	c.Get(k)
	c.Get(k)
	require.NoError(t, testutil.CollectAndCompare(c.Collector(), live("1"), "clientiq_viewer_cache_live"))
	want := `
# HELP clientiq_viewer_cache_lookups_total Viewer cache lookups while it answered, by result (hit: the viewer was not read from the database).
# TYPE clientiq_viewer_cache_lookups_total counter
clientiq_viewer_cache_lookups_total{result="hit"} 2
clientiq_viewer_cache_lookups_total{result="miss"} 1
`
	require.NoError(t, testutil.CollectAndCompare(c.Collector(), strings.NewReader(want), "clientiq_viewer_cache_lookups_total"))
}
