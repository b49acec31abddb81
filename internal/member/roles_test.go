package member_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/audit"
	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/rbac"
)

func perms(ps ...rbac.Permission) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func TestListRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("lists the built-in roles in rbac order, then custom ones, with member counts", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		e.newMember(t, tn, rbac.RoleMember)
		e.newMember(t, tn, rbac.RoleMember, rbac.RoleViewer)
		_, err := e.svc.CreateRole(owner.ctx, "analyst", "Reads analytics", perms(rbac.AnalyticsRead), meta)
		require.NoError(t, err)

		rs, err := e.svc.ListRoles(owner.ctx)
		require.NoError(t, err)
		require.Len(t, rs, len(rbac.Builtin)+1)
		for i, b := range rbac.Builtin {
			require.Equal(t, b.Name, rs[i].Name)
			require.Equal(t, b.Description, rs[i].Description)
			require.Equal(t, perms(b.Permissions...), rs[i].Permissions)
			require.True(t, rs[i].Builtin)
		}
		counts := map[string]int{}
		for _, r := range rs {
			counts[r.Name] = r.MemberCount
		}
		require.Equal(t, map[string]int{"owner": 1, "admin": 0, "member": 2, "viewer": 1, "analyst": 0}, counts)
		last := rs[len(rs)-1]
		require.Equal(t, "analyst", last.Name)
		require.False(t, last.Builtin)
		require.Equal(t, perms(rbac.AnalyticsRead), last.Permissions)
	})

	t.Run("GetRole of an unknown id is NOT_FOUND", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		_, err := e.svc.GetRole(owner.ctx, uuid.New())
		requireCode(t, err, apperr.CodeNotFound)
	})
}

func TestCreateRole(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("creates a custom role with deduplicated catalogue-ordered permissions and audits it", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)

		r, err := e.svc.CreateRole(owner.ctx, " support_team-2 ", " Helps customers ",
			perms(rbac.DataRead, rbac.ProjectsRead, rbac.DataRead), meta)
		require.NoError(t, err)
		require.Equal(t, "support_team-2", r.Name)
		require.Equal(t, "Helps customers", r.Description)
		require.Equal(t, perms(rbac.ProjectsRead, rbac.DataRead), r.Permissions)
		require.False(t, r.Builtin)
		require.Zero(t, r.MemberCount)
		got, err := e.svc.GetRole(owner.ctx, r.ID)
		require.NoError(t, err)
		require.Equal(t, r, got)
		a := e.requireAudit(t, tn, audit.RoleCreated, "role", r.ID, owner.UserID)
		require.Equal(t, "support_team-2", a.Metadata["name"])
	})

	t.Run("a bad name, a long description and unknown permissions are VALIDATION_ERRORs naming them", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		before := e.snapshot(t, tn)

		for _, name := range []string{"", "Has Caps", "dots.not.allowed", strings.Repeat("a", 65)} {
			_, err := e.svc.CreateRole(owner.ctx, name, "", nil, meta)
			ae := requireCode(t, err, apperr.CodeValidation)
			require.Contains(t, ae.Fields, "name", "name %q", name)
		}
		_, err := e.svc.CreateRole(owner.ctx, "ok", strings.Repeat("d", 501), nil, meta)
		ae := requireCode(t, err, apperr.CodeValidation)
		require.Contains(t, ae.Fields, "description")

		_, err = e.svc.CreateRole(owner.ctx, "ok", "", []string{"projects.read", "root.everything", "sudo"}, meta)
		ae = requireCode(t, err, apperr.CodeValidation)
		require.Equal(t, []string{"unknown permissions: root.everything, sudo"}, ae.Fields["permissions"])
		require.Equal(t, before, e.snapshot(t, tn))
	})

	t.Run("a built-in or taken name is a CONFLICT on name", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		_, err := e.svc.CreateRole(owner.ctx, "ops", "", nil, meta)
		require.NoError(t, err)

		for _, name := range []string{rbac.RoleOwner, rbac.RoleViewer, "ops"} {
			_, err := e.svc.CreateRole(owner.ctx, name, "", nil, meta)
			ae := requireCode(t, err, apperr.CodeConflict)
			require.Contains(t, ae.Fields, "name", "name %q", name)
		}
	})

	t.Run("permissions the viewer lacks are FORBIDDEN", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		e.newMember(t, tn, rbac.RoleOwner)
		admin := e.newMember(t, tn, rbac.RoleAdmin)
		before := e.snapshot(t, tn)

		_, err := e.svc.CreateRole(admin.ctx, "billing", "", perms(rbac.BillingRead, rbac.BillingManage), meta)
		requireCode(t, err, apperr.CodeForbidden)
		require.Equal(t, before, e.snapshot(t, tn))

		_, err = e.svc.CreateRole(admin.ctx, "billing", "", perms(rbac.BillingRead), meta)
		require.NoError(t, err)
	})
}

