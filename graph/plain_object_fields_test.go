package graph

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/graph/generated"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/project"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// ownerFails is the resolver root with a Project.owner that fails.
type ownerFails struct{ generated.ResolverRoot }

func (r ownerFails) Project() generated.ProjectResolver {
	return ownerFailsProject{r.ResolverRoot.Project()}
}

type ownerFailsProject struct{ generated.ProjectResolver }

func (ownerFailsProject) Owner(context.Context, *ent.Project) (*ent.User, error) {
	return nil, errors.New("owner lookup failed")
}

// TestAnErrorUnderAListedNodeNamesItsWholePath: a connection's edges and
// each edge's node are struct fields that skip gqlgen's ResolveField
// (genpatch's plain object fields) but keep their field contexts, so an
// error below them still names every step of its path, and only the
// failing field becomes null.
func TestAnErrorUnderAListedNodeNamesItsWholePath(t *testing.T) {
	t.Parallel()
	owner := uuid.New()
	d, _, tn := newProjectsTenant(t, 2, &owner)
	clients := db.NewClients(d.Pool)
	srv := handler.New(generated.NewExecutableSchema(generated.Config{
		Resolvers:  ownerFails{&Resolver{Clients: clients, ProjectSvc: project.NewService(clients)}},
		Directives: directives(),
	}))
	srv.AddTransport(transport.POST{})
	viewer := &tenancy.Viewer{UserID: owner, MemberID: uuid.New(), Roles: []string{"owner"},
		Permissions: rbac.NewSet([]rbac.Permission{rbac.ProjectsRead, rbac.MembersRead}), SessionID: uuid.New()}
	rctx := tenancy.WithViewer(tenancy.WithTenant(context.Background(), &tn.Tenant), viewer)

	const body = `{"query":"{ projects(first: 2, orderBy: {field: CREATED_AT, direction: DESC}) { edges { node { name owner { id } } } pageInfo { hasNextPage } } }"}`
	req := httptest.NewRequestWithContext(rctx, http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	require.JSONEq(t, `{
		"errors": [
			{"message": "owner lookup failed", "locations": [{"line": 1, "column": 91}], "path": ["projects", "edges", 0, "node", "owner"]},
			{"message": "owner lookup failed", "locations": [{"line": 1, "column": 91}], "path": ["projects", "edges", 1, "node", "owner"]}
		],
		"data": {"projects": {
			"edges": [{"node": {"name": "project 1", "owner": null}}, {"node": {"name": "project 2", "owner": null}}],
			"pageInfo": {"hasNextPage": false}
		}}
	}`, rec.Body.String())
}
