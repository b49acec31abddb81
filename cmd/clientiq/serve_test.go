package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/dbtest"
)

const versionQuery = `{"query":"{ version }"}`

// sendHalfVersionQuery opens a raw connection to s and sends a POST of
// versionQuery with only half its body, so the request stays in flight (its
// handler reading) until the rest is written to the connection. The
// connection is closed at the end of the test.
func sendHalfVersionQuery(t *testing.T, s *server) (conn net.Conn, rest string) {
	t.Helper()
	conn, err := net.Dial("tcp", s.addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	half := len(versionQuery) / 2
	_, err = fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		s.addr, len(versionQuery), versionQuery[:half])
	require.NoError(t, err)
	return conn, versionQuery[half:]
}

// getJSON fetches path and decodes its JSON body.
func getJSON(t *testing.T, s *server, path string) (int, map[string]any) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(s.url(path))
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body), "GET %s", path)
	return resp.StatusCode, body
}

func TestServeRefusesAnUnmigratedDatabase(t *testing.T) {
	t.Parallel()
	db := dbtest.NewWith(t, &dbtest.Options{Empty: true})

	res := runCLI(t, time.Minute, newEnv(t, db.URL), "serve")

	require.Equal(t, exitFailure, res.code, res.String())
	require.Contains(t, res.stderr, "clientiq migrate", res.String())
	require.NotContains(t, res.stderr, "panic", res.String())
}

func TestServeAnswersHealthGraphQLAndNotFound(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	s := startServer(t, newEnv(t, db.URL))

	t.Run("detailed health reports the database ok", func(t *testing.T) {
		t.Parallel()

		status, body := getJSON(t, s, "/health/detailed/")

		require.Equal(t, http.StatusOK, status, "%v", body)
		components, ok := body["components"].(map[string]any)
		require.True(t, ok, "%v", body)
		database, ok := components["database"].(map[string]any)
		require.True(t, ok, "%v", body)
		require.Equal(t, "ok", database["status"])
	})

	t.Run("GraphQL answers the version query", func(t *testing.T) {
		t.Parallel()

		client := &http.Client{Timeout: 10 * time.Second}
		resp, err := client.Post(s.url("/graphql"), "application/json", strings.NewReader(versionQuery))
		require.NoError(t, err)
		defer resp.Body.Close()

		require.Equal(t, http.StatusOK, resp.StatusCode)
		var body struct {
			Data struct {
				Version string `json:"version"`
			} `json:"data"`
			Errors []any `json:"errors"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		require.Empty(t, body.Errors)
		require.NotEmpty(t, body.Data.Version)
	})

	t.Run("an unknown route answers the 404 envelope", func(t *testing.T) {
		t.Parallel()

		status, body := getJSON(t, s, "/nope")

		require.Equal(t, http.StatusNotFound, status)
		require.Equal(t, false, body["success"])
		errBody, ok := body["error"].(map[string]any)
		require.True(t, ok, "%v", body)
		require.Equal(t, "NOT_FOUND", errBody["code"])
		require.NotEmpty(t, errBody["message"])
	})
}

func TestServeFinishesInFlightRequestOnSIGTERMAndExitsZero(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	const shutdownTimeout = 10 * time.Second
	s := startServer(t, newEnv(t, db.URL).with("SHUTDOWN_TIMEOUT", shutdownTimeout.String()))

	// Half a body: the handler is then in flight, reading, when the signal
	// arrives.
	conn, rest := sendHalfVersionQuery(t, s)
	time.Sleep(300 * time.Millisecond)

	s.signal(t, syscall.SIGTERM)
	time.Sleep(500 * time.Millisecond)

	// The listener is closed at once: new connections are refused while the
	// in-flight request is still being served.
	if c, err := net.DialTimeout("tcp", s.addr, time.Second); err == nil {
		_ = c.Close()
		t.Fatalf("a new connection was accepted after SIGTERM\nstderr:\n%s", s.stderr)
	}

	_, err := io.WriteString(conn, rest)
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(shutdownTimeout)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "stderr:\n%s", s.stderr)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var body struct {
		Data struct {
			Version string `json:"version"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.NotEmpty(t, body.Data.Version)

	code := s.wait(t, shutdownTimeout)
	require.Equal(t, exitOK, code, "stderr:\n%s", s.stderr)
	require.NotContains(t, s.stderr.String(), "panic")
}

// TestServeQueuesAPIRequestsBeyondHTTPMaxInFlight: with one slot taken,
// the next GraphQL request waits HTTP_QUEUE_TIMEOUT and is answered 503
// SERVICE_UNAVAILABLE with Retry-After, health and metrics are not held
// up, and the request holding the slot still completes.
func TestServeQueuesAPIRequestsBeyondHTTPMaxInFlight(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	s := startServer(t, newEnv(t, db.URL).with("HTTP_MAX_IN_FLIGHT", "1").with("HTTP_QUEUE_TIMEOUT", "300ms"))

	// Half a body: the request has its slot and waits for the rest.
	conn, rest := sendHalfVersionQuery(t, s)
	client := &http.Client{Timeout: 10 * time.Second}
	require.Eventually(t, func() bool {
		resp, err := client.Get(s.url("/metrics"))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), "clientiq_http_admission_in_flight 1\n")
	}, 5*time.Second, 20*time.Millisecond, "the half-sent request never took its slot")

	start := time.Now()
	resp, err := client.Post(s.url("/graphql"), "application/json", strings.NewReader(versionQuery))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Equal(t, "1", resp.Header.Get("Retry-After"))
	var gql struct {
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&gql))
	require.Len(t, gql.Errors, 1)
	require.Equal(t, "SERVICE_UNAVAILABLE", gql.Errors[0].Extensions["code"])
	require.NotEmpty(t, gql.Errors[0].Message)

	status, _ := getJSON(t, s, "/health/")
	require.Equal(t, http.StatusOK, status, "health checks do not queue behind API requests")

	_, err = io.WriteString(conn, rest)
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	held, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer held.Body.Close()
	require.Equal(t, http.StatusOK, held.StatusCode)

	metrics, err := client.Get(s.url("/metrics"))
	require.NoError(t, err)
	defer metrics.Body.Close()
	b, err := io.ReadAll(metrics.Body)
	require.NoError(t, err)
	for _, line := range []string{"clientiq_http_admission_limit 1", "clientiq_http_admission_shed_total 1", "clientiq_http_admission_waited_total 1"} {
		require.Contains(t, string(b), line+"\n")
	}
}

// TestServeProfilerOnlyOnItsOwnLoopbackListener: PPROF_ADDR serves Go's
// profiler on a listener of its own, and the API never routes to it.
func TestServeProfilerOnlyOnItsOwnLoopbackListener(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	pprofAddr := "127.0.0.1:" + freePort(t)
	s := startServer(t, newEnv(t, db.URL).with("PPROF_ADDR", pprofAddr))
	client := &http.Client{Timeout: 10 * time.Second}

	resp, err := client.Get("http://" + pprofAddr + "/debug/pprof/")
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	status, _ := getJSON(t, s, "/debug/pprof/")
	require.Equal(t, http.StatusNotFound, status, "not on the API's listener")
}
