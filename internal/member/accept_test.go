package member_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/audit"
	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
)

const goodPassword = "correct horse battery"

// invited invites email (a new address when empty) to tn with role and
// returns the invitation and its raw token.
func (e *env) invited(t *testing.T, tn *tenancy.Tenant, by *actor, email, role string) (*member.Invitation, string) {
	t.Helper()
	if email == "" {
		email = newEmail()
	}
	inv, err := e.svc.Invite(by.ctx, email, role, meta)
	require.NoError(t, err)
	return inv, e.notes.lastTo(t, inv.Email).Token
}

// storedUser is a public user as stored.
type storedUser struct {
	ID            uuid.UUID
	Name          string
	Hash          *string
	EmailVerified *time.Time
}

func (e *env) userByEmail(t *testing.T, email string) (storedUser, bool) {
	t.Helper()
	var u storedUser
	err := e.pool.QueryRow(t.Context(), `SELECT id, name, password_hash, email_verified_at FROM public.users WHERE email = $1`, email).
		Scan(&u.ID, &u.Name, &u.Hash, &u.EmailVerified)
	if err != nil {
		return u, false
	}
	return u, true
}

func TestAcceptInvitation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("creates a verified account and an active membership with the invited role", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		inv, token := e.invited(t, tn, owner, "", rbac.RoleMember)

		res, err := e.svc.AcceptInvitation(anonymous(tn), token, member.AcceptInput{Password: goodPassword, Name: " Alan Turing "}, meta)
		require.NoError(t, err)
		require.True(t, res.UserCreated)
		require.Equal(t, rbac.RoleMember, res.Role)

		u, ok := e.userByEmail(t, inv.Email)
		require.True(t, ok)
		require.Equal(t, res.UserID, u.ID)
		require.Equal(t, "Alan Turing", u.Name)
		require.NotNil(t, u.EmailVerified, "the token proved the mailbox")
		require.NotNil(t, u.Hash)
		okPw, _, err := e.hasher.Verify(t.Context(), goodPassword, *u.Hash)
		require.NoError(t, err)
		require.True(t, okPw)

		m, err := e.svc.GetMember(owner.ctx, res.MemberID)
		require.NoError(t, err)
		require.Equal(t, res.UserID, m.UserID)
		require.Equal(t, member.StatusActive, m.Status)
		require.Equal(t, []string{rbac.RoleMember}, m.Roles)
		require.NotNil(t, m.JoinedAt)

		require.NotNil(t, e.storedInvitation(t, tn, inv.ID).AcceptedAt)
		a := e.requireAudit(t, tn, audit.InvitationAccepted, "invitation", inv.ID, res.UserID)
		require.Equal(t, res.MemberID.String(), a.Metadata["member_id"])
		require.Equal(t, true, a.Metadata["user_created"])
	})

	t.Run("a new account's password must follow the rules, and the invitation stays usable", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		inv, token := e.invited(t, tn, owner, "", rbac.RoleMember)

		for _, pw := range []string{"", "short", strings.Repeat("x", 129), inv.Email, strings.ToUpper(inv.Email)} {
			_, err := e.svc.AcceptInvitation(anonymous(tn), token, member.AcceptInput{Password: pw}, meta)
			ae := requireCode(t, err, apperr.CodeValidation)
			require.Contains(t, ae.Fields, "password", "password %q", pw)
		}
		_, exists := e.userByEmail(t, inv.Email)
		require.False(t, exists)
		require.Nil(t, e.storedInvitation(t, tn, inv.ID).AcceptedAt)

		_, err := e.svc.AcceptInvitation(anonymous(tn), token, member.AcceptInput{Password: goodPassword}, meta)
		require.NoError(t, err)
	})

	t.Run("an existing account joins with its password", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		uid, email := e.newUser(t, &userOpts{Password: goodPassword, Name: "Existing"})
		inv, token := e.invited(t, tn, owner, email, rbac.RoleAdmin)

		res, err := e.svc.AcceptInvitation(anonymous(tn), token, member.AcceptInput{Password: goodPassword, Name: "Ignored"}, meta)
		require.NoError(t, err)
		require.False(t, res.UserCreated)
		require.Equal(t, uid, res.UserID)
		u, _ := e.userByEmail(t, email)
		require.Equal(t, "Existing", u.Name, "an existing account's name is not changed")
		require.NotNil(t, u.EmailVerified)
		require.Equal(t, []string{rbac.RoleAdmin}, e.memberRoles(t, tn, res.MemberID))
		a := e.requireAudit(t, tn, audit.InvitationAccepted, "invitation", inv.ID, uid)
		require.Equal(t, false, a.Metadata["user_created"])
	})

	t.Run("an existing account with a wrong or missing password is UNAUTHENTICATED and nothing changes", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		_, email := e.newUser(t, &userOpts{Password: goodPassword})
		inv, token := e.invited(t, tn, owner, email, rbac.RoleMember)
		before := e.snapshot(t, tn)

		_, err := e.svc.AcceptInvitation(anonymous(tn), token, member.AcceptInput{Password: "wrong password here"}, meta)
		wrong := requireCode(t, err, apperr.CodeUnauthenticated)
		_, err = e.svc.AcceptInvitation(anonymous(tn), token, member.AcceptInput{}, meta)
		missing := requireCode(t, err, apperr.CodeUnauthenticated)
		require.Equal(t, wrong.Message, missing.Message, "one generic answer")
		require.Equal(t, before, e.snapshot(t, tn))
		require.Nil(t, e.storedInvitation(t, tn, inv.ID).AcceptedAt)
	})

	t.Run("a disabled account cannot accept, with the same answer as a wrong password", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		_, email := e.newUser(t, &userOpts{Password: goodPassword, Disabled: true})
		_, token := e.invited(t, tn, owner, email, rbac.RoleMember)

		_, err := e.svc.AcceptInvitation(anonymous(tn), token, member.AcceptInput{Password: goodPassword}, meta)
		requireCode(t, err, apperr.CodeUnauthenticated)
	})

	t.Run("the account signed in as itself needs no password", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		uid, email := e.newUser(t, &userOpts{Password: goodPassword})
		_, token := e.invited(t, tn, owner, email, rbac.RoleViewer)

		res, err := e.svc.AcceptInvitation(e.as(t, tn, uid), token, member.AcceptInput{}, meta)
		require.NoError(t, err)
		require.Equal(t, uid, res.UserID)
	})

	t.Run("another signed-in account or an impersonator still needs the password", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		uid, email := e.newUser(t, &userOpts{Password: goodPassword})
		_, token := e.invited(t, tn, owner, email, rbac.RoleViewer)

		_, err := e.svc.AcceptInvitation(owner.ctx, token, member.AcceptInput{}, meta)
		requireCode(t, err, apperr.CodeUnauthenticated)
		_, err = e.svc.AcceptInvitation(impersonated(e.as(t, tn, uid), uuid.New()), token, member.AcceptInput{}, meta)
		requireCode(t, err, apperr.CodeUnauthenticated)
	})

	t.Run("an invitation works once", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		_, token := e.invited(t, tn, owner, "", rbac.RoleMember)

		_, err := e.svc.AcceptInvitation(anonymous(tn), token, member.AcceptInput{Password: goodPassword}, meta)
		require.NoError(t, err)
		_, err = e.svc.AcceptInvitation(anonymous(tn), token, member.AcceptInput{Password: goodPassword}, meta)
		ae := requireCode(t, err, apperr.CodeValidation)
		require.Equal(t, "invalid or expired invitation", ae.Message)
		require.Len(t, e.audits(t, tn, audit.InvitationAccepted), 1)
	})

	t.Run("two concurrent acceptances of one invitation: exactly one succeeds", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		_, token := e.invited(t, tn, owner, "", rbac.RoleMember)

		accept := func() error {
			_, err := e.svc.AcceptInvitation(anonymous(tn), token, member.AcceptInput{Password: goodPassword}, meta)
			return err
		}
		errs := concurrently(accept, accept)
		require.True(t, (errs[0] == nil) != (errs[1] == nil), "exactly one succeeds: %v", errs)
		require.Len(t, e.audits(t, tn, audit.InvitationAccepted), 1)
	})

	t.Run("an expired invitation fails with the same answer", func(t *testing.T) {
		t.Parallel()
		// Its own clock: moving the shared one would expire other tests' invitations.
		e := newEnv(t)
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		inv, token := e.invited(t, tn, owner, "", rbac.RoleMember)

		e.clock.Advance(7*24*time.Hour + time.Second)
		_, err := e.svc.AcceptInvitation(anonymous(tn), token, member.AcceptInput{Password: goodPassword}, meta)
		ae := requireCode(t, err, apperr.CodeValidation)
		require.Equal(t, "invalid or expired invitation", ae.Message)
		require.Nil(t, e.storedInvitation(t, tn, inv.ID).AcceptedAt)
		_, exists := e.userByEmail(t, inv.Email)
		require.False(t, exists)
	})

	t.Run("a token of another tenant fails there and stays usable at home", func(t *testing.T) {
		t.Parallel()
		home, away := e.newTenant(t), e.newTenant(t)
		owner := e.newMember(t, home, rbac.RoleOwner)
		e.newMember(t, away, rbac.RoleOwner)
		inv, token := e.invited(t, home, owner, "", rbac.RoleMember)
		before := e.snapshot(t, away)

		_, err := e.svc.AcceptInvitation(anonymous(away), token, member.AcceptInput{Password: goodPassword}, meta)
		ae := requireCode(t, err, apperr.CodeValidation)
		require.Equal(t, "invalid or expired invitation", ae.Message)
		require.Equal(t, before, e.snapshot(t, away))
		require.Nil(t, e.storedInvitation(t, home, inv.ID).AcceptedAt)

		_, err = e.svc.AcceptInvitation(anonymous(home), token, member.AcceptInput{Password: goodPassword}, meta)
		require.NoError(t, err)
	})

	t.Run("garbage tokens fail with the same answer", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		for _, tok := range []string{"", "nope", strings.Repeat("a", 500)} {
			_, err := e.svc.AcceptInvitation(anonymous(tn), tok, member.AcceptInput{Password: goodPassword}, meta)
			ae := requireCode(t, err, apperr.CodeValidation)
			require.Equal(t, "invalid or expired invitation", ae.Message)
		}
	})

	t.Run("a member who joined meanwhile gains the invited role", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		uid, email := e.newUser(t, &userOpts{Password: goodPassword})
		_, token := e.invited(t, tn, owner, email, rbac.RoleAdmin)
		mid := e.addMember(t, tn, uid, member.StatusActive, rbac.RoleViewer)

		res, err := e.svc.AcceptInvitation(anonymous(tn), token, member.AcceptInput{Password: goodPassword}, meta)
		require.NoError(t, err)
		require.Equal(t, mid, res.MemberID)
		require.Equal(t, []string{rbac.RoleAdmin, rbac.RoleViewer}, e.memberRoles(t, tn, mid))
	})

	t.Run("a member disabled meanwhile is not re-enabled by an old invitation", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		uid, email := e.newUser(t, &userOpts{Password: goodPassword})
		inv, token := e.invited(t, tn, owner, email, rbac.RoleAdmin)
		e.addMember(t, tn, uid, member.StatusDisabled, rbac.RoleViewer)
		before := e.snapshot(t, tn)

		_, err := e.svc.AcceptInvitation(anonymous(tn), token, member.AcceptInput{Password: goodPassword}, meta)
		requireCode(t, err, apperr.CodeForbidden)
		require.Equal(t, before, e.snapshot(t, tn))
		require.Nil(t, e.storedInvitation(t, tn, inv.ID).AcceptedAt)
	})

	t.Run("without a tenant it is TENANT_NOT_FOUND", func(t *testing.T) {
		t.Parallel()
		_, err := e.svc.AcceptInvitation(context.Background(), "whatever", member.AcceptInput{Password: goodPassword}, meta)
		requireCode(t, err, apperr.CodeTenantNotFound)
	})
}
