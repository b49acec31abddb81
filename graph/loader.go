package graph

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/ent/user"
)

// userLoader batches the user lookups of one request. A list resolver
// announces the ids its page may need (want); the first lookup then loads
// all of them, and every later lookup of the request finds its user loaded
// or joins the load in flight: projects → owner costs one query whatever
// the page size, however the field resolvers are scheduled.
type userLoader struct {
	client *ent.Client
	wait   time.Duration

	mu       sync.Mutex
	wanted   map[uuid.UUID]bool
	pending  map[uuid.UUID][]chan *ent.User
	inflight map[uuid.UUID][]chan *ent.User
	done     map[uuid.UUID]*ent.User
	timer    *time.Timer
}

type loaderKey struct{}

// withLoaders puts fresh per-request loaders in ctx.
func withLoaders(ctx context.Context, public *ent.Client) context.Context {
	return context.WithValue(ctx, loaderKey{}, &userLoader{
		client: public, wait: time.Millisecond,
		wanted: map[uuid.UUID]bool{}, pending: map[uuid.UUID][]chan *ent.User{},
		inflight: map[uuid.UUID][]chan *ent.User{}, done: map[uuid.UUID]*ent.User{},
	})
}

// wantUsers announces ids a later lookup is likely to ask for; nothing is
// loaded unless a lookup happens.
func wantUsers(ctx context.Context, ids ...uuid.UUID) {
	l, ok := ctx.Value(loaderKey{}).(*userLoader)
	if !ok {
		return
	}
	l.mu.Lock()
	for _, id := range ids {
		if _, ok := l.done[id]; !ok {
			l.wanted[id] = true
		}
	}
	l.mu.Unlock()
}

// loadUser returns the user with id (nil when none).
func loadUser(ctx context.Context, id uuid.UUID) *ent.User {
	l, ok := ctx.Value(loaderKey{}).(*userLoader)
	if !ok {
		return nil
	}
	l.mu.Lock()
	if u, ok := l.done[id]; ok {
		l.mu.Unlock()
		return u
	}
	ch := make(chan *ent.User, 1)
	if _, flying := l.inflight[id]; flying {
		l.inflight[id] = append(l.inflight[id], ch)
	} else {
		l.pending[id] = append(l.pending[id], ch)
		if l.timer == nil {
			l.timer = time.AfterFunc(l.wait, func() { l.flush(context.WithoutCancel(ctx)) })
		}
	}
	l.mu.Unlock()
	select {
	case u := <-ch:
		return u
	case <-ctx.Done():
		return nil
	}
}

func (l *userLoader) flush(ctx context.Context) {
	l.mu.Lock()
	ids := make([]uuid.UUID, 0, len(l.pending)+len(l.wanted))
	for id, chans := range l.pending {
		l.inflight[id] = append(l.inflight[id], chans...)
		ids = append(ids, id)
	}
	for id := range l.wanted {
		if _, ok := l.inflight[id]; !ok {
			l.inflight[id] = nil
			ids = append(ids, id)
		}
	}
	l.pending, l.wanted, l.timer = map[uuid.UUID][]chan *ent.User{}, map[uuid.UUID]bool{}, nil
	l.mu.Unlock()

	users, _ := l.client.User.Query().Where(user.IDIn(ids...)).All(ctx)
	byID := make(map[uuid.UUID]*ent.User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	l.mu.Lock()
	for _, id := range ids {
		l.done[id] = byID[id]
		for _, ch := range l.inflight[id] {
			ch <- byID[id]
		}
		delete(l.inflight, id)
	}
	l.mu.Unlock()
}
