// Package reqinfo owns what is known about the request being served — its
// id, tenant and user — in one mutable record that the outermost middleware
// puts in the context and inner layers fill in, so the access log and error
// reports can name the tenant and user that later middleware resolved.
package reqinfo

import (
	"context"
	"sync"
)

// Info describes one request. Set fields through its methods: resolvers may
// run concurrently.
type Info struct {
	mu        sync.Mutex
	requestID string
	tenant    string
	user      string
}

type ctxKey struct{}

// New returns ctx carrying a fresh Info for requestID.
func New(ctx context.Context, requestID string) (context.Context, *Info) {
	i := &Info{requestID: requestID}
	return context.WithValue(ctx, ctxKey{}, i), i
}

// From returns the request's Info, or nil outside a request.
func From(ctx context.Context) *Info {
	i, _ := ctx.Value(ctxKey{}).(*Info)
	return i
}

// RequestID returns the id of the request in ctx, or "".
func RequestID(ctx context.Context) string {
	if i := From(ctx); i != nil {
		return i.RequestID()
	}
	return ""
}

// RequestID returns the request id.
func (i *Info) RequestID() string { return i.requestID }

// SetTenant records the resolved tenant (its slug).
func (i *Info) SetTenant(slug string) {
	i.mu.Lock()
	i.tenant = slug
	i.mu.Unlock()
}

// SetUser records the authenticated user (its id).
func (i *Info) SetUser(id string) {
	i.mu.Lock()
	i.user = id
	i.mu.Unlock()
}

// Tenant returns the recorded tenant slug, or "".
func (i *Info) Tenant() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.tenant
}

// User returns the recorded user id, or "".
func (i *Info) User() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.user
}
