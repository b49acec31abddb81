package member_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/audit"
	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/rbac"
)

func TestListMembers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("lists members oldest first with emails, names and sorted roles", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		uid, email := e.newUser(t, &userOpts{Name: "Ada Lovelace"})
		mid := e.addMember(t, tn, uid, member.StatusDisabled, rbac.RoleViewer, rbac.RoleMember)
		bare, _ := e.newUser(t, nil)
		bareID := e.addMember(t, tn, bare, member.StatusActive)

		ms, err := e.svc.ListMembers(owner.ctx)
		require.NoError(t, err)
		require.Len(t, ms, 3)
		require.Equal(t, owner.MemberID, ms[0].ID)
		require.Equal(t, owner.Email, ms[0].Email)
		require.Equal(t, []string{rbac.RoleOwner}, ms[0].Roles)
		require.Equal(t, member.Member{ID: mid, UserID: uid, Email: email, Name: "Ada Lovelace", Status: member.StatusDisabled,
			Roles: []string{rbac.RoleMember, rbac.RoleViewer}, JoinedAt: ms[1].JoinedAt, CreatedAt: ms[1].CreatedAt}, ms[1])
		require.NotNil(t, ms[1].JoinedAt)
		require.Equal(t, bareID, ms[2].ID)
		require.Equal(t, []string{}, ms[2].Roles)
		require.True(t, ms[0].CreatedAt.Before(ms[1].CreatedAt))
	})

	t.Run("GetMember returns one member", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		other := e.newMember(t, tn, rbac.RoleAdmin)

		m, err := e.svc.GetMember(owner.ctx, other.MemberID)
		require.NoError(t, err)
		require.Equal(t, other.UserID, m.UserID)
		require.Equal(t, other.Email, m.Email)
		require.Equal(t, member.StatusActive, m.Status)
		require.Equal(t, []string{rbac.RoleAdmin}, m.Roles)
	})

	t.Run("an unknown member is NOT_FOUND", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		_, err := e.svc.GetMember(owner.ctx, uuid.New())
		requireCode(t, err, apperr.CodeNotFound)
	})
}

func TestSetMemberRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("replaces the roles, audits the change and revokes the member's sessions", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		target := e.newMember(t, tn, rbac.RoleViewer)
		e.newSession(t, target.UserID)
		e.newSession(t, owner.UserID)

		m, err := e.svc.SetMemberRoles(owner.ctx, target.MemberID, []string{" member ", rbac.RoleAdmin, rbac.RoleMember}, meta)
		require.NoError(t, err)
		require.Equal(t, []string{rbac.RoleAdmin, rbac.RoleMember}, m.Roles)
		require.Equal(t, []string{rbac.RoleAdmin, rbac.RoleMember}, e.memberRoles(t, tn, target.MemberID))
		require.Zero(t, e.liveSessions(t, target.UserID))
		require.Equal(t, 1, e.liveSessions(t, owner.UserID), "only the member's sessions are revoked")

		a := e.requireAudit(t, tn, audit.MemberRolesChanged, "member", target.MemberID, owner.UserID)
		require.Nil(t, a.ImpersonatorID)
		require.Equal(t, []any{rbac.RoleAdmin, rbac.RoleMember}, a.Metadata["added"])
		require.Equal(t, []any{rbac.RoleViewer}, a.Metadata["removed"])
	})

	t.Run("an unchanged role set writes nothing and keeps sessions", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		target := e.newMember(t, tn, rbac.RoleMember)
		e.newSession(t, target.UserID)
		before := e.snapshot(t, tn)

		m, err := e.svc.SetMemberRoles(owner.ctx, target.MemberID, []string{rbac.RoleMember}, meta)
		require.NoError(t, err)
		require.Equal(t, []string{rbac.RoleMember}, m.Roles)
		require.Equal(t, before, e.snapshot(t, tn))
		require.Equal(t, 1, e.liveSessions(t, target.UserID))
	})

	t.Run("unknown roles are a VALIDATION_ERROR on roles naming them, and nothing changes", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		target := e.newMember(t, tn, rbac.RoleMember)
		before := e.snapshot(t, tn)

		_, err := e.svc.SetMemberRoles(owner.ctx, target.MemberID, []string{rbac.RoleAdmin, "ghost", "phantom"}, meta)
		ae := requireCode(t, err, apperr.CodeValidation)
		require.Contains(t, ae.Fields["roles"][0], "ghost")
		require.Contains(t, ae.Fields["roles"][0], "phantom")
		require.Equal(t, before, e.snapshot(t, tn))
	})

	t.Run("an empty role list is a VALIDATION_ERROR on roles", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		target := e.newMember(t, tn, rbac.RoleMember)

		_, err := e.svc.SetMemberRoles(owner.ctx, target.MemberID, []string{" "}, meta)
		ae := requireCode(t, err, apperr.CodeValidation)
		require.Contains(t, ae.Fields, "roles")
	})

	t.Run("an admin cannot grant the owner role", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		e.newMember(t, tn, rbac.RoleOwner)
		admin := e.newMember(t, tn, rbac.RoleAdmin)
		target := e.newMember(t, tn, rbac.RoleMember)
		before := e.snapshot(t, tn)

		_, err := e.svc.SetMemberRoles(admin.ctx, target.MemberID, []string{rbac.RoleOwner}, meta)
		requireCode(t, err, apperr.CodeForbidden)
		_, err = e.svc.SetMemberRoles(admin.ctx, admin.MemberID, []string{rbac.RoleAdmin, rbac.RoleOwner}, meta)
		requireCode(t, err, apperr.CodeForbidden)
		require.Equal(t, before, e.snapshot(t, tn))
	})

	t.Run("an admin cannot take the owner role away", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		e.newMember(t, tn, rbac.RoleOwner)
		other := e.newMember(t, tn, rbac.RoleOwner)
		admin := e.newMember(t, tn, rbac.RoleAdmin)
		before := e.snapshot(t, tn)

		_, err := e.svc.SetMemberRoles(admin.ctx, other.MemberID, []string{rbac.RoleAdmin}, meta)
		requireCode(t, err, apperr.CodeForbidden)
		require.Equal(t, before, e.snapshot(t, tn))
	})

	t.Run("an owner grants and takes the owner role", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		target := e.newMember(t, tn, rbac.RoleAdmin)

		m, err := e.svc.SetMemberRoles(owner.ctx, target.MemberID, []string{rbac.RoleOwner}, meta)
		require.NoError(t, err)
		require.Equal(t, []string{rbac.RoleOwner}, m.Roles)
		m, err = e.svc.SetMemberRoles(owner.ctx, target.MemberID, []string{rbac.RoleMember}, meta)
		require.NoError(t, err)
		require.Equal(t, []string{rbac.RoleMember}, m.Roles)
		require.Len(t, e.audits(t, tn, audit.MemberRolesChanged), 2)
	})

	t.Run("a viewer whose owner role was taken meanwhile cannot grant it", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		e.newMember(t, tn, rbac.RoleOwner)
		stale := e.newMember(t, tn, rbac.RoleOwner, rbac.RoleAdmin) // ctx still says owner
		_, err := e.pool.Exec(t.Context(), `DELETE FROM `+quote(tn)+`.member_roles WHERE member_id = $1 AND role_id = $2`,
			stale.MemberID, e.roleID(t, tn, rbac.RoleOwner))
		require.NoError(t, err)
		target := e.newMember(t, tn, rbac.RoleMember)

		_, err = e.svc.SetMemberRoles(stale.ctx, target.MemberID, []string{rbac.RoleOwner}, meta)
		requireCode(t, err, apperr.CodeForbidden)
	})

	t.Run("the last owner cannot lose the owner role", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		e.newMember(t, tn, rbac.RoleAdmin)
		before := e.snapshot(t, tn)

		_, err := e.svc.SetMemberRoles(owner.ctx, owner.MemberID, []string{rbac.RoleAdmin}, meta)
		ae := requireCode(t, err, apperr.CodeConflict)
		require.Contains(t, ae.Message, "last owner")
		require.Equal(t, before, e.snapshot(t, tn))
	})

	t.Run("a disabled or account-disabled second owner does not count as an owner", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		off, _ := e.newUser(t, nil)
		e.addMember(t, tn, off, member.StatusDisabled, rbac.RoleOwner)
		locked, _ := e.newUser(t, &userOpts{Disabled: true})
		e.addMember(t, tn, locked, member.StatusActive, rbac.RoleOwner)

		_, err := e.svc.SetMemberRoles(owner.ctx, owner.MemberID, []string{rbac.RoleAdmin}, meta)
		requireCode(t, err, apperr.CodeConflict)
	})

	t.Run("an owner steps down when another owner remains", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		e.newMember(t, tn, rbac.RoleOwner)

		m, err := e.svc.SetMemberRoles(owner.ctx, owner.MemberID, []string{rbac.RoleAdmin}, meta)
		require.NoError(t, err)
		require.Equal(t, []string{rbac.RoleAdmin}, m.Roles)
		require.Equal(t, 1, e.activeOwners(t, tn))
	})

	t.Run("granting a role with permissions the viewer lacks is FORBIDDEN", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		_, err := e.svc.CreateRole(owner.ctx, "billing", "", []string{string(rbac.BillingManage)}, meta)
		require.NoError(t, err)
		admin := e.newMember(t, tn, rbac.RoleAdmin)
		before := e.snapshot(t, tn)

		_, err = e.svc.SetMemberRoles(admin.ctx, admin.MemberID, []string{rbac.RoleAdmin, "billing"}, meta)
		requireCode(t, err, apperr.CodeForbidden)
		require.Equal(t, before, e.snapshot(t, tn))
	})

	t.Run("an impersonated change records the impersonator", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		target := e.newMember(t, tn, rbac.RoleViewer)
		staff := uuid.New()
		ctx := impersonated(owner.ctx, staff)

		_, err := e.svc.SetMemberRoles(ctx, target.MemberID, []string{rbac.RoleMember}, meta)
		require.NoError(t, err)
		a := e.requireAudit(t, tn, audit.MemberRolesChanged, "member", target.MemberID, owner.UserID)
		require.NotNil(t, a.ImpersonatorID)
		require.Equal(t, staff, *a.ImpersonatorID)
	})
}

func TestSetMemberStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("disabling audits and revokes the member's sessions; enabling restores", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		admin := e.newMember(t, tn, rbac.RoleAdmin)
		e.newMember(t, tn, rbac.RoleOwner)
		target := e.newMember(t, tn, rbac.RoleMember)
		e.newSession(t, target.UserID)

		m, err := e.svc.SetMemberStatus(admin.ctx, target.MemberID, member.StatusDisabled, meta)
		require.NoError(t, err)
		require.Equal(t, member.StatusDisabled, m.Status)
		require.Zero(t, e.liveSessions(t, target.UserID))
		a := e.requireAudit(t, tn, audit.MemberStatusChanged, "member", target.MemberID, admin.UserID)
		require.Equal(t, "disabled", a.Metadata["to"])

		e.newSession(t, target.UserID)
		m, err = e.svc.SetMemberStatus(admin.ctx, target.MemberID, member.StatusActive, meta)
		require.NoError(t, err)
		require.Equal(t, member.StatusActive, m.Status)
		require.Equal(t, []string{rbac.RoleMember}, m.Roles, "roles survive disabling")
		require.Equal(t, 1, e.liveSessions(t, target.UserID), "enabling revokes nothing")
		require.Len(t, e.audits(t, tn, audit.MemberStatusChanged), 2)
	})

	t.Run("setting the current status changes nothing", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		target := e.newMember(t, tn, rbac.RoleMember)
		before := e.snapshot(t, tn)

		_, err := e.svc.SetMemberStatus(owner.ctx, target.MemberID, member.StatusActive, meta)
		require.NoError(t, err)
		require.Equal(t, before, e.snapshot(t, tn))
	})

	t.Run("an unknown status is a VALIDATION_ERROR on status", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		target := e.newMember(t, tn, rbac.RoleMember)

		_, err := e.svc.SetMemberStatus(owner.ctx, target.MemberID, "banned", meta)
		ae := requireCode(t, err, apperr.CodeValidation)
		require.Contains(t, ae.Fields, "status")
	})

	t.Run("the last active owner cannot be disabled", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		before := e.snapshot(t, tn)

		_, err := e.svc.SetMemberStatus(owner.ctx, owner.MemberID, member.StatusDisabled, meta)
		ae := requireCode(t, err, apperr.CodeConflict)
		require.Contains(t, ae.Message, "last owner")
		require.Equal(t, before, e.snapshot(t, tn))
	})

	t.Run("an owner disables another owner", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		other := e.newMember(t, tn, rbac.RoleOwner)

		_, err := e.svc.SetMemberStatus(owner.ctx, other.MemberID, member.StatusDisabled, meta)
		require.NoError(t, err)
		require.Equal(t, 1, e.activeOwners(t, tn))
	})

	t.Run("an admin cannot disable an owner", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		e.newMember(t, tn, rbac.RoleOwner)
		other := e.newMember(t, tn, rbac.RoleOwner)
		admin := e.newMember(t, tn, rbac.RoleAdmin)
		before := e.snapshot(t, tn)

		_, err := e.svc.SetMemberStatus(admin.ctx, other.MemberID, member.StatusDisabled, meta)
		requireCode(t, err, apperr.CodeForbidden)
		require.Equal(t, before, e.snapshot(t, tn))
	})
}

