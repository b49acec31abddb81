package viewercache

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/dbtest"
)

// feed runs c.Listen on connect with probes sent through probeDB's pool
// until the test ends; it returns how many probes were sent.
func feed(t *testing.T, c *Cache, connect Connect, probeDB *dbtest.DB) *atomic.Int64 {
	t.Helper()
	var probes atomic.Int64
	probe := func(ctx context.Context, payload string) error {
		probes.Add(1)
		_, err := probeDB.Pool.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, payload)
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Listen(ctx, connect, probe, 10*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	t.Cleanup(func() { cancel(); <-done })
	return &probes
}

func connectTo(d *dbtest.DB) Connect {
	cfg := d.Pool.Config().ConnConfig.Copy()
	return func(ctx context.Context) (*pgx.Conn, error) { return pgx.ConnectConfig(ctx, cfg) }
}

func TestListenGoesLiveOnceItHearsItsProbe(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	c := New(Config{})
	probes := feed(t, c, connectTo(d), d)
	require.Eventually(t, c.Live, 5*time.Second, time.Millisecond, "the feed connects and hears its probe")
	require.EqualValues(t, 1, probes.Load())

	// It then applies what it hears.
	k := Key{Schema: "tenant_acme"}
	c.Put(k, c.Begin(), viewer(k.User))
	_, err := d.Pool.Exec(context.Background(), `SELECT pg_notify($1, 't:tenant_acme')`, Channel)
	require.NoError(t, err)
	require.Eventually(t, func() bool { _, ok := c.Get(k); return !ok }, 5*time.Second, time.Millisecond, "the invalidation arrives")
}

// A LISTEN that cannot hear what the application sends (another
// database here; a transaction pooler in production) would leave the cache
// answering with viewers nobody invalidates.
func TestListenOnAConnectionThatMissesTheApplicationsNotificationsNeverGoesLive(t *testing.T) {
	t.Parallel()
	app, other := dbtest.New(t), dbtest.New(t)
	c := New(Config{ProbeTimeout: 100 * time.Millisecond})
	probes := feed(t, c, connectTo(other), app)
	require.Eventually(t, func() bool { return probes.Load() >= 3 }, 10*time.Second, time.Millisecond, "it keeps trying")
	require.False(t, c.Live(), "live on a connection that never heard its probe")
}
