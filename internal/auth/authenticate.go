package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/reqinfo"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/viewercache"
)

// Authenticate turns an Authorization header into the viewer. No header
// means anonymous (nil, nil). Anything wrong with the token, a token of
// another tenant, a revoked session, a disabled user or a lost membership
// is ErrInvalidToken (401); the viewer's roles are read here, on every
// request, so a demotion counts at once.
func (s *Service) Authenticate(ctx context.Context, header string) (*tenancy.Viewer, error) {
	if header == "" {
		return nil, nil
	}
	if len(header) > MaxTokenBytes+16 {
		return nil, ErrInvalidToken
	}
	scheme, raw, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, ErrInvalidToken
	}
	claims, err := s.keys.Verify(strings.TrimSpace(raw))
	if err != nil {
		return nil, err
	}
	userID, _ := uuid.Parse(claims.Subject)
	sid, _ := uuid.Parse(claims.SessionID)
	actor, _ := uuid.Parse(claims.ActorID)
	t, inTenant := tenancy.FromContext(ctx)
	switch {
	case inTenant && claims.TenantID != t.ID.String():
		return nil, ErrInvalidToken // issued for another tenant (or the platform)
	case !inTenant && claims.TenantID != "":
		return nil, ErrInvalidToken // a tenant token on the platform host
	}
	v, err := s.loadViewer(ctx, t, userID, sid)
	if err != nil {
		return nil, err
	}
	v.ImpersonatorID = actor
	return v, nil
}

// loadViewer returns the viewer from the viewer cache, or reads the user,
// the session's revocation and (in a tenant) the membership with its
// permissions in one round trip and caches them.
func (s *Service) loadViewer(ctx context.Context, t *tenancy.Tenant, userID, sid uuid.UUID) (*tenancy.Viewer, error) {
	key := viewercache.Key{User: userID, Session: sid}
	if t != nil {
		key.Schema = t.Schema
	}
	if v, ok := s.viewers.Get(key); ok {
		return v, nil
	}
	token := s.viewers.Begin()
	v, err := s.readViewer(ctx, t, userID, sid)
	if err != nil {
		return nil, err
	}
	s.viewers.Put(key, token, v)
	return v, nil
}

// readViewer reads the viewer from the database.
func (s *Service) readViewer(ctx context.Context, t *tenancy.Tenant, userID, sid uuid.UUID) (*tenancy.Viewer, error) {
	v := &tenancy.Viewer{UserID: userID, SessionID: sid}
	var disabled *time.Time
	var revoked bool
	var memberID *uuid.UUID
	var roles, perms []string
	var err error
	if t == nil {
		err = s.pool.QueryRow(ctx, `SELECT u.email, u.is_staff, u.disabled_at,
				EXISTS (SELECT 1 FROM public.refresh_tokens r WHERE r.family_id = $2 AND r.revoked_at IS NOT NULL)
			FROM public.users u WHERE u.id = $1`, userID, sid).Scan(&v.Email, &v.IsStaff, &disabled, &revoked)
	} else {
		if cerr := tenancy.CheckSchema(t.Schema); cerr != nil {
			return nil, cerr
		}
		q := db.QuoteIdent(t.Schema)
		err = s.pool.QueryRow(ctx, `SELECT u.email, u.is_staff, u.disabled_at,
				EXISTS (SELECT 1 FROM public.refresh_tokens r WHERE r.family_id = $2 AND r.revoked_at IS NOT NULL),
				m.id,
				coalesce((SELECT array_agg(DISTINCT ro.name) FROM `+q+`.member_roles mr JOIN `+q+`.roles ro ON ro.id = mr.role_id
					WHERE mr.member_id = m.id), '{}'),
				coalesce((SELECT array_agg(DISTINCT p) FROM `+q+`.member_roles mr JOIN `+q+`.roles ro ON ro.id = mr.role_id,
					jsonb_array_elements_text(ro.permissions) p WHERE mr.member_id = m.id), '{}')
			FROM public.users u LEFT JOIN `+q+`.members m ON m.user_id = u.id AND m.status = 'active'
			WHERE u.id = $1`, userID, sid).Scan(&v.Email, &v.IsStaff, &disabled, &revoked, &memberID, &roles, &perms)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, fmt.Errorf("load viewer: %w", err)
	}
	if disabled != nil || revoked {
		return nil, ErrInvalidToken
	}
	if t != nil {
		if memberID == nil {
			return nil, ErrInvalidToken
		}
		v.MemberID = *memberID
		v.Roles = roles
		ps := make([]rbac.Permission, len(perms))
		for i, p := range perms {
			ps[i] = rbac.Permission(p)
		}
		v.Permissions = rbac.NewSet(ps)
	}
	return v, nil
}

// Middleware authenticates each request (after tenant resolution) and puts
// the viewer in the context. Requests without Authorization pass through
// anonymous; a bad token is answered by fail with UNAUTHENTICATED.
func (s *Service) Middleware(fail func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v, err := s.Authenticate(r.Context(), r.Header.Get("Authorization"))
			if err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				fail(w, r, err)
				return
			}
			if v != nil {
				if info := reqinfo.From(r.Context()); info != nil {
					info.SetUser(v.UserID.String())
				}
				r = r.WithContext(tenancy.WithViewer(r.Context(), v))
			}
			next.ServeHTTP(w, r)
		})
	}
}

// MetaFrom returns the client's address and user agent recorded for the
// request in ctx (for audit entries and throttling).
func MetaFrom(ctx context.Context) Meta {
	if i := reqinfo.From(ctx); i != nil {
		return Meta{IP: i.RemoteIP(), UserAgent: i.UserAgent()}
	}
	return Meta{}
}
