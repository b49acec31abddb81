package graph

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/graph/generated"
	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// This file is the permission matrix (reliability matrix API1 and API5):
// every Query and Mutation field × every kind of caller, against a policy
// table. The expected outcome of a cell is derived from the field's policy
// and the rules below, never from what the server answers:
//
//   - A token is only good on the host it was issued for: a tenant member's
//     token on another tenant's host or on the platform host, and a staff
//     token on a tenant host, are refused with UNAUTHENTICATED before any
//     field runs (whatever the field's policy).
//   - @public: allowed. @authenticated: anonymous is UNAUTHENTICATED.
//   - @hasPermission(p): anonymous UNAUTHENTICATED; allowed only for the
//     built-in roles whose rbac permissions include p, else FORBIDDEN.
//   - @staff: anonymous UNAUTHENTICATED; only staff on the platform host,
//     tenant members (on their host) FORBIDDEN.
//   - node/nodes (policy in the resolver): UNAUTHENTICATED for everyone.
//
// A field with no entry, or whose entry's policy differs from the schema's
// directive, fails TestPermissionMatrixCoversTheSchema.

type mxPolicyKind int

const (
	mxPublic mxPolicyKind = iota
	mxAuthenticated
	mxPermission
	mxStaffOnly
	mxRefused
)

// mxPolicy is an entry's access policy as the table states it.
type mxPolicy struct {
	kind mxPolicyKind
	perm rbac.Permission
}

func (p mxPolicy) String() string {
	switch p.kind {
	case mxPublic:
		return "@public"
	case mxAuthenticated:
		return "@authenticated"
	case mxPermission:
		return fmt.Sprintf("@hasPermission(%s)", p.perm)
	case mxStaffOnly:
		return "@staff"
	default:
		return "resolver refuses"
	}
}

func perm(p rbac.Permission) mxPolicy { return mxPolicy{kind: mxPermission, perm: p} }

var (
	public        = mxPolicy{kind: mxPublic}
	authenticated = mxPolicy{kind: mxAuthenticated}
	staffOnly     = mxPolicy{kind: mxStaffOnly}
	refused       = mxPolicy{kind: mxRefused}
	tenantHost    = []string{mxHostA}
	platformHost  = []string{mxHostPlatform}
	bothHosts     = []string{mxHostA, mxHostPlatform}
)

// mxCase is one root field of the table.
type mxCase struct {
	field  string
	policy mxPolicy
	// hosts the field is called on (a row each).
	hosts []string
	doc   string
	// vars builds the cell's variables, creating right before the call
	// whatever the call consumes (a fresh invitation, member, role, …).
	vars func(t *testing.T, h *mxHarness) map[string]any
	// state snapshots what the call would change: a denied call must leave
	// it as it was.
	state func(t *testing.T, h *mxHarness) string
	// except holds outcomes the policy does not decide, keyed
	// "host role", each with its reason in a comment.
	except map[string]string
	// ws runs the document as a subscription over WebSocket.
	ws bool
}

// expect is the outcome the rules give for role on host.
func (c mxCase) expect(host string, r mxRole) string {
	if want, ok := c.except[host+" "+string(r)]; ok {
		return want
	}
	unauth, forbidden := string(apperr.CodeUnauthenticated), string(apperr.CodeForbidden)
	if !mxTokenGood(host, r) {
		return unauth
	}
	anonymous := r == mxAnonymous
	switch c.policy.kind {
	case mxPublic:
		return mxAllow
	case mxAuthenticated:
		if anonymous {
			return unauth
		}
		return mxAllow
	case mxPermission:
		switch {
		case anonymous:
			return unauth
		case host == mxHostPlatform:
			return string(apperr.CodeTenantNotFound)
		case mxHolds(r, c.policy.perm):
			return mxAllow
		}
		return forbidden
	case mxStaffOnly:
		switch {
		case anonymous:
			return unauth
		case r == mxStaff && host == mxHostPlatform:
			return mxAllow
		}
		return forbidden
	default:
		return unauth
	}
}

// mxTokenGood reports whether role's token is accepted on host.
func mxTokenGood(host string, r mxRole) bool {
	switch r {
	case mxAnonymous:
		return true
	case mxStaff:
		return host == mxHostPlatform
	case mxOtherOwner:
		return false // tenant B's token: refused on A's host and on the platform
	default:
		return host == mxHostA
	}
}

// mxHolds reports whether the built-in role r grants p.
func mxHolds(r mxRole, p rbac.Permission) bool {
	role, ok := rbac.BuiltinRole(string(r))
	return ok && slices.Contains(role.Permissions, p)
}

// Snapshots for the no-side-effect checks.
func countOf(sql string) func(*testing.T, *mxHarness) string {
	return func(t *testing.T, h *mxHarness) string { return h.scalar(t, sql) }
}

