package rest_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// newMember adds a fresh user to tn with roles and returns its member id.
func (h *harness) newMember(t *testing.T, tn *tenancy.Tenant, roles ...string) string {
	t.Helper()
	u := h.newUser(t, fmt.Sprintf("m%d@%s.%s", h.next(), tn.Slug, baseDomain), false)
	var id uuid.UUID
	require.NoError(t, pgx.BeginFunc(context.Background(), h.pool, func(tx pgx.Tx) error {
		var err error
		id, err = auth.AddMemberTx(context.Background(), tx, tn.Schema, u.ID, roles)
		return err
	}))
	return id.String()
}

// createRole creates a custom role through REST as the owner of alpha and
// returns its id.
func (h *harness) createRole(t *testing.T, tok string) string {
	t.Helper()
	rec := h.call(t, http.MethodPost, hostA, tok, "/roles", map[string]any{
		"name": fmt.Sprintf("role-%d", h.next()), "description": "d", "permissions": []string{"projects.read"}})
	return requireResource(t, requireData(t, rec, http.StatusCreated), "role")["id"].(string)
}

// createTenant provisions a tenant through REST as staff and returns its slug.
func (h *harness) createTenant(t *testing.T, staffTok string) string {
	t.Helper()
	slug := fmt.Sprintf("made%d", h.next())
	rec := h.call(t, http.MethodPost, hostPlatform, staffTok, "/tenants", map[string]any{"slug": slug, "name": "Made " + slug})
	require.Equal(t, slug, attrs(requireResource(t, requireData(t, rec, http.StatusCreated), "tenant"))["slug"])
	return slug
}

