// Package events owns the live change feed behind GraphQL subscriptions:
// services publish what changed after their transaction commits, and
// subscribers of one tenant receive that tenant's events only. In one
// process the bus fans out in memory; with Redis it also relays through
// Redis pub/sub, so a change on one replica reaches subscribers on all.
//
// Each tenant has its own Redis channel, and a replica subscribes to a
// tenant's channel only while it has a local subscriber of that tenant.
// With one channel for all tenants every replica received and decoded
// every event of every tenant, its own included, even with no subscriber
// to deliver it to; that cost CPU on the replicas and on Redis for
// nothing. Per tenant, Redis sends an event only to the replicas that
// have someone to deliver it to.
package events

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

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
	// changed holds the tenants that gained their first local subscriber
	// or lost their last one since the relay last looked; the relay, and
	// only it, subscribes or unsubscribes their Redis channels, outside
	// mu, so that a Redis round trip never holds up delivery or a
	// Subscribe. Nil without Redis.
	changed map[uuid.UUID]struct{}
	// wake tells the relay that changed may hold tenants; it buffers one
	// signal, so marking a tenant never blocks.
	wake chan struct{}

	// outbound queues events for the Redis relay; one goroutine sends
	// them, several per round trip under load, so a write never waits on
	// Redis for its live event.
	outbound chan outboundEvent
}

// outboundEvent is an event waiting for Redis, already encoded.
type outboundEvent struct {
	tenantID uuid.UUID
	payload  []byte
}

// outboundQueue bounds the events waiting for Redis; past it an event is
// dropped from the relay (local subscribers still get it) and logged.
const outboundQueue = 4096

// maxBatch bounds the events sent in one round trip.
const maxBatch = 128

// linger is how long the sender waits after an event for others to go in
// the same round trip. Without it, under a steady stream of writes each
// event was a pipeline of its own (a write and a read on the Redis
// connection, about 7 % of a create's CPU); a live event arriving a
// millisecond later is not noticed.
const linger = time.Millisecond

// channelPrefix starts the Redis pub/sub channel of each tenant's events;
// the tenant ID completes it (see channelOf).
const channelPrefix = "p:events:"

// resubscribeDelay is how long the relay waits before it retries a Redis
// SUBSCRIBE or UNSUBSCRIBE that failed.
const resubscribeDelay = time.Second

// channelOf returns the Redis channel of the tenant's events. A channel
// per tenant lets Redis send an event only to the replicas that have a
// subscriber of its tenant.
func channelOf(tenantID uuid.UUID) string {
	return channelPrefix + tenantID.String()
}

// NewBus returns a Bus; with rdb non-nil it relays through Redis until ctx
// ends, subscribed to the channels of the tenants it has local
// subscribers of.
func NewBus(ctx context.Context, rdb *redis.Client, logger *slog.Logger) *Bus {
	b := &Bus{origin: uuid.NewString(), rdb: rdb, logger: logger, subs: map[uuid.UUID]map[chan Event]struct{}{}}
	if rdb != nil {
		b.changed = map[uuid.UUID]struct{}{}
		b.wake = make(chan struct{}, 1)
		b.outbound = make(chan outboundEvent, outboundQueue)
		go b.relay(ctx)
		go b.send(ctx)
	}
	return b
}

// Publish delivers e to its tenant's subscribers here and, through the
// tenant's Redis channel, on every other replica that has subscribers of
// the tenant. It never blocks on a slow subscriber or on Redis.
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
	case b.outbound <- outboundEvent{tenantID: e.TenantID, payload: payload}:
	default:
		b.logger.WarnContext(ctx, "event_relay_queue_full", slog.String("kind", e.Kind))
	}
}

// send publishes the queued events to their tenants' Redis channels until
// ctx ends: what queues up within linger of an event, or while one round
// trip is in flight, goes in the next, as one pipeline.
func (b *Bus) send(ctx context.Context) {
	batch := make([]outboundEvent, 0, maxBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-b.outbound:
			batch = append(batch[:0], p)
		}
		if len(b.outbound) < maxBatch-1 {
			time.Sleep(linger)
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
			pipe.Publish(ctx, channelOf(p.tenantID), p.payload)
		}
		if _, err := pipe.Exec(ctx); err != nil && ctx.Err() == nil {
			b.logger.WarnContext(ctx, "event_relay_failed", slog.Int("events", len(batch)), slog.Any("error", err))
		}
	}
}

