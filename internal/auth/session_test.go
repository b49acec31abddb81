package auth_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/audit"
	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// sessionEnv is an env with tenant acme and an owner of it.
func sessionEnv(t *testing.T, opts *envOpts) (*env, *tenancy.Tenant, *fixtureUser) {
	t.Helper()
	e := newEnv(t, opts)
	acme := e.tenant(t, "acme")
	u := e.user(t, nil)
	e.member(t, acme, u, rbac.RoleOwner)
	return e, acme, u
}

// refresh rotates tok in tn's scope.
func (e *env) refresh(t *testing.T, tn *tenancy.Tenant, tok string) (*auth.Tokens, error) {
	t.Helper()
	return e.svc.Refresh(scoped(t.Context(), tn), tok, auth.Meta{IP: "203.0.113.9", UserAgent: "session-test"})
}

// familyRevoked reports whether any token of the access token's session
// is revoked.
func (e *env) familyRevoked(t *testing.T, tokens *auth.Tokens) bool {
	t.Helper()
	claims, err := e.keys.Verify(tokens.AccessToken)
	require.NoError(t, err)
	var revoked bool
	require.NoError(t, e.pool.QueryRow(t.Context(),
		"SELECT EXISTS (SELECT 1 FROM public.refresh_tokens WHERE family_id = $1 AND revoked_at IS NOT NULL)",
		claims.SessionID).Scan(&revoked))
	return revoked
}

