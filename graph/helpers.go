package graph

import (
	"context"
	"fmt"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/graph/model"
	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/tenant"
)

// deref returns *p, or the zero value for nil (optional inputs).
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// signupPayload loads what signup created for the response.
func (r *Resolver) signupPayload(ctx context.Context, res *auth.SignupResult) (*model.SignupPayload, error) {
	pub := r.Clients.Public()
	u, err := pub.User.Get(ctx, res.User.ID)
	if err != nil {
		return nil, fmt.Errorf("load signed-up user: %w", err)
	}
	out := &model.SignupPayload{User: u, Tokens: res.Tokens}
	if res.Tenant != nil {
		if out.Tenant, err = pub.Tenant.Get(ctx, res.Tenant.ID); err != nil {
			return nil, fmt.Errorf("load signed-up tenant: %w", err)
		}
	}
	return out, nil
}

// MaxPageSize caps every connection's first/last.
const MaxPageSize = 100

// pageSize caps a first/last argument at MaxPageSize.
func pageSize(n *int) *int {
	if n == nil || *n <= MaxPageSize {
		return n
	}
	m := MaxPageSize
	return &m
}

// pageArgs caps first and last, and asks for one full page when neither
// is given: a list never returns everything.
func pageArgs(first, last *int) (*int, *int) {
	first, last = pageSize(first), pageSize(last)
	if first == nil && last == nil {
		m := MaxPageSize
		first = &m
	}
	return first, last
}

// entTenant loads the ent view of a tenant the service just returned.
func (r *Resolver) entTenant(ctx context.Context, t *tenant.Tenant, err error) (*ent.Tenant, error) {
	if err != nil {
		return nil, err
	}
	return r.Clients.Public().Tenant.Get(ctx, t.ID)
}

// ptrs returns pointers to the elements of xs (services return values,
// gqlgen wants pointers).
func ptrs[T any](xs []T) []*T {
	out := make([]*T, len(xs))
	for i := range xs {
		out[i] = &xs[i]
	}
	return out
}

// optionalSlice turns an optional list argument into the services' "nil
// means unchanged" form.
func optionalSlice(xs []string) *[]string {
	if xs == nil {
		return nil
	}
	return &xs
}

// memberMeta is the client's address and user agent for audit entries.
func memberMeta(ctx context.Context) member.Meta {
	m := auth.MetaFrom(ctx)
	return member.Meta{IP: m.IP, UserAgent: m.UserAgent}
}