func inA(sql string) func(*testing.T, *mxHarness) string {
	return func(t *testing.T, h *mxHarness) string {
		return h.scalar(t, strings.ReplaceAll(sql, "$A", db.QuoteIdent(h.a.Schema)))
	}
}

var (
	revokedSessions = countOf(`SELECT count(*) FROM public.refresh_tokens WHERE revoked_at IS NOT NULL`)
	oneTimeTokens   = countOf(`SELECT count(*) FROM public.user_tokens`)
	usedTokens      = countOf(`SELECT count(*) FROM public.user_tokens WHERE used_at IS NOT NULL`)
	charlieStatus   = countOf(`SELECT status FROM public.tenants WHERE slug = '` + mxSlugC + `'`)
	charlieDomains  = countOf(`SELECT string_agg(d.domain || ':' || d.is_primary::text, ',' ORDER BY d.domain)
		FROM public.domains d JOIN public.tenants t ON t.id = d.tenant_id WHERE t.slug = '` + mxSlugC + `'`)
)

// no is for cells without variables.
func no(*testing.T, *mxHarness) map[string]any { return nil }

func charlie(status string) func(*testing.T, *mxHarness) map[string]any {
	return func(t *testing.T, h *mxHarness) map[string]any {
		h.setCharlie(t, status)
		return map[string]any{"slug": mxSlugC}
	}
}

func charlieWithDomain(t *testing.T, h *mxHarness) map[string]any {
	return map[string]any{"slug": mxSlugC, "domain": h.charlieDomain(t)}
}

