package events_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/events"
)

func newRedis(t *testing.T) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	require.NoError(t, rdb.Ping(context.Background()).Err(), "the events tests need Redis on 127.0.0.1:6379 (scripts/services.sh)")
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// numSub returns how many Redis clients subscribe to the tenant's event
// channel, or -1 if Redis did not answer.
func numSub(rdb *redis.Client, tenant uuid.UUID) int64 {
	channel := "p:events:" + tenant.String()
	n, err := rdb.PubSubNumSub(context.Background(), channel).Result()
	if err != nil {
		return -1
	}
	return n[channel]
}

// requireNumSub waits until want Redis clients subscribe to the tenant's
// event channel: a bus subscribes and unsubscribes in the background.
func requireNumSub(t *testing.T, rdb *redis.Client, tenant uuid.UUID, want int64) {
	t.Helper()
	require.Eventually(t, func() bool { return numSub(rdb, tenant) == want }, 2*time.Second, 10*time.Millisecond,
		"PUBSUB NUMSUB of tenant %s never became %d (last %d)", tenant, want, numSub(rdb, tenant))
}

// requireEvent fails unless ch yields the event with id within 2 seconds.
func requireEvent(t *testing.T, ch <-chan events.Event, id uuid.UUID, what string) {
	t.Helper()
	select {
	case e, open := <-ch:
		require.True(t, open, "%s: the channel closed", what)
		require.Equal(t, id, e.ID, what)
	case <-time.After(2 * time.Second):
		t.Fatalf("%s: got nothing", what)
	}
}

// requireNoEvent fails if ch yields an event within wait.
func requireNoEvent(t *testing.T, ch <-chan events.Event, wait time.Duration, what string) {
	t.Helper()
	select {
	case e := <-ch:
		t.Fatalf("%s: got %+v", what, e)
	case <-time.After(wait):
	}
}

