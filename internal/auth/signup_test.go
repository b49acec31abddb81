package auth_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// countUsers counts users with email.
func (e *env) countUsers(t *testing.T, email string) int {
	t.Helper()
	var n int
	require.NoError(t, e.pool.QueryRow(t.Context(), "SELECT count(*) FROM public.users WHERE email = $1", email).Scan(&n))
	return n
}

func TestSignup(t *testing.T) {
	t.Parallel()

	t.Run("without a tenant it creates the user and no session", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		res, err := e.svc.Signup(t.Context(), auth.SignupInput{Email: "  New.User@Example.COM ", Password: testPassword,
			Name: " New User ", Locale: "fr-ca"}, auth.Meta{})
		require.NoError(t, err)
		require.Equal(t, "new.user@example.com", res.User.Email)
		require.Equal(t, "New User", res.User.Name)
		require.Equal(t, "fr-CA", res.User.Locale)
		require.Nil(t, res.Tenant)
		require.Nil(t, res.Tokens)

		require.Equal(t, 1, e.countUsers(t, "new.user@example.com"))
		require.Contains(t, e.passwordHash(t, res.User.ID), "$argon2id$")
		var sessions int
		require.NoError(t, e.pool.QueryRow(t.Context(), "SELECT count(*) FROM public.refresh_tokens WHERE user_id = $1", res.User.ID).Scan(&sessions))
		require.Zero(t, sessions)
	})

	t.Run("with a tenant it provisions it with the user as owner and signs in", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		res, err := e.svc.Signup(t.Context(), auth.SignupInput{Email: "owner@example.com", Password: testPassword,
			TenantSlug: "acme", TenantName: " Acme Inc "}, auth.Meta{IP: "203.0.113.20"})
		require.NoError(t, err)
		require.NotNil(t, res.Tenant)
		require.Equal(t, "acme", res.Tenant.Slug)
		require.Equal(t, "Acme Inc", res.Tenant.Name)
		require.NotNil(t, res.Tokens)

		var status string
		var roles []string
		require.NoError(t, e.pool.QueryRow(t.Context(), `SELECT m.status, array_agg(r.name)
			FROM `+db.QuoteIdent(res.Tenant.Schema)+`.members m
			JOIN `+db.QuoteIdent(res.Tenant.Schema)+`.member_roles mr ON mr.member_id = m.id
			JOIN `+db.QuoteIdent(res.Tenant.Schema)+`.roles r ON r.id = mr.role_id
			WHERE m.user_id = $1 GROUP BY m.status`, res.User.ID).Scan(&status, &roles))
		require.Equal(t, "active", status)
		require.Equal(t, []string{rbac.RoleOwner}, roles)

		claims, err := e.keys.Verify(res.Tokens.AccessToken)
		require.NoError(t, err)
		require.Equal(t, res.Tenant.ID.String(), claims.TenantID)
		require.Equal(t, res.User.ID.String(), claims.Subject)
		v, err := e.svc.Authenticate(tenancy.WithTenant(t.Context(), res.Tenant), "Bearer "+res.Tokens.AccessToken)
		require.NoError(t, err)
		require.True(t, v.Can(rbac.TenantManage))
		_, err = e.refresh(t, res.Tenant, res.Tokens.RefreshToken)
		require.NoError(t, err)
		require.Equal(t, 1, e.auditCount(t, res.Tenant, "tenant.created"))
	})

	t.Run("a taken email is a conflict on email", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		e.user(t, &userOpts{Email: "taken@example.com"})
		for _, in := range []auth.SignupInput{
			{Email: "Taken@Example.com", Password: testPassword},
			{Email: "taken@example.com", Password: testPassword, TenantSlug: "fresh", TenantName: "Fresh"},
		} {
			_, err := e.svc.Signup(t.Context(), in, auth.Meta{})
			ae := requireCode(t, err, apperr.CodeConflict)
			require.Contains(t, ae.Fields, "email")
		}
		require.Equal(t, 1, e.countUsers(t, "taken@example.com"))
		var tenants int
		require.NoError(t, e.pool.QueryRow(t.Context(), "SELECT count(*) FROM public.tenants").Scan(&tenants))
		require.Zero(t, tenants, "no tenant without its owner")
	})

	t.Run("a taken slug is a conflict on tenantSlug and creates no user", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		e.tenant(t, "acme")
		_, err := e.svc.Signup(t.Context(), auth.SignupInput{Email: "second@example.com", Password: testPassword,
			TenantSlug: "acme", TenantName: "Another Acme"}, auth.Meta{})
		ae := requireCode(t, err, apperr.CodeConflict)
		require.Contains(t, ae.Fields, "tenantSlug")
		require.NotContains(t, ae.Fields, "slug")
		require.Zero(t, e.countUsers(t, "second@example.com"))

		// The address is still free.
		_, err = e.svc.Signup(t.Context(), auth.SignupInput{Email: "second@example.com", Password: testPassword,
			TenantSlug: "acme-two", TenantName: "Another Acme"}, auth.Meta{})
		require.NoError(t, err)
	})

	t.Run("invalid fields are all listed", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		_, err := e.svc.Signup(t.Context(), auth.SignupInput{Email: "not-an-email", Password: "short",
			TenantSlug: "Bad Slug!", TenantName: "Bad"}, auth.Meta{})
		ae := requireCode(t, err, apperr.CodeValidation)
		require.Contains(t, ae.Fields, "email")
		require.Contains(t, ae.Fields, "password")
		require.Contains(t, ae.Fields, "tenantSlug")

		for _, c := range []struct {
			in    auth.SignupInput
			field string
		}{
			{auth.SignupInput{Email: "a@example.com", Password: "a@example.com"}, "password"},
			{auth.SignupInput{Email: "b@example.com", Password: testPassword, TenantName: "No Slug"}, "tenantSlug"},
			{auth.SignupInput{Email: "c@example.com", Password: testPassword, TenantSlug: "no-name"}, "tenantName"},
			{auth.SignupInput{Email: "d@example.com", Password: testPassword, TenantSlug: "admin", TenantName: "Reserved"}, "tenantSlug"},
			{auth.SignupInput{Email: "e@example.com", Password: testPassword, Locale: "not a locale!"}, "locale"},
		} {
			_, err := e.svc.Signup(t.Context(), c.in, auth.Meta{})
			ae := requireCode(t, err, apperr.CodeValidation)
			require.Contains(t, ae.Fields, c.field, "%+v", c.in)
		}
		var users int
		require.NoError(t, e.pool.QueryRow(t.Context(), "SELECT count(*) FROM public.users").Scan(&users))
		require.Zero(t, users)
	})

	t.Run("a tenant's host refuses signup", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		acme := e.tenant(t, "acme")
		_, err := e.svc.Signup(tenancy.WithTenant(t.Context(), acme), auth.SignupInput{Email: "x@example.com", Password: testPassword},
			auth.Meta{})
		requireCode(t, err, apperr.CodeForbidden)
		require.Zero(t, e.countUsers(t, "x@example.com"))
	})

	t.Run("one address is limited to SignupsPerIPPerHour", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		meta := auth.Meta{IP: "198.51.100.77"}
		for i := range auth.SignupsPerIPPerHour {
			_, err := e.svc.Signup(t.Context(), auth.SignupInput{Email: fmt.Sprintf("bulk-%d@example.com", i), Password: testPassword}, meta)
			require.NoError(t, err)
		}
		_, err := e.svc.Signup(t.Context(), auth.SignupInput{Email: "one-more@example.com", Password: testPassword}, meta)
		ae := requireCode(t, err, apperr.CodeRateLimited)
		require.NotEmpty(t, ae.Fields["retry_after_seconds"])
		require.Zero(t, e.countUsers(t, "one-more@example.com"))

		_, err = e.svc.Signup(t.Context(), auth.SignupInput{Email: "one-more@example.com", Password: testPassword},
			auth.Meta{IP: "198.51.100.78"})
		require.NoError(t, err, "another address is not limited")
	})
}
