package cache

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeClock is a clock tests move by hand, so expiry is tested exactly and
// without sleeping.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the clock's current time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newTestMemory returns a Memory store that reads time from a fake clock.
func newTestMemory(maxKeys int) (*Memory, *fakeClock) {
	clock := &fakeClock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	m := NewMemory(maxKeys)
	m.now = clock.Now
	return m, clock
}

// requireStored asserts which of keys m holds.
func requireStored(t *testing.T, m *Memory, want bool, keys ...string) {
	t.Helper()
	for _, k := range keys {
		_, ok, err := m.Get(t.Context(), k)
		require.NoError(t, err)
		require.Equal(t, want, ok, "key %s stored", k)
	}
}

func TestNewMemory(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		maxKeys int
		want    int
	}{
		{"ZeroMeansDefaultBound", 0, 100_000},
		{"NegativeMeansDefaultBound", -5, 100_000},
		{"PositiveIsKept", 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := NewMemory(tt.maxKeys)
			require.Equal(t, tt.want, m.maxKeys)
			require.Equal(t, "memory", m.Backend())
			require.NoError(t, m.Ping(t.Context()))
			require.NoError(t, m.Close())
		})
	}
}

func TestMemoryBounded(t *testing.T) {
	t.Parallel()

	t.Run("DropsNewKeyWhenFullOfLiveKeys", func(t *testing.T) {
		t.Parallel()
		m, _ := newTestMemory(3)

		for i := range 3 {
			require.NoError(t, m.Set(t.Context(), fmt.Sprintf("k%d", i), []byte("v"), time.Minute))
		}
		require.NoError(t, m.Set(t.Context(), "k3", []byte("v"), 0), "a full cache drops the write, it does not fail")

		requireStored(t, m, true, "k0", "k1", "k2")
		requireStored(t, m, false, "k3")
		require.Len(t, m.items, 3)
	})

	t.Run("UpdatesExistingKeyWhenFull", func(t *testing.T) {
		t.Parallel()
		m, _ := newTestMemory(3)

		for i := range 3 {
			require.NoError(t, m.Set(t.Context(), fmt.Sprintf("k%d", i), []byte("old"), 0))
		}
		require.NoError(t, m.Set(t.Context(), "k1", []byte("new"), 0))

		v, ok, err := m.Get(t.Context(), "k1")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, []byte("new"), v)
		require.Len(t, m.items, 3)
	})

	t.Run("SweepsExpiredKeysToMakeRoom", func(t *testing.T) {
		t.Parallel()
		m, clock := newTestMemory(3)

		require.NoError(t, m.Set(t.Context(), "short1", []byte("v"), time.Second))
		require.NoError(t, m.Set(t.Context(), "short2", []byte("v"), time.Second))
		require.NoError(t, m.Set(t.Context(), "forever", []byte("v"), 0))
		clock.Advance(time.Second)

		require.NoError(t, m.Set(t.Context(), "new1", []byte("v"), 0))
		require.NoError(t, m.Set(t.Context(), "new2", []byte("v"), 0))
		requireStored(t, m, true, "forever", "new1", "new2")
		requireStored(t, m, false, "short1", "short2")
		require.Len(t, m.items, 3)

		require.NoError(t, m.Set(t.Context(), "new3", []byte("v"), 0))
		requireStored(t, m, false, "new3")
		require.Len(t, m.items, 3)
	})

	t.Run("AllowFailsClosedWhenFullOfLiveKeys", func(t *testing.T) {
		t.Parallel()
		m, _ := newTestMemory(2)

		_, err := m.Allow(t.Context(), "a", 5, time.Minute)
		require.NoError(t, err)
		_, err = m.Allow(t.Context(), "b", 5, time.Minute)
		require.NoError(t, err)

		d, err := m.Allow(t.Context(), "c", 5, time.Minute)
		require.NoError(t, err)
		require.False(t, d.Allowed, "an untracked client is refused, not let through unlimited")
		require.Equal(t, time.Minute, d.RetryAfter)
		require.Len(t, m.items, 2)

		d, err = m.Allow(t.Context(), "a", 5, time.Minute)
		require.NoError(t, err)
		require.True(t, d.Allowed, "tracked keys keep counting")
		require.Equal(t, 2, d.Count)
	})

	t.Run("AllowSweepsExpiredWindowsToMakeRoom", func(t *testing.T) {
		t.Parallel()
		m, clock := newTestMemory(1)

		_, err := m.Allow(t.Context(), "a", 5, time.Second)
		require.NoError(t, err)
		clock.Advance(time.Second)

		d, err := m.Allow(t.Context(), "b", 5, time.Second)
		require.NoError(t, err)
		require.True(t, d.Allowed)
		require.Len(t, m.items, 1)
	})
}