// mxCases is the table: one entry per root field.
func mxCases() []mxCase {
	return []mxCase{
		// Queries.
		{field: "me", policy: authenticated, hosts: bothHosts, doc: `query { me { id } }`, vars: no},
		{field: "members", policy: perm(rbac.MembersRead), hosts: tenantHost, doc: `query { members(first: 10) { totalCount edges { node { id } } } }`, vars: no},
		{field: "member", policy: perm(rbac.MembersRead), hosts: tenantHost, doc: `query($id: ID!) { member(id: $id) { id } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"id": h.users[mxViewer].MemberID}
			}},
		{field: "roles", policy: perm(rbac.MembersRead), hosts: tenantHost, doc: `query { roles(first: 10) { totalCount edges { node { id } } } }`, vars: no},
		{field: "permissions", policy: authenticated, hosts: bothHosts, doc: `query { permissions { name } }`, vars: no},
		{field: "myPermissions", policy: authenticated, hosts: bothHosts, doc: `query { myPermissions }`, vars: no},
		{field: "invitations", policy: perm(rbac.MembersInvite), hosts: tenantHost, doc: `query { invitations(first: 10) { totalCount edges { node { id } } } }`, vars: no},
		{field: "auditEvents", policy: perm(rbac.AuditRead), hosts: tenantHost, doc: `query { auditEvents(first: 5) { totalCount } }`, vars: no},
		{field: "version", policy: public, hosts: bothHosts, doc: `query { version }`, vars: no},
		{field: "projectChanged", policy: perm(rbac.ProjectsRead), hosts: tenantHost, ws: true,
			doc: `subscription { projectChanged { kind projectId } }`, vars: no},
		{field: "projects", policy: perm(rbac.ProjectsRead), hosts: tenantHost,
			doc: `query { projects(first: 5) { totalCount edges { node { id name } } } }`, vars: no},
		{field: "project", policy: perm(rbac.ProjectsRead), hosts: tenantHost, doc: `query($id: ID!) { project(id: $id) { id } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any { return map[string]any{"id": mxProject(t, h)} }},
		{field: "createProject", policy: perm(rbac.ProjectsWrite), hosts: tenantHost,
			doc: `mutation($in: CreateProjectInput!) { createProject(input: $in) { id name } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"in": map[string]any{"name": "P", "description": "d"}}
			},
			state: inA(`SELECT count(*) FROM $A.projects`)},
		{field: "updateProject", policy: perm(rbac.ProjectsWrite), hosts: tenantHost,
			doc: `mutation($in: UpdateProjectInput!) { updateProject(input: $in) { id } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"in": map[string]any{"id": mxProject(t, h), "name": "renamed"}}
			},
			state: inA(`SELECT count(*) FROM $A.projects WHERE name = 'renamed'`)},
		{field: "deleteProject", policy: perm(rbac.ProjectsDelete), hosts: tenantHost,
			doc:   `mutation($id: ID!) { deleteProject(id: $id) }`,
			vars:  func(t *testing.T, h *mxHarness) map[string]any { return map[string]any{"id": mxProject(t, h)} },
			state: inA(`SELECT count(*) FROM $A.projects`)},
		{field: "createDataItem", policy: perm(rbac.DataWrite), hosts: tenantHost,
			doc: `mutation($in: CreateDataItemInput!) { createDataItem(input: $in) { id } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"in": map[string]any{"projectId": mxProject(t, h), "title": "item", "tags": []string{"a"}}}
			},
			state: inA(`SELECT count(*) FROM $A.data_items`)},
		{field: "updateDataItem", policy: perm(rbac.DataWrite), hosts: tenantHost,
			doc: `mutation($in: UpdateDataItemInput!) { updateDataItem(input: $in) { id } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"in": map[string]any{"id": mxItem(t, h), "title": "retitled"}}
			},
			state: inA(`SELECT count(*) FROM $A.data_items WHERE title = 'retitled'`)},
		{field: "deleteDataItem", policy: perm(rbac.DataWrite), hosts: tenantHost,
			doc:   `mutation($id: ID!) { deleteDataItem(id: $id) }`,
			vars:  func(t *testing.T, h *mxHarness) map[string]any { return map[string]any{"id": mxItem(t, h)} },
			state: inA(`SELECT count(*) FROM $A.data_items`)},

		{field: "currentTenant", policy: authenticated, hosts: bothHosts, doc: `query { currentTenant { id } }`, vars: no,
			// The platform host has no tenant to return: the resolver says so.
			except: map[string]string{mxHostPlatform + " " + string(mxStaff): string(apperr.CodeTenantNotFound)}},
		{field: "tenants", policy: staffOnly, hosts: bothHosts, doc: `query { tenants(first: 5) { totalCount } }`, vars: no},
		// What node may return is decided per type in the resolver (tested in
		// TestNodeShowsOnlyWhatTheViewerMayRead); here: signed in or not.
		{field: "node", policy: authenticated, hosts: bothHosts, doc: `query($id: ID!) { node(id: $id) { id } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"id": h.users[mxViewer].MemberID}
			}},
		{field: "nodes", policy: authenticated, hosts: bothHosts, doc: `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"ids": []uuid.UUID{h.users[mxViewer].MemberID}}
			}},

		// Identity.
		{field: "signup", policy: public, hosts: platformHost, doc: `mutation($in: SignupInput!) { signup(input: $in) { user { id } } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"in": map[string]any{"email": fmt.Sprintf("signup-%d@example.com", h.next()), "password": mxPassword}}
			},
			state: countOf(`SELECT count(*) FROM public.users`)},
		{field: "login", policy: public, hosts: tenantHost, doc: `mutation($in: LoginInput!) { login(input: $in) { accessToken } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"in": map[string]any{"email": h.users[mxViewer].Email, "password": mxPassword}}
			},
			state: countOf(`SELECT count(*) FROM public.refresh_tokens`)},
		{field: "refreshToken", policy: public, hosts: tenantHost, doc: `mutation($in: RefreshTokenInput!) { refreshToken(input: $in) { accessToken } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"in": map[string]any{"refreshToken": h.loginUser(t, h.users[mxViewer]).RefreshToken}}
			},
			state: countOf(`SELECT count(*) FROM public.refresh_tokens WHERE consumed_at IS NOT NULL`)},
		{field: "logout", policy: authenticated, hosts: bothHosts, doc: `mutation { logout }`, vars: no, state: revokedSessions},
		{field: "logoutAll", policy: authenticated, hosts: bothHosts, doc: `mutation { logoutAll }`, vars: no, state: revokedSessions},
		{field: "changePassword", policy: authenticated, hosts: bothHosts,
			doc: `mutation($in: ChangePasswordInput!) { changePassword(input: $in) }`,
			// The same password again: the account stays usable by later cells.
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"in": map[string]any{"currentPassword": mxPassword, "newPassword": mxPassword}}
			},
			state: countOf(`SELECT (SELECT count(*) FROM public.refresh_tokens WHERE revoked_at IS NOT NULL)::text || ' ' ||
				md5(string_agg(password_hash, ',' ORDER BY id)) FROM public.users`)},
		{field: "requestPasswordReset", policy: public, hosts: tenantHost,
			doc: `mutation($in: RequestPasswordResetInput!) { requestPasswordReset(input: $in) }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"in": map[string]any{"email": h.users[mxViewer].Email}}
			},
			state: oneTimeTokens},
		{field: "resetPassword", policy: public, hosts: tenantHost, doc: `mutation($in: ResetPasswordInput!) { resetPassword(input: $in) }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"in": map[string]any{"token": h.oneTimeToken(t, auth.PurposePasswordReset), "password": "another-password-42"}}
			},
			state: usedTokens},
		{field: "requestEmailVerification", policy: authenticated, hosts: bothHosts, doc: `mutation { requestEmailVerification }`,
			vars: no, state: oneTimeTokens},
		{field: "verifyEmail", policy: public, hosts: tenantHost, doc: `mutation($in: VerifyEmailInput!) { verifyEmail(input: $in) }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"in": map[string]any{"token": h.oneTimeToken(t, auth.PurposeEmailVerification)}}
			},
			state: usedTokens},

		// Members, roles, invitations.
		{field: "inviteMember", policy: perm(rbac.MembersInvite), hosts: tenantHost,
			doc: `mutation($in: InviteMemberInput!) { inviteMember(input: $in) { id } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"in": map[string]any{"email": fmt.Sprintf("invited-%d@example.com", h.next()), "role": rbac.RoleViewer}}
			},
			state: inA(`SELECT count(*) FROM $A.invitations`)},
		{field: "revokeInvitation", policy: perm(rbac.MembersInvite), hosts: tenantHost,
			doc: `mutation($id: ID!) { revokeInvitation(id: $id) { id } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				id, _ := h.invitation(t, h.users[mxOwner])
				return map[string]any{"id": id}
			},
			state: inA(`SELECT count(*) FROM $A.invitations WHERE revoked_at IS NOT NULL`)},
		{field: "acceptInvitation", policy: public, hosts: tenantHost,
			doc: `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) { accessToken } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				_, token := h.invitation(t, h.users[mxOwner])
				return map[string]any{"in": map[string]any{"token": token, "password": mxPassword, "name": "Invitee"}}
			},
			state: inA(`SELECT count(*) FROM $A.members`)},
		{field: "setMemberRoles", policy: perm(rbac.MembersManage), hosts: tenantHost,
			doc: `mutation($in: SetMemberRolesInput!) { setMemberRoles(input: $in) { id } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"in": map[string]any{"memberId": h.throwawayMember(t, h.a), "roles": []string{rbac.RoleMember}}}
			},
			state: inA(`SELECT md5(string_agg(member_id::text || role_id::text, ',' ORDER BY member_id, role_id)) FROM $A.member_roles`)},
		{field: "setMemberStatus", policy: perm(rbac.MembersManage), hosts: tenantHost,
			doc: `mutation($in: SetMemberStatusInput!) { setMemberStatus(input: $in) { id } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"in": map[string]any{"memberId": h.throwawayMember(t, h.a), "status": "disabled"}}
			},
			state: inA(`SELECT count(*) FROM $A.members WHERE status = 'disabled'`)},
		{field: "removeMember", policy: perm(rbac.MembersManage), hosts: tenantHost, doc: `mutation($id: ID!) { removeMember(id: $id) }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"id": h.throwawayMember(t, h.a)}
			},
			state: inA(`SELECT count(*) FROM $A.members`)},
		{field: "createRole", policy: perm(rbac.RolesManage), hosts: tenantHost,
			doc: `mutation($in: CreateRoleInput!) { createRole(input: $in) { id } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"in": map[string]any{"name": fmt.Sprintf("made-%d", h.next()), "permissions": []string{string(rbac.ProjectsRead)}}}
			},
			state: inA(`SELECT count(*) FROM $A.roles`)},
		{field: "updateRole", policy: perm(rbac.RolesManage), hosts: tenantHost,
			doc: `mutation($in: UpdateRoleInput!) { updateRole(input: $in) { id } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"in": map[string]any{"id": h.customRole(t, h.users[mxOwner]), "description": "changed"}}
			},
			state: inA(`SELECT md5(string_agg(name || description || permissions::text, ',' ORDER BY id)) FROM $A.roles`)},
		{field: "deleteRole", policy: perm(rbac.RolesManage), hosts: tenantHost, doc: `mutation($id: ID!) { deleteRole(id: $id) }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"id": h.customRole(t, h.users[mxOwner])}
			},
			state: inA(`SELECT count(*) FROM $A.roles`)},

		// Billing.
		{field: "plans", policy: public, hosts: bothHosts, doc: `query { plans { name } }`, vars: no},
		{field: "subscription", policy: perm(rbac.BillingRead), hosts: tenantHost,
			doc: `query { subscription { status plan { name } } }`, vars: no},
		{field: "invoices", policy: perm(rbac.BillingRead), hosts: tenantHost,
			doc: `query { invoices(first: 5) { totalCount edges { node { id total } } } }`, vars: no},
		{field: "invoice", policy: perm(rbac.BillingRead), hosts: tenantHost, doc: `query($id: ID!) { invoice(id: $id) { id } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any { return map[string]any{"id": mxInvoice(t, h)} }},
		{field: "changePlan", policy: perm(rbac.BillingManage), hosts: tenantHost,
			doc: `mutation($in: ChangePlanInput!) { changePlan(input: $in) { status plan { name } } }`,
			// Enterprise (no limits) when not on it, else Pro: always a change.
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				code := "enterprise"
				if mxSubscription(t, h).Edges.Plan.Code == code {
					code = "pro"
				}
				return map[string]any{"in": map[string]any{"plan": code}}
			},
			state: mxSubscriptionState},
		{field: "cancelSubscription", policy: perm(rbac.BillingManage), hosts: tenantHost,
			doc: `mutation { cancelSubscription { cancelAtPeriodEnd } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				mxSetCancel(t, h, false)
				return nil
			},
			state: mxSubscriptionState},
		{field: "setPaymentMethod", policy: perm(rbac.BillingManage), hosts: tenantHost,
			doc: `mutation($pm: String!) { setPaymentMethod(paymentMethod: $pm) { hasPaymentMethod } }`,
			// A different card each time, so an allowed call always changes state.
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"pm": fmt.Sprintf("pm_card_matrix_%d", h.next())}
			},
			state: mxSubscriptionState},
		{field: "resumeSubscription", policy: perm(rbac.BillingManage), hosts: tenantHost,
			doc: `mutation { resumeSubscription { cancelAtPeriodEnd } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				mxSetCancel(t, h, true)
				return nil
			},
			state: mxSubscriptionState},
		{field: "payInvoice", policy: perm(rbac.BillingManage), hosts: tenantHost, doc: `mutation($id: ID!) { payInvoice(id: $id) { id } }`,
			vars:  func(t *testing.T, h *mxHarness) map[string]any { return map[string]any{"id": mxInvoice(t, h)} },
			state: countOf(`SELECT count(*) FROM public.payments`),
			// The harness runs with payments off: the owner gets past the
			// permission check to the feature flag.
			except: map[string]string{mxHostA + " " + string(mxOwner): string(apperr.CodeFeatureDisabled)}},
		{field: "updatePlan", policy: staffOnly, hosts: bothHosts,
			doc: `mutation($in: UpdatePlanInput!) { updatePlan(code: "pro", input: $in) { name } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"in": map[string]any{"description": fmt.Sprintf("edited %d", h.next())}}
			},
			state: countOf(`SELECT description FROM public.plans WHERE code = 'pro'`)},

		// Demo requests: anyone may ask for a demo, on any host (a member's
		// token is still only good on its own host); only staff read and
		// triage them.
		{field: "requestDemo", policy: public, hosts: bothHosts,
			doc: `mutation($in: RequestDemoInput!) { requestDemo(input: $in) { id status } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"in": map[string]any{"name": "Prospect", "email": fmt.Sprintf("prospect-%d@example.com", h.next()),
					"company": "Initech", "message": "a demo, please"}}
			},
			state: countOf(`SELECT count(*) FROM public.demo_requests`)},
		{field: "demoRequests", policy: staffOnly, hosts: bothHosts,
			doc: `query { demoRequests(first: 5) { totalCount edges { node { id email notes } } } }`, vars: no},
		{field: "demoRequest", policy: staffOnly, hosts: bothHosts, doc: `query($id: ID!) { demoRequest(id: $id) { id email notes } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any { return map[string]any{"id": mxDemoRequest(t, h)} }},
		{field: "updateDemoRequest", policy: staffOnly, hosts: bothHosts,
			doc: `mutation($id: ID!, $in: UpdateDemoRequestInput!) { updateDemoRequest(id: $id, input: $in) { id status } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"id": mxDemoRequest(t, h), "in": map[string]any{"status": "contacted", "notes": "matrix"}}
			},
			state: countOf(`SELECT count(*) FROM public.demo_requests WHERE handled_by IS NOT NULL OR notes <> ''`)},

		// Platform staff. Also called on a tenant host, where they are refused.
		{field: "createTenant", policy: staffOnly, hosts: bothHosts,
			doc: `mutation($in: CreateTenantInput!) { createTenant(input: $in) { id } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"in": map[string]any{"slug": fmt.Sprintf("made-%d", h.next()), "name": "Made"}}
			},
			state: countOf(`SELECT count(*) FROM public.tenants`)},
		{field: "suspendTenant", policy: staffOnly, hosts: bothHosts, doc: `mutation($slug: String!) { suspendTenant(slug: $slug) { id } }`,
			vars: charlie(tenancy.StatusActive), state: charlieStatus},
		{field: "reactivateTenant", policy: staffOnly, hosts: bothHosts, doc: `mutation($slug: String!) { reactivateTenant(slug: $slug) { id } }`,
			vars: charlie(tenancy.StatusSuspended), state: charlieStatus},
		{field: "deleteTenant", policy: staffOnly, hosts: bothHosts, doc: `mutation($slug: String!) { deleteTenant(slug: $slug) { id } }`,
			vars: charlie(tenancy.StatusActive), state: charlieStatus},
		{field: "restoreTenant", policy: staffOnly, hosts: bothHosts, doc: `mutation($slug: String!) { restoreTenant(slug: $slug) { id } }`,
			vars: charlie(tenancy.StatusPendingDeletion), state: charlieStatus},
		{field: "addTenantDomain", policy: staffOnly, hosts: bothHosts,
			doc: `mutation($slug: String!, $domain: String!) { addTenantDomain(slug: $slug, domain: $domain) { id } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"slug": mxSlugC, "domain": fmt.Sprintf("new%d.example.org", h.next())}
			},
			state: charlieDomains},
		{field: "removeTenantDomain", policy: staffOnly, hosts: bothHosts,
			doc:  `mutation($slug: String!, $domain: String!) { removeTenantDomain(slug: $slug, domain: $domain) { id } }`,
			vars: charlieWithDomain, state: charlieDomains},
		{field: "setPrimaryTenantDomain", policy: staffOnly, hosts: bothHosts,
			doc:  `mutation($slug: String!, $domain: String!) { setPrimaryTenantDomain(slug: $slug, domain: $domain) { id } }`,
			vars: charlieWithDomain, state: charlieDomains},
		{field: "impersonate", policy: staffOnly, hosts: bothHosts,
			doc: `mutation($in: ImpersonateInput!) { impersonate(input: $in) { accessToken } }`,
			vars: func(t *testing.T, h *mxHarness) map[string]any {
				return map[string]any{"in": map[string]any{"tenantSlug": mxSlugA, "userId": h.users[mxViewer].ID,
					"reason": "permission matrix: staff may impersonate", "minutes": 5}}
			},
			state: countOf(`SELECT count(*) FROM public.refresh_tokens WHERE actor_id IS NOT NULL`)},
	}
}

