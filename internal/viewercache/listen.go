package viewercache

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Connect opens the dedicated connection Listen waits on (not one from the
// pool: it is held for as long as the process runs).
type Connect func(ctx context.Context) (*pgx.Conn, error)

// Listen keeps the cache's invalidation feed connected until ctx ends:
// it LISTENs on Channel, marks the cache live once listening, applies
// every notification, and on any failure marks it not live and connects
// again after retry (default 1s).
func (c *Cache) Listen(ctx context.Context, connect Connect, retry time.Duration, logger *slog.Logger) {
	if retry <= 0 {
		retry = time.Second
	}
	for ctx.Err() == nil {
		err := c.listenOnce(ctx, connect)
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

func (c *Cache) listenOnce(ctx context.Context, connect Connect) error {
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
	c.SetLive(true)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		c.apply(n.Payload)
	}
}

// apply turns a notification's payload into an invalidation.
func (c *Cache) apply(payload string) {
	kind, arg, _ := strings.Cut(payload, ":")
	switch kind {
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
