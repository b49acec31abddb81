package member_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// call is one service call prepared against fresh targets in a tenant.
type call func(ctx context.Context) error

// operation prepares a call as the tenant's owner would set it up.
type operation struct {
	name string
	// allowed says which built-in roles may make the call, in the order
	// owner, admin, member, viewer.
	allowed [4]bool
	prepare func(t *testing.T, e *env, tn *tenancy.Tenant, owner *actor) call
}

var (
	readers  = [4]bool{true, true, true, false}
	managers = [4]bool{true, true, false, false}
)

func operations() []operation {
	return []operation{
		{"ListMembers", readers, func(t *testing.T, e *env, tn *tenancy.Tenant, owner *actor) call {
			return func(ctx context.Context) error { _, err := e.svc.ListMembers(ctx); return err }
		}},
		{"GetMember", readers, func(t *testing.T, e *env, tn *tenancy.Tenant, owner *actor) call {
			target := e.newMember(t, tn, rbac.RoleMember)
			return func(ctx context.Context) error { _, err := e.svc.GetMember(ctx, target.MemberID); return err }
		}},
		{"ListRoles", readers, func(t *testing.T, e *env, tn *tenancy.Tenant, owner *actor) call {
			return func(ctx context.Context) error { _, err := e.svc.ListRoles(ctx); return err }
		}},
		{"GetRole", readers, func(t *testing.T, e *env, tn *tenancy.Tenant, owner *actor) call {
			id := e.roleID(t, tn, rbac.RoleMember)
			return func(ctx context.Context) error { _, err := e.svc.GetRole(ctx, id); return err }
		}},
		{"Invite", managers, func(t *testing.T, e *env, tn *tenancy.Tenant, owner *actor) call {
			return func(ctx context.Context) error {
				_, err := e.svc.Invite(ctx, newEmail(), rbac.RoleMember, meta)
				return err
			}
		}},
		{"ListInvitations", managers, func(t *testing.T, e *env, tn *tenancy.Tenant, owner *actor) call {
			return func(ctx context.Context) error { _, err := e.svc.ListInvitations(ctx); return err }
		}},
		{"RevokeInvitation", managers, func(t *testing.T, e *env, tn *tenancy.Tenant, owner *actor) call {
			inv, _ := e.invited(t, tn, owner, "", rbac.RoleMember)
			return func(ctx context.Context) error { _, err := e.svc.RevokeInvitation(ctx, inv.ID, meta); return err }
		}},
		{"SetMemberRoles", managers, func(t *testing.T, e *env, tn *tenancy.Tenant, owner *actor) call {
			target := e.newMember(t, tn, rbac.RoleViewer)
			return func(ctx context.Context) error {
				_, err := e.svc.SetMemberRoles(ctx, target.MemberID, []string{rbac.RoleMember}, meta)
				return err
			}
		}},
		{"SetMemberStatus", managers, func(t *testing.T, e *env, tn *tenancy.Tenant, owner *actor) call {
			target := e.newMember(t, tn, rbac.RoleViewer)
			return func(ctx context.Context) error {
				_, err := e.svc.SetMemberStatus(ctx, target.MemberID, member.StatusDisabled, meta)
				return err
			}
		}},
		{"RemoveMember", managers, func(t *testing.T, e *env, tn *tenancy.Tenant, owner *actor) call {
			target := e.newMember(t, tn, rbac.RoleViewer)
			return func(ctx context.Context) error { return e.svc.RemoveMember(ctx, target.MemberID, meta) }
		}},
		{"CreateRole", managers, func(t *testing.T, e *env, tn *tenancy.Tenant, owner *actor) call {
			return func(ctx context.Context) error {
				_, err := e.svc.CreateRole(ctx, "reader", "", perms(rbac.ProjectsRead), meta)
				return err
			}
		}},
		{"UpdateRole", managers, func(t *testing.T, e *env, tn *tenancy.Tenant, owner *actor) call {
			r, err := e.svc.CreateRole(owner.ctx, "reader", "", perms(rbac.ProjectsRead), meta)
			require.NoError(t, err)
			return func(ctx context.Context) error {
				_, err := e.svc.UpdateRole(ctx, r.ID, member.RoleUpdate{Permissions: ptr(perms(rbac.DataRead))}, meta)
				return err
			}
		}},
		{"DeleteRole", managers, func(t *testing.T, e *env, tn *tenancy.Tenant, owner *actor) call {
			r, err := e.svc.CreateRole(owner.ctx, "reader", "", perms(rbac.ProjectsRead), meta)
			require.NoError(t, err)
			return func(ctx context.Context) error { return e.svc.DeleteRole(ctx, r.ID, meta) }
		}},
	}
}