func TestBus(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	t.Run("a subscriber gets its tenant's events only", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		bus := events.NewBus(ctx, nil, logger)
		a, b := uuid.New(), uuid.New()
		subA, subB := bus.Subscribe(ctx, a), bus.Subscribe(ctx, b)
		id := uuid.New()
		bus.Publish(ctx, events.Event{TenantID: a, Kind: "project.created", ID: id})
		requireEvent(t, subA, id, "tenant A's subscriber")
		requireNoEvent(t, subB, 100*time.Millisecond, "tenant B got tenant A's event")
	})

	t.Run("events reach subscribers on another replica through Redis, once", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rdb := newRedis(t)
		one, two := events.NewBus(ctx, rdb, logger), events.NewBus(ctx, rdb, logger)
		tenant := uuid.New()
		onOne, onTwo := one.Subscribe(ctx, tenant), two.Subscribe(ctx, tenant)
		requireNumSub(t, rdb, tenant, 2) // both relays subscribed
		id := uuid.New()
		one.Publish(ctx, events.Event{TenantID: tenant, Kind: "project.updated", ID: id})
		for _, ch := range []<-chan events.Event{onOne, onTwo} {
			requireEvent(t, ch, id, "a replica's subscriber")
		}
		requireNoEvent(t, onOne, 200*time.Millisecond, "the publishing replica delivered twice")
	})

	t.Run("a burst reaches the other replica complete and in order", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rdb := newRedis(t)
		one, two := events.NewBus(ctx, rdb, logger), events.NewBus(ctx, rdb, logger)
		tenant := uuid.New()
		onTwo := two.Subscribe(ctx, tenant)
		requireNumSub(t, rdb, tenant, 1) // the relay subscribed
		ids := make([]uuid.UUID, 60)     // fewer than a subscriber's buffer
		for i := range ids {
			ids[i] = uuid.New()
			one.Publish(ctx, events.Event{TenantID: tenant, Kind: "project.created", ID: ids[i]})
		}
		for i, id := range ids {
			requireEvent(t, onTwo, id, fmt.Sprintf("event %d of %d on the other replica", i, len(ids)))
		}
	})

	t.Run("a replica relays a tenant's events to another replica's subscribers of that tenant only", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rdb := newRedis(t)
		one, two := events.NewBus(ctx, rdb, logger), events.NewBus(ctx, rdb, logger)
		a, b := uuid.New(), uuid.New()
		onTwo := two.Subscribe(ctx, a)
		requireNumSub(t, rdb, a, 1)
		require.Zero(t, numSub(rdb, b), "no replica has a subscriber of tenant B")
		idB, idA := uuid.New(), uuid.New()
		one.Publish(ctx, events.Event{TenantID: b, Kind: "project.created", ID: idB})
		one.Publish(ctx, events.Event{TenantID: a, Kind: "project.created", ID: idA})
		requireEvent(t, onTwo, idA, "tenant A's subscriber on the other replica")
		requireNoEvent(t, onTwo, 200*time.Millisecond, "tenant A's subscriber got tenant B's event")
	})

	t.Run("a replica subscribes to a tenant's Redis channel only while it has local subscribers of the tenant", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rdb := newRedis(t)
		bus := events.NewBus(ctx, rdb, logger)
		tenant, other := uuid.New(), uuid.New()
		bus.Subscribe(ctx, other)
		requireNumSub(t, rdb, other, 1) // the relay runs and subscribes
		require.Zero(t, numSub(rdb, tenant), "subscribed before any local subscriber")

		firstCtx, leaveFirst := context.WithCancel(ctx)
		first := bus.Subscribe(firstCtx, tenant)
		requireNumSub(t, rdb, tenant, 1)
		secondCtx, leaveSecond := context.WithCancel(ctx)
		second := bus.Subscribe(secondCtx, tenant)
		require.Never(t, func() bool { return numSub(rdb, tenant) != 1 }, 200*time.Millisecond, 10*time.Millisecond,
			"a second local subscriber changed the Redis subscription")

		leaveFirst()
		for range first { // drain until closed: the bus has dropped it
		}
		require.Never(t, func() bool { return numSub(rdb, tenant) != 1 }, 200*time.Millisecond, 10*time.Millisecond,
			"the tenant lost its Redis subscription while a local subscriber remained")

		leaveSecond()
		for range second {
		}
		requireNumSub(t, rdb, tenant, 0)
		require.Equal(t, int64(1), numSub(rdb, other), "another tenant's subscription went with it")
	})

	t.Run("a subscriber that stays gets relayed events after another of its tenant leaves", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rdb := newRedis(t)
		one, two := events.NewBus(ctx, rdb, logger), events.NewBus(ctx, rdb, logger)
		tenant := uuid.New()
		firstCtx, leaveFirst := context.WithCancel(ctx)
		first := two.Subscribe(firstCtx, tenant)
		requireNumSub(t, rdb, tenant, 1)
		second := two.Subscribe(ctx, tenant)
		leaveFirst()
		for range first {
		}
		id := uuid.New()
		one.Publish(ctx, events.Event{TenantID: tenant, Kind: "project.updated", ID: id})
		requireEvent(t, second, id, "the remaining subscriber")
	})

	t.Run("a subscriber joining as the last one of its tenant leaves keeps getting relayed events", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rdb := newRedis(t)
		one, two := events.NewBus(ctx, rdb, logger), events.NewBus(ctx, rdb, logger)
		tenant := uuid.New()
		subCtx, leave := context.WithCancel(ctx)
		sub := two.Subscribe(subCtx, tenant)
		requireNumSub(t, rdb, tenant, 1)
		// Each round the only subscriber leaves while the next one joins,
		// so the relay sees the tenant's last subscriber go and a first one
		// come in either order, or both at once.
		for range 200 {
			prevLeave := leave
			subCtx, leave = context.WithCancel(ctx)
			var wg sync.WaitGroup
			wg.Go(prevLeave)
			sub = two.Subscribe(subCtx, tenant)
			wg.Wait()
		}
		defer leave()
		// The relay may be between an UNSUBSCRIBE and a SUBSCRIBE still, so
		// publish until one arrives; it must end up subscribed.
		deadline := time.Now().Add(5 * time.Second)
		for received := false; !received; {
			require.True(t, time.Now().Before(deadline), "the remaining subscriber never got a relayed event")
			id := uuid.New()
			one.Publish(ctx, events.Event{TenantID: tenant, Kind: "project.updated", ID: id})
			select {
			case e, open := <-sub:
				require.True(t, open)
				received = e.ID == id
			case <-time.After(100 * time.Millisecond):
			}
		}
		require.Never(t, func() bool { return numSub(rdb, tenant) != 1 }, 200*time.Millisecond, 10*time.Millisecond,
			"the tenant's Redis subscription did not stay")
	})

	t.Run("a subscription ends with its context", func(t *testing.T) {
		t.Parallel()
		bus := events.NewBus(context.Background(), nil, logger)
		ctx, cancel := context.WithCancel(context.Background())
		sub := bus.Subscribe(ctx, uuid.New())
		cancel()
		select {
		case _, open := <-sub:
			require.False(t, open)
		case <-time.After(2 * time.Second):
			t.Fatal("the channel stayed open")
		}
	})
}
