package graph

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// Answers are written into arrays recycled from answers already sent
// (graph/generated/answer_buffer.go): each answer must still be whole and
// its own, in sequence and at once.
func TestRecycledAnswerBuffersKeepEachAnswerIntact(t *testing.T) {
	t.Parallel()
	h, rctx := newListHandler(t)
	type page struct {
		Data struct {
			Projects struct {
				Edges []struct {
					Node struct{ ID, Name string }
				}
			}
		}
		Errors []any
	}
	list := func(first int) (page, string) {
		body := fmt.Sprintf(`{"query":"query List($n: Int) { projects(first: $n) { edges { node { id name } } } }","variables":{"n":%d}}`, first)
		req := httptest.NewRequestWithContext(rctx, http.MethodPost, "/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var p page
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			return p, fmt.Sprintf("first %d: %v: %s", first, err, rec.Body)
		}
		return p, ""
	}
	all, bad := list(100)
	require.Empty(t, bad)
	require.Empty(t, all.Errors)
	require.Len(t, all.Data.Projects.Edges, 100)

	check := func(first int) string {
		p, bad := list(first)
		if bad != "" {
			return bad
		}
		if len(p.Errors) > 0 || len(p.Data.Projects.Edges) != first {
			return fmt.Sprintf("first %d: %d edges, errors %v", first, len(p.Data.Projects.Edges), p.Errors)
		}
		for i, e := range p.Data.Projects.Edges {
			if e.Node != all.Data.Projects.Edges[i].Node {
				return fmt.Sprintf("first %d: edge %d is %+v, want %+v", first, i, e.Node, all.Data.Projects.Edges[i].Node)
			}
		}
		return ""
	}
	// Long answers then short ones, so a short answer lands in a long
	// answer's array: nothing of the long one may show.
	for _, first := range []int{100, 1, 60, 2, 100, 0, 37} {
		require.Empty(t, check(first))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*25)
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				if bad := check((g*25 + i*7) % 101); bad != "" {
					errs <- bad
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for bad := range errs {
		t.Error(bad)
	}
}
