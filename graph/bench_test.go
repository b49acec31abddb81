package graph

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
)

// BenchmarkGraphQLList is the list scenario's GraphQL part in process: the
// handler (parsing from the query cache, execution, ent, one SELECT on a
// real PostgreSQL, marshalling) for an authorised viewer, without the
// network, the tenant resolution and the token check in front of it. Its
// B/op and allocs/op show what the generated code costs per request.
func BenchmarkGraphQLList(b *testing.B) {
	h, rctx := newListHandler(b)
	const body = `{"query":"query List { projects(first: 20) { edges { node { id name } } pageInfo { hasNextPage endCursor } } }"}`
	serve := func() {
		req := httptest.NewRequestWithContext(rctx, http.MethodPost, "/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"hasNextPage":true`) || strings.Contains(rec.Body.String(), `"errors"`) {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	serve() // prepares the statement, fills the query cache
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		serve()
	}
}

// newListHandler is the GraphQL handler over a fresh database with one
// tenant of 100 projects, and a context carrying that tenant and a viewer
// who may read projects (what the tenant and auth middlewares would put
// there).
func newListHandler(tb testing.TB) (http.Handler, context.Context) {
	d, tenants, tn := newProjectsTenant(tb, 100, nil)
	h := NewHandler(Config{Clients: db.NewClients(d.Pool), Tenants: tenants, Logger: slog.New(slog.DiscardHandler), Version: "bench", Cache: cache.NewMemory(0)})
	viewer := &tenancy.Viewer{UserID: uuid.New(), MemberID: uuid.New(), Roles: []string{"viewer"},
		Permissions: rbac.NewSet([]rbac.Permission{rbac.ProjectsRead}), SessionID: uuid.New()}
	return h, tenancy.WithViewer(tenancy.WithTenant(context.Background(), &tn.Tenant), viewer)
}

// newProjectsTenant is a fresh database with one tenant holding n
// projects ("project 1" the newest), owned by owner when it is not nil.
func newProjectsTenant(tb testing.TB, n int, owner *uuid.UUID) (*dbtest.DB, *tenant.Service, *tenant.Tenant) {
	ctx := context.Background()
	d := dbtest.New(tb)
	tenants, err := tenant.NewService(tenant.Config{Pool: d.Pool, Cache: cache.NewMemory(0), Logger: slog.New(slog.DiscardHandler), BaseDomain: "bench.test"})
	if err != nil {
		tb.Fatal(err)
	}
	tn, err := tenants.Create(ctx, tenant.CreateInput{Slug: "bench", Name: "Bench"})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := d.Pool.Exec(ctx, `INSERT INTO `+db.QuoteIdent(tn.Schema)+`.projects (id, name, description, status, created_at, updated_at, owner_id)
		SELECT gen_random_uuid(), 'project ' || g, '', 'active', now() - g * interval '1 second', now(), $2 FROM generate_series(1, $1::int) g`, n, owner); err != nil {
		tb.Fatal(err)
	}
	return d, tenants, tn
}
