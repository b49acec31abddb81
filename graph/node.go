package graph

import (
	"context"

	"github.com/google/uuid"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// node finds the object with id among the types the viewer may read here:
// in a tenant, projects (projects.read), data items (data.read) and audit
// events (audit.read); on the platform, tenants, domains and demo requests
// for staff; anywhere, the viewer's own user. Anything else, including
// objects of other tenants, is null: no existence oracle.
func (r *Resolver) node(ctx context.Context, id uuid.UUID) (ent.Noder, error) {
	v, err := tenancy.RequireViewer(ctx)
	if err != nil {
		return nil, err
	}
	found := func(n ent.Noder, err error) (ent.Noder, bool, error) {
		if ent.IsNotFound(err) {
			return nil, false, nil
		}
		return n, err == nil, err
	}
	if _, inTenant := tenancy.FromContext(ctx); inTenant {
		c, err := r.Clients.Tenant(ctx)
		if err != nil {
			return nil, err
		}
		lookups := []struct {
			perm rbac.Permission
			get  func() (ent.Noder, error)
		}{
			{rbac.ProjectsRead, func() (ent.Noder, error) { return c.Project.Get(ctx, id) }},
			{rbac.DataRead, func() (ent.Noder, error) { return c.DataItem.Get(ctx, id) }},
			{rbac.AuditRead, func() (ent.Noder, error) { return c.AuditEvent.Get(ctx, id) }},
		}
		for _, l := range lookups {
			if !v.Can(l.perm) {
				continue
			}
			if n, ok, err := found(l.get()); err != nil || ok {
				return n, err
			}
		}
	} else if v.IsStaff && v.ImpersonatorID == uuid.Nil {
		pub := r.Clients.Public()
		if n, ok, err := found(pub.Tenant.Get(ctx, id)); err != nil || ok {
			return n, err
		}
		if n, ok, err := found(pub.Domain.Get(ctx, id)); err != nil || ok {
			return n, err
		}
		if n, ok, err := found(pub.DemoRequest.Get(ctx, id)); err != nil || ok {
			return n, err
		}
	}
	if id == v.UserID {
		return r.Clients.Public().User.Get(ctx, id)
	}
	return nil, nil
}