func TestAPIMembers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.token(t, owner)

	t.Run("ListHoldsTheTenantsMembersInOnePage", func(t *testing.T) {
		t.Parallel()
		items, page := requireList(t, h.call(t, http.MethodGet, hostA, tok, "/users/", nil), "member")
		emails := map[string]bool{}
		for _, it := range items {
			emails[attrs(it)["email"].(string)] = true
		}
		for _, r := range []role{owner, admin, memberR, viewer} {
			require.True(t, emails[h.users[r].Email], "%s listed", r)
		}
		require.False(t, emails[h.users[ownerB].Email], "bravo's owner is not listed")
		require.Nil(t, page["next_cursor"])
		require.Equal(t, false, page["has_more"])
		require.Equal(t, float64(len(items)), page["limit"])
	})

	t.Run("ListNeedsMembersRead", func(t *testing.T) {
		t.Parallel()
		requireError(t, h.call(t, http.MethodGet, hostA, "", "/users", nil), http.StatusUnauthorized, apperr.CodeUnauthenticated)
		requireError(t, h.call(t, http.MethodGet, hostA, h.token(t, viewer), "/users", nil), http.StatusForbidden, apperr.CodeForbidden)
		requireList(t, h.call(t, http.MethodGet, hostA, h.token(t, memberR), "/users", nil), "member")
	})

	t.Run("MeIsNotAMemberID", func(t *testing.T) {
		t.Parallel()
		for _, p := range []string{"/users/me", "/users/me/"} {
			me := requireResource(t, requireData(t, h.call(t, http.MethodGet, hostA, tok, p, nil), http.StatusOK), "user")
			require.Equal(t, h.users[owner].ID.String(), me["id"])
		}
	})

	t.Run("GetByMemberID", func(t *testing.T) {
		t.Parallel()
		id := h.newMember(t, h.a, "member")
		m := requireResource(t, requireData(t, h.call(t, http.MethodGet, hostA, tok, "/users/"+id+"/", nil), http.StatusOK), "member")
		require.Equal(t, id, m["id"])
		require.Equal(t, []any{"member"}, attrs(m)["roles"])
		require.Equal(t, "active", attrs(m)["status"])
	})

	t.Run("GetUnknownOrForeignIsNotFound", func(t *testing.T) {
		t.Parallel()
		requireError(t, h.call(t, http.MethodGet, hostA, tok, "/users/"+uuid.NewString(), nil), http.StatusNotFound, apperr.CodeNotFound)
		requireError(t, h.call(t, http.MethodGet, hostA, tok, "/users/nope", nil), http.StatusNotFound, apperr.CodeNotFound)
		id := h.newMember(t, h.a, "member")
		bTok := h.token(t, ownerB)
		requireError(t, h.call(t, http.MethodGet, hostB, bTok, "/users/"+id, nil), http.StatusNotFound, apperr.CodeNotFound)
		requireError(t, h.call(t, http.MethodPatch, hostB, bTok, "/users/"+id, map[string]any{"status": "disabled"}), http.StatusNotFound, apperr.CodeNotFound)
		requireError(t, h.call(t, http.MethodDelete, hostB, bTok, "/users/"+id, nil), http.StatusNotFound, apperr.CodeNotFound)
		m := requireResource(t, requireData(t, h.call(t, http.MethodGet, hostA, tok, "/users/"+id, nil), http.StatusOK), "member")
		require.Equal(t, "active", attrs(m)["status"], "bravo changed nothing")
	})

	t.Run("PatchSetsRolesAndStatus", func(t *testing.T) {
		t.Parallel()
		id := h.newMember(t, h.a, "viewer")
		m := requireResource(t, requireData(t, h.call(t, http.MethodPatch, hostA, tok, "/users/"+id, map[string]any{"roles": []string{"member"}}), http.StatusOK), "member")
		require.Equal(t, []any{"member"}, attrs(m)["roles"])
		m = requireResource(t, requireData(t, h.call(t, http.MethodPatch, hostA, tok, "/users/"+id, map[string]any{"status": "disabled"}), http.StatusOK), "member")
		require.Equal(t, "disabled", attrs(m)["status"])
		m = requireResource(t, requireData(t, h.call(t, http.MethodPatch, hostA, tok, "/users/"+id+"/",
			map[string]any{"roles": []string{"admin"}, "status": "active"}), http.StatusOK), "member")
		require.Equal(t, []any{"admin"}, attrs(m)["roles"])
		require.Equal(t, "active", attrs(m)["status"])
	})

	t.Run("PatchRefusesMassAssignment", func(t *testing.T) {
		t.Parallel()
		id := h.newMember(t, h.a, "viewer")
		before := attrs(requireResource(t, requireData(t, h.call(t, http.MethodGet, hostA, tok, "/users/"+id, nil), http.StatusOK), "member"))
		for _, body := range []string{`{"email":"evil@x.test"}`, `{"roles":["viewer"],"user_id":"` + uuid.NewString() + `"}`, `{"name":"x"}`} {
			e := requireError(t, h.call(t, http.MethodPatch, hostA, tok, "/users/"+id, body), http.StatusBadRequest, apperr.CodeValidation)
			require.NotEmpty(t, details(e), body)
		}
		requireError(t, h.call(t, http.MethodPatch, hostA, tok, "/users/"+id, `{}`), http.StatusBadRequest, apperr.CodeValidation)
		requireError(t, h.call(t, http.MethodPatch, hostA, tok, "/users/"+id, map[string]any{"status": "gone"}), http.StatusBadRequest, apperr.CodeValidation)
		after := h.call(t, http.MethodGet, hostA, tok, "/users/"+id, nil)
		require.Equal(t, before, attrs(requireResource(t, requireData(t, after, http.StatusOK), "member")))
	})

	t.Run("PatchAndDeleteNeedMembersManage", func(t *testing.T) {
		t.Parallel()
		id := h.newMember(t, h.a, "viewer")
		mTok := h.token(t, memberR)
		requireError(t, h.call(t, http.MethodPatch, hostA, mTok, "/users/"+id, map[string]any{"status": "disabled"}), http.StatusForbidden, apperr.CodeForbidden)
		requireError(t, h.call(t, http.MethodDelete, hostA, mTok, "/users/"+id, nil), http.StatusForbidden, apperr.CodeForbidden)
		requireError(t, h.call(t, http.MethodDelete, hostA, "", "/users/"+id, nil), http.StatusUnauthorized, apperr.CodeUnauthenticated)
		requireData(t, h.call(t, http.MethodGet, hostA, tok, "/users/"+id, nil), http.StatusOK)
	})

	t.Run("DeleteRemovesTheMember", func(t *testing.T) {
		t.Parallel()
		id := h.newMember(t, h.a, "viewer")
		rec := h.call(t, http.MethodDelete, hostA, tok, "/users/"+id+"/", nil)
		require.Equal(t, http.StatusNoContent, rec.Code, "body: %s", rec.Body)
		requireError(t, h.call(t, http.MethodGet, hostA, tok, "/users/"+id, nil), http.StatusNotFound, apperr.CodeNotFound)
		requireError(t, h.call(t, http.MethodDelete, hostA, tok, "/users/"+id, nil), http.StatusNotFound, apperr.CodeNotFound)
	})
}

