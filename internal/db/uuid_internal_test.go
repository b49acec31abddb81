package db

import (
	"testing"

	entsql "entgo.io/ent/dialect/sql"
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

func TestUUIDColumnsScanWithoutTheirStringForm(t *testing.T) {
	u := uuid.New()
	m := pgtype.NewMap()
	scanUUIDsNatively(m)
	src := u[:]

	var got uuid.UUID
	require.NoError(t, m.Scan(pgtype.UUIDOID, pgtype.BinaryFormatCode, src, &got))
	require.Equal(t, u, got)

	var into uuid.UUID
	null := &entsql.NullScanner{S: &into}
	require.NoError(t, m.Scan(pgtype.UUIDOID, pgtype.BinaryFormatCode, src, null))
	require.True(t, null.Valid)
	require.Equal(t, u, into)
	require.NoError(t, m.Scan(pgtype.UUIDOID, pgtype.BinaryFormatCode, nil, null))
	require.False(t, null.Valid, "NULL")

	require.NoError(t, m.Scan(pgtype.UUIDOID, pgtype.BinaryFormatCode, nil, &got), "NULL into a uuid.UUID, as uuid.UUID.Scan")
	require.Equal(t, u, got, "left as it was")
	require.Error(t, m.Scan(pgtype.UUIDOID, pgtype.BinaryFormatCode, src[:15], &got), "15 bytes")

	// Other targets keep pgx's plans: text, and a string.
	var s string
	require.NoError(t, m.Scan(pgtype.UUIDOID, pgtype.BinaryFormatCode, src, &s))
	require.Equal(t, u.String(), s)
	require.NoError(t, m.Scan(pgtype.UUIDOID, pgtype.TextFormatCode, []byte(u.String()), &got))
	require.Equal(t, u, got)

	// The point: no string in between. pgx's sql.Scanner path formats and
	// parses one per value.
	plain := pgtype.NewMap()
	allocs := func(m *pgtype.Map) float64 {
		return testing.AllocsPerRun(100, func() {
			if err := m.Scan(pgtype.UUIDOID, pgtype.BinaryFormatCode, src, &got); err != nil || got != u {
				t.Fatalf("scanned %v, %v", got, err)
			}
		})
	}
	before, after := allocs(plain), allocs(m)
	t.Logf("allocations per uuid scanned: %v through Scan(string), %v as bytes", before, after)
	require.Less(t, after, before)
}
