// Package mailtest runs a real Mailpit (github.com/axllent/mailpit) for
// tests: an SMTP server that keeps what it receives, read back through its
// HTTP API. Each Start gets its own process on free loopback ports and its
// own database, so parallel tests never see each other's mail. Test-only:
// production code never imports it.
package mailtest

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
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Version is the Mailpit that Binary installs when none is found.
const Version = "v1.33.1"

// Options tune StartWith.
type Options struct {
	// AllowedRecipients is a regular expression; Mailpit answers 550 to
	// RCPT TO for any other recipient (tests of permanent rejection).
	// Empty allows every recipient.
	AllowedRecipients string
}

// Server is one Mailpit process.
type Server struct {
	t        testing.TB
	bin      string
	dir      string
	opts     Options
	smtpPort int
	httpPort int
	client   *http.Client

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd exits
}

// Start runs Mailpit for t and stops it when t ends.
func Start(t testing.TB) *Server { return StartWith(t, nil) }

// StartWith is Start with options.
func StartWith(t testing.TB, opts *Options) *Server {
	t.Helper()
	s := &Server{t: t, bin: Binary(t), dir: t.TempDir(), client: &http.Client{Timeout: 10 * time.Second}}
	if opts != nil {
		s.opts = *opts
	}
	var err error
	for range 3 { // a free port can be taken between finding and binding it
		s.smtpPort, s.httpPort = freePort(t), freePort(t)
		if err = s.start(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// SMTPPort is the port Mailpit accepts SMTP on (127.0.0.1), kept across
// Stop and Restart.
func (s *Server) SMTPPort() int { return s.smtpPort }

// SMTPURL is an SMTP_URL for this server: any credentials are accepted, in
// clear text on loopback.
func (s *Server) SMTPURL() string {
	return "smtp://test:test@127.0.0.1:" + strconv.Itoa(s.smtpPort) + "?tls=none"
}

// APIURL is the base of Mailpit's HTTP API and web UI.
func (s *Server) APIURL() string { return "http://127.0.0.1:" + strconv.Itoa(s.httpPort) }

// Stop stops Mailpit: connections to SMTPPort are refused until Restart.
// Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Restart starts a stopped Mailpit again on the same ports and database
// (what it received before is still there).
func (s *Server) Restart() {
	s.t.Helper()
	var err error
	// The port was ours a moment ago; another test could have grabbed it
	// since, so try for a little while.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err = s.start(); err == nil {
			return
		}
	}
	s.t.Fatalf("mailtest: restart: %v", err)
}

// start runs the process and waits until both ports answer.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("mailpit is already running")
	}
	args := []string{
		"--smtp", "127.0.0.1:" + strconv.Itoa(s.smtpPort),
		"--listen", "127.0.0.1:" + strconv.Itoa(s.httpPort),
		"--database", filepath.Join(s.dir, "mailpit.db"),
		"--smtp-auth-accept-any", "--smtp-auth-allow-insecure",
		"--smtp-disable-rdns", "--disable-version-check", "--quiet",
		"--max", "5000",
	}
	if s.opts.AllowedRecipients != "" {
		args = append(args, "--smtp-allowed-recipients", s.opts.AllowedRecipients)
	}
	var out bytes.Buffer
	cmd := exec.Command(s.bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start mailpit: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()

	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-done:
			return fmt.Errorf("mailpit exited at start: %s", out.String())
		default:
		}
		if s.ready() {
			s.cmd, s.done = cmd, done
			return nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			return fmt.Errorf("mailpit not ready within 20s: %s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) ready() bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.smtpPort), time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.APIURL()+"/readyz", nil)
	resp, err := s.client.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary returns the mailpit program: on PATH, else in GOBIN or
// GOPATH/bin, else installed there with go install (once per machine, under
// a file lock, so parallel test packages do not race).
func Binary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() { binPath, binErr = findOrInstall() })
	if binErr != nil {
		t.Fatalf("mailtest: %v", binErr)
	}
	return binPath
}

func findOrInstall() (string, error) {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p, nil
	}
	dir, err := goBinDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "mailpit")
	if isExecutable(bin) {
		return bin, nil
	}
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "clientiq-mailpit-install.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", fmt.Errorf("install mailpit: lock: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("install mailpit: lock: %w", err)
	}
	defer func() { _ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) }()
	if isExecutable(bin) { // another package installed it while we waited
		return bin, nil
	}
	cmd := exec.Command("go", "install", "github.com/axllent/mailpit@"+Version)
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOBIN="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install mailpit@%s: %w: %s", Version, err, out)
	}
	if !isExecutable(bin) {
		return "", fmt.Errorf("go install mailpit@%s left no %s", Version, bin)
	}
	return bin, nil
}

// goBinDir is where go install puts programs: GOBIN, else GOPATH/bin.
func goBinDir() (string, error) {
	goenv := func(key string) (string, error) {
		out, err := exec.Command("go", "env", key).Output()
		if err != nil {
			return "", fmt.Errorf("go env %s: %w", key, err)
		}
		return string(bytes.TrimSpace(out)), nil
	}
	if gobin, err := goenv("GOBIN"); err != nil || gobin != "" {
		return gobin, err
	}
	gopath, err := goenv("GOPATH")
	if err != nil {
		return "", err
	}
	if gopath == "" {
		return "", errors.New("go env: no GOBIN or GOPATH")
	}
	return filepath.Join(filepath.SplitList(gopath)[0], "bin"), nil
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}
