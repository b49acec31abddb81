package generated

import (
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

func names(fs []graphql.CollectedField) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Alias)
	}
	return out
}

func TestCollectFieldsKeepsMergedSelectionsOfEachTypeApart(t *testing.T) {
	t.Parallel()
	// For P, a's selections merge to [x y]; for D, to [x z]: two sets
	// starting with the same field and of the same length.
	doc, err := parser.ParseQuery(&ast.Source{Input: `{ a { x } ... on P { a { y } } ... on D { a { z } } }`})
	require.NoError(t, err)
	oc := &graphql.OperationContext{Doc: doc, Variables: map[string]any{}}
	top := doc.Operations[0].SelectionSet
	p, d, child := []string{"P"}, []string{"D"}, []string{"T"}
	var c fieldsCache
	for range 2 { // the second time from the cache
		forP, forD := collectFields(&c, oc, top, p), collectFields(&c, oc, top, d)
		require.Equal(t, []string{"a"}, names(forP))
		require.Equal(t, []string{"a"}, names(forD))
		require.Equal(t, []string{"x", "y"}, names(collectFields(&c, oc, forP[0].Selections, child)))
		require.Equal(t, []string{"x", "z"}, names(collectFields(&c, oc, forD[0].Selections, child)))
		require.Equal(t, names(graphql.CollectFields(oc, forD[0].Selections, child)), names(collectFields(&c, oc, forD[0].Selections, child)))
	}
	require.Len(t, c.m, 4)
}

func TestCollectFieldsHonoursSkipAndInclude(t *testing.T) {
	t.Parallel()
	doc, err := parser.ParseQuery(&ast.Source{Input: `query($s: Boolean!) { a @skip(if: $s) b @include(if: $s) c }`})
	require.NoError(t, err)
	sel := doc.Operations[0].SelectionSet
	for _, s := range []bool{true, false} {
		oc := &graphql.OperationContext{Doc: doc, Variables: map[string]any{"s": s}}
		var c fieldsCache // one per operation, as the executionContext's
		want := names(graphql.CollectFields(oc, sel, []string{"Q"}))
		require.Equal(t, want, names(collectFields(&c, oc, sel, []string{"Q"})))
		require.Equal(t, want, names(collectFields(&c, oc, sel, []string{"Q"})))
	}
}
