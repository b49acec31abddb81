package graph

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/ent/user"
)

// userLoader batches the user lookups of one request: every owner asked for
// within a short window is loaded with one query, so projects → owner costs
// one round trip whatever the page size.
type userLoader struct {
	client *ent.Client
	wait   time.Duration

	mu      sync.Mutex
	pending map[uuid.UUID][]chan *ent.User
	timer   *time.Timer
	done    map[uuid.UUID]*ent.User
}

type loaderKey struct{}

// withLoaders puts fresh per-request loaders in ctx.
func withLoaders(ctx context.Context, public *ent.Client) context.Context {
	return context.WithValue(ctx, loaderKey{}, &userLoader{client: public, wait: 2 * time.Millisecond,
		pending: map[uuid.UUID][]chan *ent.User{}, done: map[uuid.UUID]*ent.User{}})
}

// loadUser returns the user with id (nil when none), batched with the
// request's other lookups.
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
	l.pending[id] = append(l.pending[id], ch)
	if l.timer == nil {
		l.timer = time.AfterFunc(l.wait, func() { l.flush(context.WithoutCancel(ctx)) })
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
	batch := l.pending
	l.pending = map[uuid.UUID][]chan *ent.User{}
	l.timer = nil
	l.mu.Unlock()
	ids := make([]uuid.UUID, 0, len(batch))
	for id := range batch {
		ids = append(ids, id)
	}
	users, _ := l.client.User.Query().Where(user.IDIn(ids...)).All(ctx)
	byID := make(map[uuid.UUID]*ent.User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	l.mu.Lock()
	for id, chans := range batch {
		l.done[id] = byID[id]
		for _, ch := range chans {
			ch <- byID[id]
		}
	}
	l.mu.Unlock()
}
