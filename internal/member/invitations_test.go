package member_test

import (
	"crypto/sha256"
	"errors"
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

// storedInvitation is an invitations row as stored.
type storedInvitation struct {
	Email, Role          string
	TokenHash            []byte
	InvitedBy            *uuid.UUID
	AcceptedAt, Revoked  *time.Time
	CreatedAt, ExpiresAt time.Time
}

func (e *env) storedInvitation(t *testing.T, tn *tenancy.Tenant, id uuid.UUID) storedInvitation {
	t.Helper()
	var s storedInvitation
	require.NoError(t, e.pool.QueryRow(t.Context(), `SELECT email, role, token_hash, invited_by, accepted_at, revoked_at, created_at, expires_at
		FROM `+quote(tn)+`.invitations WHERE id = $1`, id).
		Scan(&s.Email, &s.Role, &s.TokenHash, &s.InvitedBy, &s.AcceptedAt, &s.Revoked, &s.CreatedAt, &s.ExpiresAt))
	return s
}

func TestInvite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("stores only the token hash and hands the raw token to the notifier", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		uid, _ := e.newUser(t, &userOpts{Name: "Grace Hopper"})
		e.addMember(t, tn, uid, member.StatusActive, rbac.RoleAdmin)
		ctx := e.as(t, tn, uid)
		email := newEmail()

		inv, err := e.svc.Invite(ctx, "  "+strings.ToUpper(email)+" ", rbac.RoleMember, meta)
		require.NoError(t, err)
		require.Equal(t, email, inv.Email, "the address is normalized")
		require.Equal(t, rbac.RoleMember, inv.Role)
		require.Equal(t, member.InvitationPending, inv.Status)
		require.Equal(t, uid, inv.InvitedBy)
		require.Equal(t, e.clock.Now().Add(7*24*time.Hour), inv.ExpiresAt)

		sent := e.notes.lastTo(t, email)
		require.Equal(t, member.InvitationEmail{InvitationID: inv.ID, To: email, TenantName: tn.Name, TenantSlug: tn.Slug,
			Role: rbac.RoleMember, InviterName: "Grace Hopper", Token: sent.Token, ExpiresAt: inv.ExpiresAt}, sent)
		require.GreaterOrEqual(t, len(sent.Token), 40)

		row := e.storedInvitation(t, tn, inv.ID)
		sum := sha256.Sum256([]byte(sent.Token))
		require.Equal(t, sum[:], row.TokenHash)
		require.NotContains(t, string(row.TokenHash), sent.Token)
		require.Equal(t, uid, *row.InvitedBy)

		a := e.requireAudit(t, tn, audit.MemberInvited, "invitation", inv.ID, uid)
		require.Equal(t, email, a.Metadata["email"])
		require.Equal(t, rbac.RoleMember, a.Metadata["role"])
	})

	t.Run("an invalid email or a missing role is a VALIDATION_ERROR naming the fields", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		before := e.snapshot(t, tn)

		_, err := e.svc.Invite(owner.ctx, "not an email", "", meta)
		ae := requireCode(t, err, apperr.CodeValidation)
		require.Contains(t, ae.Fields, "email")
		require.Contains(t, ae.Fields, "role")
		require.Equal(t, before, e.snapshot(t, tn))
	})

	t.Run("an unknown role is a VALIDATION_ERROR on role", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)

		_, err := e.svc.Invite(owner.ctx, newEmail(), "ghost", meta)
		ae := requireCode(t, err, apperr.CodeValidation)
		require.Contains(t, ae.Fields, "role")
	})

	t.Run("inviting to the owner role takes an owner", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		admin := e.newMember(t, tn, rbac.RoleAdmin)
		before := e.snapshot(t, tn)

		_, err := e.svc.Invite(admin.ctx, newEmail(), rbac.RoleOwner, meta)
		requireCode(t, err, apperr.CodeForbidden)
		require.Equal(t, before, e.snapshot(t, tn))

		inv, err := e.svc.Invite(owner.ctx, newEmail(), rbac.RoleOwner, meta)
		require.NoError(t, err)
		require.Equal(t, rbac.RoleOwner, inv.Role)
	})

	t.Run("inviting to a role with permissions the viewer lacks is FORBIDDEN", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		_, err := e.svc.CreateRole(owner.ctx, "finance", "", []string{string(rbac.BillingManage)}, meta)
		require.NoError(t, err)
		admin := e.newMember(t, tn, rbac.RoleAdmin)

		_, err = e.svc.Invite(admin.ctx, newEmail(), "finance", meta)
		requireCode(t, err, apperr.CodeForbidden)
	})

	t.Run("an active member is a CONFLICT on email", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		existing := e.newMember(t, tn, rbac.RoleViewer)
		before := e.snapshot(t, tn)

		_, err := e.svc.Invite(owner.ctx, strings.ToUpper(existing.Email), rbac.RoleMember, meta)
		ae := requireCode(t, err, apperr.CodeConflict)
		require.Contains(t, ae.Fields, "email")
		require.Equal(t, before, e.snapshot(t, tn))
		require.Empty(t, e.notes.to(existing.Email))
	})

	t.Run("a disabled member is a CONFLICT on email: enable them instead", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		uid, email := e.newUser(t, nil)
		e.addMember(t, tn, uid, member.StatusDisabled, rbac.RoleViewer)

		_, err := e.svc.Invite(owner.ctx, email, rbac.RoleMember, meta)
		ae := requireCode(t, err, apperr.CodeConflict)
		require.Contains(t, ae.Fields, "email")
	})

	t.Run("a user who is a member of another tenant only can be invited", func(t *testing.T) {
		t.Parallel()
		tn, other := e.newTenant(t), e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		elsewhere := e.newMember(t, other, rbac.RoleOwner)

		_, err := e.svc.Invite(owner.ctx, elsewhere.Email, rbac.RoleMember, meta)
		require.NoError(t, err)
	})

	t.Run("a new invitation revokes and replaces the pending one for the same email", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		email := newEmail()

		first, err := e.svc.Invite(owner.ctx, email, rbac.RoleViewer, meta)
		require.NoError(t, err)
		firstToken := e.notes.lastTo(t, email).Token
		second, err := e.svc.Invite(owner.ctx, email, rbac.RoleMember, meta)
		require.NoError(t, err)
		require.NotEqual(t, first.ID, second.ID)

		require.NotNil(t, e.storedInvitation(t, tn, first.ID).Revoked)
		require.Nil(t, e.storedInvitation(t, tn, second.ID).Revoked)
		a := e.requireAudit(t, tn, audit.InvitationRevoked, "invitation", first.ID, owner.UserID)
		require.Equal(t, "replaced", a.Metadata["reason"])

		_, err = e.svc.AcceptInvitation(anonymous(tn), firstToken, member.AcceptInput{Password: "correct horse battery"}, meta)
		requireCode(t, err, apperr.CodeValidation)
	})

	t.Run("a failing notifier leaves no invitation", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		email := newEmail()
		e.notes.failFor(email, errors.New("mail queue down"))
		before := e.snapshot(t, tn)

		_, err := e.svc.Invite(owner.ctx, email, rbac.RoleMember, meta)
		require.Error(t, err)
		require.Equal(t, before, e.snapshot(t, tn))
	})
}

