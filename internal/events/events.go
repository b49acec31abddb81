// Package events owns the live change feed behind GraphQL subscriptions:
// services publish what changed after their transaction commits, and
// subscribers of one tenant receive that tenant's events only. In one
// process the bus fans out in memory; with Redis it also relays through
// Redis pub/sub, so a change on one replica reaches subscribers on all.
package events

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// Event is one change.
type Event struct {
	TenantID uuid.UUID `json:"tenant_id"`
	// Kind is "project.created", "project.updated" or "project.deleted".
	Kind string    `json:"kind"`
	ID   uuid.UUID `json:"id"`
	// Origin is the process that published it (the relay skips its own).
	Origin string `json:"origin"`
}

// Bus delivers events to the subscribers of their tenant.
type Bus struct {
	origin string
	rdb    *redis.Client
	logger *slog.Logger

	mu   sync.Mutex
	subs map[uuid.UUID]map[chan Event]struct{}

	// outbound queues events for the Redis relay; one goroutine sends
	// them, several per round trip under load, so a write never waits on
	// Redis for its live event.
	outbound chan []byte
}

// outboundQueue bounds the events waiting for Redis; past it an event is
// dropped from the relay (local subscribers still get it) and logged.
const outboundQueue = 4096

// maxBatch bounds the events sent in one round trip.
const maxBatch = 128

// channel is the Redis pub/sub channel of every tenant's events; events
// carry their tenant, and each replica delivers only to local subscribers
// of that tenant.
const channel = "p:events"

// NewBus returns a Bus; with rdb non-nil it relays through Redis until ctx
// ends.
func NewBus(ctx context.Context, rdb *redis.Client, logger *slog.Logger) *Bus {
	b := &Bus{origin: uuid.NewString(), rdb: rdb, logger: logger, subs: map[uuid.UUID]map[chan Event]struct{}{}}
	if rdb != nil {
		b.outbound = make(chan []byte, outboundQueue)
		go b.relay(ctx)
		go b.send(ctx)
	}
	return b
}

// Publish delivers e to its tenant's subscribers here and, through Redis,
// on every other replica. It never blocks on a slow subscriber.
func (b *Bus) Publish(ctx context.Context, e Event) {
	if b == nil {
		return
	}
	e.Origin = b.origin
	b.deliver(e)
	if b.outbound == nil {
		return
	}
	payload, _ := json.Marshal(e)
	select {
	case b.outbound <- payload:
	default:
		b.logger.WarnContext(ctx, "event_relay_queue_full", slog.String("kind", e.Kind))
	}
}

// send publishes the queued events to Redis until ctx ends: what has
// queued up while one round trip was in flight goes in the next, as one
// pipeline.
func (b *Bus) send(ctx context.Context) {
	batch := make([][]byte, 0, maxBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-b.outbound:
			batch = append(batch[:0], p)
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case p := <-b.outbound:
				batch = append(batch, p)
			default:
				break drain
			}
		}
		pipe := b.rdb.Pipeline()
		for _, p := range batch {
			pipe.Publish(ctx, channel, p)
		}
		if _, err := pipe.Exec(ctx); err != nil && ctx.Err() == nil {
			b.logger.WarnContext(ctx, "event_relay_failed", slog.Int("events", len(batch)), slog.Any("error", err))
		}
	}
}

// Subscribe returns the tenant's events until ctx ends.
func (b *Bus) Subscribe(ctx context.Context, tenantID uuid.UUID) <-chan Event {
	ch := make(chan Event, 64)
	b.mu.Lock()
	if b.subs[tenantID] == nil {
		b.subs[tenantID] = map[chan Event]struct{}{}
	}
	b.subs[tenantID][ch] = struct{}{}
	b.mu.Unlock()
	go func() {
		<-ctx.Done()
		b.mu.Lock()
		delete(b.subs[tenantID], ch)
		if len(b.subs[tenantID]) == 0 {
			delete(b.subs, tenantID)
		}
		close(ch)
		b.mu.Unlock()
	}()
	return ch
}

func (b *Bus) deliver(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs[e.TenantID] {
		select {
		case ch <- e:
		default: // a subscriber that does not keep up misses events
		}
	}
}

func (b *Bus) relay(ctx context.Context) {
	sub := b.rdb.Subscribe(ctx, channel)
	defer sub.Close()
	for msg := range sub.Channel() {
		var e Event
		if json.Unmarshal([]byte(msg.Payload), &e) != nil || e.Origin == b.origin {
			continue
		}
		b.deliver(e)
	}
}
