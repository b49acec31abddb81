package httpserver

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clientiq/clientiq/internal/apperr"
)

// AdmissionConfig configures an Admission.
type AdmissionConfig struct {
	// MaxInFlight is how many requests run at once; 0 admits everything.
	MaxInFlight int
	// MaxWait is how long a request may wait for its turn before it is
	// answered SERVICE_UNAVAILABLE. Default 5s.
	MaxWait time.Duration
}

// Admission runs at most MaxInFlight requests at once; the others wait for
// a slot in arrival order, up to MaxWait.
//
// Two cores serving 32 connections do not go faster with 32 requests in
// progress: each request then waits for the CPU at every step (its turn on
// a Go thread, on a database connection, on PostgreSQL's CPU), and which
// request goes next is close to random (Go's scheduler runs the goroutine
// readied last first). Bounding the requests in progress to what keeps the
// cores and the database connections busy, and queueing the rest in order,
// serves the same throughput with a tighter latency spread, less memory
// held by requests in progress, and a clear answer under overload (503 with
// Retry-After) instead of every request slowing down until it times out.
//
// Long-lived streams (WebSocket upgrades, server-sent events) are not
// counted: they would hold a slot for their whole life.
type Admission struct {
	slots   chan struct{} // one element per request in progress; nil: no limit
	maxWait time.Duration

	waited atomic.Uint64 // requests that found every slot taken
	shed   atomic.Uint64 // requests answered SERVICE_UNAVAILABLE after MaxWait
	gone   atomic.Uint64 // requests whose client left while they waited
}

// NewAdmission returns an Admission; with MaxInFlight 0 its Middleware
// admits every request at once.
func NewAdmission(cfg AdmissionConfig) *Admission {
	a := &Admission{maxWait: cfg.MaxWait}
	if a.maxWait <= 0 {
		a.maxWait = 5 * time.Second
	}
	if cfg.MaxInFlight > 0 {
		a.slots = make(chan struct{}, cfg.MaxInFlight)
	}
	return a
}

// Middleware admits requests to next; a request that waited MaxWait is
// answered through fail with SERVICE_UNAVAILABLE (and Retry-After).
func (a *Admission) Middleware(fail func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if a == nil || a.slots == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isStream(r) {
				next.ServeHTTP(w, r)
				return
			}
			if !a.acquire(r) {
				if r.Context().Err() != nil {
					return // the client left; nobody reads an answer
				}
				w.Header().Set("Retry-After", "1")
				fail(w, r, apperr.New(apperr.CodeUnavailable, "the server is at capacity; retry shortly"))
				return
			}
			released := false
			defer func() {
				if !released {
					a.release() // the handler panicked: nothing buffered is sent
				}
			}()
			bw := newBufferedResponse(w)
			next.ServeHTTP(bw, r)
			a.release()
			released = true
			bw.flush()
		})
	}
}

// bufferedResponse holds a response until its handler returns, so the
// slot is given back before the answer goes to the network: a client that
// reads slowly, or not at all, would otherwise hold a slot until
// HTTP_WRITE_TIMEOUT, and a handful of them would stall the API. API
// answers are bounded (lists are capped), and the streams that are not
// (WebSocket, SSE) are not admitted here.
type bufferedResponse struct {
	w      http.ResponseWriter
	status int
	buf    *bytes.Buffer
}

var responseBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func newBufferedResponse(w http.ResponseWriter) *bufferedResponse {
	return &bufferedResponse{w: w, buf: responseBuffers.Get().(*bytes.Buffer)}
}

// Header is the real response's: headers are only sent by flush.
func (b *bufferedResponse) Header() http.Header { return b.w.Header() }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.buf.Write(p)
}

// flush sends the held response, with its length, and recycles the buffer.
func (b *bufferedResponse) flush() {
	if b.status != 0 {
		h := b.w.Header()
		if h.Get("Content-Length") == "" && h.Get("Transfer-Encoding") == "" && bodyAllowed(b.status) {
			h.Set("Content-Length", strconv.Itoa(b.buf.Len()))
		}
		b.w.WriteHeader(b.status)
		_, _ = b.w.Write(b.buf.Bytes())
	}
	if b.buf.Cap() <= 1<<20 { // keep small buffers only
		b.buf.Reset()
		responseBuffers.Put(b.buf)
	}
	b.buf = nil
}

func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// acquire takes a slot, waiting in arrival order: the senders blocked on a
// full channel are queued first in, first out, and a slot freed goes to the
// first of them before any newcomer can take it.
func (a *Admission) acquire(r *http.Request) bool {
	select {
	case a.slots <- struct{}{}:
		return true
	default:
	}
	a.waited.Add(1)
	t := time.NewTimer(a.maxWait)
	defer t.Stop()
	select {
	case a.slots <- struct{}{}:
		return true
	case <-t.C:
		a.shed.Add(1)
		return false
	case <-r.Context().Done():
		a.gone.Add(1)
		return false
	}
}

func (a *Admission) release() { <-a.slots }

// AdmissionStats counts what an Admission did.
type AdmissionStats struct {
	InFlight  int    // admitted requests in progress
	Limit     int    // requests that may be in progress at once (0: no limit)
	Waited    uint64 // requests that found every slot taken
	Shed      uint64 // requests answered SERVICE_UNAVAILABLE after MaxWait
	Abandoned uint64 // requests whose client left while they waited
}

// Stats returns the counts so far.
func (a *Admission) Stats() AdmissionStats {
	return AdmissionStats{InFlight: len(a.slots), Limit: cap(a.slots),
		Waited: a.waited.Load(), Shed: a.shed.Load(), Abandoned: a.gone.Load()}
}

// isStream reports a request that opens a long-lived stream: a WebSocket
// upgrade or a server-sent events subscription.
func isStream(r *http.Request) bool {
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return true
	}
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

var (
	admissionInFlightDesc = prometheus.NewDesc("clientiq_http_admission_in_flight",
		"Requests admitted and in progress.", nil, nil)
	admissionLimitDesc = prometheus.NewDesc("clientiq_http_admission_limit",
		"Requests that may be in progress at once (0: no limit).", nil, nil)
	admissionWaitedDesc = prometheus.NewDesc("clientiq_http_admission_waited_total",
		"Requests that waited for a slot.", nil, nil)
	admissionShedDesc = prometheus.NewDesc("clientiq_http_admission_shed_total",
		"Requests answered SERVICE_UNAVAILABLE after waiting the longest allowed.", nil, nil)
	admissionGoneDesc = prometheus.NewDesc("clientiq_http_admission_abandoned_total",
		"Requests whose client left while they waited for a slot.", nil, nil)
)

// Describe implements prometheus.Collector.
func (a *Admission) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{admissionInFlightDesc, admissionLimitDesc, admissionWaitedDesc,
		admissionShedDesc, admissionGoneDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (a *Admission) Collect(ch chan<- prometheus.Metric) {
	st := a.Stats()
	ch <- prometheus.MustNewConstMetric(admissionInFlightDesc, prometheus.GaugeValue, float64(st.InFlight))
	ch <- prometheus.MustNewConstMetric(admissionLimitDesc, prometheus.GaugeValue, float64(st.Limit))
	ch <- prometheus.MustNewConstMetric(admissionWaitedDesc, prometheus.CounterValue, float64(st.Waited))
	ch <- prometheus.MustNewConstMetric(admissionShedDesc, prometheus.CounterValue, float64(st.Shed))
	ch <- prometheus.MustNewConstMetric(admissionGoneDesc, prometheus.CounterValue, float64(st.Abandoned))
}
