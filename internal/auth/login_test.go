package auth_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
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

// requireBadCredentials requires the one answer to every failed login, so
// nothing tells an unknown account from a wrong password.
func requireBadCredentials(t *testing.T, err error) {
	t.Helper()
	ae := requireCode(t, err, apperr.CodeUnauthenticated)
	require.Equal(t, "invalid email or password", ae.Message)
	require.Empty(t, ae.Fields)
}

func TestLogin(t *testing.T) {
	t.Parallel()

	t.Run("a tenant member gets tokens for that tenant", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		acme := e.tenant(t, "acme")
		u := e.user(t, nil)
		e.member(t, acme, u, rbac.RoleMember)

		tokens := e.login(t, acme, u)
		require.WithinDuration(t, time.Now().Add(15*time.Minute), tokens.ExpiresAt, time.Minute)
		require.WithinDuration(t, time.Now().Add(30*24*time.Hour), tokens.RefreshExpiresAt, time.Minute)
		claims, err := e.keys.Verify(tokens.AccessToken)
		require.NoError(t, err)
		require.Equal(t, u.ID.String(), claims.Subject)
		require.Equal(t, acme.ID.String(), claims.TenantID)

		// The refresh token is stored hashed, for this tenant and session.
		var tenantID, family uuid.UUID
		require.NoError(t, e.pool.QueryRow(t.Context(),
			"SELECT tenant_id, family_id FROM public.refresh_tokens WHERE token_hash = $1", auth.HashOpaque(tokens.RefreshToken)).
			Scan(&tenantID, &family))
		require.Equal(t, acme.ID, tenantID)
		require.Equal(t, claims.SessionID, family.String())
		var raw int
		require.NoError(t, e.pool.QueryRow(t.Context(),
			"SELECT count(*) FROM public.refresh_tokens WHERE position(convert_to($1, 'UTF8') in token_hash) > 0",
			tokens.RefreshToken).Scan(&raw))
		require.Zero(t, raw, "no raw refresh token in the database")
	})

	t.Run("a non-member gets the same answer as a wrong password", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		acme, beta := e.tenant(t, "acme"), e.tenant(t, "beta")
		outsider := e.user(t, nil)
		e.member(t, beta, outsider, rbac.RoleOwner)
		insider := e.user(t, nil)
		e.member(t, acme, insider, rbac.RoleMember)

		_, nonMember := e.svc.Login(tenancy.WithTenant(t.Context(), acme), outsider.Email, outsider.Password, auth.Meta{})
		requireBadCredentials(t, nonMember)
		_, wrong := e.svc.Login(tenancy.WithTenant(t.Context(), acme), insider.Email, "wrong password!!", auth.Meta{})
		requireBadCredentials(t, wrong)
		require.Equal(t, apperr.As(wrong).Error(), apperr.As(nonMember).Error())
	})

	t.Run("the platform admits staff only, with a token without a tenant", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		acme := e.tenant(t, "acme")
		owner := e.user(t, nil)
		e.member(t, acme, owner, rbac.RoleOwner)
		_, err := e.svc.Login(t.Context(), owner.Email, owner.Password, auth.Meta{})
		requireBadCredentials(t, err)

		staff := e.user(t, nil)
		_, err = e.pool.Exec(t.Context(), "UPDATE public.users SET is_staff = true WHERE id = $1", staff.ID)
		require.NoError(t, err)
		tokens := e.login(t, nil, staff)
		claims, err := e.keys.Verify(tokens.AccessToken)
		require.NoError(t, err)
		require.Equal(t, staff.ID.String(), claims.Subject)
		require.Empty(t, claims.TenantID)
		var tenantID *uuid.UUID
		require.NoError(t, e.pool.QueryRow(t.Context(), "SELECT tenant_id FROM public.refresh_tokens WHERE token_hash = $1",
			auth.HashOpaque(tokens.RefreshToken)).Scan(&tenantID))
		require.Nil(t, tenantID)

		_, err = e.svc.Login(tenancy.WithTenant(t.Context(), acme), staff.Email, staff.Password, auth.Meta{})
		requireBadCredentials(t, err) // staff have no implicit access to tenants
	})

	t.Run("a disabled user is refused", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		acme := e.tenant(t, "acme")
		u := e.user(t, &userOpts{Disabled: true})
		e.member(t, acme, u, rbac.RoleOwner)
		_, err := e.svc.Login(tenancy.WithTenant(t.Context(), acme), u.Email, u.Password, auth.Meta{})
		requireBadCredentials(t, err)
		staff := e.user(t, &userOpts{Disabled: true, Staff: true})
		_, err = e.svc.Login(t.Context(), staff.Email, staff.Password, auth.Meta{})
		requireBadCredentials(t, err)
	})

	t.Run("an unknown or malformed email is refused", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		acme := e.tenant(t, "acme")
		ctx := tenancy.WithTenant(t.Context(), acme)
		for _, email := range []string{"nobody@example.com", "not-an-email", "", strings.Repeat("a", 300) + "@example.com"} {
			_, err := e.svc.Login(ctx, email, testPassword, auth.Meta{})
			requireBadCredentials(t, err)
		}
	})

	t.Run("an oversized password is refused like a wrong one", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		acme := e.tenant(t, "acme")
		u := e.user(t, nil)
		e.member(t, acme, u, rbac.RoleOwner)
		_, err := e.svc.Login(tenancy.WithTenant(t.Context(), acme), u.Email, strings.Repeat("p", 1<<20), auth.Meta{})
		requireBadCredentials(t, err)
	})

	t.Run("emails are case-insensitive", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		acme := e.tenant(t, "acme")
		u := e.user(t, &userOpts{Email: "jane.doe@example.com"})
		e.member(t, acme, u, rbac.RoleOwner)
		for _, email := range []string{"Jane.Doe@Example.COM", "  JANE.DOE@EXAMPLE.COM "} {
			_, err := e.svc.Login(tenancy.WithTenant(t.Context(), acme), email, u.Password, auth.Meta{})
			require.NoError(t, err, email)
		}
	})

	t.Run("logins and failures are audited in the tenant", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		acme, beta := e.tenant(t, "acme"), e.tenant(t, "beta")
		u := e.user(t, nil)
		e.member(t, acme, u, rbac.RoleOwner)
		ctx := tenancy.WithTenant(t.Context(), acme)
		meta := auth.Meta{IP: "203.0.113.5", UserAgent: "login-test/1.0"}

		_, err := e.svc.Login(ctx, u.Email, u.Password, meta)
		require.NoError(t, err)
		_, err = e.svc.Login(ctx, u.Email, "wrong password!!", meta)
		requireBadCredentials(t, err)
		_, err = e.svc.Login(ctx, "nobody@example.com", "wrong password!!", meta)
		requireBadCredentials(t, err)

		require.Equal(t, 1, e.auditCount(t, acme, audit.LoginSucceeded))
		require.Equal(t, 2, e.auditCount(t, acme, audit.LoginFailed))
		require.Zero(t, e.auditCount(t, beta, audit.LoginSucceeded)+e.auditCount(t, beta, audit.LoginFailed))

		var actor uuid.UUID
		var ip, ua string
		require.NoError(t, e.pool.QueryRow(t.Context(), "SELECT actor_id, ip, user_agent FROM "+db.QuoteIdent(acme.Schema)+
			".audit_events WHERE action = $1", audit.LoginSucceeded).Scan(&actor, &ip, &ua))
		require.Equal(t, []string{u.ID.String(), meta.IP, meta.UserAgent}, []string{actor.String(), ip, ua})
		var targets []string
		require.NoError(t, e.pool.QueryRow(t.Context(), "SELECT array_agg(target_id ORDER BY target_id) FROM "+
			db.QuoteIdent(acme.Schema)+".audit_events WHERE action = $1", audit.LoginFailed).Scan(&targets))
		require.ElementsMatch(t, []string{u.ID.String(), "nobody@example.com"}, targets)
	})

	t.Run("a hash with old parameters is upgraded on a successful login", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		acme := e.tenant(t, "acme")
		old := auth.NewHasher(auth.Argon2Params{Memory: 512, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
		oldHash, err := old.Hash(t.Context(), testPassword)
		require.NoError(t, err)
		u := e.user(t, &userOpts{Hash: oldHash})
		e.member(t, acme, u, rbac.RoleOwner)

		_, err = e.svc.Login(tenancy.WithTenant(t.Context(), acme), u.Email, "wrong password!!", auth.Meta{})
		requireBadCredentials(t, err)
		require.Equal(t, oldHash, e.passwordHash(t, u.ID), "a failed login changes nothing")

		e.login(t, acme, u)
		upgraded := e.passwordHash(t, u.ID)
		require.NotEqual(t, oldHash, upgraded)
		require.Contains(t, upgraded, fmt.Sprintf("$m=%d,t=%d,p=%d$", cheapArgon2.Memory, cheapArgon2.Time, cheapArgon2.Threads))

		e.login(t, acme, u)
		require.Equal(t, upgraded, e.passwordHash(t, u.ID), "a current hash is kept")
	})

	t.Run("ten failures lock that account only, even against the right password", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		acme := e.tenant(t, "acme")
		victim, other := e.user(t, nil), e.user(t, nil)
		e.member(t, acme, victim, rbac.RoleOwner)
		e.member(t, acme, other, rbac.RoleOwner)
		ctx := tenancy.WithTenant(t.Context(), acme)

		for i := range auth.AccountFailureLimit {
			_, err := e.svc.Login(ctx, victim.Email, fmt.Sprintf("wrong password %d", i), auth.Meta{})
			requireBadCredentials(t, err)
		}
		for _, pw := range []string{victim.Password, "wrong password!!"} {
			_, err := e.svc.Login(ctx, strings.ToUpper(victim.Email), pw, auth.Meta{})
			ae := requireCode(t, err, apperr.CodeRateLimited)
			require.Len(t, ae.Fields["retry_after_seconds"], 1)
			secs, err := strconv.Atoi(ae.Fields["retry_after_seconds"][0])
			require.NoError(t, err)
			require.Greater(t, secs, 0)
			require.LessOrEqual(t, time.Duration(secs)*time.Second, auth.AccountWindow)
		}
		e.login(t, acme, other)

		// The lock ends with the window.
		e.clock.Advance(auth.AccountWindow + time.Minute)
		e.login(t, acme, victim)
	})

	t.Run("one address is limited to IPAttemptLimit attempts", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		staff := e.user(t, &userOpts{Staff: true})
		flood := auth.Meta{IP: "198.51.100.9"}
		for i := range auth.IPAttemptLimit {
			_, err := e.svc.Login(t.Context(), fmt.Sprintf("guess-%d@example.com", i), "wrong password!!", flood)
			requireBadCredentials(t, err)
		}
		_, err := e.svc.Login(t.Context(), staff.Email, staff.Password, flood)
		ae := requireCode(t, err, apperr.CodeRateLimited)
		require.NotEmpty(t, ae.Fields["retry_after_seconds"])

		_, err = e.svc.Login(t.Context(), staff.Email, staff.Password, auth.Meta{IP: "198.51.100.10"})
		require.NoError(t, err, "another address is not limited")
	})
}

