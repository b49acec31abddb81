package rest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/buildinfo"
	"github.com/clientiq/clientiq/internal/rest"
)

func TestRegister(t *testing.T) {
	t.Parallel()

	t.Run("IndexAnswersWithAndWithoutTrailingSlash", func(t *testing.T) {
		t.Parallel()
		logger, _ := newLogger()
		mux := http.NewServeMux()
		rest.Register(mux, rest.Config{Logger: logger})
		for _, path := range []string{rest.Prefix, rest.Prefix + "/"} {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			require.Equal(t, http.StatusOK, rec.Code, "%s: %s", path, rec.Body)
			body := decode(t, rec)
			require.Equal(t, true, body["success"])
			requireMeta(t, body)
			require.Equal(t, map[string]any{
				"id":   "v1",
				"type": "api",
				"attributes": map[string]any{
					"name":    "ClientIQ REST API",
					"version": buildinfo.Version(),
				},
			}, body["data"])
		}
	})

	t.Run("MiddlewareWrapsEveryRoute", func(t *testing.T) {
		t.Parallel()
		logger, _ := newLogger()
		mux := http.NewServeMux()
		rest.Register(mux, rest.Config{Logger: logger, Middleware: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Wrapped", "yes")
				next.ServeHTTP(w, r)
			})
		}})
		for _, path := range []string{rest.Prefix, rest.Prefix + "/"} {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			require.Equal(t, http.StatusOK, rec.Code, path)
			require.Equal(t, "yes", rec.Header().Get("X-Wrapped"), path)
		}
	})

	t.Run("PrefixIsAPIV1", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, "/api/v1", rest.Prefix)
	})
}

func TestNotFound(t *testing.T) {
	t.Parallel()

	logger, logs := newLogger()
	rec := httptest.NewRecorder()
	rest.NotFound(logger)(rec, httptest.NewRequest(http.MethodDelete, "/api/v1/nope", nil))
	e := requireError(t, rec, http.StatusNotFound, apperr.CodeNotFound)
	require.Equal(t, "no route for DELETE /api/v1/nope", e["message"])
	require.Empty(t, logs.String())
}
