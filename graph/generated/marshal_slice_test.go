package generated

// Not generated: tests marshal_slice.go.

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
)

func TestMarshalSliceInOrderKeepsOrderIndexesAndPanicHandling(t *testing.T) {
	t.Parallel()
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter,
		func(context.Context, any) error { return errors.New("recovered") })
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: graphql.CollectedField{}})

	var seen []int
	ret := marshalSliceInOrder(ctx, 4, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		require.Equal(t, i, *graphql.GetFieldContext(ctx).Index, "each element has its own index")
		seen = append(seen, i)
		if i == 2 {
			panic("element 2 breaks")
		}
		return graphql.MarshalInt(i)
	})
	require.Equal(t, []int{0, 1, 2, 3}, seen, "in order, in the calling goroutine")
	require.Len(t, ret, 4)
	require.Equal(t, graphql.Null, ret[2], "a panicking element becomes null")
	var out strings.Builder
	ret.MarshalGQL(&out)
	require.Equal(t, "[0,1,null,3]", out.String(), "the rest still marshal")
	errs := graphql.GetErrors(ctx)
	require.Len(t, errs, 1)
	require.Contains(t, errs[0].Message, "recovered")

	require.Empty(t, marshalSliceInOrder(ctx, 0, 0, false, func(context.Context, int) graphql.Marshaler {
		t.Fatal("no element, no call")
		return nil
	}))
}

// Not parallel: testing.AllocsPerRun refuses to run beside parallel tests.
func TestMarshalSliceInOrderAllocatesOneContextPerElement(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	ctx := graphql.WithFieldContext(context.Background(), &graphql.FieldContext{})
	const n = 20
	indexes := make([]int, n)
	allocs := testing.AllocsPerRun(100, func() {
		marshalSliceInOrder(ctx, n, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
			fc := graphql.GetFieldContext(ctx)
			indexes[i] = *fc.Index
			return graphql.Null
		})
	})
	for i, got := range indexes {
		require.Equal(t, i, got, "each element has its own index")
	}
	// The result, the field contexts, the indexes, then one context value
	// per element (gqlgen's WithFieldContext); not three per element.
	t.Logf("allocations for %d elements: %v", n, allocs)
	require.LessOrEqual(t, allocs, float64(n+3))
}
