package httpserver_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/httpserver"
)

// scrape returns what m's handler serves.
func scrape(t *testing.T, m *httpserver.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	b, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	return string(b)
}

func TestMetrics(t *testing.T) {
	t.Parallel()

	t.Run("RequestsAreCountedByRouteMethodAndStatus", func(t *testing.T) {
		t.Parallel()
		m := httpserver.NewMetrics()
		s := newTestServer(t, httpserver.Config{Metrics: m}, func(mux *http.ServeMux) {
			mux.HandleFunc("GET /x", okHandler)
			mux.HandleFunc("GET /items/{id}", okHandler)
		})
		for range 3 {
			resp, _ := s.get(t, "/x")
			require.Equal(t, http.StatusOK, resp.StatusCode)
		}
		s.get(t, "/items/1")
		s.get(t, "/items/2")
		s.get(t, "/nope/1")
		s.get(t, "/nope/2")
		req, err := http.NewRequest("BREW", s.http.URL+"/x", nil)
		require.NoError(t, err)
		s.do(t, req)

		require.Eventually(t, func() bool {
			return len(s.logs.entries(t, "http_request")) == 8
		}, 5*time.Second, 5*time.Millisecond)
		out := scrape(t, m)
		require.Contains(t, out, `clientiq_http_requests_total{method="GET",route="GET /x",status="200"} 3`)
		// Path parameters stay out of the labels: both items share the pattern.
		require.Contains(t, out, `clientiq_http_requests_total{method="GET",route="GET /items/{id}",status="200"} 2`)
		require.Contains(t, out, `clientiq_http_requests_total{method="GET",route="/",status="404"} 2`)
		// Arbitrary methods collapse into one label value.
		require.Contains(t, out, `clientiq_http_requests_total{method="other",route="/",status="405"} 1`)
		require.NotContains(t, out, "BREW")
		require.NotContains(t, out, "/nope")

		require.Contains(t, out, "# TYPE clientiq_http_request_duration_seconds histogram")
		require.Contains(t, out, `clientiq_http_request_duration_seconds_bucket{method="GET",route="GET /x",le="+Inf"} 3`)
		require.Contains(t, out, `clientiq_http_request_duration_seconds_count{method="GET",route="GET /x"} 3`)
		require.Contains(t, out, `clientiq_http_request_duration_seconds_sum{method="GET",route="GET /x"}`)
	})

	t.Run("RuntimeAndProcessCollectorsAreRegistered", func(t *testing.T) {
		t.Parallel()
		out := scrape(t, httpserver.NewMetrics())
		require.Contains(t, out, "go_goroutines")
		require.Contains(t, out, "process_")
	})

	t.Run("RegisterAddsCollectorsAndRejectsDuplicates", func(t *testing.T) {
		t.Parallel()
		m := httpserver.NewMetrics()
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: "clientiq_test_things_total", Help: "Things."})
		require.NoError(t, m.Register(c))
		c.Add(2)
		require.Contains(t, scrape(t, m), "clientiq_test_things_total 2")
		require.Error(t, m.Register(c))
	})

	t.Run("ServerWithoutMetricsServes", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, httpserver.Config{}, func(mux *http.ServeMux) { mux.HandleFunc("GET /x", okHandler) })
		resp, _ := s.get(t, "/x")
		require.Equal(t, http.StatusOK, resp.StatusCode)
	})
}