// mxSchemaPolicy reads a root field's policy directive from the schema.
func mxSchemaPolicy(f *ast.FieldDefinition) (mxPolicy, int) {
	var p mxPolicy
	n := 0
	for _, d := range f.Directives {
		switch d.Name {
		case "public":
			p, n = public, n+1
		case "authenticated":
			p, n = authenticated, n+1
		case "staff":
			p, n = staffOnly, n+1
		case "hasPermission":
			arg := d.Arguments.ForName("permission")
			if arg != nil && arg.Value != nil {
				p = perm(rbac.Permission(arg.Value.Raw))
			}
			n++
		}
	}
	if n == 0 {
		p = refused
	}
	return p, n
}

// TestPermissionMatrixCoversTheSchema fails when a root field has no
// matrix entry (a new operation must be added to the table), when an entry
// names no field, or when the table's policy is not the schema's.
func TestPermissionMatrixCoversTheSchema(t *testing.T) {
	t.Parallel()
	schema := generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}, Directives: directives()}).Schema()
	byField := map[string]mxCase{}
	for _, c := range mxCases() {
		_, dup := byField[c.field]
		require.False(t, dup, "%s has two matrix entries", c.field)
		byField[c.field] = c
	}
	seen := map[string]bool{}
	for _, root := range []string{"Query", "Mutation", "Subscription"} {
		def := schema.Types[root]
		if def == nil {
			continue
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			seen[f.Name] = true
			c, ok := byField[f.Name]
			require.True(t, ok, "%s.%s has no permission matrix entry: add one to mxCases", root, f.Name)
			got, _ := mxSchemaPolicy(f)
			require.Equal(t, c.policy, got, "%s.%s: the table says %s, the schema %s", root, f.Name, c.policy, got)
			require.True(t, got.kind != mxPermission || rbac.Valid(got.perm), "%s.%s: unknown permission %q", root, f.Name, got.perm)
		}
	}
	for name := range byField {
		require.True(t, seen[name], "matrix entry %s names no root field", name)
	}
}