func TestAPIRoles(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.token(t, owner)

	t.Run("ListHoldsTheBuiltinRoles", func(t *testing.T) {
		t.Parallel()
		items, _ := requireList(t, h.call(t, http.MethodGet, hostA, tok, "/roles", nil), "role")
		builtin := map[string]bool{}
		for _, it := range items {
			if attrs(it)["builtin"] == true {
				builtin[attrs(it)["name"].(string)] = true
			}
		}
		require.Equal(t, map[string]bool{"owner": true, "admin": true, "member": true, "viewer": true}, builtin)
		requireError(t, h.call(t, http.MethodGet, hostA, "", "/roles", nil), http.StatusUnauthorized, apperr.CodeUnauthenticated)
		requireError(t, h.call(t, http.MethodGet, hostA, h.token(t, viewer), "/roles", nil), http.StatusForbidden, apperr.CodeForbidden)
	})

	t.Run("Lifecycle", func(t *testing.T) {
		t.Parallel()
		name := fmt.Sprintf("analyst-%d", h.next())
		rec := h.call(t, http.MethodPost, hostA, tok, "/roles/", map[string]any{"name": name, "description": "reads", "permissions": []string{"projects.read"}})
		ro := requireResource(t, requireData(t, rec, http.StatusCreated), "role")
		id := ro["id"].(string)
		require.Equal(t, name, attrs(ro)["name"])
		require.Equal(t, false, attrs(ro)["builtin"])
		require.Equal(t, []any{"projects.read"}, attrs(ro)["permissions"])
		got := requireResource(t, requireData(t, h.call(t, http.MethodGet, hostA, tok, "/roles/"+id, nil), http.StatusOK), "role")
		require.Equal(t, attrs(ro), attrs(got))

		requireError(t, h.call(t, http.MethodPost, hostA, tok, "/roles", map[string]any{"name": name, "permissions": []string{}}), http.StatusConflict, apperr.CodeConflict)

		ro = requireResource(t, requireData(t, h.call(t, http.MethodPatch, hostA, tok, "/roles/"+id, map[string]any{"description": "patched"}), http.StatusOK), "role")
		require.Equal(t, "patched", attrs(ro)["description"])
		require.Equal(t, name, attrs(ro)["name"])
		e := requireError(t, h.call(t, http.MethodPut, hostA, tok, "/roles/"+id, map[string]any{"name": name}), http.StatusBadRequest, apperr.CodeValidation)
		require.Contains(t, details(e), "permissions")
		ro = requireResource(t, requireData(t, h.call(t, http.MethodPut, hostA, tok, "/roles/"+id+"/",
			map[string]any{"name": name + "-2", "permissions": []string{"projects.read", "data.read"}}), http.StatusOK), "role")
		require.Equal(t, "", attrs(ro)["description"], "PUT replaces the description")
		require.ElementsMatch(t, []any{"projects.read", "data.read"}, attrs(ro)["permissions"])

		rec = h.call(t, http.MethodDelete, hostA, tok, "/roles/"+id, nil)
		require.Equal(t, http.StatusNoContent, rec.Code, "body: %s", rec.Body)
		requireError(t, h.call(t, http.MethodGet, hostA, tok, "/roles/"+id, nil), http.StatusNotFound, apperr.CodeNotFound)
	})

	t.Run("BadInput", func(t *testing.T) {
		t.Parallel()
		requireError(t, h.call(t, http.MethodPost, hostA, tok, "/roles", `{"name":"x","permissions":[],"builtin":true}`), http.StatusBadRequest, apperr.CodeValidation)
		requireError(t, h.call(t, http.MethodPost, hostA, tok, "/roles", `{"name":`), http.StatusBadRequest, apperr.CodeValidation)
		requireError(t, h.call(t, http.MethodPost, hostA, tok, "/roles", map[string]any{"name": "bad-perm", "permissions": []string{"nope.nope"}}), http.StatusBadRequest, apperr.CodeValidation)
		id := h.createRole(t, tok)
		requireError(t, h.call(t, http.MethodPatch, hostA, tok, "/roles/"+id, `{"member_count":9}`), http.StatusBadRequest, apperr.CodeValidation)
	})

	t.Run("WritesNeedRolesManage", func(t *testing.T) {
		t.Parallel()
		id := h.createRole(t, tok)
		mTok := h.token(t, memberR)
		body := map[string]any{"name": fmt.Sprintf("x-%d", h.next()), "permissions": []string{}}
		requireError(t, h.call(t, http.MethodPost, hostA, mTok, "/roles", body), http.StatusForbidden, apperr.CodeForbidden)
		requireError(t, h.call(t, http.MethodPatch, hostA, mTok, "/roles/"+id, map[string]any{"description": "x"}), http.StatusForbidden, apperr.CodeForbidden)
		requireError(t, h.call(t, http.MethodDelete, hostA, mTok, "/roles/"+id, nil), http.StatusForbidden, apperr.CodeForbidden)
		requireError(t, h.call(t, http.MethodPost, hostA, "", "/roles", body), http.StatusUnauthorized, apperr.CodeUnauthenticated)
	})

	t.Run("ForeignRoleIsNotFound", func(t *testing.T) {
		t.Parallel()
		id := h.createRole(t, tok)
		bTok := h.token(t, ownerB)
		requireError(t, h.call(t, http.MethodGet, hostB, bTok, "/roles/"+id, nil), http.StatusNotFound, apperr.CodeNotFound)
		requireError(t, h.call(t, http.MethodPatch, hostB, bTok, "/roles/"+id, map[string]any{"description": "x"}), http.StatusNotFound, apperr.CodeNotFound)
		requireError(t, h.call(t, http.MethodDelete, hostB, bTok, "/roles/"+id, nil), http.StatusNotFound, apperr.CodeNotFound)
		requireData(t, h.call(t, http.MethodGet, hostA, tok, "/roles/"+id, nil), http.StatusOK)
	})
}

