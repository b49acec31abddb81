package db

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestNewIDIsTimeOrdered(t *testing.T) {
	t.Parallel()
	before := time.Now().Truncate(time.Millisecond)
	prev := uuid.Nil
	for range 1000 {
		id := NewID()
		require.Equal(t, uuid.Version(7), id.Version())
		require.Equal(t, uuid.RFC4122, id.Variant())
		require.Positive(t, compare(id, prev), "each id sorts after the one before, as PostgreSQL compares uuids")
		prev = id
	}
	sec, nsec := prev.Time().UnixTime()
	require.WithinDuration(t, before, time.Unix(sec, nsec), time.Second, "the id carries its creation time")
}

// compare orders uuids bytewise, as PostgreSQL's uuid type does.
func compare(a, b uuid.UUID) int {
	for i := range a {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return 0
}
