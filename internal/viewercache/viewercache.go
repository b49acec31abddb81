// Package viewercache remembers who a token's holder is in a tenant (the
// user, the session's revocation, the membership, roles and permissions)
// between requests, so that an authenticated request costs no database
// round trip of its own, while a demotion, a removal, a disabled account
// or a revoked session still counts on the very next request.
//
// Freshness does not rest on a time-to-live. Every change that can narrow
// a viewer's rights invalidates what was cached about it:
//   - in this process, the services that make such changes call
//     InvalidateTenant or InvalidateUser once their transaction commits;
//   - in every process, triggers on the tables the viewer is read from
//     (members, member_roles and roles in each tenant schema; users and
//     refresh_tokens in public) send a PostgreSQL notification on
//     Channel at commit, which Listen turns into the same invalidations.
//     This also covers writes from other replicas, jobs and operators'
//     SQL.
//
// The cache answers only while the notification feed is connected (Live):
// while it is down nothing is served from the cache, and when it comes
// back everything cached before is dropped, since notifications may have
// been missed in between. The TTL only bounds memory and is a last line of
// defence.
//
// An entry is valid when no invalidation of its tenant, its user or
// everything happened since the moment just before its rows were read
// (Begin): a change that commits while a viewer is being loaded cannot
// leave the older answer cached.
package viewercache

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/clientiq/clientiq/internal/tenancy"
)

// Channel is the PostgreSQL notification channel of the triggers. A
// payload "t:<schema>" invalidates a tenant, "u:<user id>" a user; any
// other payload invalidates everything.
const Channel = "clientiq_authz"

// Key names one cached viewer: a tenant schema ("" on the platform), a
// user and the session (refresh-token family) of the access token.
type Key struct {
	Schema  string
	User    uuid.UUID
	Session uuid.UUID
}

// Token is taken by Begin before a viewer's rows are read and handed to
// Put with the result.
type Token uint64

type entry struct {
	v       tenancy.Viewer
	token   Token
	expires time.Time
}

// Cache is safe for concurrent use. The zero value is not usable; see New.
type Cache struct {
	ttl          time.Duration
	max          int
	now          func() time.Time
	probeTimeout time.Duration

	live atomic.Bool
	// hits and misses count Get's answers while live (see Collector).
	hits, misses atomic.Uint64
	// clock counts invalidations; Begin reads it.
	clock atomic.Uint64

	mu      sync.RWMutex
	entries map[Key]entry
	// all is the clock value of the last invalidation of everything;
	// tenants and users hold the last invalidation of each (pruned once
	// older than the TTL, when every entry it could reject has expired).
	all     Token
	tenants map[string]stamp
	users   map[uuid.UUID]stamp
	pruned  time.Time
}

type stamp struct {
	token Token
	at    time.Time
}

// Config configures a Cache.
type Config struct {
	// TTL bounds an entry's life. Default 5 minutes.
	TTL time.Duration
	// MaxEntries bounds the cache; when full, a new key empties it (a
	// refreshed one replaces its entry). Default 10,000.
	MaxEntries int
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
	// ProbeTimeout is how long Listen's connection may take to hear its
	// probe. Default 5s.
	ProbeTimeout time.Duration
}

// New returns an empty cache, not live until SetLive(true).
func New(cfg Config) *Cache {
	if cfg.TTL <= 0 {
		cfg.TTL = 5 * time.Minute
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 10_000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ProbeTimeout <= 0 {
		cfg.ProbeTimeout = 5 * time.Second
	}
	return &Cache{ttl: cfg.TTL, max: cfg.MaxEntries, now: cfg.Now, probeTimeout: cfg.ProbeTimeout,
		entries: map[Key]entry{}, tenants: map[string]stamp{}, users: map[uuid.UUID]stamp{}}
}

// Live reports whether the cache answers (its invalidation feed is up).
func (c *Cache) Live() bool { return c != nil && c.live.Load() }

// SetLive turns answering on or off. Either way everything cached so far
// is dropped: going down, because invalidations will be missed; coming
// up, because they may have been.
func (c *Cache) SetLive(live bool) {
	if c == nil {
		return
	}
	c.InvalidateAll()
	c.live.Store(live)
}

// Begin returns the token to pass to Put for a viewer about to be read.
func (c *Cache) Begin() Token {
	if c == nil {
		return 0
	}
	return Token(c.clock.Load())
}

// Get returns a copy of the viewer cached under k, if it is still valid.
func (c *Cache) Get(k Key) (*tenancy.Viewer, bool) {
	if !c.Live() {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.entries[k]
	valid := ok && c.validLocked(k, e)
	c.mu.RUnlock()
	if !valid {
		c.misses.Add(1)
		return nil, false
	}
	c.hits.Add(1)
	v := e.v
	return &v, true
}

func (c *Cache) validLocked(k Key, e entry) bool {
	if e.token < c.all || !c.now().Before(e.expires) {
		return false
	}
	if s, ok := c.tenants[k.Schema]; ok && e.token < s.token {
		return false
	}
	if s, ok := c.users[k.User]; ok && e.token < s.token {
		return false
	}
	return true
}

// Put caches a copy of v under k, read after Begin returned t. The
// viewer's slices and sets are shared, not copied: they must not be
// changed afterwards.
func (c *Cache) Put(k Key, t Token, v *tenancy.Viewer) {
	if !c.Live() || v == nil {
		return
	}
	e := entry{v: *v, token: t, expires: c.now().Add(c.ttl)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.validLocked(k, e) {
		return // invalidated while it was read
	}
	if _, refresh := c.entries[k]; !refresh && len(c.entries) >= c.max {
		clear(c.entries) // full: a new key empties it (a refreshed one replaces its entry)
	}
	c.entries[k] = e
}

// tick advances the clock: entries read before it become invalid when
// their tenant, user or everything is stamped with the result.
func (c *Cache) tick() Token { return Token(c.clock.Add(1)) }

// InvalidateTenant drops what is cached about every viewer of the tenant
// schema.
func (c *Cache) InvalidateTenant(schema string) {
	if c == nil {
		return
	}
	now := c.now()
	c.mu.Lock()
	c.tenants[schema] = stamp{token: c.tick(), at: now}
	c.pruneLocked(now)
	c.mu.Unlock()
}

// InvalidateUser drops what is cached about a user, in every tenant.
func (c *Cache) InvalidateUser(id uuid.UUID) {
	if c == nil {
		return
	}
	now := c.now()
	c.mu.Lock()
	c.users[id] = stamp{token: c.tick(), at: now}
	c.pruneLocked(now)
	c.mu.Unlock()
}

// InvalidateAll drops everything cached.
func (c *Cache) InvalidateAll() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.all = c.tick()
	clear(c.entries)
	clear(c.tenants)
	clear(c.users)
	c.mu.Unlock()
}

// pruneLocked forgets stamps older than the TTL once there are many (at
// most once per TTL): any entry they could reject has expired by now.
func (c *Cache) pruneLocked(now time.Time) {
	if len(c.tenants)+len(c.users) < 1024 || now.Sub(c.pruned) < c.ttl {
		return
	}
	c.pruned = now
	for k, s := range c.tenants {
		if now.Sub(s.at) > c.ttl {
			delete(c.tenants, k)
		}
	}
	for k, s := range c.users {
		if now.Sub(s.at) > c.ttl {
			delete(c.users, k)
		}
	}
}

// Len is the number of entries held (valid or not).
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
