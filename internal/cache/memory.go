package cache

import (
	"context"
	"sync"
	"time"
)

// Memory is the in-process Store used when there is no Redis. It is shared
// by one process only: with several replicas, configure Redis.
type Memory struct {
	mu      sync.Mutex
	items   map[string]memItem
	maxKeys int
	now     func() time.Time
}

type memItem struct {
	value   []byte
	count   int
	expires time.Time // zero: never
}

// NewMemory returns an in-process store holding at most maxKeys keys
// (default 100,000); when full, expired keys are swept and then the store
// refuses to grow, so memory stays bounded.
func NewMemory(maxKeys int) *Memory {
	if maxKeys <= 0 {
		maxKeys = 100_000
	}
	return &Memory{items: map[string]memItem{}, maxKeys: maxKeys, now: time.Now}
}

func (m *Memory) live(key string, now time.Time) (memItem, bool) {
	it, ok := m.items[key]
	if !ok {
		return memItem{}, false
	}
	if !it.expires.IsZero() && !now.Before(it.expires) {
		delete(m.items, key)
		return memItem{}, false
	}
	return it, true
}

// room makes space for one new key, sweeping expired ones when full.
func (m *Memory) room(now time.Time) bool {
	if len(m.items) < m.maxKeys {
		return true
	}
	for k, it := range m.items {
		if !it.expires.IsZero() && !now.Before(it.expires) {
			delete(m.items, k)
		}
	}
	return len(m.items) < m.maxKeys
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, key string) ([]byte, bool, error) {
	if key == "" {
		return nil, false, ErrBadKey
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.live(key, m.now())
	if !ok || it.value == nil {
		return nil, false, nil
	}
	return append([]byte(nil), it.value...), true, nil
}

// Set implements Store.
func (m *Memory) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if key == "" {
		return ErrBadKey
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if _, exists := m.live(key, now); !exists && !m.room(now) {
		return nil // full: a cache may drop writes
	}
	it := memItem{value: append([]byte{}, value...)}
	if ttl > 0 {
		it.expires = now.Add(ttl)
	}
	m.items[key] = it
	return nil
}

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.items, k)
	}
	return nil
}

// Allow implements Store.
func (m *Memory) Allow(_ context.Context, key string, limit int, window time.Duration) (Decision, error) {
	if key == "" {
		return Decision{}, ErrBadKey
	}
	// Counters live apart from cached values, as in Redis: a value stored
	// under the same key must neither be counted nor give the window an
	// expiry it does not have.
	key = "rl:" + key
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	it, ok := m.live(key, now)
	if !ok {
		if !m.room(now) {
			// Full of live limiter keys: fail closed rather than unlimited.
			return Decision{Allowed: false, RetryAfter: window}, nil
		}
		it = memItem{expires: now.Add(window)}
	}
	it.count++
	m.items[key] = it
	return decide(it.count, limit, it.expires.Sub(now)), nil
}

// Ping implements Store.
func (m *Memory) Ping(context.Context) error { return nil }

// Backend implements Store.
func (m *Memory) Backend() string { return "memory" }

// Close implements Store.
func (m *Memory) Close() error { return nil }