// TestPermissionMatrix runs every permission-checked method as each
// built-in role: the allowed ones succeed, the others are FORBIDDEN and
// change nothing. Without a viewer every method is UNAUTHENTICATED, and
// without a tenant TENANT_NOT_FOUND.
func TestPermissionMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	roles := [4]string{rbac.RoleOwner, rbac.RoleAdmin, rbac.RoleMember, rbac.RoleViewer}

	for _, op := range operations() {
		for i, role := range roles {
			name := op.name + " as " + role + " is "
			if op.allowed[i] {
				name += "allowed"
			} else {
				name += "forbidden"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				tn := e.newTenant(t)
				owner := e.newMember(t, tn, rbac.RoleOwner)
				run := op.prepare(t, e, tn, owner)
				viewer := owner
				if role != rbac.RoleOwner {
					viewer = e.newMember(t, tn, role)
				}
				before := e.snapshot(t, tn)

				err := run(viewer.ctx)
				if op.allowed[i] {
					require.NoError(t, err)
					return
				}
				requireCode(t, err, apperr.CodeForbidden)
				require.Equal(t, before, e.snapshot(t, tn))
			})
		}

		t.Run(op.name+" without a viewer is UNAUTHENTICATED", func(t *testing.T) {
			t.Parallel()
			tn := e.newTenant(t)
			owner := e.newMember(t, tn, rbac.RoleOwner)
			run := op.prepare(t, e, tn, owner)
			before := e.snapshot(t, tn)

			requireCode(t, run(anonymous(tn)), apperr.CodeUnauthenticated)
			require.Equal(t, before, e.snapshot(t, tn))
		})

		t.Run(op.name+" without a tenant is TENANT_NOT_FOUND", func(t *testing.T) {
			t.Parallel()
			tn := e.newTenant(t)
			owner := e.newMember(t, tn, rbac.RoleOwner)
			run := op.prepare(t, e, tn, owner)
			v, _ := tenancy.ViewerFrom(owner.ctx)
			before := e.snapshot(t, tn)

			requireCode(t, run(tenancy.WithViewer(context.Background(), v)), apperr.CodeTenantNotFound)
			require.Equal(t, before, e.snapshot(t, tn))
		})
	}

	t.Run("a viewer with no membership holds nothing", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		outsider, _ := e.newUser(t, nil)
		_, err := e.svc.ListMembers(e.as(t, tn, outsider))
		requireCode(t, err, apperr.CodeForbidden)
	})

	t.Run("the expectations match the built-in roles' permissions", func(t *testing.T) {
		t.Parallel()
		need := map[string]rbac.Permission{
			"ListMembers": rbac.MembersRead, "GetMember": rbac.MembersRead, "ListRoles": rbac.MembersRead, "GetRole": rbac.MembersRead,
			"Invite": rbac.MembersInvite, "ListInvitations": rbac.MembersInvite, "RevokeInvitation": rbac.MembersInvite,
			"SetMemberRoles": rbac.MembersManage, "SetMemberStatus": rbac.MembersManage, "RemoveMember": rbac.MembersManage,
			"CreateRole": rbac.RolesManage, "UpdateRole": rbac.RolesManage, "DeleteRole": rbac.RolesManage,
		}
		for _, op := range operations() {
			p, ok := need[op.name]
			require.True(t, ok, op.name)
			for i, role := range roles {
				b, _ := rbac.BuiltinRole(role)
				require.Equal(t, rbac.NewSet(b.Permissions).Has(p), op.allowed[i], "%s as %s", op.name, role)
			}
		}
	})
}
