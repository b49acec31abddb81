package httpserver_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/httpserver"
	"github.com/clientiq/clientiq/internal/reqinfo"
	"github.com/clientiq/clientiq/internal/rest"
)

var generatedID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestRequestID(t *testing.T) {
	t.Parallel()

	t.Run("ValidIncomingIDIsEchoedAndLogged", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, httpserver.Config{}, func(mux *http.ServeMux) {
			mux.HandleFunc("GET /x", func(w http.ResponseWriter, r *http.Request) {
				// Handlers see the same id through the context.
				_, _ = io.WriteString(w, reqinfo.RequestID(r.Context()))
			})
		})
		id := "Client-Trace_01.a:b"
		req, err := http.NewRequest(http.MethodGet, s.http.URL+"/x", nil)
		require.NoError(t, err)
		req.Header.Set(httpserver.RequestIDHeader, id)
		resp, body := s.do(t, req)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, id, resp.Header.Get(httpserver.RequestIDHeader))
		require.Equal(t, id, string(body))
		s.logs.waitEntry(t, "http_request", id)
	})

	t.Run("IDOfMaximumLengthIsKept", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, httpserver.Config{}, nil)
		id := strings.Repeat("a", 128)
		req, err := http.NewRequest(http.MethodGet, s.http.URL+"/anything", nil)
		require.NoError(t, err)
		req.Header.Set(httpserver.RequestIDHeader, id)
		resp, _ := s.do(t, req)
		require.Equal(t, id, resp.Header.Get(httpserver.RequestIDHeader))
	})

	t.Run("MissingIDIsGenerated", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, httpserver.Config{}, func(mux *http.ServeMux) { mux.HandleFunc("GET /x", okHandler) })
		resp1, _ := s.get(t, "/x")
		resp2, _ := s.get(t, "/x")
		id1, id2 := resp1.Header.Get(httpserver.RequestIDHeader), resp2.Header.Get(httpserver.RequestIDHeader)
		require.Regexp(t, generatedID, id1)
		require.Regexp(t, generatedID, id2)
		require.NotEqual(t, id1, id2)
		s.logs.waitEntry(t, "http_request", id1)
	})

	t.Run("InvalidIDIsReplaced", func(t *testing.T) {
		t.Parallel()
		// The handler is called directly: net/http clients refuse to send
		// some of these values, but a raw connection can.
		logger, logs := newLogger()
		srv := httpserver.New(httpserver.Config{Logger: logger})
		srv.Mux().HandleFunc("GET /x", okHandler)
		h := srv.Handler()
		for name, id := range map[string]string{
			"TooLong":     strings.Repeat("a", 129),
			"Space":       "has space",
			"Newline":     "forged\n{\"msg\":\"fake\"}",
			"CR":          "a\rb",
			"Tab":         "a\tb",
			"NonASCII":    "héllo",
			"Quote":       `a"b`,
			"Slash":       "a/b",
			"NulByte":     "a\x00b",
			"OnlyTooLong": strings.Repeat("x", 4096),
		} {
			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			req.Header.Set(httpserver.RequestIDHeader, id)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, http.StatusOK, rec.Code, name)
			got := rec.Header().Get(httpserver.RequestIDHeader)
			require.Regexp(t, generatedID, got, name)
			require.Len(t, logs.entriesFor(t, "http_request", got), 1, name)
		}
		require.NotContains(t, logs.String(), "fake")
		require.NotContains(t, logs.String(), "has space")
	})
}

