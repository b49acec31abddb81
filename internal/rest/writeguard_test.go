package rest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/db"
)

// TestWritesCheckPermissionBeforeBody: a write's body is judged only for a
// viewer who may make the write. Someone without the permission learns
// nothing from the body's validation (FORBIDDEN, or UNAUTHENTICATED
// without a token); someone with it gets the validation error.
func TestWritesCheckPermissionBeforeBody(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ownerTok := h.token(t, owner)
	projectID := h.createProject(t, hostA, ownerTok, "guarded")
	viewerTok := h.token(t, viewer)
	memberTok := h.token(t, memberR)
	schema := db.QuoteIdent(h.users[owner].Tenant.Schema)
	counts := func() string {
		return h.scalar(t, `SELECT concat_ws('/', (SELECT count(*) FROM `+schema+`.projects),
			(SELECT count(*) FROM `+schema+`.data_items), (SELECT count(*) FROM `+schema+`.roles),
			(SELECT count(*) FROM `+schema+`.invitations), (SELECT max(updated_at) FROM `+schema+`.projects))`)
	}
	before := counts()

	// Every route here answers VALIDATION_ERROR to a body that is not a
	// JSON object, once the caller may write.
	routes := []struct {
		method, path string
		allowed      string // a role's token that holds the permission
	}{
		{http.MethodPost, "/projects", ownerTok},
		{http.MethodPut, "/projects/" + projectID, ownerTok},
		{http.MethodPatch, "/projects/" + projectID, ownerTok},
		{http.MethodPost, "/projects/" + projectID + "/items", ownerTok},
		{http.MethodPatch, "/users/" + projectID, ownerTok},
		{http.MethodPost, "/roles", ownerTok},
		{http.MethodPut, "/roles/" + projectID, ownerTok},
		{http.MethodPatch, "/roles/" + projectID, ownerTok},
		{http.MethodPost, "/invitations", ownerTok},
	}
	const badBody = `["not", "an object"]`
	for _, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			rec := h.call(t, rt.method, hostA, "", rt.path, badBody)
			requireError(t, rec, http.StatusUnauthorized, apperr.CodeUnauthenticated)

			rec = h.call(t, rt.method, hostA, viewerTok, rt.path, badBody)
			requireError(t, rec, http.StatusForbidden, apperr.CodeForbidden)

			rec = h.call(t, rt.method, hostA, rt.allowed, rt.path, badBody)
			requireError(t, rec, http.StatusBadRequest, apperr.CodeValidation)
		})
	}

	t.Run("a member may write projects but not roles", func(t *testing.T) {
		rec := h.call(t, http.MethodPost, hostA, memberTok, "/projects", badBody)
		requireError(t, rec, http.StatusBadRequest, apperr.CodeValidation)
		rec = h.call(t, http.MethodPost, hostA, memberTok, "/roles", badBody)
		requireError(t, rec, http.StatusForbidden, apperr.CodeForbidden)
	})

	require.Equal(t, before, counts(), "no refused write changed anything")
}
