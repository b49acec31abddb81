package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// resetToken requests a reset for u and returns the one token mailed.
func (e *env) resetToken(t *testing.T, u *fixtureUser) string {
	t.Helper()
	before := len(e.notes.Sent(auth.PurposePasswordReset, u.Email))
	require.NoError(t, e.svc.RequestPasswordReset(t.Context(), u.Email))
	sent := e.notes.Sent(auth.PurposePasswordReset, u.Email)
	require.Len(t, sent, before+1)
	return sent[len(sent)-1].Token
}

// verificationToken requests a verification link as u and returns its token.
func (e *env) verificationToken(t *testing.T, u *fixtureUser) string {
	t.Helper()
	ctx := tenancy.WithViewer(t.Context(), &tenancy.Viewer{UserID: u.ID, Email: u.Email})
	require.NoError(t, e.svc.RequestEmailVerification(ctx))
	sent := e.notes.Sent(auth.PurposeEmailVerification, u.Email)
	require.NotEmpty(t, sent)
	return sent[len(sent)-1].Token
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()

	const next = "a brand new passphrase"

	t.Run("an unknown email gets the same answer and no mail", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		require.NoError(t, e.svc.RequestPasswordReset(t.Context(), "nobody@example.com"))
		disabled := e.user(t, &userOpts{Disabled: true})
		require.NoError(t, e.svc.RequestPasswordReset(t.Context(), disabled.Email))
		require.Empty(t, e.notes.Sent(auth.PurposePasswordReset, "nobody@example.com"))
		require.Empty(t, e.notes.Sent(auth.PurposePasswordReset, disabled.Email))
	})

	t.Run("a user gets one token by mail, stored hashed with the mail in one transaction", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		u := e.user(t, &userOpts{Email: "jane@example.com"})
		require.NoError(t, e.svc.RequestPasswordReset(t.Context(), "  Jane@Example.com "))
		sent := e.notes.Sent(auth.PurposePasswordReset, u.Email)
		require.Len(t, sent, 1)
		require.True(t, sent[0].InTx)
		require.Equal(t, u.ID, sent[0].To.UserID)
		require.GreaterOrEqual(t, len(sent[0].Token), 43, "256 random bits")

		var purpose string
		var expires time.Time
		require.NoError(t, e.pool.QueryRow(t.Context(),
			"SELECT purpose, expires_at FROM public.user_tokens WHERE token_hash = $1 AND user_id = $2",
			auth.HashOpaque(sent[0].Token), u.ID).Scan(&purpose, &expires))
		require.Equal(t, auth.PurposePasswordReset, purpose)
		require.WithinDuration(t, time.Now().Add(time.Hour), expires, time.Minute)
	})

	t.Run("more than three requests an hour send three mails", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		u := e.user(t, nil)
		for range auth.ResetRequestsPerHour + 3 {
			require.NoError(t, e.svc.RequestPasswordReset(t.Context(), u.Email))
		}
		require.Len(t, e.notes.Sent(auth.PurposePasswordReset, u.Email), auth.ResetRequestsPerHour)
	})

	t.Run("a token resets the password once and ends every session", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		acme := e.tenant(t, "acme")
		u := e.user(t, nil)
		e.member(t, acme, u, rbac.RoleOwner)
		session := e.login(t, acme, u)
		token := e.resetToken(t, u)

		require.NoError(t, e.svc.ResetPassword(t.Context(), token, next))
		ae := requireCode(t, e.svc.ResetPassword(t.Context(), token, "yet another passphrase"), apperr.CodeValidation)
		require.Equal(t, "this link is invalid or has expired", ae.Message)

		_, err := e.svc.Login(tenancy.WithTenant(t.Context(), acme), u.Email, u.Password, auth.Meta{})
		requireBadCredentials(t, err)
		e.login(t, acme, &fixtureUser{ID: u.ID, Email: u.Email, Password: next})

		_, err = e.refresh(t, acme, session.RefreshToken)
		requireCode(t, err, apperr.CodeUnauthenticated)
		_, err = e.svc.Authenticate(tenancy.WithTenant(t.Context(), acme), "Bearer "+session.AccessToken)
		requireInvalidToken(t, err)

		user, err := e.svc.UserByID(t.Context(), u.ID)
		require.NoError(t, err)
		require.NotNil(t, user.EmailVerifiedAt, "a reset proves the mailbox")
	})

	t.Run("an expired token is refused", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		u := e.user(t, nil)
		token := e.resetToken(t, u)
		e.clock.Advance(61 * time.Minute)
		requireCode(t, e.svc.ResetPassword(t.Context(), token, next), apperr.CodeValidation)
		require.NoError(t, e.svc.ResetPassword(t.Context(), e.resetToken(t, u), next), "a fresh token works")
	})

	t.Run("a token of the other purpose is refused", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		u := e.user(t, nil)
		verification := e.verificationToken(t, u)
		requireCode(t, e.svc.ResetPassword(t.Context(), verification, next), apperr.CodeValidation)
		reset := e.resetToken(t, u)
		requireCode(t, e.svc.VerifyEmail(t.Context(), reset), apperr.CodeValidation)
		// Neither was spent by the wrong use.
		require.NoError(t, e.svc.VerifyEmail(t.Context(), verification))
		require.NoError(t, e.svc.ResetPassword(t.Context(), reset, next))
	})

	t.Run("garbage tokens are refused", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		for _, tok := range []string{"", "garbage", strings.Repeat("a", 129), strings.Repeat("a", 1<<20), "' OR 1=1--"} {
			requireCode(t, e.svc.ResetPassword(t.Context(), tok, next), apperr.CodeValidation)
			requireCode(t, e.svc.VerifyEmail(t.Context(), tok), apperr.CodeValidation)
		}
	})

	t.Run("an invalid new password leaves the token usable", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		u := e.user(t, nil)
		token := e.resetToken(t, u)
		before := e.passwordHash(t, u.ID)
		for _, bad := range []string{"short", strings.ToUpper(u.Email), strings.Repeat("p", 2000)} {
			ae := requireCode(t, e.svc.ResetPassword(t.Context(), token, bad), apperr.CodeValidation)
			require.Contains(t, ae.Fields, "password")
		}
		require.Equal(t, before, e.passwordHash(t, u.ID))
		require.NoError(t, e.svc.ResetPassword(t.Context(), token, next))
	})
}

