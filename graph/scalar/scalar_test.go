package scalar_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/graph/scalar"
)

func TestMarshalUUIDWritesWhatGqlgenWrites(t *testing.T) {
	for _, u := range []uuid.UUID{uuid.New(), uuid.Must(uuid.NewV7()), uuid.Max, uuid.Nil} {
		var ours, theirs bytes.Buffer
		scalar.MarshalUUID(u).MarshalGQL(&ours)
		graphql.MarshalUUID(u).MarshalGQL(&theirs)
		require.Equal(t, theirs.String(), ours.String(), u)
	}
	require.Equal(t, graphql.Null, scalar.MarshalUUID(uuid.Nil), "the nil UUID is null")

	// Any other writer gets the same bytes.
	u := uuid.New()
	var sb strings.Builder
	scalar.MarshalUUID(u).MarshalGQL(&sb)
	require.Equal(t, `"`+u.String()+`"`, sb.String())
}

// Not parallel: testing.AllocsPerRun refuses to run beside parallel tests.
func TestMarshalUUIDAllocatesOnlyTheBox(t *testing.T) {
	u := uuid.New()
	var buf bytes.Buffer
	buf.Grow(1 << 10)
	allocs := func(marshal func(uuid.UUID) graphql.Marshaler) float64 {
		return testing.AllocsPerRun(100, func() {
			buf.Reset()
			marshal(u).MarshalGQL(&buf)
		})
	}
	ours, theirs := allocs(scalar.MarshalUUID), allocs(graphql.MarshalUUID)
	t.Logf("allocations per id written: gqlgen %v, ours %v", theirs, ours)
	require.LessOrEqual(t, ours, 1.0)
	require.Less(t, ours, theirs)
}