func TestRefresh(t *testing.T) {
	t.Parallel()

	t.Run("rotation returns a new pair in the same session and consumes the old token", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		first := e.login(t, acme, u)
		second, err := e.refresh(t, acme, first.RefreshToken)
		require.NoError(t, err)
		require.NotEqual(t, first.RefreshToken, second.RefreshToken)
		require.NotEqual(t, first.AccessToken, second.AccessToken)

		a, err := e.keys.Verify(first.AccessToken)
		require.NoError(t, err)
		b, err := e.keys.Verify(second.AccessToken)
		require.NoError(t, err)
		require.Equal(t, a.SessionID, b.SessionID)
		require.Equal(t, acme.ID.String(), b.TenantID)
		require.NotEqual(t, a.ID, b.ID)

		var consumed *time.Time
		require.NoError(t, e.pool.QueryRow(t.Context(), "SELECT consumed_at FROM public.refresh_tokens WHERE token_hash = $1",
			auth.HashOpaque(first.RefreshToken)).Scan(&consumed))
		require.NotNil(t, consumed)

		third, err := e.refresh(t, acme, second.RefreshToken)
		require.NoError(t, err)
		_, err = e.svc.Authenticate(tenancy.WithTenant(t.Context(), acme), "Bearer "+third.AccessToken)
		require.NoError(t, err)
	})

	t.Run("a retry within the grace window is refused and revokes nothing", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		first := e.login(t, acme, u)
		second, err := e.refresh(t, acme, first.RefreshToken)
		require.NoError(t, err)
		_, err = e.refresh(t, acme, first.RefreshToken)
		requireCode(t, err, apperr.CodeConflict)
		require.False(t, e.familyRevoked(t, first))
		_, err = e.refresh(t, acme, second.RefreshToken)
		require.NoError(t, err)
	})

	t.Run("reuse after the grace window revokes the whole session", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, &envOpts{ReuseGrace: time.Millisecond})
		other := e.login(t, acme, u)
		first := e.login(t, acme, u)
		second, err := e.refresh(t, acme, first.RefreshToken)
		require.NoError(t, err)
		time.Sleep(20 * time.Millisecond)

		_, err = e.refresh(t, acme, first.RefreshToken)
		requireCode(t, err, apperr.CodeUnauthenticated)
		_, err = e.refresh(t, acme, second.RefreshToken)
		requireCode(t, err, apperr.CodeUnauthenticated)
		_, err = e.svc.Authenticate(tenancy.WithTenant(t.Context(), acme), "Bearer "+second.AccessToken)
		requireInvalidToken(t, err)
		require.True(t, e.familyRevoked(t, first))
		require.Equal(t, 1, e.auditCount(t, acme, audit.TokenReuseDetected))
		var target, ip string
		require.NoError(t, e.pool.QueryRow(t.Context(), "SELECT target_id, ip FROM "+db.QuoteIdent(acme.Schema)+
			".audit_events WHERE action = $1", audit.TokenReuseDetected).Scan(&target, &ip))
		claims, _ := e.keys.Verify(first.AccessToken)
		require.Equal(t, claims.SessionID, target)
		require.Equal(t, "203.0.113.9", ip)

		// The user's other session is not the stolen one.
		_, err = e.refresh(t, acme, other.RefreshToken)
		require.NoError(t, err)
	})

	t.Run("reuse detected on the service clock revokes the session", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		first := e.login(t, acme, u)
		second, err := e.refresh(t, acme, first.RefreshToken)
		require.NoError(t, err)
		e.clock.Advance(time.Minute)
		_, err = e.refresh(t, acme, first.RefreshToken)
		requireCode(t, err, apperr.CodeUnauthenticated)
		_, err = e.refresh(t, acme, second.RefreshToken)
		requireCode(t, err, apperr.CodeUnauthenticated)
	})

	t.Run("parallel refreshes of one token yield exactly one pair and keep the session", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		first := e.login(t, acme, u)
		// More callers than pool connections (8): a refresh that needed a
		// second connection while holding the token's row lock deadlocked
		// here; the timeout turns such a regression into a failure.
		ctx, cancel := context.WithTimeout(tenancy.WithTenant(t.Context(), acme), 30*time.Second)
		defer cancel()
		const n = 10
		var wg sync.WaitGroup
		start := make(chan struct{})
		results := make([]*auth.Tokens, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i], errs[i] = e.svc.Refresh(ctx, first.RefreshToken, auth.Meta{})
			}()
		}
		close(start)
		wg.Wait()

		var winner *auth.Tokens
		for i := range n {
			if errs[i] == nil {
				require.Nil(t, winner, "a second success")
				winner = results[i]
				continue
			}
			requireCode(t, errs[i], apperr.CodeConflict)
		}
		require.NotNil(t, winner)
		require.False(t, e.familyRevoked(t, first))
		require.Zero(t, e.auditCount(t, acme, audit.TokenReuseDetected))
		var count int
		require.NoError(t, e.pool.QueryRow(t.Context(), "SELECT count(*) FROM public.refresh_tokens WHERE user_id = $1", u.ID).Scan(&count))
		require.Equal(t, 2, count, "one new token, no duplicates")
		_, err := e.refresh(t, acme, winner.RefreshToken)
		require.NoError(t, err)
	})

	t.Run("a token works only in the tenant it was issued for", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		beta := e.tenant(t, "beta")
		e.member(t, beta, u, rbac.RoleOwner)
		tokens := e.login(t, acme, u)
		_, err := e.refresh(t, beta, tokens.RefreshToken)
		requireCode(t, err, apperr.CodeUnauthenticated)
		_, err = e.refresh(t, nil, tokens.RefreshToken)
		requireCode(t, err, apperr.CodeUnauthenticated)

		staff := e.user(t, &userOpts{Staff: true})
		e.member(t, acme, staff, rbac.RoleOwner)
		platform := e.login(t, nil, staff)
		_, err = e.refresh(t, acme, platform.RefreshToken)
		requireCode(t, err, apperr.CodeUnauthenticated)

		// The refused attempts consumed nothing.
		_, err = e.refresh(t, acme, tokens.RefreshToken)
		require.NoError(t, err)
		_, err = e.refresh(t, nil, platform.RefreshToken)
		require.NoError(t, err)
	})

	t.Run("an expired token is refused", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		tokens := e.login(t, acme, u)
		e.clock.Advance(30*24*time.Hour + time.Minute)
		_, err := e.refresh(t, acme, tokens.RefreshToken)
		requireCode(t, err, apperr.CodeUnauthenticated)
	})

	t.Run("garbage, empty and oversized tokens are refused", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		tokens := e.login(t, acme, u)
		for _, tok := range []string{
			"", " ", "garbage", "\x00", strings.Repeat("a", 129), strings.Repeat("a", 1<<20),
			tokens.AccessToken, tokens.RefreshToken + "x", " " + tokens.RefreshToken, "' OR 1=1--",
		} {
			_, err := e.refresh(t, acme, tok)
			requireCode(t, err, apperr.CodeUnauthenticated)
		}
		_, err := e.refresh(t, acme, tokens.RefreshToken)
		require.NoError(t, err)
	})

	t.Run("a removed member cannot refresh", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		tokens := e.login(t, acme, u)
		_, err := e.pool.Exec(t.Context(), "DELETE FROM "+db.QuoteIdent(acme.Schema)+".members WHERE user_id = $1", u.ID)
		require.NoError(t, err)
		_, err = e.refresh(t, acme, tokens.RefreshToken)
		requireCode(t, err, apperr.CodeUnauthenticated)
	})

	t.Run("a suspended member or a disabled user cannot refresh", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		tokens := e.login(t, acme, u)
		_, err := e.pool.Exec(t.Context(), "UPDATE "+db.QuoteIdent(acme.Schema)+".members SET status = 'suspended' WHERE user_id = $1", u.ID)
		require.NoError(t, err)
		_, err = e.refresh(t, acme, tokens.RefreshToken)
		requireCode(t, err, apperr.CodeUnauthenticated)

		v := e.user(t, nil)
		e.member(t, acme, v, rbac.RoleMember)
		vt := e.login(t, acme, v)
		_, err = e.pool.Exec(t.Context(), "UPDATE public.users SET disabled_at = now() WHERE id = $1", v.ID)
		require.NoError(t, err)
		_, err = e.refresh(t, acme, vt.RefreshToken)
		requireCode(t, err, apperr.CodeUnauthenticated)
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()

	t.Run("logout revokes the viewer's session only", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		mine, other := e.login(t, acme, u), e.login(t, acme, u)
		ctx := e.viewerCtx(t, acme, mine)
		require.NoError(t, e.svc.Logout(ctx, ""))

		_, err := e.refresh(t, acme, mine.RefreshToken)
		requireCode(t, err, apperr.CodeUnauthenticated)
		_, err = e.svc.Authenticate(tenancy.WithTenant(t.Context(), acme), "Bearer "+mine.AccessToken)
		requireInvalidToken(t, err)

		require.False(t, e.familyRevoked(t, other))
		_, err = e.refresh(t, acme, other.RefreshToken)
		require.NoError(t, err)
	})

	t.Run("logout with a refresh token revokes that session too, if it is the viewer's", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		stranger := e.user(t, nil)
		e.member(t, acme, stranger, rbac.RoleMember)
		mine, second, theirs := e.login(t, acme, u), e.login(t, acme, u), e.login(t, acme, stranger)

		require.NoError(t, e.svc.Logout(e.viewerCtx(t, acme, mine), second.RefreshToken))
		require.True(t, e.familyRevoked(t, mine))
		require.True(t, e.familyRevoked(t, second))

		require.NoError(t, e.svc.Logout(e.viewerCtx(t, acme, e.login(t, acme, u)), theirs.RefreshToken))
		require.False(t, e.familyRevoked(t, theirs), "another user's session is not the viewer's to end")
	})

	t.Run("logout everywhere revokes every session of the user", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		stranger := e.user(t, nil)
		e.member(t, acme, stranger, rbac.RoleMember)
		sessions := []*auth.Tokens{e.login(t, acme, u), e.login(t, acme, u), e.login(t, acme, u)}
		theirs := e.login(t, acme, stranger)

		n, err := e.svc.LogoutAll(e.viewerCtx(t, acme, sessions[0]))
		require.NoError(t, err)
		require.Equal(t, len(sessions), n)
		for _, s := range sessions {
			_, err := e.refresh(t, acme, s.RefreshToken)
			requireCode(t, err, apperr.CodeUnauthenticated)
			_, err = e.svc.Authenticate(tenancy.WithTenant(t.Context(), acme), "Bearer "+s.AccessToken)
			requireInvalidToken(t, err)
		}
		_, err = e.refresh(t, acme, theirs.RefreshToken)
		require.NoError(t, err)
	})

	t.Run("without a viewer it is UNAUTHENTICATED", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		requireCode(t, e.svc.Logout(t.Context(), ""), apperr.CodeUnauthenticated)
		_, err := e.svc.LogoutAll(t.Context())
		requireCode(t, err, apperr.CodeUnauthenticated)
	})
}

