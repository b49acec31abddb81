// Package httpserver owns ClientIQ's HTTP server: timeouts, graceful
// shutdown, the middleware every request passes (request id, access log,
// panic recovery, body limit, security headers), routing fallbacks that
// answer the JSON error envelope, and the Prometheus metrics of requests.
package httpserver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/rest"
)

// Config configures a Server.
type Config struct {
	// Logger receives access and error logs. Required.
	Logger *slog.Logger
	// Metrics records request counts and latencies; nil disables them.
	Metrics *Metrics
	// MaxBodyBytes caps request bodies. Default 1 MiB.
	MaxBodyBytes int64
	// TrustedProxies may set X-Forwarded-For (the client address used for
	// throttling and audit); none by default.
	TrustedProxies []netip.Prefix
	// ReadHeaderTimeout bounds reading headers (slow-loris). Default 5s.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading the whole request. Default 30s.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing the response. Default 30s.
	WriteTimeout time.Duration
	// IdleTimeout bounds keep-alive idleness. Default 120s.
	IdleTimeout time.Duration
	// ShutdownTimeout is how long in-flight requests get after the context
	// ends. Default 25s.
	ShutdownTimeout time.Duration
}

// Server is an HTTP server with ClientIQ's middleware around a mux.
type Server struct {
	cfg     Config
	logger  *slog.Logger
	metrics *Metrics
	maxBody int64
	trusted []netip.Prefix
	mux     *http.ServeMux

	// handlerOnce builds handler on the first call to Handler: the fallback
	// route can be registered on mux only once, and Serve calls Handler too.
	handlerOnce sync.Once
	handler     http.Handler
}

// New returns a Server whose routes are registered on Mux().
func New(cfg Config) *Server {
	return &Server{
		cfg:     cfg,
		logger:  cfg.Logger,
		metrics: cfg.Metrics,
		maxBody: cmp.Or(cfg.MaxBodyBytes, 1<<20),
		trusted: cfg.TrustedProxies,
		mux:     http.NewServeMux(),
	}
}

// Mux is where routes are registered.
func (s *Server) Mux() *http.ServeMux { return s.mux }

// Handler returns the full handler: middleware, routes, and the fallback
// that answers unknown routes with the 404 (or 405) error envelope. Every
// call returns the same handler; routes registered on Mux afterwards are
// still served.
func (s *Server) Handler() http.Handler {
	s.handlerOnce.Do(func() {
		s.mux.HandleFunc("/", s.fallback)
		s.handler = s.observe(secure(s.limitBody(s.mux)))
	})
	return s.handler
}

// fallback answers requests no route took: 405 when the path exists for
// another method, else 404, both as the JSON error envelope.
func (s *Server) fallback(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		for _, m := range allowed {
			w.Header().Add("Allow", m)
		}
		rest.WriteError(w, r, s.logger, apperr.New(apperr.CodeMethodNotAllowed, r.Method+" is not allowed here"))
		return
	}
	rest.NotFound(s.logger)(w, r)
}

// ListenAndServe listens on addr and serves until ctx ends; see Serve.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends, then stops accepting connections and
// lets in-flight requests finish within ShutdownTimeout. It returns nil
// after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: cmp.Or(s.cfg.ReadHeaderTimeout, 5*time.Second),
		ReadTimeout:       cmp.Or(s.cfg.ReadTimeout, 30*time.Second),
		WriteTimeout:      cmp.Or(s.cfg.WriteTimeout, 30*time.Second),
		IdleTimeout:       cmp.Or(s.cfg.IdleTimeout, 120*time.Second),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	s.logger.InfoContext(ctx, "http_shutdown_started")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cmp.Or(s.cfg.ShutdownTimeout, 25*time.Second))
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("http shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	s.logger.InfoContext(ctx, "http_shutdown_complete")
	return nil
}
