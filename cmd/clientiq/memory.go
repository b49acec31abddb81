package main

import (
	"context"
	"log/slog"
	"runtime/debug"

	"github.com/clientiq/clientiq/internal/gcpace"
)

// tuneGC paces the garbage collector (internal/gcpace) unless GOGC is set:
// the heap may grow to heapTargetMiB (GC_HEAP_TARGET_MIB) while the live
// heap is small, and grows with it at GOGC 85 once it is not. With the
// executable's pages, the default keeps the server's resident set under
// 60 MB in the list benchmark (see docs/performance.md). GOGC and
// GOMEMLIMIT in the environment win. The returned func ends the pacing and
// restores GOGC.
func tuneGC(getenv func(string) string, heapTargetMiB int) (stop func()) {
	if getenv("GOGC") != "" {
		return func() {}
	}
	return gcpace.Start(gcpace.Config{HeapTarget: uint64(heapTargetMiB) << 20}).Stop
}

// releaseStartupMemory hands back to the kernel what start-up needed once
// and serving does not: the heap garbage of initialisation (library
// templates, migrations checks, the River client's set-up) and the pages
// of the executable that only start-up ran or read (package initialisers,
// the code of the other commands). Pages the requests use come back on
// first touch; clean file pages are the kernel's to drop under pressure
// anyway, so this makes the resident set show what serving needs.
func releaseStartupMemory(ctx context.Context, logger *slog.Logger) {
	debug.FreeOSMemory()
	advised, err := pageOutExecutable()
	if err != nil {
		logger.DebugContext(ctx, "memory_pageout_unavailable", slog.Any("error", err))
		return
	}
	logger.DebugContext(ctx, "startup_memory_released", slog.Int64("executable_bytes_advised", advised))
}