// mxRow is one line of the printed matrix.
type mxRow struct {
	label     string
	got, want []string
}

// TestPermissionMatrix calls every root field as every kind of caller
// through the real handler chain and compares each answer with the
// policy's: 0 unexpected allows, 0 unexpected denials, and no denied call
// changes anything.
func TestPermissionMatrix(t *testing.T) {
	t.Parallel()
	h := newMatrixHarness(t)

	t.Run("EveryCellMatchesThePolicy", func(t *testing.T) {
		var rows []mxRow
		cells, allows, unexpectedAllows, unexpectedDenials, wrongCodes, sideEffects := 0, 0, 0, 0, 0, 0
		for _, c := range mxCases() {
			for _, host := range c.hosts {
				row := mxRow{label: c.field + " @" + strings.TrimSuffix(strings.TrimSuffix(host, mxBaseDomain), ".")}
				if host == mxHostPlatform {
					row.label = c.field + " @platform"
				}
				for _, r := range mxRoles {
					want := c.expect(host, r)
					token := h.login(t, r)
					vars := c.vars(t, h)
					var before string
					if c.state != nil {
						before = c.state(t, h)
					}
					var resp mxResponse
					if c.ws {
						resp = h.subscribe(t, host, token, c.doc)
					} else {
						resp = h.post(t, host, token, c.doc, vars)
					}
					got := resp.outcome(c.field)
					cells++
					if got == mxAllow {
						allows++
					} else if c.state != nil {
						if after := c.state(t, h); after != before {
							sideEffects++
							t.Errorf("SIDE EFFECT: %s as %s was denied (%s) but changed state: %s → %s", row.label, r, got, before, after)
						}
					}
					switch {
					case got == want:
					case got == mxAllow:
						unexpectedAllows++
						t.Errorf("UNEXPECTED ALLOW: %s as %s: want %s; body %s", row.label, r, want, resp.Body)
					case want == mxAllow:
						unexpectedDenials++
						t.Errorf("unexpected denial: %s as %s: got %s; body %s", row.label, r, got, resp.Body)
					default:
						wrongCodes++
						t.Errorf("wrong code: %s as %s: want %s, got %s; body %s", row.label, r, want, got, resp.Body)
					}
					row.got, row.want = append(row.got, got), append(row.want, want)
				}
				rows = append(rows, row)
			}
		}
		t.Logf("permission matrix: %d rows × %d roles = %d cells, %d allowed; unexpected allows %d, unexpected denials %d, wrong codes %d, denied calls with side effects %d\n%s",
			len(rows), len(mxRoles), cells, allows, unexpectedAllows, unexpectedDenials, wrongCodes, sideEffects, mxTable(rows))
		if t.Failed() {
			t.Logf("server log (warnings and errors):\n%s", h.logs.String())
		}
	})

	t.Run("ForeignTenantIDsAreNotFoundAndLeaveTheTenantUnchanged", func(t *testing.T) {
		mxForeignIDs(t, h)
	})
}

