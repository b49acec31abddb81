// Package health owns ClientIQ's health endpoints: /health/ (liveness,
// touches nothing), /health/db/, /health/cache/ and /health/detailed/ (every
// component with its status and latency). A failing component answers 503
// and is named in the body.
package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"
)

// Check is one component's probe. Details are included in the response;
// a non-nil error marks the component as failing.
type Check struct {
	// Name identifies the component ("database", "cache", "jobs").
	Name string
	// Run probes the component.
	Run func(ctx context.Context) (details map[string]any, err error)
}

// Config configures the handlers.
type Config struct {
	// Database probes PostgreSQL. Required.
	Database Check
	// Cache probes Redis or the in-process cache. Required.
	Cache Check
	// Others are extra components shown by /health/detailed/ (jobs, …).
	Others []Check
	// Version is reported by /health/detailed/.
	Version string
	// Started is the process start, for uptime.
	Started time.Time
	// Timeout bounds each probe. Default 2s.
	Timeout time.Duration
}

// Component is one component's result.
type Component struct {
	Status    string         `json:"status"`
	LatencyMS float64        `json:"latency_ms"`
	Error     string         `json:"error,omitempty"`
	Details   map[string]any `json:"details,omitempty"`
}

// Report is the body of /health/detailed/.
type Report struct {
	Status        string               `json:"status"`
	Failing       []string             `json:"failing,omitempty"`
	Version       string               `json:"version"`
	UptimeSeconds float64              `json:"uptime_seconds"`
	Components    map[string]Component `json:"components"`
	Timestamp     time.Time            `json:"timestamp"`
}

// Register mounts the four endpoints (with and without the trailing slash).
func Register(mux *http.ServeMux, cfg Config) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	h := handler{cfg: cfg}
	for _, p := range []struct {
		path string
		fn   http.HandlerFunc
	}{
		{"/health", h.live},
		{"/health/db", h.single(cfg.Database)},
		{"/health/cache", h.single(cfg.Cache)},
		{"/health/detailed", h.detailed},
	} {
		mux.HandleFunc("GET "+p.path+"/{$}", p.fn)
		mux.HandleFunc("GET "+p.path, p.fn)
	}
}

type handler struct{ cfg Config }

func (h handler) live(w http.ResponseWriter, _ *http.Request) {
	write(w, http.StatusOK, map[string]any{"status": "ok"})
}

func (h handler) single(c Check) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		res := h.run(r.Context(), c)
		status := http.StatusOK
		body := map[string]any{"status": res.Status, "component": c.Name, "latency_ms": res.LatencyMS}
		for k, v := range res.Details {
			body[k] = v
		}
		if res.Error != "" {
			status = http.StatusServiceUnavailable
			body["error"] = res.Error
		}
		write(w, status, body)
	}
}

func (h handler) detailed(w http.ResponseWriter, r *http.Request) {
	checks := append([]Check{h.cfg.Database, h.cfg.Cache}, h.cfg.Others...)
	results := make([]Component, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = h.run(r.Context(), c)
		}()
	}
	wg.Wait()
	rep := Report{
		Status:        "ok",
		Version:       h.cfg.Version,
		UptimeSeconds: time.Since(h.cfg.Started).Round(time.Millisecond).Seconds(),
		Components:    map[string]Component{},
		Timestamp:     time.Now().UTC(),
	}
	for i, c := range checks {
		rep.Components[c.Name] = results[i]
		if results[i].Status != "ok" {
			rep.Status = "unavailable"
			rep.Failing = append(rep.Failing, c.Name)
		}
	}
	status := http.StatusOK
	if rep.Status != "ok" {
		status = http.StatusServiceUnavailable
	}
	write(w, status, rep)
}

// run probes c within the timeout. The probe runs in its own goroutine so
// that one which ignores its context (a driver stuck in a dial) cannot hold
// the response past the timeout; it finishes on its own and its late result
// is dropped (done is buffered, so it never blocks).
func (h handler) run(ctx context.Context, c Check) Component {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	type outcome struct {
		details map[string]any
		err     error
	}
	done := make(chan outcome, 1)
	go func() {
		// A panic here would escape the HTTP server's recovery and end the
		// process; it marks the component failing instead.
		defer func() {
			if v := recover(); v != nil {
				done <- outcome{err: errors.New("check panicked")}
			}
		}()
		details, err := c.Run(ctx)
		done <- outcome{details, err}
	}()
	var out outcome
	select {
	case out = <-done:
	case <-ctx.Done():
		out = outcome{err: ctx.Err()}
	}
	elapsed := time.Since(start)
	if ctx.Err() != nil && elapsed < h.cfg.Timeout {
		elapsed = h.cfg.Timeout // a timed-out check took at least the timeout
	}
	res := Component{
		Status:    "ok",
		LatencyMS: float64(elapsed.Microseconds()) / 1000,
		Details:   out.details,
	}
	if out.err != nil {
		res.Status = "unavailable"
		res.Error = describe(ctx, out.err)
	}
	return res
}

// describe keeps health errors short and free of connection strings.
func describe(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return "timed out"
	}
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}

func write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
