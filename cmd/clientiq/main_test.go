package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// binary is the clientiq executable built once by TestMain: the tests run the
// real process, so exit codes, stderr and signals are the ones operators see.
var binary string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "clientiq-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "make temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "clientiq")
	build := exec.Command("go", "build", "-o", binary, ".")
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "getwd:", err)
		return 1
	}
	build.Dir = wd
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build clientiq: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// testEnv is the explicit environment of one clientiq process: nothing is
// inherited from the test runner except PATH and HOME.
type testEnv map[string]string

// newEnv returns the test-profile environment for a process on dbURL, with
// its own free HTTP port.
func newEnv(t testing.TB, dbURL string) testEnv {
	t.Helper()
	return testEnv{
		"PATH":         os.Getenv("PATH"),
		"HOME":         os.Getenv("HOME"),
		"CLIENTIQ_ENV": "test",
		"DATABASE_URL": dbURL,
		"HTTP_ADDR":    "127.0.0.1:" + freePort(t),
		"REDIS_URL":    "redis://127.0.0.1:6379/0",
		"LOG_FORMAT":   "json",
	}
}

// with returns a copy of e with the given KEY=value pairs set.
func (e testEnv) with(kv ...string) testEnv {
	out := testEnv{}
	for k, v := range e {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func (e testEnv) list() []string {
	out := make([]string, 0, len(e))
	for k, v := range e {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// result is a finished clientiq run.
type result struct {
	code    int
	stdout  string
	stderr  string
	elapsed time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit %d after %s\nstdout:\n%s\nstderr:\n%s", r.code, r.elapsed, r.stdout, r.stderr)
}

// runCLI runs clientiq to completion; a run longer than timeout is killed and
// fails the test instead of hanging it.
func runCLI(t *testing.T, timeout time.Duration, env testEnv, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = env.list()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	require.NoError(t, ctx.Err(), "clientiq %s did not finish within %s\n%s", strings.Join(args, " "), timeout, res)
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.code = exitErr.ExitCode()
	default:
		require.NoError(t, err, "run clientiq %s", strings.Join(args, " "))
	}
	return res
}

// syncBuffer collects a running process's output safely.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is a running `clientiq serve`.
type server struct {
	cmd    *exec.Cmd
	addr   string
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
	code   int
	// clientIP, when set, is sent as X-Forwarded-For by postGraphQL (the
	// server must trust the loopback proxy: TRUSTED_PROXIES).
	clientIP string
}

// startServer starts `clientiq serve` and waits until /health/ answers. The
// process is killed at cleanup if the test left it running.
func startServer(t testing.TB, env testEnv) *server {
	t.Helper()
	s := &server{
		addr:   env["HTTP_ADDR"],
		stdout: &syncBuffer{},
		stderr: &syncBuffer{},
		done:   make(chan struct{}),
	}
	s.cmd = exec.Command(binary, "serve")
	s.cmd.Env = env.list()
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	require.NoError(t, s.cmd.Start())
	go func() {
		err := s.cmd.Wait()
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			s.code = exitErr.ExitCode()
		}
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			t.Fatalf("clientiq serve exited with %d before answering /health/\nstdout:\n%s\nstderr:\n%s",
				s.code, s.stdout, s.stderr)
		default:
		}
		resp, err := client.Get(s.url("/health/"))
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("clientiq serve did not answer /health/ within 60s\nstderr:\n%s", s.stderr)
	return nil
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

// signal sends sig to the process.
func (s *server) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	require.NoError(t, s.cmd.Process.Signal(sig))
}

// wait waits up to timeout for the process to exit and returns its code.
func (s *server) wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-s.done:
		return s.code
	case <-time.After(timeout):
		t.Fatalf("clientiq serve still running %s after the signal\nstderr:\n%s", timeout, s.stderr)
		return -1
	}
}

// freePort returns a TCP port that was free a moment ago.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, port, err := net.SplitHostPort(ln.Addr().String())
	require.NoError(t, err)
	require.NoError(t, ln.Close())
	return port
}

// nonEmptyLines splits s into its non-blank lines.
func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// createStaff runs `clientiq staff` and returns the generated password.
func createStaff(t *testing.T, env testEnv, email string) string {
	t.Helper()
	res := runCLI(t, 30*time.Second, env, "staff", "--email", email, "--name", "Ops")
	require.Zero(t, res.code, res.String())
	for _, line := range strings.Split(res.stdout, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "password:" {
			return f[1]
		}
	}
	t.Fatalf("no password printed: %s", res)
	return ""
}

// login signs in on the platform host and returns the access token.
func login(t *testing.T, s *server, email, password string) string {
	t.Helper()
	out := postGraphQL(t, s, `mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { accessToken } }`,
		map[string]any{"e": email, "p": password})
	require.Nil(t, out["errors"], "%v", out)
	return out["data"].(map[string]any)["login"].(map[string]any)["accessToken"].(string)
}
