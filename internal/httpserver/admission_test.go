package httpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/httpserver"
	"github.com/clientiq/clientiq/internal/rest"
)

// admissionServer serves h behind a's middleware, failing with the REST
// envelope.
func admissionServer(t *testing.T, a *httpserver.Admission, h http.Handler) *httptest.Server {
	t.Helper()
	fail := func(w http.ResponseWriter, r *http.Request, err error) {
		rest.WriteError(w, r, slog.New(slog.DiscardHandler), err)
	}
	ts := httptest.NewServer(a.Middleware(fail)(h))
	t.Cleanup(ts.Close)
	return ts
}

// holder is a handler whose "/hold" requests keep their slot until release
// is closed; every other request records its "n" query value and returns.
type holder struct {
	release chan struct{}
	held    chan struct{} // one value per /hold request that started
	mu      sync.Mutex
	order   []int
}

func newHolder() *holder {
	return &holder{release: make(chan struct{}), held: make(chan struct{}, 16)}
}

func (h *holder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/hold" {
		h.held <- struct{}{}
		<-h.release
		return
	}
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	h.mu.Lock()
	h.order = append(h.order, n)
	h.mu.Unlock()
}

// heldServer serves a holder behind an Admission of cfg, with holds
// requests already holding their slots.
func heldServer(t *testing.T, cfg httpserver.AdmissionConfig, holds int) (*httpserver.Admission, *holder, *httptest.Server) {
	t.Helper()
	a := httpserver.NewAdmission(cfg)
	h := newHolder()
	ts := admissionServer(t, a, h)
	for range holds {
		go getStatus(t, ts.URL+"/hold", nil)
		<-h.held
	}
	return a, h, ts
}

