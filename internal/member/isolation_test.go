package member_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// TestCrossTenant shows tenant A's owner cannot read, list, change or
// delete tenant B's members, roles or invitations: B's ids are NOT_FOUND in
// A, and B is left exactly as it was.
func TestCrossTenant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.newTenant(t), e.newTenant(t)
	ownerA := e.newMember(t, a, rbac.RoleOwner)
	ownerB := e.newMember(t, b, rbac.RoleOwner)
	memberB := e.newMember(t, b, rbac.RoleMember)
	roleB, err := e.svc.CreateRole(ownerB.ctx, "b-only", "", perms(rbac.DataRead), meta)
	require.NoError(t, err)
	invB, tokenB := e.invited(t, b, ownerB, "", rbac.RoleMember)
	// A user in both tenants: A sees their A membership only.
	both := e.newMember(t, a, rbac.RoleViewer)
	bothInB := e.addMember(t, b, both.UserID, member.StatusActive, rbac.RoleAdmin)

	ids := map[string]uuid.UUID{"member": memberB.MemberID, "owner": ownerB.MemberID, "shared user's member": bothInB}
	calls := map[string]func(ctx context.Context) error{}
	for what, id := range ids {
		calls["GetMember of B's "+what] = func(ctx context.Context) error { _, err := e.svc.GetMember(ctx, id); return err }
		calls["SetMemberRoles of B's "+what] = func(ctx context.Context) error {
			_, err := e.svc.SetMemberRoles(ctx, id, []string{rbac.RoleViewer}, meta)
			return err
		}
		calls["SetMemberStatus of B's "+what] = func(ctx context.Context) error {
			_, err := e.svc.SetMemberStatus(ctx, id, member.StatusDisabled, meta)
			return err
		}
		calls["RemoveMember of B's "+what] = func(ctx context.Context) error { return e.svc.RemoveMember(ctx, id, meta) }
	}
	calls["RevokeInvitation of B's invitation"] = func(ctx context.Context) error {
		_, err := e.svc.RevokeInvitation(ctx, invB.ID, meta)
		return err
	}
	calls["GetRole of B's custom role"] = func(ctx context.Context) error { _, err := e.svc.GetRole(ctx, roleB.ID); return err }
	calls["UpdateRole of B's custom role"] = func(ctx context.Context) error {
		_, err := e.svc.UpdateRole(ctx, roleB.ID, member.RoleUpdate{Permissions: ptr(perms(rbac.DataRead, rbac.DataWrite))}, meta)
		return err
	}
	calls["DeleteRole of B's custom role"] = func(ctx context.Context) error { return e.svc.DeleteRole(ctx, roleB.ID, meta) }
	calls["UpdateRole of B's built-in role"] = func(ctx context.Context) error {
		_, err := e.svc.UpdateRole(ctx, e.roleID(t, b, rbac.RoleMember), member.RoleUpdate{Description: ptr("x")}, meta)
		return err
	}

	beforeB := e.snapshot(t, b)
	for name, call := range calls {
		t.Run(name+" in A is NOT_FOUND and changes nothing in B", func(t *testing.T) {
			t.Parallel()
			requireCode(t, call(ownerA.ctx), apperr.CodeNotFound)
			require.Equal(t, beforeB, e.snapshot(t, b))
		})
	}

	t.Run("A's lists hold none of B's rows", func(t *testing.T) {
		t.Parallel()
		ms, err := e.svc.ListMembers(ownerA.ctx)
		require.NoError(t, err)
		var got []uuid.UUID
		for _, m := range ms {
			got = append(got, m.ID)
		}
		require.ElementsMatch(t, []uuid.UUID{ownerA.MemberID, both.MemberID}, got)
		for _, m := range ms {
			if m.UserID == both.UserID {
				require.Equal(t, []string{rbac.RoleViewer}, m.Roles, "roles from A only")
			}
		}

		rs, err := e.svc.ListRoles(ownerA.ctx)
		require.NoError(t, err)
		for _, r := range rs {
			require.NotEqual(t, roleB.ID, r.ID)
			require.NotEqual(t, "b-only", r.Name)
		}

		invs, err := e.svc.ListInvitations(ownerA.ctx)
		require.NoError(t, err)
		require.Empty(t, invs)
	})

	t.Run("B's role names do not exist in A", func(t *testing.T) {
		t.Parallel()
		_, err := e.svc.SetMemberRoles(ownerA.ctx, both.MemberID, []string{"b-only"}, meta)
		requireCode(t, err, apperr.CodeValidation)
		_, err = e.svc.Invite(ownerA.ctx, newEmail(), "b-only", meta)
		requireCode(t, err, apperr.CodeValidation)
	})

	t.Run("B's invitation token does not work in A", func(t *testing.T) {
		t.Parallel()
		_, err := e.svc.AcceptInvitation(anonymous(a), tokenB, member.AcceptInput{Password: goodPassword}, meta)
		requireCode(t, err, apperr.CodeValidation)
		require.Equal(t, beforeB, e.snapshot(t, b))
	})

	t.Run("B's owner holds no power in A", func(t *testing.T) {
		t.Parallel()
		// B's owner acting with B's permissions but A as the tenant: the
		// viewer read for A has no membership, so nothing is allowed.
		ctx := e.as(t, a, ownerB.UserID)
		v, _ := tenancy.ViewerFrom(ctx)
		require.Empty(t, v.Permissions)
		_, err := e.svc.ListMembers(ctx)
		requireCode(t, err, apperr.CodeForbidden)
	})
}
