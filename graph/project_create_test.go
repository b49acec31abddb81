package graph

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestCreateProjectAnswersWhatALaterReadReturns: createProject builds its
// answer from the values it wrote instead of reading the row back, so the
// answer must be the row as read: every field (timestamps in PostgreSQL's
// precision), the owner edge through the tenant's schema, the items edge.
func TestCreateProjectAnswersWhatALaterReadReturns(t *testing.T) {
	t.Parallel()
	h := newMatrixHarness(t)
	owner := h.login(t, mxOwner)
	const fields = `id createdAt updatedAt name description status ownerID owner { id email } items(first: 5) { totalCount edges { node { id } } }`
	created := h.post(t, mxHostA, owner, `mutation($in: CreateProjectInput!) { createProject(input: $in) { `+fields+` } }`,
		map[string]any{"in": map[string]any{"name": "  Launch plan  ", "description": "Q3 <launch> & more"}})
	require.Empty(t, created.Errors, created.Body)
	p := created.Data["createProject"].(map[string]any)
	require.Equal(t, "Launch plan", p["name"], "the name is trimmed as stored")
	require.Equal(t, "active", p["status"])
	require.NotNil(t, p["owner"])
	id, err := uuid.Parse(p["id"].(string))
	require.NoError(t, err)
	require.Equal(t, uuid.Version(7), id.Version(), "a time-ordered id (db.NewID)")

	read := h.post(t, mxHostA, owner, `query($id: ID!) { project(id: $id) { `+fields+` } }`, map[string]any{"id": p["id"]})
	require.Empty(t, read.Errors, read.Body)
	require.Equal(t, read.Data["project"], p)

	listed := h.post(t, mxHostA, owner, `{ projects(first: 10, orderBy: {field: CREATED_AT, direction: DESC}) { edges { node { `+fields+` } } } }`, nil)
	require.Empty(t, listed.Errors, listed.Body)
	found := false
	for _, e := range listed.Data["projects"].(map[string]any)["edges"].([]any) {
		if n := e.(map[string]any)["node"]; n.(map[string]any)["id"] == p["id"] {
			require.Equal(t, n, p)
			found = true
		}
	}
	require.True(t, found)
}