func TestAPIInvitations(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.token(t, owner)

	t.Run("InviteListRevoke", func(t *testing.T) {
		t.Parallel()
		email := fmt.Sprintf("invitee%d@example.test", h.next())
		inv := requireResource(t, requireData(t, h.call(t, http.MethodPost, hostA, tok, "/invitations", map[string]any{"email": email, "role": "member"}), http.StatusCreated), "invitation")
		require.Equal(t, "pending", attrs(inv)["status"])
		require.Equal(t, "member", attrs(inv)["role"])
		items, _ := requireList(t, h.call(t, http.MethodGet, hostA, tok, "/invitations/", nil), "invitation")
		found := false
		for _, it := range items {
			found = found || it["id"] == inv["id"]
		}
		require.True(t, found)
		inv = requireResource(t, requireData(t, h.call(t, http.MethodDelete, hostA, tok, "/invitations/"+inv["id"].(string), nil), http.StatusOK), "invitation")
		require.Equal(t, "revoked", attrs(inv)["status"])
	})

	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		requireError(t, h.call(t, http.MethodPost, hostA, tok, "/invitations", `{"email":"a@b.test","role":"member","token":"x"}`), http.StatusBadRequest, apperr.CodeValidation)
		requireError(t, h.call(t, http.MethodPost, hostA, "", "/invitations", map[string]any{"email": "a@b.test", "role": "member"}), http.StatusUnauthorized, apperr.CodeUnauthenticated)
		requireError(t, h.call(t, http.MethodPost, hostA, h.token(t, memberR), "/invitations", map[string]any{"email": "a@b.test", "role": "member"}), http.StatusForbidden, apperr.CodeForbidden)
		requireError(t, h.call(t, http.MethodGet, hostA, h.token(t, viewer), "/invitations", nil), http.StatusForbidden, apperr.CodeForbidden)
		requireError(t, h.call(t, http.MethodDelete, hostA, tok, "/invitations/"+uuid.NewString(), nil), http.StatusNotFound, apperr.CodeNotFound)
		inv := requireResource(t, requireData(t, h.call(t, http.MethodPost, hostA, tok, "/invitations",
			map[string]any{"email": fmt.Sprintf("i%d@example.test", h.next()), "role": "viewer"}), http.StatusCreated), "invitation")
		requireError(t, h.call(t, http.MethodDelete, hostB, h.token(t, ownerB), "/invitations/"+inv["id"].(string), nil), http.StatusNotFound, apperr.CodeNotFound)
	})
}

func TestAPITenants(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	staffTok := h.token(t, staff)

	t.Run("StaffListsEveryTenant", func(t *testing.T) {
		t.Parallel()
		items, page := requireList(t, h.call(t, http.MethodGet, hostPlatform, staffTok, "/tenants/", nil), "tenant")
		slugs := map[string]bool{}
		for _, it := range items {
			slugs[attrs(it)["slug"].(string)] = true
		}
		require.True(t, slugs[slugA] && slugs[slugB], "%v", slugs)
		require.Equal(t, false, page["has_more"])
	})

	t.Run("OnlyStaffOnThePlatformHost", func(t *testing.T) {
		t.Parallel()
		ownerTok := h.token(t, owner)
		requireError(t, h.call(t, http.MethodGet, hostPlatform, "", "/tenants", nil), http.StatusUnauthorized, apperr.CodeUnauthenticated)
		requireError(t, h.call(t, http.MethodGet, hostA, ownerTok, "/tenants", nil), http.StatusForbidden, apperr.CodeForbidden)
		requireError(t, h.call(t, http.MethodGet, hostA, ownerTok, "/tenants/"+slugA, nil), http.StatusForbidden, apperr.CodeForbidden)
		requireError(t, h.call(t, http.MethodPatch, hostA, ownerTok, "/tenants/"+slugA, map[string]any{"status": "suspended"}), http.StatusForbidden, apperr.CodeForbidden)
		requireError(t, h.call(t, http.MethodDelete, hostA, ownerTok, "/tenants/"+slugA, nil), http.StatusForbidden, apperr.CodeForbidden)
		requireError(t, h.call(t, http.MethodPost, hostA, ownerTok, "/tenants", map[string]any{"slug": "sneaky", "name": "x"}), http.StatusForbidden, apperr.CodeForbidden)
		require.Equal(t, "active", h.scalar(t, `SELECT status FROM public.tenants WHERE slug = $1`, slugA))
		require.Equal(t, "0", h.scalar(t, `SELECT count(*) FROM public.tenants WHERE slug = 'sneaky'`))
	})

	t.Run("Lifecycle", func(t *testing.T) {
		t.Parallel()
		slug := h.createTenant(t, staffTok)
		path := "/tenants/" + slug
		got := requireResource(t, requireData(t, h.call(t, http.MethodGet, hostPlatform, staffTok, path+"/", nil), http.StatusOK), "tenant")
		require.Equal(t, "active", attrs(got)["status"])
		status := func(method, p string, body any, code int) string {
			return attrs(requireResource(t, requireData(t, h.call(t, method, hostPlatform, staffTok, p, body), code), "tenant"))["status"].(string)
		}
		require.Equal(t, "suspended", status(http.MethodPatch, path, map[string]any{"status": "suspended"}, http.StatusOK))
		require.Equal(t, "active", status(http.MethodPatch, path, map[string]any{"status": "active"}, http.StatusOK))
		del := requireResource(t, requireData(t, h.call(t, http.MethodDelete, hostPlatform, staffTok, path, nil), http.StatusAccepted), "tenant")
		require.Equal(t, "pending_deletion", attrs(del)["status"])
		require.NotEmpty(t, attrs(del)["purge_at"])
		require.NotNil(t, attrs(del)["deletion_requested_at"])
		require.Equal(t, "active", status(http.MethodPost, path+"/restore/", nil, http.StatusOK))
	})

	t.Run("BadInput", func(t *testing.T) {
		t.Parallel()
		requireError(t, h.call(t, http.MethodPatch, hostPlatform, staffTok, "/tenants/"+slugB, map[string]any{"status": "pending_deletion"}), http.StatusBadRequest, apperr.CodeValidation)
		requireError(t, h.call(t, http.MethodPatch, hostPlatform, staffTok, "/tenants/"+slugB, `{"status":"active","schema":"public"}`), http.StatusBadRequest, apperr.CodeValidation)
		requireError(t, h.call(t, http.MethodPost, hostPlatform, staffTok, "/tenants", `{"slug":"x1","name":"x","status":"active"}`), http.StatusBadRequest, apperr.CodeValidation)
		requireError(t, h.call(t, http.MethodPost, hostPlatform, staffTok, "/tenants", map[string]any{"slug": "Not A Slug!", "name": "x"}), http.StatusBadRequest, apperr.CodeValidation)
		requireError(t, h.call(t, http.MethodPost, hostPlatform, staffTok, "/tenants", map[string]any{"slug": slugA, "name": "dup"}), http.StatusConflict, apperr.CodeConflict)
		require.Equal(t, "active", h.scalar(t, `SELECT status FROM public.tenants WHERE slug = $1`, slugB))
	})

	t.Run("UnknownSlugIsNotFound", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{http.MethodGet, "/tenants/nope", nil},
			{http.MethodPatch, "/tenants/nope", map[string]any{"status": "suspended"}},
			{http.MethodDelete, "/tenants/nope", nil},
			{http.MethodPost, "/tenants/nope/restore", nil},
		} {
			requireError(t, h.call(t, c.method, hostPlatform, staffTok, c.path, c.body), http.StatusNotFound, apperr.CodeNotFound)
		}
	})
}

func TestAPIMembersGraphQLParity(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	t.Run("UsersListsWhatMembersQueries", func(t *testing.T) {
		t.Parallel()
		u, tn := h.signupOwner(t, fmt.Sprintf("par%d", h.next()))
		host, tok := tn.Slug+"."+baseDomain, h.loginUser(t, u).AccessToken
		h.newMember(t, tn, "viewer")
		h.newMember(t, tn, "member", "admin")
		items, _ := requireList(t, h.call(t, http.MethodGet, host, tok, "/users", nil), "member")
		res := h.gql(t, host, tok, `query { members(first: 100) { edges { node { id userId email name status roles } } } }`, nil)
		require.Empty(t, res.Errors, res.Body)
		var gqlMembers []any
		for _, e := range res.Data["members"].(map[string]any)["edges"].([]any) {
			gqlMembers = append(gqlMembers, e.(map[string]any)["node"])
		}
		require.Len(t, items, 3)
		require.Len(t, gqlMembers, len(items))
		for i, it := range items {
			g := gqlMembers[i].(map[string]any)
			a := attrs(it)
			require.Equal(t, g["id"], it["id"], "same order")
			require.Equal(t, g["userId"], it["relationships"].(map[string]any)["user"].(map[string]any)["data"].(map[string]any)["id"])
			require.Equal(t, g["email"], a["email"])
			require.Equal(t, g["name"], a["name"])
			require.Equal(t, g["status"], a["status"])
			require.Equal(t, g["roles"], a["roles"])
		}
	})

	t.Run("ReadAuthorizationAgreesPerRole", func(t *testing.T) {
		t.Parallel()
		for _, r := range roles {
			tok := h.token(t, r)
			restList := restOutcome(t, h.call(t, http.MethodGet, hostA, tok, "/users", nil))
			gqlList := h.gql(t, hostA, tok, `query { members(first: 10) { edges { node { id } } } }`, nil).outcome("members")
			require.Equal(t, restList, gqlList, "list members as %s", r)
		}
	})

	t.Run("CreateRoleAgreesPerRole", func(t *testing.T) {
		t.Parallel()
		expected := map[role]string{
			anonymous: "UNAUTHENTICATED", viewer: "FORBIDDEN", memberR: "FORBIDDEN", admin: allowed, owner: allowed,
			ownerB: "UNAUTHENTICATED", staff: "UNAUTHENTICATED",
		}
		const doc = `mutation($in: CreateRoleInput!) { createRole(input: $in) { id name description permissions builtin } }`
		for _, r := range roles {
			tok := h.token(t, r)
			name := fmt.Sprintf("parity-%s-%d", r, h.next())
			rec := h.call(t, http.MethodPost, hostA, tok, "/roles", map[string]any{"name": name + "-rest", "description": "d", "permissions": []string{"projects.read"}})
			restCreate := restOutcome(t, rec)
			gres := h.gql(t, hostA, tok, doc, map[string]any{"in": map[string]any{"name": name + "-gql", "description": "d", "permissions": []string{"projects.read"}}})
			require.Equal(t, restCreate, gres.outcome("createRole"), "create role as %s", r)
			require.Equal(t, expected[r], restCreate, "create role as %s", r)
			if restCreate != allowed {
				continue
			}
			ro := attrs(requireResource(t, requireData(t, rec, http.StatusCreated), "role"))
			g := gres.Data["createRole"].(map[string]any)
			require.Equal(t, name+"-rest", ro["name"])
			require.Equal(t, name+"-gql", g["name"])
			for _, k := range []string{"description", "permissions", "builtin"} {
				require.Equal(t, g[k], ro[k], "%s as %s", k, r)
			}
		}
	})
}