func TestUpdateRole(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("changes permissions, audits and revokes the holders' sessions", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		r, err := e.svc.CreateRole(owner.ctx, "editor", "", perms(rbac.ProjectsRead), meta)
		require.NoError(t, err)
		holder := e.newMember(t, tn, "editor")
		bystander := e.newMember(t, tn, rbac.RoleMember)
		e.newSession(t, holder.UserID)
		e.newSession(t, bystander.UserID)

		got, err := e.svc.UpdateRole(owner.ctx, r.ID, member.RoleUpdate{Permissions: ptr(perms(rbac.ProjectsWrite, rbac.ProjectsRead))}, meta)
		require.NoError(t, err)
		require.Equal(t, perms(rbac.ProjectsRead, rbac.ProjectsWrite), got.Permissions)
		require.Equal(t, 1, got.MemberCount)
		require.Zero(t, e.liveSessions(t, holder.UserID))
		require.Equal(t, 1, e.liveSessions(t, bystander.UserID))
		a := e.requireAudit(t, tn, audit.RoleUpdated, "role", r.ID, owner.UserID)
		require.Equal(t, []any{string(rbac.ProjectsWrite)}, a.Metadata["permissions_added"])
	})

	t.Run("renaming carries pending invitations along; description alone keeps sessions", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		r, err := e.svc.CreateRole(owner.ctx, "editor", "", perms(rbac.ProjectsRead), meta)
		require.NoError(t, err)
		holder := e.newMember(t, tn, "editor")
		e.newSession(t, holder.UserID)
		inv, token := e.invited(t, tn, owner, "", "editor")

		got, err := e.svc.UpdateRole(owner.ctx, r.ID, member.RoleUpdate{Name: ptr("writer"), Description: ptr("Writes")}, meta)
		require.NoError(t, err)
		require.Equal(t, "writer", got.Name)
		require.Equal(t, "Writes", got.Description)
		require.Equal(t, perms(rbac.ProjectsRead), got.Permissions)
		require.Equal(t, 1, e.liveSessions(t, holder.UserID))
		require.Equal(t, "writer", e.storedInvitation(t, tn, inv.ID).Role)

		res, err := e.svc.AcceptInvitation(anonymous(tn), token, member.AcceptInput{Password: goodPassword}, meta)
		require.NoError(t, err)
		require.Equal(t, []string{"writer"}, e.memberRoles(t, tn, res.MemberID))
	})

	t.Run("no change writes nothing", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		r, err := e.svc.CreateRole(owner.ctx, "editor", "Edits", perms(rbac.ProjectsRead), meta)
		require.NoError(t, err)
		before := e.snapshot(t, tn)

		_, err = e.svc.UpdateRole(owner.ctx, r.ID, member.RoleUpdate{Name: ptr("editor"), Description: ptr("Edits"),
			Permissions: ptr(perms(rbac.ProjectsRead))}, meta)
		require.NoError(t, err)
		require.Equal(t, before, e.snapshot(t, tn))
	})

	t.Run("built-in roles cannot be changed", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		before := e.snapshot(t, tn)

		for _, name := range []string{rbac.RoleOwner, rbac.RoleViewer} {
			_, err := e.svc.UpdateRole(owner.ctx, e.roleID(t, tn, name), member.RoleUpdate{Description: ptr("mine now")}, meta)
			ae := requireCode(t, err, apperr.CodeForbidden)
			require.Equal(t, "built-in roles cannot be changed", ae.Message)
		}
		require.Equal(t, before, e.snapshot(t, tn))
	})

	t.Run("renaming to a taken or built-in name is a CONFLICT on name", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		r, err := e.svc.CreateRole(owner.ctx, "one", "", nil, meta)
		require.NoError(t, err)
		_, err = e.svc.CreateRole(owner.ctx, "two", "", nil, meta)
		require.NoError(t, err)

		for _, name := range []string{"two", rbac.RoleAdmin} {
			_, err := e.svc.UpdateRole(owner.ctx, r.ID, member.RoleUpdate{Name: ptr(name)}, meta)
			ae := requireCode(t, err, apperr.CodeConflict)
			require.Contains(t, ae.Fields, "name")
		}
	})

	t.Run("invalid fields are VALIDATION_ERRORs", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		r, err := e.svc.CreateRole(owner.ctx, "one", "", nil, meta)
		require.NoError(t, err)

		_, err = e.svc.UpdateRole(owner.ctx, r.ID, member.RoleUpdate{Name: ptr("Bad Name"), Permissions: ptr([]string{"nope"})}, meta)
		ae := requireCode(t, err, apperr.CodeValidation)
		require.Contains(t, ae.Fields, "name")
		require.Contains(t, ae.Fields, "permissions")
	})

	t.Run("adding permissions the viewer lacks is FORBIDDEN, keeping ones it lacks is not", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		admin := e.newMember(t, tn, rbac.RoleAdmin)
		r, err := e.svc.CreateRole(owner.ctx, "finance", "", perms(rbac.BillingManage), meta)
		require.NoError(t, err)

		_, err = e.svc.UpdateRole(admin.ctx, r.ID, member.RoleUpdate{Permissions: ptr(perms(rbac.BillingManage, rbac.TenantManage))}, meta)
		requireCode(t, err, apperr.CodeForbidden)
		got, err := e.svc.UpdateRole(admin.ctx, r.ID, member.RoleUpdate{Permissions: ptr(perms(rbac.BillingManage, rbac.BillingRead))}, meta)
		require.NoError(t, err)
		require.Equal(t, perms(rbac.BillingRead, rbac.BillingManage), got.Permissions)
	})

	t.Run("an unknown role is NOT_FOUND", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		_, err := e.svc.UpdateRole(owner.ctx, uuid.New(), member.RoleUpdate{Description: ptr("x")}, meta)
		requireCode(t, err, apperr.CodeNotFound)
	})
}

