package main

import (
	"context"
	"log/slog"
	"runtime/debug"
)

// defaultGCPercent is the garbage collector's target when GOGC is not
// set: a little below Go's 100, which keeps the server's resident set
// under 60 MB in the list benchmark for about 3 % more GC work (see
// docs/performance.md). GOGC and GOMEMLIMIT in the environment win.
const defaultGCPercent = 85

// tuneGC applies defaultGCPercent unless getenv has GOGC.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
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
