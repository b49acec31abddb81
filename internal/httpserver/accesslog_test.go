package httpserver_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/httpserver"
	"github.com/clientiq/clientiq/internal/reqinfo"
	"github.com/clientiq/clientiq/internal/rest"
)

func TestAccessLog(t *testing.T) {
	t.Parallel()

	t.Run("OneLinePerRequestWithRouteTenantAndUser", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, httpserver.Config{}, func(mux *http.ServeMux) {
			mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
				info := reqinfo.From(r.Context())
				info.SetTenant("acme")
				info.SetUser("user-42")
				_, _ = io.WriteString(w, "item")
			})
		})
		req, err := http.NewRequest(http.MethodGet, s.http.URL+"/items/7?token=SECRET2&page=1", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer SECRETTOKEN")
		req.Header.Set("Cookie", "session=SECRETCOOKIE")
		req.Header.Set(httpserver.RequestIDHeader, "access-1")
		resp, body := s.do(t, req)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "item", string(body))

		e := s.logs.waitEntry(t, "http_request", "access-1")
		require.Equal(t, "INFO", e["level"])
		require.Equal(t, "GET", e["method"])
		require.Equal(t, "GET /items/{id}", e["route"])
		require.Equal(t, "/items/7", e["path"])
		require.EqualValues(t, http.StatusOK, e["status"])
		require.EqualValues(t, len("item"), e["bytes"])
		latency, ok := e["latency_ms"].(float64)
		require.True(t, ok, "latency_ms is a number: %v", e["latency_ms"])
		require.GreaterOrEqual(t, latency, 0.0)
		require.True(t, strings.HasPrefix(e["remote_addr"].(string), "127.0.0.1:"), "remote_addr: %v", e["remote_addr"])
		require.Equal(t, "acme", e["tenant"])
		require.Equal(t, "user-42", e["user"])

		logs := s.logs.String()
		for _, secret := range []string{"SECRETTOKEN", "SECRET2", "SECRETCOOKIE", "Bearer"} {
			require.NotContains(t, logs, secret)
		}
	})

	t.Run("AnonymousRequestHasNoTenantOrUser", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, httpserver.Config{}, func(mux *http.ServeMux) { mux.HandleFunc("GET /x", okHandler) })
		ids := []string{"anon-1", "anon-2", "anon-3"}
		for _, id := range ids {
			req, err := http.NewRequest(http.MethodGet, s.http.URL+"/x", nil)
			require.NoError(t, err)
			req.Header.Set(httpserver.RequestIDHeader, id)
			resp, _ := s.do(t, req)
			require.Equal(t, http.StatusOK, resp.StatusCode)
		}
		for _, id := range ids {
			e := s.logs.waitEntry(t, "http_request", id)
			require.NotContains(t, e, "tenant")
			require.NotContains(t, e, "user")
			require.Equal(t, "GET /x", e["route"])
		}
		require.Len(t, s.logs.entries(t, "http_request"), len(ids))
	})

	t.Run("ServerErrorsAreLoggedAtErrorLevel", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, httpserver.Config{}, func(mux *http.ServeMux) {
			mux.HandleFunc("GET /down", func(w http.ResponseWriter, r *http.Request) {
				rest.WriteError(w, r, slog.New(slog.DiscardHandler), apperr.New(apperr.CodeUnavailable, "down for maintenance"))
			})
		})
		req, err := http.NewRequest(http.MethodGet, s.http.URL+"/down", nil)
		require.NoError(t, err)
		req.Header.Set(httpserver.RequestIDHeader, "down-1")
		resp, _ := s.do(t, req)
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		e := s.logs.waitEntry(t, "http_request", "down-1")
		require.Equal(t, "ERROR", e["level"])
		require.EqualValues(t, http.StatusServiceUnavailable, e["status"])
	})

	t.Run("ServerErrorAfterTheClientLeftIsLoggedAtInfo", func(t *testing.T) {
		t.Parallel()
		handlerDone := make(chan struct{})
		s := newTestServer(t, httpserver.Config{}, func(mux *http.ServeMux) {
			mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
				defer close(handlerDone)
				<-r.Context().Done() // the client leaves; the query fails with its context
				rest.WriteError(w, r, slog.New(slog.DiscardHandler), fmt.Errorf("query: %w", r.Context().Err()))
			})
		})
		ctx, cancel := context.WithCancel(t.Context())
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.http.URL+"/slow", nil)
		require.NoError(t, err)
		req.Header.Set(httpserver.RequestIDHeader, "gone-1")
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err = http.DefaultClient.Do(req)
		require.ErrorIs(t, err, context.Canceled)
		<-handlerDone
		e := s.logs.waitEntry(t, "http_request", "gone-1")
		require.Equal(t, "INFO", e["level"])
		require.EqualValues(t, http.StatusInternalServerError, e["status"])
	})

	t.Run("UnmatchedRequestsNameTheFallbackOrUnmatched", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, httpserver.Config{MaxBodyBytes: 4}, nil)
		req, err := http.NewRequest(http.MethodGet, s.http.URL+"/nope", nil)
		require.NoError(t, err)
		req.Header.Set(httpserver.RequestIDHeader, "nope-1")
		s.do(t, req)
		// Unknown paths share one route label, so they cannot blow up
		// the metrics' cardinality.
		require.Equal(t, "/", s.logs.waitEntry(t, "http_request", "nope-1")["route"])

		req, err = http.NewRequest(http.MethodPost, s.http.URL+"/nope", strings.NewReader("too long"))
		require.NoError(t, err)
		req.Header.Set(httpserver.RequestIDHeader, "big-1")
		s.do(t, req)
		require.Equal(t, "unmatched", s.logs.waitEntry(t, "http_request", "big-1")["route"])
	})
}
