package db

import (
	"database/sql"
	"encoding/binary"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
)

// Not parallel: testing.AllocsPerRun refuses to run beside parallel tests.
func TestTimestamptzColumnsScanIntoNullTimeDirectly(t *testing.T) {
	m := pgtype.NewMap()
	scanTimestamptzNatively(m)
	plain := pgtype.NewMap()
	want := time.Date(2026, 11, 27, 21, 30, 15, 123456000, time.UTC)
	src, err := plain.Encode(pgtype.TimestamptzOID, pgtype.BinaryFormatCode, want, nil)
	require.NoError(t, err)

	// The same answers as pgx's sql.Scanner path, binary and text.
	for _, format := range []int16{pgtype.BinaryFormatCode, pgtype.TextFormatCode} {
		in := src
		if format == pgtype.TextFormatCode {
			in = []byte("2026-11-27 21:30:15.123456+00")
		}
		var ours, theirs sql.NullTime
		require.NoError(t, m.Scan(pgtype.TimestamptzOID, format, in, &ours))
		require.NoError(t, plain.Scan(pgtype.TimestamptzOID, format, in, &theirs))
		require.True(t, ours.Valid)
		require.True(t, ours.Time.Equal(want), "%v", ours.Time)
		require.Equal(t, theirs, ours)
	}

	null := sql.NullTime{Time: want, Valid: true}
	require.NoError(t, m.Scan(pgtype.TimestamptzOID, pgtype.BinaryFormatCode, nil, &null))
	require.Equal(t, sql.NullTime{}, null, "NULL")

	infinity := binary.BigEndian.AppendUint64(nil, 0x7fffffffffffffff)
	require.Error(t, m.Scan(pgtype.TimestamptzOID, pgtype.BinaryFormatCode, infinity, &null), "infinity is no time")
	require.Error(t, m.Scan(pgtype.TimestamptzOID, pgtype.BinaryFormatCode, src[:7], &null), "7 bytes")

	// Other targets keep pgx's plans.
	var tm time.Time
	require.NoError(t, m.Scan(pgtype.TimestamptzOID, pgtype.BinaryFormatCode, src, &tm))
	require.True(t, tm.Equal(want))

	allocs := func(m *pgtype.Map) float64 {
		var nt sql.NullTime
		return testing.AllocsPerRun(100, func() {
			if err := m.Scan(pgtype.TimestamptzOID, pgtype.BinaryFormatCode, src, &nt); err != nil || !nt.Time.Equal(want) {
				t.Fatalf("scanned %v, %v", nt, err)
			}
		})
	}
	before, after := allocs(plain), allocs(m)
	t.Logf("allocations per timestamptz scanned into sql.NullTime: %v through Scan, %v directly", before, after)
	require.Less(t, after, before)
}
