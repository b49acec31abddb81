package tenancy

import (
	"context"

	"github.com/google/uuid"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/rbac"
)

// Viewer is who is making the request, as read server-side on every
// request (so a demotion counts on the next one).
type Viewer struct {
	UserID  uuid.UUID
	Email   string
	IsStaff bool
	// MemberID is the membership in the current tenant (uuid.Nil on the
	// platform or for staff without membership).
	MemberID uuid.UUID
	// Roles are the member's role names in the current tenant.
	Roles []string
	// Permissions are the union of the roles' permissions.
	Permissions rbac.Set
	// SessionID is the refresh-token family of the access token.
	SessionID uuid.UUID
	// ImpersonatorID is the staff user acting as this viewer, if any.
	ImpersonatorID uuid.UUID
}

// Can reports whether the viewer holds permission p in the current tenant.
func (v *Viewer) Can(p rbac.Permission) bool { return v != nil && v.Permissions.Has(p) }

type viewerKey struct{}

// WithViewer returns ctx carrying v.
func WithViewer(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// ViewerFrom returns the viewer in ctx, if any.
func ViewerFrom(ctx context.Context) (*Viewer, bool) {
	v, ok := ctx.Value(viewerKey{}).(*Viewer)
	return v, ok && v != nil
}

// ErrUnauthenticated is returned when an operation needs a signed-in viewer.
var ErrUnauthenticated = apperr.New(apperr.CodeUnauthenticated, "authentication required")

// ErrForbidden is returned when the viewer lacks a permission.
var ErrForbidden = apperr.New(apperr.CodeForbidden, "you do not have permission to do this")

// RequireViewer returns the viewer or ErrUnauthenticated.
func RequireViewer(ctx context.Context) (*Viewer, error) {
	v, ok := ViewerFrom(ctx)
	if !ok {
		return nil, ErrUnauthenticated
	}
	return v, nil
}

// RequirePermission is the one enforcement point: it returns the viewer
// when it holds p in the tenant of ctx, else UNAUTHENTICATED (no viewer),
// TENANT_NOT_FOUND (no tenant) or FORBIDDEN. Deny by default.
func RequirePermission(ctx context.Context, p rbac.Permission) (*Viewer, error) {
	v, err := RequireViewer(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := Require(ctx); err != nil {
		return nil, err
	}
	if !v.Can(p) {
		return nil, ErrForbidden
	}
	return v, nil
}

// RequireStaff returns the viewer when it is platform staff on the
// platform host (no tenant in ctx).
func RequireStaff(ctx context.Context) (*Viewer, error) {
	v, err := RequireViewer(ctx)
	if err != nil {
		return nil, err
	}
	if !v.IsStaff || v.ImpersonatorID != uuid.Nil {
		return nil, ErrForbidden
	}
	if _, inTenant := FromContext(ctx); inTenant {
		return nil, ErrForbidden
	}
	return v, nil
}

type systemKey struct{}

// AsSystem marks ctx as platform work with no user (jobs, operators' CLI),
// with a reason for the logs. Code that needs a tenant still needs one.
func AsSystem(ctx context.Context, reason string) context.Context {
	return context.WithValue(ctx, systemKey{}, reason)
}

// SystemReason returns why ctx runs as the system, or "".
func SystemReason(ctx context.Context) string {
	r, _ := ctx.Value(systemKey{}).(string)
	return r
}
