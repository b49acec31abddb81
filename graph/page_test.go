package graph

import (
	"testing"

	"github.com/clientiq/clientiq/ent/entgql"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestPaginateCutsRelayPages(t *testing.T) {
	t.Parallel()
	ids := make([]uuid.UUID, 7)
	for i := range ids {
		ids[i] = uuid.New()
	}
	id := func(u uuid.UUID) uuid.UUID { return u }
	n := func(i int) *int { return &i }

	p, err := paginate(ids, id, nil, n(3), nil, nil)
	require.NoError(t, err)
	require.Equal(t, ids[:3], p.Nodes)
	require.True(t, p.Info.HasNextPage)
	require.False(t, p.Info.HasPreviousPage)
	require.Equal(t, 7, p.Total)

	p, err = paginate(ids, id, p.Info.EndCursor, n(3), nil, nil)
	require.NoError(t, err)
	require.Equal(t, ids[3:6], p.Nodes)
	require.True(t, p.Info.HasPreviousPage)

	p, err = paginate(ids, id, p.Info.EndCursor, n(3), nil, nil)
	require.NoError(t, err)
	require.Equal(t, ids[6:], p.Nodes)
	require.False(t, p.Info.HasNextPage)

	p, err = paginate(ids, id, nil, nil, &entgql.Cursor[uuid.UUID]{ID: ids[5]}, n(2))
	require.NoError(t, err)
	require.Equal(t, ids[3:5], p.Nodes, "last 2 before the 6th")

	p, err = paginate(ids, id, nil, nil, nil, nil)
	require.NoError(t, err)
	require.Len(t, p.Nodes, 7, "no size: one full page")

	_, err = paginate(ids, id, nil, n(1), nil, n(1))
	require.Error(t, err)
	_, err = paginate(ids, id, nil, n(-1), nil, nil)
	require.Error(t, err)
}

func TestOrderedSortsBothWays(t *testing.T) {
	t.Parallel()
	xs := []int{3, 1, 2}
	ordered(xs, entgql.OrderDirectionAsc, func(a, b int) int { return a - b })
	require.Equal(t, []int{1, 2, 3}, xs)
	ordered(xs, entgql.OrderDirectionDesc, func(a, b int) int { return a - b })
	require.Equal(t, []int{3, 2, 1}, xs)
}
