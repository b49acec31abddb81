package httpserver_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/httpserver"
	"github.com/clientiq/clientiq/internal/reqinfo"
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
