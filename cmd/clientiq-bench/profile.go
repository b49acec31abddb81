package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// profileServer records the server's CPU with perf while spec runs closed
// loop for du (a run of its own, outside the measured ones), and returns
// the top of the report. The CPU profile is taken from outside with perf
// (Go binaries keep frame pointers and symbols, which is all perf needs),
// so it also shows the kernel; the allocations come from Go's own
// profiler on the server's PPROF_ADDR, read before and after the run.
func (h *harness) profileServer(ctx context.Context, du time.Duration, dir, stamp string) (*Profile, error) {
	perf, err := exec.LookPath("perf")
	if err != nil {
		return nil, fmt.Errorf("perf is not installed (apt-get install linux-perf): %w", err)
	}
	if err := os.MkdirAll(h.o.out, 0o755); err != nil {
		return nil, err
	}
	var sc Scenario
	spec, err := h.prepare(ctx, &sc, func() (attackSpec, error) { return h.spread(listQuery), nil })
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "perf.data")
	rec := exec.CommandContext(ctx, perf, "record", "-F", "499", "-g", "-o", data,
		"-p", strconv.Itoa(h.srv.pid), "--", "sleep", strconv.Itoa(int(du.Seconds())))
	var recOut strings.Builder
	rec.Stdout, rec.Stderr = &recOut, &recOut
	if err := rec.Start(); err != nil {
		return nil, fmt.Errorf("perf record: %w", err)
	}
	allocsBefore, allocErr := fetch(ctx, "http://"+h.o.pprofAddr+"/debug/pprof/allocs")
	if _, err := h.run.attack(ctx, spec, runMode{name: "max", conns: h.o.conns}, du); err != nil {
		_ = rec.Process.Kill()
		_ = rec.Wait()
		return nil, err
	}
	var allocs string
	if allocErr == nil {
		allocs, allocErr = allocationsTop(ctx, dir, allocsBefore, "http://"+h.o.pprofAddr+"/debug/pprof/allocs")
	}
	if err := rec.Wait(); err != nil {
		return nil, fmt.Errorf("perf record: %w: %s", err, recOut.String())
	}
	report := func(children bool) (string, error) {
		args := []string{"report", "-i", data, "--stdio", "--sort", "symbol", "-g", "none", "--percent-limit", "0.7"}
		if children {
			args = append(args, "--children")
		} else {
			args = append(args, "--no-children")
		}
		out, err := exec.CommandContext(ctx, perf, args...).Output()
		if err != nil {
			return "", fmt.Errorf("perf report: %w", err)
		}
		return string(out), nil
	}
	flat, err := report(false)
	if err != nil {
		return nil, err
	}
	cum, err := report(true)
	if err != nil {
		return nil, err
	}
	text := "# perf report --no-children (self)\n" + flat + "\n# perf report --children (cumulative)\n" + cum
	if allocErr != nil {
		allocs = ""
		text += "\n# allocations: not taken (" + allocErr.Error() + ")\n"
	} else {
		text += "\n# go tool pprof -top -sample_index=alloc_space (the run's allocations)\n" + allocs
	}
	file := filepath.Join(h.o.out, stamp+"-load-perf.txt")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		return nil, err
	}
	return &Profile{Tool: fmt.Sprintf("perf record -F 499 -g, %s closed loop on %d connections", du, h.o.conns),
		Scenario: "1-graphql-list", File: filepath.Base(file), Flat: topLines(flat, 25), Cum: topLines(cum, 15), Parts: profileParts(cum),
		Allocs: pprofTop(allocs, 20)}, nil
}

// fetch GETs url's body.
func fetch(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// allocationsTop reads the allocation profile again and has go tool pprof
// list what was allocated since before.
func allocationsTop(ctx context.Context, dir string, before []byte, url string) (string, error) {
	after, err := fetch(ctx, url)
	if err != nil {
		return "", err
	}
	b, a := filepath.Join(dir, "allocs-before.pb.gz"), filepath.Join(dir, "allocs-after.pb.gz")
	if err := os.WriteFile(b, before, 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(a, after, 0o644); err != nil {
		return "", err
	}
	out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-sample_index=alloc_space", "-base", b, a).Output()
	if err != nil {
		return "", fmt.Errorf("go tool pprof: %w", err)
	}
	return string(out), nil
}

// pprofTop keeps the header line with the total and the first n rows of
// a pprof -top listing.
func pprofTop(report string, n int) []string {
	var out []string
	rows := 0
	for _, line := range strings.Split(report, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "Showing nodes"), strings.HasPrefix(t, "flat "):
			out = append(out, t)
		case strings.HasSuffix(strings.Fields(t + " x")[0], "B") && rows < n:
			out = append(out, t)
			rows++
		}
	}
	return out
}

// profileParts are the parts of a request a reader looks for first, each
// a symbol pattern; the share of a part is the largest cumulative share of
// a symbol that contains the pattern.
var profileParts = func(cum string) []string {
	parts := [][2]string{
		{"HTTP server, whole requests", "net/http.(*conn).serve"},
		{"tenant resolution (Host)", "(*Resolver).Resolve"},
		{"  shared cache (Redis)", "(*Resolver).fromShared"},
		{"authentication (JWT + viewer)", "auth.(*Service).Authenticate"},
		{"  JWT verification", "(*KeyRing).Verify"},
		{"  viewer query", "(*Service).loadViewer"},
		{"GraphQL execution (gqlgen)", "executor.(*Executor).DispatchOperation"},
		{"  ent Paginate", "ProjectQuery).Paginate"},
		{"    its COUNT", "ProjectQuery).Count"},
		{"pgx Query (any caller)", "pgx/v5.(*Conn).Query"},
		{"  statement preparation (cache misses)", "pgx/v5.(*Conn).Prepare"},
		{"JSON encoding", "encoding/json."},
		{"Prometheus observe", "prometheus.(*histogram).Observe"},
		{"malloc", "runtime.mallocgc"},
		{"GC background marking", "runtime.gcBgMarkWorker"},
		{"goroutine stack growth", "runtime.newstack"},
		{"syscalls", "syscall.Syscall"},
		{"kernel scheduling", "finish_task_switch"},
	}
	best := make([]float64, len(parts))
	for _, line := range strings.Split(cum, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasSuffix(f[0], "%") {
			continue
		}
		pct, err := strconv.ParseFloat(strings.TrimSuffix(f[0], "%"), 64)
		if err != nil {
			continue
		}
		sym := strings.Join(f[3:], " ")
		for i, p := range parts {
			if strings.Contains(sym, p[1]) {
				best[i] = max(best[i], pct)
			}
		}
	}
	var out []string
	for i, p := range parts {
		if best[i] > 0 {
			out = append(out, fmt.Sprintf("%6.2f%%  %s", best[i], p[0]))
		}
	}
	return out
}

// topLines keeps the first n sample lines of a perf report (no comments).
func topLines(report string, n int) []string {
	var out []string
	for _, line := range strings.Split(report, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		// perf pads the symbol column and ends it with "- -" (no srcline).
		f := strings.Fields(strings.TrimRight(t, " -"))
		out = append(out, strings.Join(f, " "))
		if len(out) == n {
			break
		}
	}
	return out
}
