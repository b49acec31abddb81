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

	"log/slog"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/graph/generated"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/project"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
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
	ctx := context.Background()
	d := dbtest.New(t)
	tenants, err := tenant.NewService(tenant.Config{Pool: d.Pool, Cache: cache.NewMemory(0), Logger: slog.New(slog.DiscardHandler), BaseDomain: "paths.test"})
	require.NoError(t, err)
	tn, err := tenants.Create(ctx, tenant.CreateInput{Slug: "paths", Name: "Paths"})
	require.NoError(t, err)
	owner := uuid.New()
	_, err = d.Pool.Exec(ctx, `INSERT INTO `+db.QuoteIdent(tn.Schema)+`.projects (id, name, description, status, created_at, updated_at, owner_id)
		SELECT gen_random_uuid(), 'project ' || g, '', 'active', now() - g * interval '1 second', now(), $1 FROM generate_series(1, 2) g`, owner)
	require.NoError(t, err)

	clients := db.NewClients(d.Pool)
	srv := handler.New(generated.NewExecutableSchema(generated.Config{
		Resolvers:  ownerFails{&Resolver{Clients: clients, ProjectSvc: project.NewService(clients)}},
		Directives: directives(),
	}))
	srv.AddTransport(transport.POST{})
	viewer := &tenancy.Viewer{UserID: owner, MemberID: uuid.New(), Roles: []string{"owner"},
		Permissions: rbac.NewSet([]rbac.Permission{rbac.ProjectsRead, rbac.MembersRead}), SessionID: uuid.New()}
	rctx := tenancy.WithViewer(tenancy.WithTenant(ctx, &tn.Tenant), viewer)

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
