package graph

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestACursorThisAPIDidNotReturnIsTheClientsMistake: a malformed after or
// before is a VALIDATION_ERROR naming the cursor, on a root connection and
// on a nested one (which ent would otherwise load with its parents and
// panic on), from a literal or a variable; a real cursor still pages.
func TestACursorThisAPIDidNotReturnIsTheClientsMistake(t *testing.T) {
	t.Parallel()
	h := newMatrixHarness(t)
	owner := h.login(t, mxOwner)
	for _, name := range []string{"first", "second"} {
		res := h.post(t, mxHostA, owner, `mutation($n: String!) { createProject(input: {name: $n}) { id } }`, map[string]any{"n": name})
		require.Empty(t, res.Errors, res.Body)
	}
	requireBadCursor := func(t *testing.T, res mxResponse) {
		t.Helper()
		require.Len(t, res.Errors, 1, res.Body)
		require.Equal(t, "VALIDATION_ERROR", mxErrorCode(res.Errors[0]), res.Body)
		require.Contains(t, res.Errors[0]["message"], "invalid cursor", res.Body)
		require.Equal(t, map[string]any{"cursor": []any{"is not a cursor this API returned"}},
			res.Errors[0]["extensions"].(map[string]any)["fields"], res.Body)
		require.Nil(t, res.Data["projects"])
	}

	t.Run("on a root connection", func(t *testing.T) {
		t.Parallel()
		requireBadCursor(t, h.post(t, mxHostA, owner, `{ projects(first: 1, after: "bogus") { totalCount } }`, nil))
		requireBadCursor(t, h.post(t, mxHostA, owner, `query($c: Cursor) { projects(last: 1, before: $c) { totalCount } }`, map[string]any{"c": "%%%"}))
	})

	t.Run("on a nested connection", func(t *testing.T) {
		t.Parallel()
		const doc = `query($c: Cursor) { projects(first: 2) { edges { node { items(first: 1, after: $c) { totalCount } } } } }`
		requireBadCursor(t, h.post(t, mxHostA, owner, `{ projects(first: 2) { edges { node { ...F } } } } fragment F on Project { items(first: 1, before: "bogus") { totalCount } }`, nil))
		requireBadCursor(t, h.post(t, mxHostA, owner, doc, map[string]any{"c": "bogus"}))
		// The same operation with no cursor, then a bad one again: the
		// check is not skipped for an operation seen before.
		ok := h.post(t, mxHostA, owner, doc, nil)
		require.Empty(t, ok.Errors, ok.Body)
		requireBadCursor(t, h.post(t, mxHostA, owner, doc, map[string]any{"c": "bogus"}))
	})

	t.Run("a cursor from a page still pages", func(t *testing.T) {
		t.Parallel()
		page := h.post(t, mxHostA, owner, `{ projects(first: 1) { pageInfo { endCursor } } }`, nil)
		require.Empty(t, page.Errors, page.Body)
		cursor := page.Data["projects"].(map[string]any)["pageInfo"].(map[string]any)["endCursor"]
		next := h.post(t, mxHostA, owner, `query($c: Cursor) { projects(first: 1, after: $c) { edges { node { name } } } }`, map[string]any{"c": cursor})
		require.Empty(t, next.Errors, next.Body)
		require.Len(t, next.Data["projects"].(map[string]any)["edges"], 1)
	})
}
