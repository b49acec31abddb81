package httpserver_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/httpserver"
)

// logBuffer collects JSON log lines; the server writes from its own
// goroutines while the test reads, hence the mutex.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// entries returns the decoded lines whose msg is msg.
func (b *logBuffer) entries(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		var e map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), "log line is not JSON: %s", sc.Text())
		if e["msg"] == msg {
			out = append(out, e)
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// entriesFor returns the lines with msg that carry requestID.
func (b *logBuffer) entriesFor(t *testing.T, msg, requestID string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, e := range b.entries(t, msg) {
		if e["request_id"] == requestID {
			out = append(out, e)
		}
	}
	return out
}

// waitEntry waits until exactly one line with msg and requestID is logged
// and returns it. The access log is written as the handler returns, which
// can race the client finishing its read.
func (b *logBuffer) waitEntry(t *testing.T, msg, requestID string) map[string]any {
	t.Helper()
	require.Eventually(t, func() bool {
		return len(b.entriesFor(t, msg, requestID)) > 0
	}, 5*time.Second, 5*time.Millisecond, "no %s line for request %s in:\n%s", msg, requestID, b.String())
	got := b.entriesFor(t, msg, requestID)
	require.Len(t, got, 1, "want one %s line for request %s", msg, requestID)
	return got[0]
}

// newLogger returns a JSON logger at debug level writing to a fresh buffer.
func newLogger() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// testServer is a Server behind httptest with its log buffer.
type testServer struct {
	srv  *httpserver.Server
	logs *logBuffer
	http *httptest.Server
}

// newTestServer builds a Server from cfg (Logger is filled in), lets
// routes register handlers and serves srv.Handler() over httptest.
func newTestServer(t *testing.T, cfg httpserver.Config, routes func(mux *http.ServeMux)) *testServer {
	t.Helper()
	logger, logs := newLogger()
	cfg.Logger = logger
	srv := httpserver.New(cfg)
	if routes != nil {
		routes(srv.Mux())
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &testServer{srv: srv, logs: logs, http: ts}
}

// do sends req to the test server and returns the response with its body read.
func (s *testServer) do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := s.http.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

// get is do for a GET of path.
func (s *testServer) get(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.http.URL+path, nil)
	require.NoError(t, err)
	return s.do(t, req)
}

// requireErrorEnvelope checks body is exactly the error envelope with code
// and returns its message.
func requireErrorEnvelope(t *testing.T, resp *http.Response, body []byte, status int, code string) string {
	t.Helper()
	require.Equal(t, status, resp.StatusCode, "body: %s", body)
	require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	var env map[string]any
	require.NoError(t, json.Unmarshal(body, &env), "body: %s", body)
	require.ElementsMatch(t, []string{"success", "error", "meta"}, keys(env))
	require.Equal(t, false, env["success"])

	errObj, ok := env["error"].(map[string]any)
	require.True(t, ok, "error is an object: %s", body)
	require.ElementsMatch(t, []string{"code", "message", "details"}, keys(errObj))
	require.Equal(t, code, errObj["code"])
	require.Equal(t, map[string]any{}, errObj["details"])

	meta, ok := env["meta"].(map[string]any)
	require.True(t, ok, "meta is an object: %s", body)
	require.ElementsMatch(t, []string{"timestamp"}, keys(meta))
	ts, ok := meta["timestamp"].(string)
	require.True(t, ok)
	_, err := time.Parse(time.RFC3339Nano, ts)
	require.NoError(t, err)

	msg, ok := errObj["message"].(string)
	require.True(t, ok)
	return msg
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// okHandler answers 200 "ok".
func okHandler(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }
