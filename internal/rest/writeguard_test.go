package rest_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/rbac"
)

// TestWritesCheckPermissionBeforeBody: a write's body is judged only for a
// caller who may make the write. Someone without the permission learns
// nothing from the body's validation (FORBIDDEN, or UNAUTHENTICATED
// without a token); someone holding exactly that permission gets the
// validation error, which also proves each route asks for the permission
// its service checks.
func TestWritesCheckPermissionBeforeBody(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ownerTok := h.token(t, owner)
	alpha := h.users[owner].Tenant
	projectID := h.createProject(t, hostA, ownerTok, "guarded")
	viewerTok := h.token(t, viewer)
	subs, _ := requireList(t, h.call(t, http.MethodGet, hostA, ownerTok, "/subscriptions", nil), "subscription")
	require.Len(t, subs, 1)
	subID := subs[0]["id"].(string)
	schema := db.QuoteIdent(alpha.Schema)
	counts := func() string {
		return h.scalar(t, `SELECT concat_ws('/', (SELECT count(*) FROM `+schema+`.projects),
			(SELECT count(*) FROM `+schema+`.data_items), (SELECT count(*) FROM `+schema+`.roles),
			(SELECT count(*) FROM `+schema+`.invitations), (SELECT max(updated_at) FROM `+schema+`.projects),
			(SELECT max(updated_at) FROM `+schema+`.members), (SELECT max(updated_at) FROM public.subscriptions))`)
	}

	// holderOf signs in a new member of alpha whose one role grants p.
	holderOf := func(t *testing.T, p rbac.Permission) string {
		n := h.next()
		rec := h.call(t, http.MethodPost, hostA, ownerTok, "/roles", map[string]any{
			"name": fmt.Sprintf("only-%d", n), "description": "one permission", "permissions": []string{string(p)}})
		requireData(t, rec, http.StatusCreated)
		u := h.newUser(t, fmt.Sprintf("holder%d@alpha.test", n), false)
		u.Tenant = alpha
		h.addMember(t, alpha, u.ID, fmt.Sprintf("only-%d", n))
		return h.loginUser(t, u).AccessToken
	}

	// Every route here answers VALIDATION_ERROR to a body that is not a
	// JSON object, once the caller may write.
	routes := []struct {
		method, path string
		perm         rbac.Permission
	}{
		{http.MethodPost, "/projects", rbac.ProjectsWrite},
		{http.MethodPut, "/projects/" + projectID, rbac.ProjectsWrite},
		{http.MethodPatch, "/projects/" + projectID, rbac.ProjectsWrite},
		{http.MethodPost, "/projects/" + projectID + "/items", rbac.DataWrite},
		{http.MethodPatch, "/users/" + projectID, rbac.MembersManage},
		{http.MethodPost, "/roles", rbac.RolesManage},
		{http.MethodPut, "/roles/" + projectID, rbac.RolesManage},
		{http.MethodPatch, "/roles/" + projectID, rbac.RolesManage},
		{http.MethodPost, "/invitations", rbac.MembersInvite},
		{http.MethodPatch, "/subscriptions/" + subID, rbac.BillingManage},
	}
	const badBody = `["not", "an object"]`
	holders := map[rbac.Permission]string{}
	for _, rt := range routes {
		if holders[rt.perm] == "" {
			holders[rt.perm] = holderOf(t, rt.perm)
		}
	}
	before := counts()
	for _, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			rec := h.call(t, rt.method, hostA, "", rt.path, badBody)
			requireError(t, rec, http.StatusUnauthorized, apperr.CodeUnauthenticated)

			rec = h.call(t, rt.method, hostA, viewerTok, rt.path, badBody)
			requireError(t, rec, http.StatusForbidden, apperr.CodeForbidden)

			rec = h.call(t, rt.method, hostA, holders[rt.perm], rt.path, badBody)
			requireError(t, rec, http.StatusBadRequest, apperr.CodeValidation)
		})
	}

	t.Run("a plan is changed by staff on the platform host only", func(t *testing.T) {
		path := "/plans/" + projectID
		requireError(t, h.call(t, http.MethodPatch, hostA, ownerTok, path, badBody), http.StatusForbidden, apperr.CodeForbidden)
		requireError(t, h.call(t, http.MethodPatch, hostPlatform, h.token(t, staff), path, badBody),
			http.StatusBadRequest, apperr.CodeValidation)
	})

	require.Equal(t, before, counts(), "no refused write changed anything")
}
