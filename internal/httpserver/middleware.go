package httpserver

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/reqinfo"
	"github.com/clientiq/clientiq/internal/rest"
)

// RequestIDHeader carries the request id in and out.
const RequestIDHeader = "X-Request-ID"

// maxRequestIDLen bounds an accepted X-Request-ID; longer or odd ones are
// replaced, so a client cannot stuff the logs.
const maxRequestIDLen = 128

// observe is the outermost middleware: it assigns the request id, records
// the request in the context, recovers panics as a JSON 500, and writes the
// access log line and the request metrics once the response is done.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		ctx, info := reqinfo.NewWithClient(r.Context(), id, clientIP(r, s.trusted), truncate(r.UserAgent(), 512))
		r = r.WithContext(ctx)
		rec := &recorder{ResponseWriter: w}

		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler { //nolint:errorlint // sentinel panic value, compared as documented
					panic(v)
				}
				s.logger.ErrorContext(ctx, "panic_recovered",
					slog.String("request_id", id),
					slog.String("panic", fmt.Sprint(v)),
					slog.String("stack", string(debug.Stack())))
				if !rec.wroteHeader {
					rest.WriteError(rec, r, s.logger, apperr.New(apperr.CodeInternal, "internal error"))
				}
				rec.status = http.StatusInternalServerError
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			status := rec.statusCode()
			if s.metrics != nil {
				s.metrics.observe(route, r.Method, status, elapsed)
			}
			level := slog.LevelInfo
			// A 5xx is an error unless the client left first (its request
			// was cancelled mid-way: nobody reads that answer).
			if status >= 500 && r.Context().Err() == nil {
				level = slog.LevelError
			}
			if !s.logger.Enabled(ctx, level) {
				return // no access log at this level: build nothing
			}
			attrs := []slog.Attr{
				slog.String("request_id", id),
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Float64("latency_ms", float64(elapsed.Microseconds())/1000),
				slog.Int64("bytes", rec.bytes),
				slog.String("remote_addr", r.RemoteAddr),
				slog.String("client_ip", info.RemoteIP()),
			}
			if t := info.Tenant(); t != "" {
				attrs = append(attrs, slog.String("tenant", t))
			}
			if u := info.User(); u != "" {
				attrs = append(attrs, slog.String("user", u))
			}
			s.logger.LogAttrs(ctx, level, "http_request", attrs...)
		}()
		next.ServeHTTP(rec, r)
	})
}

// limitBody caps request bodies; handlers see *http.MaxBytesError past it.
// The request is changed in place so the router's Pattern stays visible to
// observe.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.maxBody {
			rest.WriteError(w, r, s.logger, apperr.New(apperr.CodePayloadTooLarge,
				fmt.Sprintf("request body exceeds %d bytes", s.maxBody)))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		}
		next.ServeHTTP(w, r)
	})
}

// secure sets headers every response should carry.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// IsBodyTooLarge reports whether err came from the body limit.
func IsBodyTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status = code
		r.wroteHeader = true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) statusCode() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush supports streaming responses (subscriptions over SSE).
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack supports WebSocket upgrades.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("hijack not supported")
	}
	r.status = http.StatusSwitchingProtocols
	r.wroteHeader = true
	return h.Hijack()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