func TestChangePassword(t *testing.T) {
	t.Parallel()

	const next = "a much better passphrase"

	t.Run("a wrong current password is a validation error on currentPassword", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		before := e.passwordHash(t, u.ID)
		err := e.svc.ChangePassword(e.viewerCtx(t, acme, e.login(t, acme, u)), "wrong password!!", next, auth.Meta{})
		ae := requireCode(t, err, apperr.CodeValidation)
		require.Contains(t, ae.Fields, "currentPassword")
		require.Equal(t, before, e.passwordHash(t, u.ID))
	})

	t.Run("the new password is validated", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		ctx := e.viewerCtx(t, acme, e.login(t, acme, u))
		for _, bad := range []string{"short", strings.ToUpper(u.Email), strings.Repeat("x", 129)} {
			ae := requireCode(t, e.svc.ChangePassword(ctx, u.Password, bad, auth.Meta{}), apperr.CodeValidation)
			require.Contains(t, ae.Fields, "newPassword")
		}
	})

	t.Run("success keeps the current session, revokes the others and the new password logs in", func(t *testing.T) {
		t.Parallel()
		e, acme, u := sessionEnv(t, nil)
		current, other := e.login(t, acme, u), e.login(t, acme, u)
		require.NoError(t, e.svc.ChangePassword(e.viewerCtx(t, acme, current), u.Password, next, auth.Meta{IP: "203.0.113.1"}))

		_, err := e.refresh(t, acme, current.RefreshToken)
		require.NoError(t, err, "the session that changed the password stays")
		_, err = e.refresh(t, acme, other.RefreshToken)
		requireCode(t, err, apperr.CodeUnauthenticated)
		_, err = e.svc.Authenticate(tenancy.WithTenant(t.Context(), acme), "Bearer "+other.AccessToken)
		requireInvalidToken(t, err)

		_, err = e.svc.Login(tenancy.WithTenant(t.Context(), acme), u.Email, u.Password, auth.Meta{})
		requireBadCredentials(t, err)
		e.login(t, acme, &fixtureUser{ID: u.ID, Email: u.Email, Password: next})
		require.Equal(t, 1, e.auditCount(t, acme, audit.PasswordChanged))
	})

	t.Run("without a viewer it is UNAUTHENTICATED", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		err := e.svc.ChangePassword(t.Context(), testPassword, next, auth.Meta{})
		requireCode(t, err, apperr.CodeUnauthenticated)
	})

	t.Run("an impersonator cannot change the password", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		ctx := tenancy.WithViewer(t.Context(), &tenancy.Viewer{UserID: uuid.New(), ImpersonatorID: uuid.New()})
		err := e.svc.ChangePassword(ctx, testPassword, next, auth.Meta{})
		requireCode(t, err, apperr.CodeForbidden)
	})
}
