package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// echoServer answers /small with a short body (Content-Length), /big with
// a chunked one, /close and then closes the connection, /fail with 500; it
// checks the request's method, Host, headers and body.
func echoServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Host != "acme.bench.test" || r.Header.Get("Authorization") != "Bearer t" {
			http.Error(w, "bad request head: "+r.Host, http.StatusBadRequest)
			return
		}
		switch r.URL.Path {
		case "/small":
			_, _ = w.Write(append([]byte(`{"data":`), append(body, '}')...))
		case "/big":
			w.Header().Set("Content-Type", "application/json")
			for range 3 {
				_, _ = w.Write(bytes.Repeat([]byte("x"), 3000))
				w.(http.Flusher).Flush()
			}
		case "/close":
			w.Header().Set("Connection", "close")
			_, _ = io.WriteString(w, `{"data":1}`)
		default:
			http.Error(w, "failed", http.StatusInternalServerError)
		}
	}))
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	ts.Start()
	t.Cleanup(ts.Close)
	return ts, &conns
}

func target(ts *httptest.Server, path, body string) vegeta.Target {
	return vegeta.Target{Method: http.MethodPost, URL: ts.URL + path + "?q=1", Body: []byte(body),
		Header: http.Header{"Host": {"acme.bench.test"}, "Authorization": {"Bearer t"}, "Content-Type": {"application/json"}}}
}

func TestClosedLoopReadsWholeAnswersOnKeptAliveConnections(t *testing.T) {
	t.Parallel()
	ts, conns := echoServer(t)
	var mu sync.Mutex
	var bodies []string
	spec := attackSpec{
		targeter: vegeta.NewStaticTargeter(target(ts, "/small", `"abc"`)),
		check: func(res *vegeta.Result) string {
			if string(res.Body) != `{"data":"abc"}` {
				return string(res.Body)
			}
			return ""
		},
		onResult: func(res *vegeta.Result) {
			mu.Lock()
			defer mu.Unlock()
			if len(bodies) < 1 {
				bodies = append(bodies, string(res.Body))
			}
		},
	}
	tl := closedLoop(t.Context(), spec, 4, 300*time.Millisecond, time.Second)
	if len(tl.lat) < 20 {
		t.Fatalf("only %d answers in 300 ms", len(tl.lat))
	}
	if tl.errors != 0 || tl.codes["200"] != len(tl.lat) {
		t.Fatalf("errors %d, codes %v, samples %v", tl.errors, tl.codes, tl.samples)
	}
	if n := conns.Load(); n != 4 {
		t.Fatalf("%d connections opened, want 4 kept alive", n)
	}
	if bodies[0] != `{"data":"abc"}` {
		t.Fatalf("body %q", bodies[0])
	}
	for _, l := range tl.lat {
		if l <= 0 || l > time.Second {
			t.Fatalf("latency %v", l)
		}
	}
}

func TestClosedLoopReadsChunkedAnswers(t *testing.T) {
	t.Parallel()
	ts, _ := echoServer(t)
	spec := attackSpec{targeter: vegeta.NewStaticTargeter(target(ts, "/big", "")),
		check: func(res *vegeta.Result) string {
			if len(res.Body) != 9000 || strings.Trim(string(res.Body), "x") != "" {
				return "wrong body"
			}
			return ""
		}}
	tl := closedLoop(t.Context(), spec, 2, 200*time.Millisecond, time.Second)
	if len(tl.lat) == 0 || tl.errors != 0 {
		t.Fatalf("%d answers, %d errors: %v", len(tl.lat), tl.errors, tl.samples)
	}
}

func TestClosedLoopDialsAgainWhenTheServerCloses(t *testing.T) {
	t.Parallel()
	ts, conns := echoServer(t)
	spec := attackSpec{targeter: vegeta.NewStaticTargeter(target(ts, "/close", ""))}
	tl := closedLoop(t.Context(), spec, 1, 200*time.Millisecond, time.Second)
	if len(tl.lat) < 2 || tl.errors != 0 {
		t.Fatalf("%d answers, %d errors: %v", len(tl.lat), tl.errors, tl.samples)
	}
	if n := conns.Load(); n != int64(len(tl.lat)) && n != int64(len(tl.lat))+1 {
		t.Fatalf("%d connections for %d answers: want one per answer", n, len(tl.lat))
	}
}

func TestClosedLoopCountsFailures(t *testing.T) {
	t.Parallel()
	ts, _ := echoServer(t)
	spec := attackSpec{targeter: vegeta.NewStaticTargeter(target(ts, "/fail", ""))}
	tl := closedLoop(t.Context(), spec, 2, 100*time.Millisecond, time.Second)
	if len(tl.lat) == 0 || tl.errors != len(tl.lat) || tl.codes["500"] != len(tl.lat) {
		t.Fatalf("%d answers, %d errors, codes %v", len(tl.lat), tl.errors, tl.codes)
	}
	if len(tl.samples) != 1 {
		t.Fatalf("samples %v", tl.samples)
	}

	// Nothing listening: every attempt is a transport error, none hangs.
	ts.Close()
	tl = closedLoop(t.Context(), spec, 2, 100*time.Millisecond, time.Second)
	if tl.errors == 0 || tl.errors != len(tl.lat) {
		t.Fatalf("closed server: %d answers, %d errors", len(tl.lat), tl.errors)
	}
}

func TestClosedLoopCountsTheAnswerInFlightWhenTheRunEnds(t *testing.T) {
	t.Parallel()
	var served atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(150 * time.Millisecond)
		served.Add(1)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(ts.Close)
	tl := closedLoop(t.Context(), attackSpec{targeter: vegeta.NewStaticTargeter(target(ts, "/slow", ""))}, 1, 50*time.Millisecond, time.Second)
	if len(tl.lat) != 1 || tl.errors != 0 || tl.lat[0] < 150*time.Millisecond {
		t.Fatalf("answers %v, errors %d %v: want the one request in flight at the end, answered", tl.lat, tl.errors, tl.samples)
	}
	if served.Load() != 1 {
		t.Fatalf("server finished %d requests, want 1 (not cancelled)", served.Load())
	}
}

func TestClosedLoopStopsWhenInterrupted(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }))
	t.Cleanup(func() { close(block); ts.Close() })
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	tl := closedLoop(ctx, attackSpec{targeter: vegeta.NewStaticTargeter(target(ts, "/x", ""))}, 2, time.Hour, 300*time.Millisecond)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v after the interruption", d)
	}
	if len(tl.lat) != 0 {
		t.Fatalf("an interrupted request counted as an answer: %v", tl.codes)
	}
}