func TestPanicRecovery(t *testing.T) {
	t.Parallel()

	t.Run("PanicAnswersInternalEnvelopeAndServerKeepsServing", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, httpserver.Config{}, func(mux *http.ServeMux) {
			mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("kaboom: pq secret") })
			mux.HandleFunc("GET /ok", okHandler)
		})
		resp, body := s.get(t, "/panic")
		msg := requireErrorEnvelope(t, resp, body, http.StatusInternalServerError, "INTERNAL")
		require.Equal(t, "internal error", msg)
		require.NotContains(t, string(body), "kaboom")
		id := resp.Header.Get(httpserver.RequestIDHeader)
		require.Regexp(t, generatedID, id)

		p := s.logs.waitEntry(t, "panic_recovered", id)
		require.Equal(t, "ERROR", p["level"])
		require.Equal(t, "kaboom: pq secret", p["panic"])
		require.NotEmpty(t, p["stack"])

		access := s.logs.waitEntry(t, "http_request", id)
		require.EqualValues(t, http.StatusInternalServerError, access["status"])
		require.Equal(t, "GET /panic", access["route"])
		require.Equal(t, "ERROR", access["level"])

		for range 3 {
			resp, body := s.get(t, "/ok")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, "ok", string(body))
		}
	})

	t.Run("PanicAfterHeadersKeepsStatusAndLogs500", func(t *testing.T) {
		t.Parallel()
		logger, logs := newLogger()
		srv := httpserver.New(httpserver.Config{Logger: logger})
		srv.Mux().HandleFunc("GET /late", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			panic("late")
		})
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/late", nil))
		// The status is already on the wire; the envelope is not appended.
		require.Equal(t, http.StatusAccepted, rec.Code)
		require.Empty(t, rec.Body.String())
		id := rec.Header().Get(httpserver.RequestIDHeader)
		require.EqualValues(t, http.StatusInternalServerError, logs.waitEntry(t, "http_request", id)["status"])
		logs.waitEntry(t, "panic_recovered", id)
	})
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()

	// newUploadServer serves POST /upload, which reads the whole body and
	// reports what it read (or the error) on the returned channel.
	type readResult struct {
		n   int
		err error
	}
	newUploadServer := func(t *testing.T, limit int64) (*testServer, <-chan readResult) {
		t.Helper()
		results := make(chan readResult, 1)
		s := newTestServer(t, httpserver.Config{MaxBodyBytes: limit}, func(mux *http.ServeMux) {
			mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
				b, err := io.ReadAll(r.Body)
				results <- readResult{n: len(b), err: err}
				if httpserver.IsBodyTooLarge(err) {
					w.WriteHeader(http.StatusRequestEntityTooLarge)
					return
				}
				w.WriteHeader(http.StatusOK)
			})
		})
		return s, results
	}

	t.Run("DeclaredLengthOverLimitIsRejectedBeforeTheHandler", func(t *testing.T) {
		t.Parallel()
		s, results := newUploadServer(t, 16)
		req, err := http.NewRequest(http.MethodPost, s.http.URL+"/upload", strings.NewReader(strings.Repeat("x", 17)))
		require.NoError(t, err)
		resp, body := s.do(t, req)
		requireErrorEnvelope(t, resp, body, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE")
		require.Empty(t, results, "the handler must not run")
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		id := resp.Header.Get(httpserver.RequestIDHeader)
		require.Regexp(t, generatedID, id)
		require.EqualValues(t, http.StatusRequestEntityTooLarge, s.logs.waitEntry(t, "http_request", id)["status"])
	})

	t.Run("BodyAtTheLimitIsAccepted", func(t *testing.T) {
		t.Parallel()
		s, results := newUploadServer(t, 16)
		req, err := http.NewRequest(http.MethodPost, s.http.URL+"/upload", strings.NewReader(strings.Repeat("x", 16)))
		require.NoError(t, err)
		resp, _ := s.do(t, req)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		res := <-results
		require.NoError(t, res.err)
		require.Equal(t, 16, res.n)
	})

	t.Run("ChunkedBodyOverLimitFailsTheHandlersRead", func(t *testing.T) {
		t.Parallel()
		s, results := newUploadServer(t, 16)
		// Hiding the reader's type leaves the length unknown, so the client
		// sends the body chunked and the server cannot reject it up front.
		body := io.NopCloser(strings.NewReader(strings.Repeat("x", 64)))
		req, err := http.NewRequest(http.MethodPost, s.http.URL+"/upload", body)
		require.NoError(t, err)
		req.ContentLength = -1
		resp, _ := s.do(t, req)
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
		res := <-results
		require.Error(t, res.err)
		require.True(t, httpserver.IsBodyTooLarge(res.err))
		require.LessOrEqual(t, res.n, 16)
	})

	t.Run("DefaultLimitIsOneMebibyte", func(t *testing.T) {
		t.Parallel()
		s, results := newUploadServer(t, 0)
		req, err := http.NewRequest(http.MethodPost, s.http.URL+"/upload", strings.NewReader(strings.Repeat("x", 1<<20+1)))
		require.NoError(t, err)
		resp, body := s.do(t, req)
		requireErrorEnvelope(t, resp, body, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE")
		require.Empty(t, results)

		req, err = http.NewRequest(http.MethodPost, s.http.URL+"/upload", strings.NewReader(strings.Repeat("x", 1<<20)))
		require.NoError(t, err)
		resp, _ = s.do(t, req)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, 1<<20, (<-results).n)
	})

	t.Run("OtherErrorsAreNotTooLarge", func(t *testing.T) {
		t.Parallel()
		require.False(t, httpserver.IsBodyTooLarge(nil))
		require.False(t, httpserver.IsBodyTooLarge(io.ErrUnexpectedEOF))
		require.True(t, httpserver.IsBodyTooLarge(fmt.Errorf("decode: %w", &http.MaxBytesError{Limit: 1})))
	})
}

