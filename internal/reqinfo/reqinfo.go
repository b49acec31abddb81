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
	// remoteIP and userAgent are set at creation and never change.
	remoteIP  string
	userAgent string
	tenant    string
	user      string
}

type ctxKey struct{}

// New returns ctx carrying a fresh Info for requestID.
func New(ctx context.Context, requestID string) (context.Context, *Info) {
	return NewWithClient(ctx, requestID, "", "")
}

// NewWithClient is New that also records the client's address and user agent.
func NewWithClient(ctx context.Context, requestID, remoteIP, userAgent string) (context.Context, *Info) {
	i := &Info{requestID: requestID, remoteIP: remoteIP, userAgent: userAgent}
	return context.WithValue(ctx, ctxKey{}, i), i
}

// RemoteIP is the client's address (without port).
func (i *Info) RemoteIP() string { return i.remoteIP }

// UserAgent is the client's User-Agent header.
func (i *Info) UserAgent() string { return i.userAgent }

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
