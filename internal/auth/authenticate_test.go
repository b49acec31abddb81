package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// builtinSet returns the permission set of a built-in role.
func builtinSet(t *testing.T, name string) rbac.Set {
	t.Helper()
	r, ok := rbac.BuiltinRole(name)
	require.True(t, ok)
	return rbac.NewSet(r.Permissions)
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()

	t.Run("no header is anonymous", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		v, err := e.svc.Authenticate(t.Context(), "")
		require.NoError(t, err)
		require.Nil(t, v)
	})

	t.Run("anything but a bearer token is invalid", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		tokens := e.login(t, acme, u)
		ctx := tenancy.WithTenant(t.Context(), acme)
		for _, header := range []string{
			"Basic x", "Basic " + tokens.AccessToken, "Bearer", "Bearer ", "Bearer garbage", "Token " + tokens.AccessToken,
			tokens.AccessToken, "Bearer " + tokens.RefreshToken, "Bearer " + strings.Repeat(".", 1<<20),
			"Bearer " + tokens.AccessToken + strings.Repeat(" ", auth.MaxTokenBytes),
		} {
			v, err := e.svc.Authenticate(ctx, header)
			requireInvalidToken(t, err)
			require.Nil(t, v)
		}
		v, err := e.svc.Authenticate(ctx, "bearer "+tokens.AccessToken)
		require.NoError(t, err, "the scheme is case-insensitive")
		require.Equal(t, u.ID, v.UserID)
	})

	t.Run("a valid token gives the member's roles and permissions", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		tokens := e.login(t, acme, u)
		claims, err := e.keys.Verify(tokens.AccessToken)
		require.NoError(t, err)

		v, err := e.svc.Authenticate(tenancy.WithTenant(t.Context(), acme), "Bearer "+tokens.AccessToken)
		require.NoError(t, err)
		require.Equal(t, u.ID, v.UserID)
		require.Equal(t, u.Email, v.Email)
		require.False(t, v.IsStaff)
		require.NotEqual(t, uuid.Nil, v.MemberID)
		require.Equal(t, []string{rbac.RoleOwner}, v.Roles)
		require.Equal(t, builtinSet(t, rbac.RoleOwner), v.Permissions)
		require.Equal(t, claims.SessionID, v.SessionID.String())
		require.Equal(t, uuid.Nil, v.ImpersonatorID)
	})

	t.Run("a demotion counts on the next request", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		tokens := e.login(t, acme, u)
		ctx := tenancy.WithTenant(t.Context(), acme)
		v, err := e.svc.Authenticate(ctx, "Bearer "+tokens.AccessToken)
		require.NoError(t, err)
		require.True(t, v.Can(rbac.TenantManage))

		q := db.QuoteIdent(acme.Schema)
		_, err = e.pool.Exec(t.Context(), `DELETE FROM `+q+`.member_roles WHERE member_id = $1`, v.MemberID)
		require.NoError(t, err)
		_, err = e.pool.Exec(t.Context(), `INSERT INTO `+q+`.member_roles (member_id, role_id)
			SELECT $1, id FROM `+q+`.roles WHERE name = $2`, v.MemberID, rbac.RoleViewer)
		require.NoError(t, err)

		v, err = e.svc.Authenticate(ctx, "Bearer "+tokens.AccessToken)
		require.NoError(t, err)
		require.Equal(t, []string{rbac.RoleViewer}, v.Roles)
		require.Equal(t, builtinSet(t, rbac.RoleViewer), v.Permissions)
		require.False(t, v.Can(rbac.TenantManage))
	})

	t.Run("a disabled user, a removed member or a suspended member is refused", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		ctx := tenancy.WithTenant(t.Context(), acme)
		q := db.QuoteIdent(acme.Schema)
		for _, change := range []string{
			"UPDATE public.users SET disabled_at = now() WHERE id = $1",
			"DELETE FROM " + q + ".members WHERE user_id = $1",
			"UPDATE " + q + ".members SET status = 'suspended' WHERE user_id = $1",
		} {
			other := e.user(t, nil)
			e.member(t, acme, other, rbac.RoleMember)
			tokens := e.login(t, acme, other)
			_, err := e.svc.Authenticate(ctx, "Bearer "+tokens.AccessToken)
			require.NoError(t, err)
			_, err = e.pool.Exec(t.Context(), change, other.ID)
			require.NoError(t, err)
			_, err = e.svc.Authenticate(ctx, "Bearer "+tokens.AccessToken)
			requireInvalidToken(t, err)
		}
		_, err := e.svc.Authenticate(ctx, "Bearer "+e.login(t, acme, u).AccessToken)
		require.NoError(t, err, "the others are untouched")
	})

	t.Run("a token of one tenant is refused in another, even for a member of both", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		beta := e.tenant(t, "beta")
		e.member(t, beta, u, rbac.RoleOwner)
		tokens := e.login(t, acme, u)
		_, err := e.keys.Verify(tokens.AccessToken)
		require.NoError(t, err, "the token itself is fine")

		v, err := e.svc.Authenticate(tenancy.WithTenant(t.Context(), beta), "Bearer "+tokens.AccessToken)
		requireInvalidToken(t, err)
		require.Nil(t, v)
		// A forged tenant with acme's schema but another id changes nothing.
		forged := &tenancy.Tenant{ID: beta.ID, Slug: acme.Slug, Schema: acme.Schema, Status: tenancy.StatusActive}
		_, err = e.svc.Authenticate(tenancy.WithTenant(t.Context(), forged), "Bearer "+tokens.AccessToken)
		requireInvalidToken(t, err)
	})

	t.Run("a platform token is refused in a tenant and a tenant token on the platform", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		staff := e.user(t, &userOpts{Staff: true})
		e.member(t, acme, staff, rbac.RoleOwner)
		platform := e.login(t, nil, staff)

		_, err := e.svc.Authenticate(tenancy.WithTenant(t.Context(), acme), "Bearer "+platform.AccessToken)
		requireInvalidToken(t, err)
		v, err := e.svc.Authenticate(t.Context(), "Bearer "+platform.AccessToken)
		require.NoError(t, err)
		require.True(t, v.IsStaff)
		require.Equal(t, uuid.Nil, v.MemberID)
		require.Empty(t, v.Permissions)

		_, err = e.svc.Authenticate(t.Context(), "Bearer "+e.login(t, acme, u).AccessToken)
		requireInvalidToken(t, err)
	})

	t.Run("a token for a user who does not exist is refused", func(t *testing.T) {
		t.Parallel()
		e, acme, _ := sessionEnv(t, nil)
		raw, _, err := e.keys.Issue(auth.AccessInput{UserID: uuid.New(), TenantID: acme.ID, SessionID: uuid.New()})
		require.NoError(t, err)
		_, err = e.svc.Authenticate(tenancy.WithTenant(t.Context(), acme), "Bearer "+raw)
		requireInvalidToken(t, err)
	})
}