// Subscribe returns the tenant's events until ctx ends. With Redis, the
// first local subscriber of a tenant has the relay subscribe to the
// tenant's channel, and the last one to leave has it unsubscribe; both
// happen shortly after, not before Subscribe returns or the channel
// closes, so events published elsewhere in between may be missed.
func (b *Bus) Subscribe(ctx context.Context, tenantID uuid.UUID) <-chan Event {
	ch := make(chan Event, 64)
	b.mu.Lock()
	if b.subs[tenantID] == nil {
		b.subs[tenantID] = map[chan Event]struct{}{}
		b.markChanged(tenantID)
	}
	b.subs[tenantID][ch] = struct{}{}
	b.mu.Unlock()
	go func() {
		<-ctx.Done()
		b.mu.Lock()
		delete(b.subs[tenantID], ch)
		if len(b.subs[tenantID]) == 0 {
			delete(b.subs, tenantID)
			b.markChanged(tenantID)
		}
		close(ch)
		b.mu.Unlock()
	}()
	return ch
}

// markChanged tells the relay that the tenant gained its first local
// subscriber or lost its last one. The relay reads the tenant's
// subscribers when it gets to it, not the change itself, so a leave and a
// join that race end with the tenant subscribed. b.mu must be held.
func (b *Bus) markChanged(tenantID uuid.UUID) {
	if b.changed == nil {
		return
	}
	b.changed[tenantID] = struct{}{}
	select {
	case b.wake <- struct{}{}:
	default: // a wake-up is already pending; it will see this tenant too
	}
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

// relay delivers the events of other replicas from Redis until ctx ends,
// and keeps its one Redis subscription connection subscribed to exactly
// the channels of the tenants with local subscribers. It alone owns that
// connection and the set of channels subscribed on it.
func (b *Bus) relay(ctx context.Context) {
	pubsub := b.rdb.Subscribe(ctx)
	defer pubsub.Close()
	msgs := pubsub.Channel()
	subscribed := map[uuid.UUID]struct{}{}
	failed := map[uuid.UUID]struct{}{}
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case msg, ok := <-msgs:
			if !ok {
				return
			}
			var e Event
			if json.Unmarshal([]byte(msg.Payload), &e) != nil || e.Origin == b.origin {
				continue
			}
			b.deliver(e)
			continue
		case <-b.wake:
		case <-retry:
			retry = nil
		}
		if !b.resubscribe(ctx, pubsub, subscribed, failed) && retry == nil {
			retry = time.After(resubscribeDelay)
		}
	}
}

// resubscribe brings the relay's Redis subscriptions in line with which
// tenants have local subscribers now. subscribed is what the PubSub
// remembers (it resubscribes to those channels on reconnect), which a
// SUBSCRIBE or UNSUBSCRIBE changes even when sending it fails; failed
// holds the tenants whose last command failed, sent again here whatever
// subscribed says, since a reconnect can race the failed command. Redis
// is called without b.mu held: a tenant that changes again meanwhile is
// marked again, and the next call sees it. resubscribe reports whether
// every command went through.
func (b *Bus) resubscribe(ctx context.Context, pubsub *redis.PubSub, subscribed, failed map[uuid.UUID]struct{}) bool {
	var join, leave []uuid.UUID
	b.mu.Lock()
	for t := range b.changed {
		if _, retry := failed[t]; retry {
			continue // sent again below
		}
		_, want := b.subs[t]
		_, have := subscribed[t]
		switch {
		case want && !have:
			join = append(join, t)
		case !want && have:
			leave = append(leave, t)
		}
	}
	for t := range failed {
		if _, want := b.subs[t]; want {
			join = append(join, t)
		} else {
			leave = append(leave, t)
		}
	}
	clear(b.changed)
	b.mu.Unlock()
	clear(failed)

	apply := func(op string, call func(context.Context, ...string) error, tenants []uuid.UUID, record func(uuid.UUID)) {
		if len(tenants) == 0 {
			return
		}
		channels := make([]string, len(tenants))
		for i, t := range tenants {
			channels[i] = channelOf(t)
			record(t)
		}
		if err := call(ctx, channels...); err != nil {
			if ctx.Err() == nil {
				b.logger.WarnContext(ctx, "event_relay_subscription_failed", slog.String("op", op), slog.Int("tenants", len(tenants)), slog.Any("error", err))
			}
			for _, t := range tenants {
				failed[t] = struct{}{}
			}
		}
	}
	apply("subscribe", pubsub.Subscribe, join, func(t uuid.UUID) { subscribed[t] = struct{}{} })
	apply("unsubscribe", pubsub.Unsubscribe, leave, func(t uuid.UUID) { delete(subscribed, t) })
	return len(failed) == 0
}
