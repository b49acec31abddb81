package db

import (
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
)

// Not parallel: testing.AllocsPerRun refuses to run beside parallel tests.
func TestUUIDParametersEncodeWithoutTheirStringForm(t *testing.T) {
	u := uuid.New()
	allocs := func(m *pgtype.Map, v any) float64 {
		buf := make([]byte, 0, 64)
		return testing.AllocsPerRun(100, func() {
			b, err := m.Encode(pgtype.UUIDOID, pgtype.BinaryFormatCode, v, buf[:0])
			if err != nil || len(b) != 16 || [16]byte(b) != [16]byte(u) {
				t.Fatalf("encoded %x, %v", b, err)
			}
		})
	}
	plain := pgtype.NewMap()
	m := pgtype.NewMap()
	m.TryWrapEncodePlanFuncs = append([]pgtype.TryWrapEncodePlanFunc{tryWrapUUID}, m.TryWrapEncodePlanFuncs...)
	// 20 against 3 with the pgx of go.mod: the string, its parse, the
	// plan lookups for it; what is left is boxing the value.
	for _, v := range []any{u, &u} {
		before, after := allocs(plain, v), allocs(m, v)
		t.Logf("%T: allocations per parameter: %v through Value, %v as bytes", v, before, after)
		require.LessOrEqual(t, after, 3.0)
		require.Greater(t, before, 2*after)
	}
	// A nil pointer is NULL.
	var nilID *uuid.UUID
	b, err := m.Encode(pgtype.UUIDOID, pgtype.BinaryFormatCode, nilID, nil)
	require.NoError(t, err)
	require.Nil(t, b)
}
