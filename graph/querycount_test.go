package graph

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/db"
)

// TestNestedQueriesUseABoundedNumberOfStatements proves projects → items
// → owner is loaded with the same number of SQL statements whatever the
// page size (field collection for items, a batched loader for owners).
func TestNestedQueriesUseABoundedNumberOfStatements(t *testing.T) {
	t.Parallel()
	h := newMatrixHarness(t)
	var statements atomic.Int64
	counting := dialect.DebugWithContext(entsql.OpenDB(dialect.Postgres, h.sqlDB), func(_ context.Context, v ...any) {
		if s := fmt.Sprint(v...); strings.Contains(s, "SELECT") {
			statements.Add(1)
		}
	})
	srv := h.serveWith(t, db.NewClientsFromDriver(counting))
	owner := h.login(t, mxOwner)
	for i := range 30 {
		r := h.postTo(t, srv, mxHostA, owner, `mutation($n: String!) { createProject(input: {name: $n}) { id } }`, map[string]any{"n": fmt.Sprintf("p%02d", i)})
		require.Empty(t, r.Errors)
		id := r.Data["createProject"].(map[string]any)["id"]
		for j := range 3 {
			r = h.postTo(t, srv, mxHostA, owner, `mutation($p: ID!, $t: String!) { createDataItem(input: {projectId: $p, title: $t}) { id } }`,
				map[string]any{"p": id, "t": fmt.Sprintf("i%d", j)})
			require.Empty(t, r.Errors)
		}
	}
	count := func(first int) int64 {
		statements.Store(0)
		q := fmt.Sprintf(`{ projects(first: %d) { edges { node { name owner { email } items(first: 5) { edges { node { title } } } } } } }`, first)
		r := h.postTo(t, srv, mxHostA, owner, q, nil)
		require.Empty(t, r.Errors)
		require.Len(t, r.Data["projects"].(map[string]any)["edges"], first)
		return statements.Load()
	}
	small, large := count(2), count(25)
	t.Logf("SELECT statements: first=2 → %d, first=25 → %d", small, large)
	require.Equal(t, small, large, "the statement count must not grow with the page size")
	require.LessOrEqual(t, large, int64(4))
}
