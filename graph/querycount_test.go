package graph

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"entgo.io/ent/dialect"
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
	counting := dialect.DebugWithContext(db.NewDriver(h.pool), func(_ context.Context, v ...any) {
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

// TestProjectListCountsOnlyWhenTotalCountIsAsked: a page with pageInfo but
// no totalCount is one SELECT (hasNextPage comes from fetching one row
// more), totalCount adds the COUNT, and nested connections keep their
// totals.
func TestProjectListCountsOnlyWhenTotalCountIsAsked(t *testing.T) {
	t.Parallel()
	h := newMatrixHarness(t)
	var mu sync.Mutex
	var statements []string
	counting := dialect.DebugWithContext(db.NewDriver(h.pool), func(_ context.Context, v ...any) {
		if s := fmt.Sprint(v...); strings.Contains(s, "SELECT") {
			mu.Lock()
			statements = append(statements, s)
			mu.Unlock()
		}
	})
	srv := h.serveWith(t, db.NewClientsFromDriver(counting))
	owner := h.login(t, mxOwner)
	for i := range 7 {
		r := h.postTo(t, srv, mxHostA, owner, `mutation($n: String!) { createProject(input: {name: $n}) { id } }`, map[string]any{"n": fmt.Sprintf("c%02d", i)})
		require.Empty(t, r.Errors)
		if i == 0 {
			id := r.Data["createProject"].(map[string]any)["id"]
			for j := range 3 {
				r = h.postTo(t, srv, mxHostA, owner, `mutation($p: ID!, $t: String!) { createDataItem(input: {projectId: $p, title: $t}) { id } }`,
					map[string]any{"p": id, "t": fmt.Sprintf("i%d", j)})
				require.Empty(t, r.Errors)
			}
		}
	}
	run := func(q string) (map[string]any, []string) {
		mu.Lock()
		statements = nil
		mu.Unlock()
		r := h.postTo(t, srv, mxHostA, owner, q, nil)
		require.Empty(t, r.Errors, r.Body)
		mu.Lock()
		defer mu.Unlock()
		return r.Data["projects"].(map[string]any), append([]string(nil), statements...)
	}
	counts := func(stmts []string) (n int) {
		for _, s := range stmts {
			if strings.Contains(s, "COUNT(") {
				n++
			}
		}
		return n
	}

	page, stmts := run(`{ projects(first: 5) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`)
	require.Equal(t, 0, counts(stmts), "no COUNT without totalCount: %v", stmts)
	require.Len(t, stmts, 1)
	require.Equal(t, true, page["pageInfo"].(map[string]any)["hasNextPage"])
	require.Len(t, page["edges"], 5)

	page, stmts = run(`{ projects(first: 5) { totalCount pageInfo { hasNextPage } } }`)
	require.Equal(t, 1, counts(stmts), "%v", stmts)
	require.EqualValues(t, 7, page["totalCount"])

	page, _ = run(`{ projects(first: 5, orderBy: {field: CREATED_AT}) { edges { node { items(first: 1) { totalCount } } } } }`)
	first := page["edges"].([]any)[0].(map[string]any)["node"].(map[string]any)["items"].(map[string]any)
	require.EqualValues(t, 3, first["totalCount"], "nested totals are still counted")
}