// Not parallel: it measures this process's CPU time, which the package's
// other tests would add to.
func TestLoginEnumerationTiming(t *testing.T) {

	// The real parameters: the dummy hash for unknown accounts must cost
	// what a real verification costs.
	e := newEnv(t, &envOpts{Hasher: auth.NewHasher(auth.DefaultArgon2, 0)})
	acme := e.tenant(t, "acme")
	hash, err := e.hasher.Hash(t.Context(), testPassword)
	require.NoError(t, err)
	require.Contains(t, hash, "$m=19456,t=2,p=1$")
	// Enough known accounts that no one of them reaches the failure limit
	// over every attempt (3 × 15 wrong passwords).
	known := make([]*fixtureUser, 8)
	for i := range known {
		known[i] = e.user(t, &userOpts{Hash: hash})
		e.member(t, acme, known[i], rbac.RoleMember)
	}
	ctx := tenancy.WithTenant(t.Context(), acme)
	var unknownN, knownN atomic.Int32
	unknown := func() {
		n := unknownN.Add(1)
		_, err := e.svc.Login(ctx, fmt.Sprintf("nobody-%d@example.com", n), "wrong password!!", auth.Meta{})
		requireBadCredentials(t, err)
	}
	wrongPassword := func() {
		u := known[int(knownN.Add(1))%len(known)]
		_, err := e.svc.Login(ctx, u.Email, "wrong password!!", auth.Meta{})
		requireBadCredentials(t, err)
	}
	requireComparableTimes(t, 16, 5, 0.10, unknown, wrongPassword)
}