func TestMiddleware(t *testing.T) {
	t.Parallel()

	// serve runs one request through the middleware in tn's scope and
	// reports the viewer next saw and the error fail got.
	serve := func(t *testing.T, e *env, tn *tenancy.Tenant, header string) (*httptest.ResponseRecorder, *tenancy.Viewer, bool, error) {
		t.Helper()
		var seen *tenancy.Viewer
		var reached bool
		var failed error
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reached = true
			seen, _ = tenancy.ViewerFrom(r.Context())
			w.WriteHeader(http.StatusNoContent)
		})
		fail := func(w http.ResponseWriter, r *http.Request, err error) {
			failed = err
			w.WriteHeader(http.StatusUnauthorized)
		}
		req := httptest.NewRequestWithContext(scoped(context.Background(), tn), http.MethodGet, "/api/v1/me", nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		rec := httptest.NewRecorder()
		e.svc.Middleware(fail)(next).ServeHTTP(rec, req)
		return rec, seen, reached, failed
	}

	t.Run("a request without a token passes through anonymous", func(t *testing.T) {
		t.Parallel()
		e, acme, _ := sessionEnv(t, nil)
		rec, v, reached, failed := serve(t, e, acme, "")
		require.True(t, reached)
		require.Nil(t, v)
		require.NoError(t, failed)
		require.Empty(t, rec.Header().Get("WWW-Authenticate"))
	})

	t.Run("a valid token puts the viewer in the context", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		_, v, reached, failed := serve(t, e, acme, "Bearer "+e.login(t, acme, u).AccessToken)
		require.NoError(t, failed)
		require.True(t, reached)
		require.NotNil(t, v)
		require.Equal(t, u.ID, v.UserID)
		require.True(t, v.Can(rbac.TenantManage))
	})

	t.Run("a bad token is answered by fail with WWW-Authenticate", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		beta := e.tenant(t, "beta")
		for _, c := range []struct {
			tn     *tenancy.Tenant
			header string
		}{
			{acme, "Basic x"},
			{acme, "Bearer garbage"},
			{beta, "Bearer " + e.login(t, acme, u).AccessToken},
		} {
			rec, _, reached, failed := serve(t, e, c.tn, c.header)
			require.False(t, reached)
			requireInvalidToken(t, failed)
			require.Equal(t, apperr.CodeUnauthenticated, apperr.CodeOf(failed))
			require.Equal(t, http.StatusUnauthorized, rec.Code)
			require.Equal(t, `Bearer error="invalid_token"`, rec.Header().Get("WWW-Authenticate"))
		}
	})
}
