package gcpace

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPercentFillsTheTargetWithinBounds(t *testing.T) {
	t.Parallel()
	const mib = 1 << 20
	cfg := Config{HeapTarget: 24 * mib, MinPercent: 80, MaxPercent: 300}
	for _, tc := range []struct {
		name        string
		live, roots uint64
		want        int
	}{
		{"a live heap of half the target may double", 12 * mib, 0, 100},
		{"roots count with the live heap, as Go's pacer counts them", 10 * mib, 2 * mib, 116},
		{"a tiny live heap is bounded by MaxPercent", 1 * mib, 0, 300},
		{"a live heap too large for the target gets MinPercent", 20 * mib, 0, 80},
		{"a live heap over the target gets MinPercent", 50 * mib, 0, 80},
		{"nothing measured yet gets MinPercent", 0, 0, 80},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, cfg.Percent(tc.live, tc.roots))
		})
	}
	t.Run("zero values take the defaults", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, DefaultMaxPercent, Config{}.Percent(1, 0))
		require.Equal(t, DefaultMinPercent, Config{}.Percent(DefaultHeapTarget, 0))
	})
	t.Run("MaxPercent below MinPercent is raised to it", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, 90, Config{MinPercent: 90, MaxPercent: 50}.Percent(1, 0))
	})
}

// gogc reads the collector's current GOGC without changing it.
func gogc() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

// Not parallel: GOGC is the process's.
func TestPacerFollowsTheLiveHeapAfterEachCollection(t *testing.T) {
	const mib = 1 << 20
	before := gogc()
	p := Start(Config{HeapTarget: 64 * mib, MinPercent: 70, MaxPercent: 250})

	// The test binary's live heap is a few MiB: the goal may fill the target,
	// up to MaxPercent.
	runtime.GC()
	require.Eventually(t, func() bool { return p.Percent() > 70 }, 5*time.Second, time.Millisecond)
	require.Equal(t, p.Percent(), gogc())

	// A live heap larger than the target leaves MinPercent after the next
	// collection.
	ballast := make([]*[1 << 16]byte, 0, 1200)
	for range cap(ballast) {
		ballast = append(ballast, new([1 << 16]byte))
	}
	runtime.GC()
	require.Eventually(t, func() bool { return p.Percent() == 70 }, 5*time.Second, time.Millisecond)
	require.Equal(t, 70, gogc())

	// Once it is garbage again, the percentage rises back.
	runtime.KeepAlive(ballast)
	ballast = nil
	runtime.GC()
	runtime.GC()
	require.Eventually(t, func() bool { runtime.GC(); return p.Percent() > 70 }, 5*time.Second, 10*time.Millisecond)

	p.Stop()
	require.Equal(t, before, gogc(), "Stop restores GOGC")
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	require.Equal(t, before, gogc(), "no adjustment after Stop")
	p.Stop() // twice is harmless
}