// mxShort abbreviates an outcome for the printed matrix.
func mxShort(s string) string {
	switch s {
	case mxAllow:
		return "ok"
	case string(apperr.CodeUnauthenticated):
		return "unauth"
	case string(apperr.CodeForbidden):
		return "forbid"
	case string(apperr.CodeTenantNotFound):
		return "no-tnt"
	case string(apperr.CodeNotFound):
		return "nofnd"
	}
	return s
}

// mxTable renders rows as a fixed-width table; a cell that missed its
// expectation shows "got≠want".
func mxTable(rows []mxRow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-40s", "operation")
	for _, r := range mxRoles {
		fmt.Fprintf(&b, " %-10s", r)
	}
	b.WriteByte('\n')
	for _, row := range rows {
		fmt.Fprintf(&b, "%-40s", row.label)
		for i := range row.got {
			cell := mxShort(row.got[i])
			if row.got[i] != row.want[i] {
				cell += "≠" + mxShort(row.want[i])
			}
			fmt.Fprintf(&b, " %-10s", cell)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// mxForeignIDs is the BOLA check: A's owner, on A's host, names B's
// member, role and invitation. Every call answers NOT_FOUND with the same
// message as for an id that exists nowhere (no existence oracle), and B's
// rows are unchanged.
func mxForeignIDs(t *testing.T, h *mxHarness) {
	ownerB := h.users[mxOtherOwner]
	memberB := h.throwawayMember(t, h.b)
	roleB := h.customRole(t, ownerB)
	invB, invTokenB := h.invitation(t, ownerB)
	q := db.QuoteIdent(h.b.Schema)
	snapshotB := func() string {
		return h.scalar(t, `SELECT concat_ws(' | ',
			(SELECT string_agg(id::text || status, ',' ORDER BY id) FROM `+q+`.members),
			(SELECT string_agg(member_id::text || role_id::text, ',' ORDER BY member_id, role_id) FROM `+q+`.member_roles),
			(SELECT string_agg(id::text || name || description || permissions::text, ',' ORDER BY id) FROM `+q+`.roles),
			(SELECT string_agg(id::text || coalesce(revoked_at::text, '-') || coalesce(accepted_at::text, '-'), ',' ORDER BY id) FROM `+q+`.invitations))`)
	}
	before := snapshotB()

	docs := map[string]string{}
	for _, c := range mxCases() {
		docs[c.field] = c.doc
	}
	notFound := string(apperr.CodeNotFound)
	calls := []struct {
		field string
		code  string
		vars  func(id any) map[string]any
		id    any
		none  any
	}{
		{"member", notFound, func(id any) map[string]any { return map[string]any{"id": id} }, memberB, uuid.New()},
		{"member", notFound, func(id any) map[string]any { return map[string]any{"id": id} }, ownerB.MemberID, uuid.New()},
		{"setMemberRoles", notFound, func(id any) map[string]any {
			return map[string]any{"in": map[string]any{"memberId": id, "roles": []string{rbac.RoleMember}}}
		}, memberB, uuid.New()},
		{"setMemberStatus", notFound, func(id any) map[string]any {
			return map[string]any{"in": map[string]any{"memberId": id, "status": "disabled"}}
		}, memberB, uuid.New()},
		{"removeMember", notFound, func(id any) map[string]any { return map[string]any{"id": id} }, memberB, uuid.New()},
		{"removeMember", notFound, func(id any) map[string]any { return map[string]any{"id": id} }, ownerB.MemberID, uuid.New()},
		{"updateRole", notFound, func(id any) map[string]any {
			return map[string]any{"in": map[string]any{"id": id, "description": "taken over"}}
		}, roleB, uuid.New()},
		{"deleteRole", notFound, func(id any) map[string]any { return map[string]any{"id": id} }, roleB, uuid.New()},
		{"revokeInvitation", notFound, func(id any) map[string]any { return map[string]any{"id": id} }, invB, uuid.New()},
		// B's invitation token is no token on A's host: the same answer as
		// a token that never existed.
		{"acceptInvitation", string(apperr.CodeValidation), func(tok any) map[string]any {
			return map[string]any{"in": map[string]any{"token": tok, "password": mxPassword, "name": "Intruder"}}
		}, invTokenB, "no-such-invitation-token"},
	}
	for _, c := range calls {
		foreign := h.post(t, mxHostA, h.login(t, mxOwner), docs[c.field], c.vars(c.id))
		require.Equal(t, c.code, foreign.outcome(c.field), "%s with B's id: %s", c.field, foreign.Body)
		unknown := h.post(t, mxHostA, h.login(t, mxOwner), docs[c.field], c.vars(c.none))
		require.Equal(t, c.code, unknown.outcome(c.field), "%s with an unknown id: %s", c.field, unknown.Body)
		require.Equal(t, unknown.message(), foreign.message(), "%s: B's id must look like an id that does not exist", c.field)
		require.Equal(t, before, snapshotB(), "%s with B's id changed tenant B", c.field)
	}
	t.Logf("cross-tenant ids: %d calls by A's owner with B's ids → expected codes, B unchanged", len(calls))
}

// mxProject inserts a throwaway project in tenant A and returns its id.
func mxProject(t *testing.T, h *mxHarness) string {
	t.Helper()
	return h.scalar(t, strings.ReplaceAll(`INSERT INTO $A.projects (id, name, description, status, created_at, updated_at)
		VALUES (gen_random_uuid(), 'fixture', '', 'active', now(), now()) RETURNING id::text`, "$A", db.QuoteIdent(h.a.Schema)))
}

// mxItem inserts a throwaway data item (in a new project) in tenant A.
func mxItem(t *testing.T, h *mxHarness) string {
	t.Helper()
	p := mxProject(t, h)
	return h.scalar(t, strings.ReplaceAll(`INSERT INTO $A.data_items (id, project_id, title, created_at, updated_at)
		VALUES (gen_random_uuid(), $1, 'fixture', now(), now()) RETURNING id::text`, "$A", db.QuoteIdent(h.a.Schema)), p)
}

// mxSubscription returns tenant A's subscription (starting it if needed).
func mxSubscription(t *testing.T, h *mxHarness) *ent.Subscription {
	t.Helper()
	sub, err := h.billing.Subscription(h.ownerCtx(t, h.users[mxOwner]))
	require.NoError(t, err)
	return sub
}

// mxSetCancel sets tenant A's cancel_at_period_end (and makes sure the
// subscription is not canceled).
func mxSetCancel(t *testing.T, h *mxHarness, cancel bool) {
	t.Helper()
	sub := mxSubscription(t, h)
	_, err := h.pool.Exec(context.Background(), `UPDATE public.subscriptions SET cancel_at_period_end = $2 WHERE id = $1`, sub.ID, cancel)
	require.NoError(t, err)
}

// mxSubscriptionState is tenant A's subscription as a comparable string.
func mxSubscriptionState(t *testing.T, h *mxHarness) string {
	return h.scalar(t, `SELECT coalesce((SELECT concat_ws(' ', plan_id, scheduled_plan_id, interval, status, cancel_at_period_end, payment_method)
		FROM public.subscriptions WHERE tenant_id = $1), 'none')`, h.a.ID)
}

// mxInvoice inserts an open invoice of tenant A and returns its id.
func mxInvoice(t *testing.T, h *mxHarness) string {
	t.Helper()
	return h.scalar(t, `INSERT INTO public.invoices (id, created_at, updated_at, tenant_id, number, status, currency, subtotal, total)
		VALUES (gen_random_uuid(), now(), now(), $1, 'INV-MX-' || $2::text, 'open', 'USD', 1900, 1900) RETURNING id::text`,
		h.a.ID, fmt.Sprint(h.next()))
}

// mxDemoRequest inserts a fresh, untouched demo request and returns its id.
func mxDemoRequest(t *testing.T, h *mxHarness) string {
	t.Helper()
	return h.scalar(t, `INSERT INTO public.demo_requests (id, created_at, updated_at, name, email, company)
		VALUES (gen_random_uuid(), now(), now(), 'Fixture', 'fixture-' || $1::text || '@example.com', 'Initech') RETURNING id::text`,
		fmt.Sprint(h.next()))
}
