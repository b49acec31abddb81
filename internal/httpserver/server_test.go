package httpserver_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/httpserver"
)

// response is what a request made in the background got.
type response struct {
	status int
	body   string
	err    error
}

// getAsync GETs url on a client of its own (no shared keep-alive pool)
// and delivers the result on the returned channel.
func getAsync(url string) <-chan response {
	out := make(chan response, 1)
	go func() {
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
		resp, err := client.Get(url)
		if err != nil {
			out <- response{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		out <- response{status: resp.StatusCode, body: string(b), err: err}
	}()
	return out
}

// serve starts srv.Serve on a fresh loopback listener and returns the
// address, the function that ends its context, and Serve's result.
func serve(t *testing.T, srv *httpserver.Server) (addr string, stop context.CancelFunc, done <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		errc <- srv.Serve(ctx, ln)
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after its context ended")
		}
	})
	return ln.Addr().String(), cancel, errc
}

func waitFor[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		require.FailNow(t, "timed out waiting for "+what)
		var zero T
		return zero
	}
}

func TestServe(t *testing.T) {
	t.Parallel()

	t.Run("ShutdownLetsInFlightRequestFinish", func(t *testing.T) {
		t.Parallel()
		logger, logs := newLogger()
		srv := httpserver.New(httpserver.Config{Logger: logger, ShutdownTimeout: 5 * time.Second})
		running := make(chan struct{})
		var once sync.Once
		srv.Mux().HandleFunc("GET /slow", func(w http.ResponseWriter, _ *http.Request) {
			once.Do(func() { close(running) })
			time.Sleep(700 * time.Millisecond)
			_, _ = io.WriteString(w, "done")
		})
		addr, stop, done := serve(t, srv)

		res := getAsync("http://" + addr + "/slow")
		waitFor(t, running, "the handler to start")
		stop()

		got := waitFor(t, res, "the in-flight response")
		require.NoError(t, got.err)
		require.Equal(t, http.StatusOK, got.status)
		require.Equal(t, "done", got.body)
		require.NoError(t, waitFor(t, done, "Serve to return"))

		_, err := net.DialTimeout("tcp", addr, time.Second)
		require.Error(t, err, "the listener must be closed after shutdown")
		require.Len(t, logs.entries(t, "http_shutdown_started"), 1)
		require.Len(t, logs.entries(t, "http_shutdown_complete"), 1)
	})

	t.Run("ShutdownTimeoutShorterThanHandlerReturnsError", func(t *testing.T) {
		t.Parallel()
		logger, _ := newLogger()
		srv := httpserver.New(httpserver.Config{Logger: logger, ShutdownTimeout: 100 * time.Millisecond})
		running := make(chan struct{})
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		var once sync.Once
		srv.Mux().HandleFunc("GET /stuck", func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() { close(running) })
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		addr, stop, done := serve(t, srv)

		res := getAsync("http://" + addr + "/stuck")
		waitFor(t, running, "the handler to start")
		start := time.Now()
		stop()

		err := waitFor(t, done, "Serve to return")
		require.Error(t, err)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Less(t, time.Since(start), 5*time.Second)
		// The stuck connection was closed, so the client sees an error.
		require.Error(t, waitFor(t, res, "the client to give up").err)
	})

	t.Run("IdleServerShutsDownCleanly", func(t *testing.T) {
		t.Parallel()
		logger, _ := newLogger()
		srv := httpserver.New(httpserver.Config{Logger: logger})
		srv.Mux().HandleFunc("GET /x", okHandler)
		addr, stop, done := serve(t, srv)

		got := waitFor(t, getAsync("http://"+addr+"/x"), "a response")
		require.NoError(t, got.err)
		require.Equal(t, http.StatusOK, got.status)
		stop()
		require.NoError(t, waitFor(t, done, "Serve to return"))
	})

	t.Run("ClosedListenerReturnsError", func(t *testing.T) {
		t.Parallel()
		logger, _ := newLogger()
		srv := httpserver.New(httpserver.Config{Logger: logger})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		require.NoError(t, ln.Close())
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.Error(t, srv.Serve(ctx, ln))
		require.NoError(t, ctx.Err(), "Serve must fail at once, not wait for the context")
	})

	t.Run("ListenAndServeReportsBadAddress", func(t *testing.T) {
		t.Parallel()
		logger, _ := newLogger()
		srv := httpserver.New(httpserver.Config{Logger: logger})
		err := srv.ListenAndServe(context.Background(), "127.0.0.1:not-a-port")
		require.ErrorContains(t, err, "listen on 127.0.0.1:not-a-port")
	})
}

func TestHandler(t *testing.T) {
	t.Parallel()

	t.Run("CanBeBuiltMoreThanOnce", func(t *testing.T) {
		t.Parallel()
		logger, _ := newLogger()
		srv := httpserver.New(httpserver.Config{Logger: logger})
		srv.Mux().HandleFunc("GET /x", okHandler)
		var h1, h2 http.Handler
		require.NotPanics(t, func() {
			h1 = srv.Handler()
			h2 = srv.Handler()
		})
		for _, h := range []http.Handler{h1, h2} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
			require.Equal(t, http.StatusOK, rec.Code)
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/nope", nil))
			require.Equal(t, http.StatusNotFound, rec.Code)
		}
	})

	t.Run("RoutesRegisteredAfterHandlerAreServed", func(t *testing.T) {
		t.Parallel()
		logger, _ := newLogger()
		srv := httpserver.New(httpserver.Config{Logger: logger})
		h := srv.Handler()
		srv.Mux().HandleFunc("GET /late", okHandler)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/late", nil))
		require.Equal(t, http.StatusOK, rec.Code)
	})
}