func TestRoutingFallback(t *testing.T) {
	t.Parallel()

	routes := func(mux *http.ServeMux) {
		mux.HandleFunc("GET /x", okHandler)
		mux.HandleFunc("GET /y", okHandler)
		mux.HandleFunc("DELETE /y", okHandler)
	}

	t.Run("UnknownRouteAnswersNotFoundEnvelope", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, httpserver.Config{}, routes)
		resp, body := s.get(t, "/nope")
		msg := requireErrorEnvelope(t, resp, body, http.StatusNotFound, "NOT_FOUND")
		require.Contains(t, msg, "/nope")
		require.Empty(t, resp.Header.Values("Allow"))
	})

	t.Run("WrongMethodAnswersMethodNotAllowedWithAllow", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, httpserver.Config{}, routes)
		req, err := http.NewRequest(http.MethodPost, s.http.URL+"/x", nil)
		require.NoError(t, err)
		resp, body := s.do(t, req)
		requireErrorEnvelope(t, resp, body, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
		require.Equal(t, []string{"GET"}, resp.Header.Values("Allow"))
	})

	t.Run("AllowListsEveryRegisteredMethod", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, httpserver.Config{}, routes)
		req, err := http.NewRequest(http.MethodPut, s.http.URL+"/y", nil)
		require.NoError(t, err)
		resp, body := s.do(t, req)
		requireErrorEnvelope(t, resp, body, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
		require.ElementsMatch(t, []string{"GET", "DELETE"}, resp.Header.Values("Allow"))
	})

	t.Run("RegisteredMethodIsServed", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, httpserver.Config{}, routes)
		req, err := http.NewRequest(http.MethodDelete, s.http.URL+"/y", nil)
		require.NoError(t, err)
		resp, body := s.do(t, req)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "ok", string(body))
	})
}

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

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()

	s := newTestServer(t, httpserver.Config{MaxBodyBytes: 4}, func(mux *http.ServeMux) {
		mux.HandleFunc("GET /x", okHandler)
		mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	})
	for _, tc := range []struct {
		name, method, path, body string
	}{
		{"PresentOnSuccess", http.MethodGet, "/x", ""},
		{"PresentOnNotFound", http.MethodGet, "/nope", ""},
		{"PresentOnMethodNotAllowed", http.MethodPost, "/x", ""},
		{"PresentOnRecoveredPanic", http.MethodGet, "/panic", ""},
		{"PresentOnBodyTooLarge", http.MethodPost, "/x", "too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tc.method, s.http.URL+tc.path, strings.NewReader(tc.body))
			require.NoError(t, err)
			resp, _ := s.do(t, req)
			require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
			require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
		})
	}
}
