package graph

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNodeShowsOnlyWhatTheViewerMayRead: node returns a project to roles
// with projects.read in its tenant, null to anyone else (other tenants,
// staff on the platform), and the viewer's own user.
func TestNodeShowsOnlyWhatTheViewerMayRead(t *testing.T) {
	t.Parallel()
	h := newMatrixHarness(t)
	pid := mxProject(t, h)
	q := `query($id: ID!) { node(id: $id) { id __typename } }`
	node := func(host string, r mxRole, id string) map[string]any {
		resp := h.post(t, host, h.login(t, r), q, map[string]any{"id": id})
		require.Empty(t, resp.Errors, resp.Body)
		n, _ := resp.Data["node"].(map[string]any)
		return n
	}
	for _, r := range []mxRole{mxViewer, mxMember, mxAdmin, mxOwner} {
		n := node(mxHostA, r, pid)
		require.NotNil(t, n, "%s reads the project", r)
		require.Equal(t, "Project", n["__typename"])
	}
	require.Nil(t, node(mxSlugB+"."+mxBaseDomain, mxOtherOwner, pid), "another tenant's owner sees nothing")
	require.Nil(t, node(mxHostPlatform, mxStaff, pid), "staff have no implicit access to tenant data")
	self := node(mxHostA, mxViewer, h.users[mxViewer].ID.String())
	require.Equal(t, "User", self["__typename"])
	require.Nil(t, node(mxHostA, mxViewer, h.users[mxOwner].ID.String()), "other users are not nodes")
	require.Equal(t, "Tenant", node(mxHostPlatform, mxStaff, h.a.ID.String())["__typename"])
	require.Nil(t, node(mxHostA, mxOwner, h.a.ID.String()), "members do not look up tenants")
}
