package events_test

import (
	"context"
	"io"
	"log/slog"
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
		select {
		case e := <-subA:
			require.Equal(t, id, e.ID)
		case <-time.After(2 * time.Second):
			t.Fatal("tenant A's subscriber got nothing")
		}
		select {
		case e := <-subB:
			t.Fatalf("tenant B got tenant A's event %+v", e)
		case <-time.After(100 * time.Millisecond):
		}
	})

	t.Run("events reach subscribers on another replica through Redis, once", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rdb := newRedis(t)
		one, two := events.NewBus(ctx, rdb, logger), events.NewBus(ctx, rdb, logger)
		tenant := uuid.New()
		onOne, onTwo := one.Subscribe(ctx, tenant), two.Subscribe(ctx, tenant)
		time.Sleep(200 * time.Millisecond) // let both relays subscribe
		id := uuid.New()
		one.Publish(ctx, events.Event{TenantID: tenant, Kind: "project.updated", ID: id})
		for _, ch := range []<-chan events.Event{onOne, onTwo} {
			select {
			case e := <-ch:
				require.Equal(t, id, e.ID)
			case <-time.After(2 * time.Second):
				t.Fatal("a replica's subscriber got nothing")
			}
		}
		select {
		case e := <-onOne:
			t.Fatalf("the publishing replica delivered twice: %+v", e)
		case <-time.After(200 * time.Millisecond):
		}
	})

	t.Run("a burst reaches the other replica complete and in order", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rdb := newRedis(t)
		one, two := events.NewBus(ctx, rdb, logger), events.NewBus(ctx, rdb, logger)
		tenant := uuid.New()
		onTwo := two.Subscribe(ctx, tenant)
		time.Sleep(200 * time.Millisecond) // let the relay subscribe
		ids := make([]uuid.UUID, 60)       // fewer than a subscriber's buffer
		for i := range ids {
			ids[i] = uuid.New()
			one.Publish(ctx, events.Event{TenantID: tenant, Kind: "project.created", ID: ids[i]})
		}
		for i, id := range ids {
			select {
			case e := <-onTwo:
				require.Equal(t, id, e.ID, "event %d", i)
			case <-time.After(2 * time.Second):
				t.Fatalf("the other replica got %d of %d events", i, len(ids))
			}
		}
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
