package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc (100 on every
// Linux architecture Go supports).
const clockTicks = 100

// server is a running `clientiq serve`.
type server struct {
	cmd  *exec.Cmd
	pid  int
	addr string
	base string // http://127.0.0.1:port
	log  string // its stderr and stdout
	done chan error
	// idleRate and scrapeCost correct the statement counter: statements per
	// second with no load (River, pool upkeep) and per /metrics read.
	idleRate, scrapeCost float64
}

// buildServer compiles cmd/clientiq into dir (with symbols, for perf).
func buildServer(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "clientiq")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/clientiq")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/clientiq: %w\n%s", err, out)
	}
	return bin, nil
}

// runClientiq runs a one-shot clientiq subcommand and returns its output.
func runClientiq(ctx context.Context, bin string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("clientiq %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServer starts `clientiq serve` on addr and waits for /health/.
func startServer(ctx context.Context, bin string, env []string, addr, logPath string) (*server, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--addr", addr)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start clientiq serve: %w", err)
	}
	s := &server{cmd: cmd, pid: cmd.Process.Pid, addr: addr, base: "http://" + addr, log: logPath, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait(); logf.Close() }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			return nil, fmt.Errorf("clientiq serve exited at start (%v): %s", err, tail(logPath, 20))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if resp, err := http.Get(s.base + "/health/"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
	}
	s.stop()
	return nil, fmt.Errorf("clientiq serve did not answer /health/ within 60s: %s", tail(logPath, 20))
}

// stop sends SIGTERM and waits (SIGKILL after 30 s).
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		s.done <- <-s.done
	}
}

// queries reads clientiq_db_queries_total from /metrics.
func (s *server) queries(ctx context.Context) (float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "clientiq_db_queries_total "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, errors.New("/metrics has no clientiq_db_queries_total")
}

// calibrate measures the statement counter's background: a few reads in a
// row (the cost of a read), then an idle pause (the idle rate).
func (s *server) calibrate(ctx context.Context, idle time.Duration) error {
	var v [4]float64
	var err error
	for i := range 3 {
		if v[i], err = s.queries(ctx); err != nil {
			return err
		}
	}
	start := time.Now()
	time.Sleep(idle)
	if v[3], err = s.queries(ctx); err != nil {
		return err
	}
	s.scrapeCost = (v[2] - v[0]) / 2
	s.idleRate = max(0, (v[3]-v[2]-s.scrapeCost)/time.Since(start).Seconds())
	return nil
}

// settle waits until the server's start-up work is done: River's
// maintenance fans out over every tenant right after a start, tens of
// statements a second for several seconds (longer with more tenants). It
// returns how long that took, or maxWait if it never went below rate
// statements per second.
func (s *server) settle(ctx context.Context, rate float64, maxWait time.Duration) (time.Duration, error) {
	start := time.Now()
	prev, err := s.queries(ctx)
	if err != nil {
		return 0, err
	}
	for time.Since(start) < maxWait {
		t := time.Now()
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(time.Second):
		}
		cur, err := s.queries(ctx)
		if err != nil {
			return 0, err
		}
		if (cur-prev-1)/time.Since(t).Seconds() < rate {
			return time.Since(start), nil
		}
		prev = cur
	}
	return maxWait, nil
}

// sample is what the harness reads around a run.
type sample struct {
	at                        time.Time
	serverCPU, pgCPU, selfCPU float64 // seconds
	busy, steal               float64 // machine-wide seconds
	queries                   float64
	queriesOK                 bool
}

func (s *server) sample(ctx context.Context, dbName string) sample {
	sm := sample{at: time.Now()}
	sm.serverCPU, _ = procCPU(strconv.Itoa(s.pid))
	sm.selfCPU, _ = procCPU("self")
	sm.pgCPU = postgresCPU(dbName)
	sm.busy, sm.steal = machineCPU()
	q, err := s.queries(ctx)
	sm.queries, sm.queriesOK = q, err == nil
	return sm
}

// procCPU is utime+stime of /proc/<pid>/stat in seconds.
func procCPU(pid string) (float64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which may hold spaces: state is the
	// first, utime the 12th and stime the 13th.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%s/stat", pid)
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / clockTicks, nil
}

// postgresPIDs are the PostgreSQL processes serving dbName (their process
// titles name the database): backends and the autovacuum workers there.
// Other databases' backends and shared helpers are left out.
func postgresPIDs(dbName string) []string {
	ents, _ := os.ReadDir("/proc")
	var pids []string
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.HasPrefix(string(cmdline), "postgres: ") &&
			strings.Contains(string(cmdline), " "+dbName+" ") {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// postgresCPU sums the CPU of postgresPIDs(dbName).
func postgresCPU(dbName string) float64 {
	total := 0.0
	for _, pid := range postgresPIDs(dbName) {
		if c, err := procCPU(pid); err == nil {
			total += c
		}
	}
	return total
}

// postgresMemory sums the private (anonymous) memory of postgresPIDs(dbName)
// (catalog and relation caches, prepared statements, sort memory;
// shared_buffers is shared memory and left out), from
// /proc/<pid>/smaps_rollup. It returns how many backends there were, their
// total and the largest, in MiB.
func postgresMemory(dbName string) (backends int, totalMiB, maxMiB float64) {
	for _, pid := range postgresPIDs(dbName) {
		mib, err := procFieldMiB(pid, "smaps_rollup", "Anonymous")
		if err != nil {
			continue
		}
		backends++
		totalMiB += mib
		maxMiB = max(maxMiB, mib)
	}
	return backends, totalMiB, maxMiB
}

// machineCPU returns the busy and steal seconds of all CPUs from /proc/stat.
func machineCPU() (busy, steal float64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
	if len(f) < 9 {
		return 0, 0
	}
	v := func(i int) float64 { x, _ := strconv.ParseFloat(f[i], 64); return x / clockTicks }
	return v(1) + v(2) + v(3) + v(6) + v(7), v(8)
}

// resetPeakRSS clears VmHWM (Linux ≥ 4.0, writing 5 to clear_refs).
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// peakRSS is VmHWM in MiB.
func peakRSS(pid int) (float64, error) { return procStatusMiB(pid, "VmHWM") }

// procStatusMiB reads a kB field of /proc/<pid>/status in MiB.
func procStatusMiB(pid int, field string) (float64, error) {
	return procFieldMiB(strconv.Itoa(pid), "status", field)
}

// procFieldMiB reads a "Field: N kB" line of /proc/<pid>/<file> in MiB.
func procFieldMiB(pid, file, field string) (float64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/" + file)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%s/%s", field, pid, file)
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