func TestDeleteRole(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("deletes the role and its assignments, revokes holders' sessions and pending invitations, audits", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		r, err := e.svc.CreateRole(owner.ctx, "temp", "", perms(rbac.DataRead), meta)
		require.NoError(t, err)
		holder := e.newMember(t, tn, "temp", rbac.RoleViewer)
		e.newSession(t, holder.UserID)
		inv, token := e.invited(t, tn, owner, "", "temp")

		require.NoError(t, e.svc.DeleteRole(owner.ctx, r.ID, meta))
		_, err = e.svc.GetRole(owner.ctx, r.ID)
		requireCode(t, err, apperr.CodeNotFound)
		require.Equal(t, []string{rbac.RoleViewer}, e.memberRoles(t, tn, holder.MemberID))
		require.Zero(t, e.liveSessions(t, holder.UserID))
		require.NotNil(t, e.storedInvitation(t, tn, inv.ID).Revoked)
		_, err = e.svc.AcceptInvitation(anonymous(tn), token, member.AcceptInput{Password: goodPassword}, meta)
		requireCode(t, err, apperr.CodeValidation)
		a := e.requireAudit(t, tn, audit.RoleDeleted, "role", r.ID, owner.UserID)
		require.Equal(t, "temp", a.Metadata["name"])

		requireCode(t, e.svc.DeleteRole(owner.ctx, r.ID, meta), apperr.CodeNotFound)
	})

	t.Run("built-in roles cannot be deleted", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		owner := e.newMember(t, tn, rbac.RoleOwner)
		before := e.snapshot(t, tn)

		for _, b := range rbac.Builtin {
			requireCode(t, e.svc.DeleteRole(owner.ctx, e.roleID(t, tn, b.Name), meta), apperr.CodeForbidden)
		}
		require.Equal(t, before, e.snapshot(t, tn))
	})
}
