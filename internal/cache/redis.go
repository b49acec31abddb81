package cache

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the Store backed by a Redis server, shared by every replica.
type Redis struct {
	rdb *redis.Client
}

// NewRedis connects to the Redis at url (redis://, rediss:// or unix://).
// It does not ping: a Redis that is down at start shows in /health/cache/.
func NewRedis(url string) (*Redis, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	opts.DialTimeout = 2 * time.Second
	// One retry: a cache that is down should cost little per call, not seconds.
	opts.MaxRetries = 1
	opts.ReadTimeout = time.Second
	opts.WriteTimeout = time.Second
	// Small buffers: the values are small (tenant resolutions, counters,
	// persisted queries); go-redis's defaults (32 KiB per connection and
	// direction, 128 KiB for pipelines) were a tenth of the live heap.
	opts.ReadBufferSize, opts.WriteBufferSize = 4<<10, 4<<10
	opts.PipelineReadBufferSize, opts.PipelineWriteBufferSize = 16<<10, 16<<10
	return &Redis{rdb: redis.NewClient(opts)}, nil
}

// Client exposes the go-redis client (pub/sub, scripts of other packages).
func (r *Redis) Client() *redis.Client { return r.rdb }

// Get implements Store.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if key == "" {
		return nil, false, ErrBadKey
	}
	b, err := r.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("redis get: %w", err)
	}
	return b, true, nil
}

// Set implements Store.
func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if key == "" {
		return ErrBadKey
	}
	if err := r.rdb.Set(ctx, key, value, ttl).Err(); err != nil {
		return fmt.Errorf("redis set: %w", err)
	}
	return nil
}

// Delete implements Store.
func (r *Redis) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	if err := r.rdb.Del(ctx, keys...).Err(); err != nil {
		return fmt.Errorf("redis del: %w", err)
	}
	return nil
}

// allowScript increments the window counter and starts its expiry on the
// first hit, atomically; it returns the count and the milliseconds left.
var allowScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`)

// Allow implements Store.
func (r *Redis) Allow(ctx context.Context, key string, limit int, window time.Duration) (Decision, error) {
	if key == "" {
		return Decision{}, ErrBadKey
	}
	res, err := allowScript.Run(ctx, r.rdb, []string{"rl:" + key}, window.Milliseconds()).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("redis rate limit: %w", err)
	}
	return decide(int(res[0]), limit, time.Duration(res[1])*time.Millisecond), nil
}

// Ping implements Store.
func (r *Redis) Ping(ctx context.Context) error { return r.rdb.Ping(ctx).Err() }

// Backend implements Store.
func (r *Redis) Backend() string { return "redis" }

// Close implements Store.
func (r *Redis) Close() error { return r.rdb.Close() }

// LocalRedisURL is where Redis is looked for when REDIS_URL is unset in the
// local and test profiles.
const LocalRedisURL = "redis://127.0.0.1:6379/0"

// Open returns the Store to use: Redis at url when url is set; else, when
// probeLocal is true and a Redis answers PING at LocalRedisURL within
// 300 ms, that one; else an in-process Memory store.
func Open(ctx context.Context, url string, probeLocal bool) (Store, error) {
	if url != "" {
		return NewRedis(url)
	}
	if probeLocal {
		d := net.Dialer{Timeout: 300 * time.Millisecond}
		if c, err := d.DialContext(ctx, "tcp", "127.0.0.1:6379"); err == nil {
			_ = c.Close()
			r, err := NewRedis(LocalRedisURL)
			if err != nil {
				return nil, err
			}
			pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			defer cancel()
			if r.Ping(pctx) == nil {
				return r, nil
			}
			_ = r.Close()
		}
	}
	return NewMemory(0), nil
}
