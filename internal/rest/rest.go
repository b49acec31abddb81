package rest

import (
	"log/slog"
	"net/http"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/buildinfo"
)

// Prefix is where the compatibility layer is mounted.
const Prefix = "/api/v1"

// Config holds what the REST handlers need.
type Config struct {
	// Logger receives internal errors. Required.
	Logger *slog.Logger
}

// Register mounts the /api/v1 routes on mux. Every route is registered with
// and without its trailing slash.
func Register(mux *http.ServeMux, cfg Config) {
	h := &handlers{logger: cfg.Logger}
	handle(mux, "GET", "", h.index)
}

// handle registers pattern under Prefix both with and without a trailing slash.
func handle(mux *http.ServeMux, method, path string, fn http.HandlerFunc) {
	mux.HandleFunc(method+" "+Prefix+path+"/{$}", fn)
	mux.HandleFunc(method+" "+Prefix+path, fn)
}

type handlers struct {
	logger *slog.Logger
}

// index answers GET /api/v1/ with what the API is.
func (h *handlers) index(w http.ResponseWriter, r *http.Request) {
	WriteData(w, r, http.StatusOK, map[string]any{
		"id":   "v1",
		"type": "api",
		"attributes": map[string]any{
			"name":    "ClientIQ REST API",
			"version": buildinfo.Version(),
		},
	}, nil)
}

// NotFound answers the error envelope with 404 NOT_FOUND.
func NotFound(logger *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, logger, apperr.New(apperr.CodeNotFound, "no route for "+r.Method+" "+r.URL.Path))
	}
}