func getStatus(t *testing.T, url string, hdr map[string]string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// waitUntil polls cond for up to 5 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestAdmission(t *testing.T) {
	t.Parallel()

	t.Run("NeverRunsMoreThanTheLimitAtOnce", func(t *testing.T) {
		t.Parallel()
		a := httpserver.NewAdmission(httpserver.AdmissionConfig{MaxInFlight: 3})
		var now, peak atomic.Int32
		ts := admissionServer(t, a, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			n := now.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(2 * time.Millisecond)
			now.Add(-1)
		}))
		var wg sync.WaitGroup
		codes := make([]int, 40)
		for i := range codes {
			wg.Go(func() { codes[i] = getStatus(t, ts.URL+"/x", nil) })
		}
		wg.Wait()
		for _, c := range codes {
			require.Equal(t, http.StatusOK, c)
		}
		require.LessOrEqual(t, peak.Load(), int32(3))
		require.Equal(t, int32(3), peak.Load(), "40 requests at once should fill every slot")
		st := a.Stats()
		require.Positive(t, st.Waited)
		require.Zero(t, st.InFlight)
		require.Zero(t, st.Shed)
	})

	t.Run("WaitingRequestsAreServedInArrivalOrder", func(t *testing.T) {
		t.Parallel()
		a, h, ts := heldServer(t, httpserver.AdmissionConfig{MaxInFlight: 1}, 1)
		const waiting = 8
		var wg sync.WaitGroup
		for i := range waiting {
			wg.Go(func() { require.Equal(t, http.StatusOK, getStatus(t, ts.URL+"/x?n="+strconv.Itoa(i), nil)) })
			// The next request arrives only once this one waits.
			waitUntil(t, "request "+strconv.Itoa(i)+" to queue", func() bool { return a.Stats().Waited == uint64(i+1) })
			time.Sleep(20 * time.Millisecond) // from counting itself to parking in the queue
		}
		close(h.release)
		wg.Wait()
		require.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7}, h.order)
	})

	t.Run("RequestWaitingTooLongIsAnswered503WithRetryAfter", func(t *testing.T) {
		t.Parallel()
		a, h, ts := heldServer(t, httpserver.AdmissionConfig{MaxInFlight: 1, MaxWait: 50 * time.Millisecond}, 1)
		start := time.Now()
		resp, err := http.Get(ts.URL + "/x?n=1")
		require.NoError(t, err)
		defer resp.Body.Close()
		require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		require.Equal(t, "1", resp.Header.Get("Retry-After"))
		var env struct {
			Success bool `json:"success"`
			Error   struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&env))
		require.False(t, env.Success)
		require.Equal(t, "SERVICE_UNAVAILABLE", env.Error.Code)
		require.NotEmpty(t, env.Error.Message)
		require.Empty(t, h.order, "the shed request never reached the handler")
		require.Equal(t, uint64(1), a.Stats().Shed)
		close(h.release)
		waitUntil(t, "the held slot to free", func() bool { return a.Stats().InFlight == 0 })
		require.Equal(t, http.StatusOK, getStatus(t, ts.URL+"/x?n=2", nil))
	})

	t.Run("ClientLeavingWhileWaitingGivesNoSlotAway", func(t *testing.T) {
		t.Parallel()
		a, h, ts := heldServer(t, httpserver.AdmissionConfig{MaxInFlight: 1}, 1)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/x?n=1", nil)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				_ = resp.Body.Close()
			}
			done <- err
		}()
		waitUntil(t, "the request to queue", func() bool { return a.Stats().Waited == 1 })
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
		waitUntil(t, "the server to see the client leave", func() bool { return a.Stats().Abandoned == 1 })
		require.Equal(t, 1, a.Stats().InFlight, "only the held request has a slot")
		close(h.release)
		require.Equal(t, http.StatusOK, getStatus(t, ts.URL+"/x?n=2", nil))
		require.Equal(t, []int{2}, h.order, "the abandoned request never ran")
		require.Zero(t, a.Stats().Shed)
	})

	t.Run("StreamsDoNotTakeASlot", func(t *testing.T) {
		t.Parallel()
		a, h, ts := heldServer(t, httpserver.AdmissionConfig{MaxInFlight: 1, MaxWait: 20 * time.Millisecond}, 1)
		require.Equal(t, http.StatusOK, getStatus(t, ts.URL+"/x?n=1", map[string]string{"Accept": "text/event-stream"}))
		require.Equal(t, http.StatusOK, getStatus(t, ts.URL+"/x?n=2", map[string]string{"Connection": "Upgrade", "Upgrade": "websocket"}))
		require.Equal(t, http.StatusServiceUnavailable, getStatus(t, ts.URL+"/x?n=3", nil))
		require.Equal(t, []int{1, 2}, h.order)
		require.Equal(t, 1, a.Stats().InFlight, "streams are not counted")
		close(h.release)
	})

	t.Run("NoLimitAdmitsEverythingAtOnce", func(t *testing.T) {
		t.Parallel()
		a, h, ts := heldServer(t, httpserver.AdmissionConfig{}, 5)
		require.Equal(t, http.StatusOK, getStatus(t, ts.URL+"/x?n=1", nil))
		close(h.release)
		require.Equal(t, httpserver.AdmissionStats{}, a.Stats())
	})

	t.Run("SlowReaderDoesNotHoldASlot", func(t *testing.T) {
		t.Parallel()
		a := httpserver.NewAdmission(httpserver.AdmissionConfig{MaxInFlight: 1, MaxWait: 2 * time.Second})
		big := bytes.Repeat([]byte("x"), 16<<20) // far more than the socket buffers hold
		wrote := make(chan struct{})
		ts := admissionServer(t, a, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/big" {
				_, _ = w.Write(big)
				close(wrote)
			}
		}))
		// A client that asks for a large answer and never reads it.
		conn, err := net.Dial("tcp", ts.Listener.Addr().String())
		require.NoError(t, err)
		defer conn.Close()
		_, err = io.WriteString(conn, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		select {
		case <-wrote:
		case <-time.After(5 * time.Second):
			t.Fatal("the handler is still writing to a client that does not read, holding its slot")
		}
		waitUntil(t, "the slot to come back", func() bool { return a.Stats().InFlight == 0 })
		require.Equal(t, http.StatusOK, getStatus(t, ts.URL+"/x", nil), "the slot was given back before the answer went out")
		require.Zero(t, a.Stats().Shed)
	})

	t.Run("HeldAnswerKeepsStatusHeadersAndGetsItsLength", func(t *testing.T) {
		t.Parallel()
		a := httpserver.NewAdmission(httpserver.AdmissionConfig{MaxInFlight: 2})
		ts := admissionServer(t, a, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Kind", "held")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, "hel")
			_, _ = io.WriteString(w, "lo")
		}))
		resp, err := http.Get(ts.URL + "/x")
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, resp.StatusCode)
		require.Equal(t, "held", resp.Header.Get("X-Kind"))
		require.Equal(t, int64(5), resp.ContentLength)
		require.Equal(t, "hello", string(body))
	})

	t.Run("PanickingHandlerGivesItsSlotBack", func(t *testing.T) {
		t.Parallel()
		a := httpserver.NewAdmission(httpserver.AdmissionConfig{MaxInFlight: 1, MaxWait: time.Second})
		ts := admissionServer(t, a, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/panic" {
				_, _ = io.WriteString(w, "partial")
				panic(http.ErrAbortHandler)
			}
		}))
		_, err := http.Get(ts.URL + "/panic")
		require.Error(t, err, "the connection is aborted, nothing buffered is sent")
		waitUntil(t, "the slot to come back", func() bool { return a.Stats().InFlight == 0 })
		require.Equal(t, http.StatusOK, getStatus(t, ts.URL+"/x", nil))
	})

	t.Run("CountsAreExportedAsMetrics", func(t *testing.T) {
		t.Parallel()
		a, h, ts := heldServer(t, httpserver.AdmissionConfig{MaxInFlight: 2, MaxWait: 10 * time.Millisecond}, 2)
		require.Equal(t, http.StatusServiceUnavailable, getStatus(t, ts.URL+"/x", nil))
		reg := prometheus.NewRegistry()
		require.NoError(t, reg.Register(a))
		n, err := testutil.GatherAndCount(reg)
		require.NoError(t, err)
		require.Equal(t, 5, n)
		families, err := reg.Gather()
		require.NoError(t, err)
		got := map[string]float64{}
		for _, f := range families {
			m := f.GetMetric()[0]
			if m.GetGauge() != nil {
				got[f.GetName()] = m.GetGauge().GetValue()
			} else {
				got[f.GetName()] = m.GetCounter().GetValue()
			}
		}
		require.Equal(t, map[string]float64{
			"clientiq_http_admission_in_flight":       2,
			"clientiq_http_admission_limit":           2,
			"clientiq_http_admission_waited_total":    1,
			"clientiq_http_admission_shed_total":      1,
			"clientiq_http_admission_abandoned_total": 0,
		}, got)
		close(h.release)
	})
}