func TestListInvitations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant(t)
	owner := e.newMember(t, tn, rbac.RoleOwner)

	expired, err := e.svc.Invite(owner.ctx, newEmail(), rbac.RoleMember, meta)
	require.NoError(t, err)
	_, err = e.pool.Exec(t.Context(), `UPDATE `+quote(tn)+`.invitations SET expires_at = $2 WHERE id = $1`,
		expired.ID, e.clock.Now().Add(-time.Minute))
	require.NoError(t, err)
	revoked, err := e.svc.Invite(owner.ctx, newEmail(), rbac.RoleMember, meta)
	require.NoError(t, err)
	_, err = e.svc.RevokeInvitation(owner.ctx, revoked.ID, meta)
	require.NoError(t, err)
	accepted, err := e.svc.Invite(owner.ctx, newEmail(), rbac.RoleMember, meta)
	require.NoError(t, err)
	_, err = e.svc.AcceptInvitation(anonymous(tn), e.notes.lastTo(t, accepted.Email).Token,
		member.AcceptInput{Password: "correct horse battery"}, meta)
	require.NoError(t, err)
	pending, err := e.svc.Invite(owner.ctx, newEmail(), rbac.RoleViewer, meta)
	require.NoError(t, err)

	t.Run("lists every invitation with its status, pending first", func(t *testing.T) {
		t.Parallel()
		invs, err := e.svc.ListInvitations(owner.ctx)
		require.NoError(t, err)
		require.Len(t, invs, 4)
		require.Equal(t, pending.ID, invs[0].ID)
		status := map[uuid.UUID]string{}
		for _, inv := range invs {
			status[inv.ID] = inv.Status
		}
		require.Equal(t, map[uuid.UUID]string{
			pending.ID: member.InvitationPending, accepted.ID: member.InvitationAccepted,
			revoked.ID: member.InvitationRevoked, expired.ID: member.InvitationExpired,
		}, status)
	})
}

func TestRevokeInvitation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("revokes, audits, and the token stops working", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		inv, err := e.svc.Invite(owner.ctx, newEmail(), rbac.RoleMember, meta)
		require.NoError(t, err)

		got, err := e.svc.RevokeInvitation(owner.ctx, inv.ID, meta)
		require.NoError(t, err)
		require.Equal(t, member.InvitationRevoked, got.Status)
		require.NotNil(t, got.RevokedAt)
		e.requireAudit(t, tn, audit.InvitationRevoked, "invitation", inv.ID, owner.UserID)

		_, err = e.svc.AcceptInvitation(anonymous(tn), e.notes.lastTo(t, inv.Email).Token,
			member.AcceptInput{Password: "correct horse battery"}, meta)
		ae := requireCode(t, err, apperr.CodeValidation)
		require.Equal(t, "invalid or expired invitation", ae.Message)
	})

	t.Run("revoking twice is a CONFLICT", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		inv, err := e.svc.Invite(owner.ctx, newEmail(), rbac.RoleMember, meta)
		require.NoError(t, err)
		_, err = e.svc.RevokeInvitation(owner.ctx, inv.ID, meta)
		require.NoError(t, err)
		before := e.snapshot(t, tn)

		_, err = e.svc.RevokeInvitation(owner.ctx, inv.ID, meta)
		requireCode(t, err, apperr.CodeConflict)
		require.Equal(t, before, e.snapshot(t, tn))
	})

	t.Run("revoking an accepted invitation is a CONFLICT", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		inv, err := e.svc.Invite(owner.ctx, newEmail(), rbac.RoleMember, meta)
		require.NoError(t, err)
		_, err = e.svc.AcceptInvitation(anonymous(tn), e.notes.lastTo(t, inv.Email).Token,
			member.AcceptInput{Password: "correct horse battery"}, meta)
		require.NoError(t, err)

		_, err = e.svc.RevokeInvitation(owner.ctx, inv.ID, meta)
		requireCode(t, err, apperr.CodeConflict)
	})

	t.Run("an unknown invitation is NOT_FOUND", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		_, err := e.svc.RevokeInvitation(owner.ctx, uuid.New(), meta)
		requireCode(t, err, apperr.CodeNotFound)
	})
}
