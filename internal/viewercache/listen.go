package viewercache

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Connect opens the dedicated connection Listen waits on (not one from the
// pool: it is held for as long as the process runs).
type Connect func(ctx context.Context) (*pgx.Conn, error)

// Probe sends payload on Channel the way the changes the cache must hear
// about are sent (through the application's pool, which may be a
// transaction pooler while Connect goes to PostgreSQL directly).
type Probe func(ctx context.Context, payload string) error

// probePrefix marks the payload of a Probe; every process hears every
// probe, and ignores the others'.
const probePrefix = "probe:"

// Listen keeps the cache's invalidation feed connected until ctx ends:
// it LISTENs on Channel and, when probe is set, sends a probe through it
// and marks the cache live only once its own connection has heard it
// (so a connection to another database, or one through a transaction
// pooler, never makes a cache that misses invalidations answer). It then
// applies every notification, and on any failure marks the cache not
// live and connects again after retry (default 1s).
func (c *Cache) Listen(ctx context.Context, connect Connect, probe Probe, retry time.Duration, logger *slog.Logger) {
	if retry <= 0 {
		retry = time.Second
	}
	for ctx.Err() == nil {
		err := c.listenOnce(ctx, connect, probe)
		c.SetLive(false)
		if ctx.Err() != nil {
			return
		}
		logger.WarnContext(ctx, "viewer_cache_feed_down", slog.Any("error", err), slog.Duration("retry_in", retry))
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		}
	}
}

func (c *Cache) listenOnce(ctx context.Context, connect Connect, probe Probe) error {
	conn, err := connect(ctx)
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	if probe != nil {
		if err := hearProbe(ctx, conn, probe, c.probeTimeout); err != nil {
			return err
		}
	}
	c.SetLive(true)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		c.apply(n.Payload)
	}
}

// hearProbe sends a probe of its own and waits for conn to hear it.
// Whatever else arrives meanwhile needs no applying: the cache is not
// live yet, and SetLive(true) drops everything.
func hearProbe(ctx context.Context, conn *pgx.Conn, probe Probe, timeout time.Duration) error {
	payload := probePrefix + uuid.NewString()
	// The timeout covers sending too: a pool with no free connection
	// is a feed down, logged and retried, not a wait without end.
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := probe(wctx, payload); err != nil {
		return fmt.Errorf("send the probe notification: %w", err)
	}
	for {
		n, err := conn.WaitForNotification(wctx)
		if err != nil {
			if ctx.Err() == nil && wctx.Err() != nil {
				return fmt.Errorf("the LISTEN connection did not hear its probe within %s: it must reach the database the application writes to, directly (not through a transaction pooler)", timeout)
			}
			return err
		}
		if n.Payload == payload {
			return nil
		}
	}
}

// apply turns a notification's payload into an invalidation.
func (c *Cache) apply(payload string) {
	kind, arg, _ := strings.Cut(payload, ":")
	switch kind {
	case strings.TrimSuffix(probePrefix, ":"):
		return // another process checking its own feed
	case "t":
		if arg != "" {
			c.InvalidateTenant(arg)
			return
		}
	case "u":
		if id, err := uuid.Parse(arg); err == nil {
			c.InvalidateUser(id)
			return
		}
	}
	c.InvalidateAll()
}