// resourceLiveCases are the TestOpenAPIResponsesMatchTheDocument calls of
// the member, role, invitation and tenant routes, each with its own
// fixture (the cases run in parallel).
func resourceLiveCases(t *testing.T, h *harness) []liveCase {
	t.Helper()
	tok := h.token(t, owner)
	staffTok := h.token(t, staff)
	mTok := h.token(t, memberR)
	const (
		users       = "/api/v1/users"
		oneUser     = "/api/v1/users/{id}"
		roles       = "/api/v1/roles"
		oneRole     = "/api/v1/roles/{id}"
		invitations = "/api/v1/invitations"
		oneInv      = "/api/v1/invitations/{id}"
		tenants     = "/api/v1/tenants"
		oneTenant   = "/api/v1/tenants/{slug}"
		restore     = "/api/v1/tenants/{slug}/restore"
	)
	seen, patched, removed := h.newMember(t, h.a, "viewer"), h.newMember(t, h.a, "viewer"), h.newMember(t, h.a, "viewer")
	role, replaced, patchedRole, doomedRole := h.createRole(t, tok), h.createRole(t, tok), h.createRole(t, tok), h.createRole(t, tok)
	inv := requireResource(t, requireData(t, h.call(t, http.MethodPost, hostA, tok, "/invitations",
		map[string]any{"email": fmt.Sprintf("doc%d@example.test", h.next()), "role": "member"}), http.StatusCreated), "invitation")["id"].(string)
	shown, toggled, deleted, restored := h.createTenant(t, staffTok), h.createTenant(t, staffTok), h.createTenant(t, staffTok), h.createTenant(t, staffTok)
	requireData(t, h.call(t, http.MethodDelete, hostPlatform, staffTok, "/tenants/"+restored, nil), http.StatusAccepted)
	missing := uuid.NewString()
	return []liveCase{
		{"ListMembers", "GET", users, "/users", hostA, tok, nil, "", 200},
		{"ListMembersViewer", "GET", users, "/users", hostA, h.token(t, viewer), nil, "", 403},
		{"GetMember", "GET", oneUser, "/users/" + seen, hostA, tok, nil, "", 200},
		{"GetMemberUnknown", "GET", oneUser, "/users/" + missing, hostA, tok, nil, "", 404},
		{"UpdateMember", "PATCH", oneUser, "/users/" + patched, hostA, tok, map[string]any{"roles": []string{"member"}, "status": "disabled"}, "", 200},
		{"UpdateMemberEmail", "PATCH", oneUser, "/users/" + seen, hostA, tok, map[string]any{"email": "x@y.test"}, "", 400},
		{"UpdateMemberAsMember", "PATCH", oneUser, "/users/" + seen, hostA, mTok, map[string]any{"status": "disabled"}, "", 403},
		{"RemoveMember", "DELETE", oneUser, "/users/" + removed, hostA, tok, nil, "", 204},
		{"RemoveMemberAnonymous", "DELETE", oneUser, "/users/" + seen, hostA, "", nil, "", 401},
		{"ListRoles", "GET", roles, "/roles", hostA, tok, nil, "", 200},
		{"CreateRole", "POST", roles, "/roles", hostA, tok, map[string]any{"name": fmt.Sprintf("doc-%d", h.next()), "description": "d", "permissions": []string{"projects.read"}}, "", 201},
		{"CreateRoleUnknownField", "POST", roles, "/roles", hostA, tok, `{"name":"x","permissions":[],"builtin":true}`, "", 400},
		{"CreateRoleAsMember", "POST", roles, "/roles", hostA, mTok, map[string]any{"name": "x", "permissions": []string{}}, "", 403},
		{"GetRole", "GET", oneRole, "/roles/" + role, hostA, tok, nil, "", 200},
		{"GetRoleOtherTenant", "GET", oneRole, "/roles/" + role, hostB, h.token(t, ownerB), nil, "", 404},
		{"ReplaceRole", "PUT", oneRole, "/roles/" + replaced, hostA, tok, map[string]any{"name": fmt.Sprintf("doc-%d", h.next()), "permissions": []string{"data.read"}}, "", 200},
		{"UpdateRole", "PATCH", oneRole, "/roles/" + patchedRole, hostA, tok, map[string]any{"description": "patched"}, "", 200},
		{"DeleteRole", "DELETE", oneRole, "/roles/" + doomedRole, hostA, tok, nil, "", 204},
		{"ListInvitations", "GET", invitations, "/invitations", hostA, tok, nil, "", 200},
		{"Invite", "POST", invitations, "/invitations", hostA, tok, map[string]any{"email": fmt.Sprintf("doc%d@example.test", h.next()), "role": "viewer"}, "", 201},
		{"InviteNotJSON", "POST", invitations, "/invitations", hostA, tok, "x", "text/plain", 415},
		{"RevokeInvitation", "DELETE", oneInv, "/invitations/" + inv, hostA, tok, nil, "", 200},
		{"RevokeInvitationUnknown", "DELETE", oneInv, "/invitations/" + missing, hostA, tok, nil, "", 404},
		{"ListTenants", "GET", tenants, "/tenants", hostPlatform, staffTok, nil, "", 200},
		{"ListTenantsOwner", "GET", tenants, "/tenants", hostA, tok, nil, "", 403},
		{"CreateTenant", "POST", tenants, "/tenants", hostPlatform, staffTok, map[string]any{"slug": fmt.Sprintf("doc%d", h.next()), "name": "Doc"}, "", 201},
		{"CreateTenantTaken", "POST", tenants, "/tenants", hostPlatform, staffTok, map[string]any{"slug": slugA, "name": "Doc"}, "", 409},
		{"GetTenant", "GET", oneTenant, "/tenants/" + shown, hostPlatform, staffTok, nil, "", 200},
		{"GetTenantUnknown", "GET", oneTenant, "/tenants/nope", hostPlatform, staffTok, nil, "", 404},
		{"UpdateTenant", "PATCH", oneTenant, "/tenants/" + toggled, hostPlatform, staffTok, map[string]any{"status": "suspended"}, "", 200},
		{"UpdateTenantBadStatus", "PATCH", oneTenant, "/tenants/" + shown, hostPlatform, staffTok, map[string]any{"status": "gone"}, "", 400},
		{"DeleteTenant", "DELETE", oneTenant, "/tenants/" + deleted, hostPlatform, staffTok, nil, "", 202},
		{"DeleteTenantAnonymous", "DELETE", oneTenant, "/tenants/" + shown, hostPlatform, "", nil, "", 401},
		{"RestoreTenant", "POST", restore, "/tenants/" + restored + "/restore", hostPlatform, staffTok, nil, "", 200},
		{"RestoreTenantUnknown", "POST", restore, "/tenants/nope/restore", hostPlatform, staffTok, nil, "", 404},
	}
}