func TestEmailVerification(t *testing.T) {
	t.Parallel()

	t.Run("a signed-in user's link marks the email verified, once", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		acme := e.tenant(t, "acme")
		u := e.user(t, nil)
		e.member(t, acme, u, rbac.RoleMember)
		ctx := e.viewerCtx(t, acme, e.login(t, acme, u))

		require.NoError(t, e.svc.RequestEmailVerification(ctx))
		sent := e.notes.Sent(auth.PurposeEmailVerification, u.Email)
		require.Len(t, sent, 1)
		require.True(t, sent[0].InTx)

		user, err := e.svc.UserByID(t.Context(), u.ID)
		require.NoError(t, err)
		require.Nil(t, user.EmailVerifiedAt)
		require.NoError(t, e.svc.VerifyEmail(t.Context(), sent[0].Token))
		user, err = e.svc.UserByID(t.Context(), u.ID)
		require.NoError(t, err)
		require.NotNil(t, user.EmailVerifiedAt)

		requireCode(t, e.svc.VerifyEmail(t.Context(), sent[0].Token), apperr.CodeValidation)
		require.NoError(t, e.svc.RequestEmailVerification(ctx))
		require.Len(t, e.notes.Sent(auth.PurposeEmailVerification, u.Email), 1, "a verified email gets no new link")
	})

	t.Run("an expired link is refused", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		u := e.user(t, nil)
		token := e.verificationToken(t, u)
		e.clock.Advance(auth.VerificationTokenTTL + time.Minute)
		requireCode(t, e.svc.VerifyEmail(t.Context(), token), apperr.CodeValidation)
	})

	t.Run("requests are limited per user", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		u := e.user(t, nil)
		for range auth.ResetRequestsPerHour {
			e.verificationToken(t, u)
		}
		ctx := tenancy.WithViewer(t.Context(), &tenancy.Viewer{UserID: u.ID})
		requireCode(t, e.svc.RequestEmailVerification(ctx), apperr.CodeRateLimited)
	})

	t.Run("without a viewer it is UNAUTHENTICATED", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		requireCode(t, e.svc.RequestEmailVerification(t.Context()), apperr.CodeUnauthenticated)
	})
}
