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
	allocs := func(m *pgtype.Map) float64 {
		buf := make([]byte, 0, 64)
		return testing.AllocsPerRun(100, func() {
			b, err := m.Encode(pgtype.UUIDOID, pgtype.BinaryFormatCode, u, buf[:0])
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
	before, after := allocs(plain), allocs(m)
	t.Logf("allocations per uuid parameter: %v through Value, %v as bytes", before, after)
	require.LessOrEqual(t, after, 3.0)
	require.Greater(t, before, 2*after)
}