func TestMemoryCopies(t *testing.T) {
	t.Parallel()

	t.Run("GetReturnsACopy", func(t *testing.T) {
		t.Parallel()
		m, _ := newTestMemory(0)
		require.NoError(t, m.Set(t.Context(), "k", []byte("abc"), 0))

		v, ok, err := m.Get(t.Context(), "k")
		require.NoError(t, err)
		require.True(t, ok)
		v[0] = 'X'

		v, _, err = m.Get(t.Context(), "k")
		require.NoError(t, err)
		require.Equal(t, []byte("abc"), v, "mutating a returned value does not change the stored one")
	})

	t.Run("SetStoresACopy", func(t *testing.T) {
		t.Parallel()
		m, _ := newTestMemory(0)
		in := []byte("abc")
		require.NoError(t, m.Set(t.Context(), "k", in, 0))
		in[0] = 'X'

		v, _, err := m.Get(t.Context(), "k")
		require.NoError(t, err)
		require.Equal(t, []byte("abc"), v, "mutating the caller's slice after Set does not change the stored one")
	})
}

func TestMemoryExpiryBoundaries(t *testing.T) {
	t.Parallel()

	t.Run("ValueLivesUntilExactlyTTL", func(t *testing.T) {
		t.Parallel()
		m, clock := newTestMemory(0)
		require.NoError(t, m.Set(t.Context(), "k", []byte("v"), time.Second))

		clock.Advance(time.Second - time.Nanosecond)
		requireStored(t, m, true, "k")
		clock.Advance(time.Nanosecond)
		requireStored(t, m, false, "k")
		require.Empty(t, m.items, "an expired key read is removed")
	})

	t.Run("NoTTLNeverExpires", func(t *testing.T) {
		t.Parallel()
		m, clock := newTestMemory(0)
		require.NoError(t, m.Set(t.Context(), "k", []byte("v"), 0))

		clock.Advance(10 * 365 * 24 * time.Hour)
		requireStored(t, m, true, "k")
	})

	t.Run("RetryAfterCountsDownToWindowEnd", func(t *testing.T) {
		t.Parallel()
		m, clock := newTestMemory(0)

		d, err := m.Allow(t.Context(), "k", 1, time.Minute)
		require.NoError(t, err)
		require.Equal(t, time.Minute, d.RetryAfter)

		clock.Advance(40 * time.Second)
		d, err = m.Allow(t.Context(), "k", 1, time.Minute)
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.Equal(t, 20*time.Second, d.RetryAfter, "a fixed window does not restart on later hits")

		clock.Advance(20*time.Second - time.Nanosecond)
		d, err = m.Allow(t.Context(), "k", 1, time.Minute)
		require.NoError(t, err)
		require.False(t, d.Allowed, "still refused just before the window ends")

		clock.Advance(time.Nanosecond)
		d, err = m.Allow(t.Context(), "k", 1, time.Minute)
		require.NoError(t, err)
		require.True(t, d.Allowed, "allowed again exactly when the window ends")
		require.Equal(t, 1, d.Count)
	})
}
