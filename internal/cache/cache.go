// Package cache owns ClientIQ's shared fast storage: a key/value cache and a
// fixed-window rate limiter, backed by Redis when one is configured or
// answers locally, and by process memory otherwise. Keys are built with Key,
// which puts the tenant (or the platform) first so tenants never share one.
package cache

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Store is the cache and limiter every component uses.
type Store interface {
	// Get returns the value under key, and false when there is none.
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// Set stores value under key for ttl (0: no expiry).
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes keys; missing keys are not an error.
	Delete(ctx context.Context, keys ...string) error
	// Allow counts one hit against key in a fixed window and says whether
	// it is within limit.
	Allow(ctx context.Context, key string, limit int, window time.Duration) (Decision, error)
	// Ping checks the backend.
	Ping(ctx context.Context) error
	// Backend names the backend: "redis" or "memory".
	Backend() string
	// Close releases the backend.
	Close() error
}

// Decision is a rate limiter's answer.
type Decision struct {
	Allowed bool
	// Count is the number of hits in the current window, this one included.
	Count int
	// Remaining hits in the window.
	Remaining int
	// RetryAfter is how long until the window resets.
	RetryAfter time.Duration
}

// ErrBadKey is returned for an empty key.
var ErrBadKey = errors.New("cache: empty key")

// Key builds a namespaced key: "t:<tenant>:part:part" for a tenant, or
// "p:part:part" for the platform (tenant ""). Every key in ClientIQ is built
// here, so no two tenants can collide and a tenant's keys can be found by prefix.
// A ':' (or '%') in the tenant is percent-escaped, so tenant "a:b" can never
// reach tenant "a"'s keys.
func Key(tenant string, parts ...string) string {
	var b strings.Builder
	if tenant == "" {
		b.WriteString("p")
	} else {
		b.WriteString("t:")
		b.WriteString(tenantEscaper.Replace(tenant))
	}
	for _, p := range parts {
		b.WriteByte(':')
		b.WriteString(p)
	}
	return b.String()
}

// tenantEscaper keeps the separator out of the tenant segment of a key.
var tenantEscaper = strings.NewReplacer("%", "%25", ":", "%3A")

func decide(count, limit int, ttl time.Duration) Decision {
	rem := limit - count
	if rem < 0 {
		rem = 0
	}
	return Decision{Allowed: count <= limit, Count: count, Remaining: rem, RetryAfter: ttl}
}