func TestRemoveMember(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("deletes the membership and its roles, audits and revokes sessions", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		target := e.newMember(t, tn, rbac.RoleMember, rbac.RoleViewer)
		e.newSession(t, target.UserID)

		require.NoError(t, e.svc.RemoveMember(owner.ctx, target.MemberID, meta))
		_, err := e.svc.GetMember(owner.ctx, target.MemberID)
		requireCode(t, err, apperr.CodeNotFound)
		require.Empty(t, e.memberRoles(t, tn, target.MemberID))
		require.Zero(t, e.liveSessions(t, target.UserID))
		var users int
		require.NoError(t, e.pool.QueryRow(t.Context(), `SELECT count(*) FROM public.users WHERE id = $1`, target.UserID).Scan(&users))
		require.Equal(t, 1, users, "the account outlives the membership")
		a := e.requireAudit(t, tn, audit.MemberRemoved, "member", target.MemberID, owner.UserID)
		require.Equal(t, target.UserID.String(), a.Metadata["user_id"])

		err = e.svc.RemoveMember(owner.ctx, target.MemberID, meta)
		requireCode(t, err, apperr.CodeNotFound)
	})

	t.Run("the last owner cannot be removed, not even by themselves", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		before := e.snapshot(t, tn)

		err := e.svc.RemoveMember(owner.ctx, owner.MemberID, meta)
		ae := requireCode(t, err, apperr.CodeConflict)
		require.Contains(t, ae.Message, "last owner")
		require.Equal(t, before, e.snapshot(t, tn))
	})

	t.Run("a member with members.manage may leave", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		e.newMember(t, tn, rbac.RoleOwner)
		admin := e.newMember(t, tn, rbac.RoleAdmin)

		require.NoError(t, e.svc.RemoveMember(admin.ctx, admin.MemberID, meta))
		a := e.requireAudit(t, tn, audit.MemberRemoved, "member", admin.MemberID, admin.UserID)
		require.Equal(t, true, a.Metadata["self"])
	})

	t.Run("an owner leaves when another owner remains", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		e.newMember(t, tn, rbac.RoleOwner)

		require.NoError(t, e.svc.RemoveMember(owner.ctx, owner.MemberID, meta))
		require.Equal(t, 1, e.activeOwners(t, tn))
	})

	t.Run("an admin cannot remove an owner", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		e.newMember(t, tn, rbac.RoleOwner)
		other := e.newMember(t, tn, rbac.RoleOwner)
		admin := e.newMember(t, tn, rbac.RoleAdmin)
		before := e.snapshot(t, tn)

		requireCode(t, e.svc.RemoveMember(admin.ctx, other.MemberID, meta), apperr.CodeForbidden)
		require.Equal(t, before, e.snapshot(t, tn))
	})
}
