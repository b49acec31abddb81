// Package gcpace owns how often the garbage collector runs: it sets GOGC
// after every collection so that the heap may grow to a fixed target while
// the live heap is small, and falls back to a plain GOGC once the live heap
// is too large for the target to leave room.
//
// A fixed GOGC makes the collector's work follow the live heap: a server
// whose live heap is 10 MB and that allocates 300 MB/s collects 35 times a
// second at GOGC 85. What bounds memory in production is a budget in bytes,
// not a ratio, so within that budget the collector may as well wait for the
// heap to fill it (fewer cycles, each marking the same live heap). When the
// live heap grows (more tenants, larger caches), the percentage falls to
// MinPercent and the heap grows with it as under a fixed GOGC: unlike a
// memory limit (GOMEMLIMIT), the target never makes the collector run back
// to back.
package gcpace

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// Defaults of Config.
const (
	DefaultHeapTarget = 24 << 20
	DefaultMinPercent = 85
	DefaultMaxPercent = 400
)

// Config configures a Pacer.
type Config struct {
	// HeapTarget is the heap size (live objects and garbage) the collector
	// lets the heap reach before it collects, while the live heap is small
	// enough for MinPercent to stay below it. 0: DefaultHeapTarget.
	HeapTarget uint64
	// MinPercent is the GOGC used when the live heap is too large for
	// HeapTarget: the heap then grows with the live heap. 0:
	// DefaultMinPercent.
	MinPercent int
	// MaxPercent bounds GOGC when the live heap is tiny (at start-up), so
	// that one collection's survivors cannot set a goal many times their
	// size. 0: DefaultMaxPercent.
	MaxPercent int
}

func (c Config) withDefaults() Config {
	if c.HeapTarget == 0 {
		c.HeapTarget = DefaultHeapTarget
	}
	if c.MinPercent == 0 {
		c.MinPercent = DefaultMinPercent
	}
	if c.MaxPercent == 0 {
		c.MaxPercent = DefaultMaxPercent
	}
	if c.MaxPercent < c.MinPercent {
		c.MaxPercent = c.MinPercent
	}
	return c
}

// Percent is the GOGC that makes the next heap goal HeapTarget for a live
// heap of live bytes and roots (goroutine stacks and globals, which Go's
// pacer counts with the live heap since Go 1.18) of roots bytes, within
// [MinPercent, MaxPercent].
func (c Config) Percent(live, roots uint64) int {
	c = c.withDefaults()
	scan := live + roots
	if scan == 0 || live >= c.HeapTarget {
		return c.MinPercent
	}
	p := int((c.HeapTarget - live) * 100 / scan)
	return max(c.MinPercent, min(p, c.MaxPercent))
}

// Pacer sets GOGC after each garbage collection.
type Pacer struct {
	cfg     Config
	before  int // GOGC when the pacer started, restored by Stop
	stopped atomic.Bool
	mu      sync.Mutex // serialises adjust and Stop
	samples []metrics.Sample
	last    atomic.Int64 // GOGC set by the last adjustment
}

// sentinel is allocated for each cycle and dropped at once: its cleanup
// runs after the collection that found it unreachable. It holds a pointer
// so that it is never batched with other small objects (the tiny
// allocator), whose cleanups may never run.
type sentinel struct {
	_ *int
	_ [2]uint64
}

// Start applies cfg now and after every garbage collection until Stop.
func Start(cfg Config) *Pacer {
	p := &Pacer{cfg: cfg.withDefaults(), samples: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/gc/scan/stack:bytes"},
		{Name: "/gc/scan/globals:bytes"},
	}}
	p.before = debug.SetGCPercent(p.cfg.MinPercent)
	p.last.Store(int64(p.cfg.MinPercent))
	p.adjust()
	p.arm()
	return p
}

// Percent is the GOGC the pacer set last.
func (p *Pacer) Percent() int { return int(p.last.Load()) }

// Stop ends the adjustments and restores the GOGC from before Start.
func (p *Pacer) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped.Swap(true) {
		return
	}
	debug.SetGCPercent(p.before)
}

func (p *Pacer) arm() {
	runtime.AddCleanup(&sentinel{}, func(p *Pacer) {
		if p.stopped.Load() {
			return
		}
		p.adjust()
		p.arm()
	}, p)
}

func (p *Pacer) adjust() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped.Load() {
		return
	}
	metrics.Read(p.samples)
	var v [3]uint64
	for i, s := range p.samples {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = s.Value.Uint64()
		}
	}
	pct := p.cfg.Percent(v[0], v[1]+v[2])
	if int64(pct) != p.last.Load() {
		debug.SetGCPercent(pct)
		p.last.Store(int64(pct))
	}
}
