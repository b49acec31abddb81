package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clientiq/clientiq/internal/dbtest"
)

// The set-up and load of BenchmarkScaleOut.
const (
	sbBouncerPool = 8  // PgBouncer's server connections to PostgreSQL
	sbMaxConns    = 8  // DATABASE_MAX_CONNS of each process
	sbProjects    = 25 // projects of the one tenant; the query lists 20
	sbWorkers     = 32 // concurrent clients of the closed loop
	sbWarmUp      = time.Second
	sbMeasure     = 4 * time.Second
	sbListQuery   = `{ projects(first: 20) { edges { node { id name } } } }`
)

// BenchmarkScaleOut measures how list throughput scales with the `clientiq
// serve` processes given to it (issue: "three `clientiq serve` processes
// behind no shared state but PostgreSQL and Redis, reached through
// PgBouncer in transaction pooling mode ... throughput scales with the
// processes given to it"). Each sub-benchmark (servers=1, 2, 3) has a
// database, a PgBouncer in transaction pooling mode (default_pool_size
// sbBouncerPool) and N processes behind it with DATABASE_POOLER=
// pgbouncer-transaction (and DATABASE_LISTEN_URL direct), each held to one core's worth of Go scheduling
// (GOMAXPROCS=1), so the processes are the variable. One tenant with
// sbProjects projects is listed (first 20) by sbWorkers concurrent clients
// in a closed loop, round-robin over the processes, for sbMeasure after a
// warm-up of sbWarmUp; every answer is checked (200, no errors, 20 of the
// tenant's own projects) and any failure fails the benchmark. It reports
// req/s and errors; b.N is ignored (run it with -benchtime 1x).
//
// On a 2-core machine PostgreSQL, PgBouncer and this load generator share
// the cores with the servers, so the absolute req/s says little about a
// real deployment: read the ratio servers=2 / servers=1, which the shared
// cores also hold down (a third process has no third core to run on there,
// so servers=3 shows where the machine, not the processes, is the limit).
func BenchmarkScaleOut(b *testing.B) {
	bin := scPgBouncerBinary(b)
	for _, n := range []int{1, 2, 3} {
		b.Run("servers="+strconv.Itoa(n), func(b *testing.B) { sbScaleOut(b, bin, n) })
	}
}

func sbScaleOut(b *testing.B, bouncerBin string, n int) {
	db := dbtest.New(b)
	// The tenant is on Free, which allows 3 projects: lift that limit in
	// this database of the benchmark's own, before any process reads it.
	if _, err := db.Pool.Exec(b.Context(), `UPDATE public.plans SET max_projects = NULL WHERE code = 'free'`); err != nil {
		b.Fatalf("lift the Free plan's project limit: %v", err)
	}
	bouncer := scStartPgBouncer(b, bouncerBin, db.URL, sbBouncerPool)
	sfx := dbtest.RandomSuffix()
	base := "bench" + sfx + ".test"
	env := newEnv(b, bouncer.url).with("BASE_DOMAIN", base, "JWT_SECRET", scJWTSecret,
		"TRUSTED_PROXIES", "127.0.0.1/32", "LOG_LEVEL", "warn", "GOMAXPROCS", "1",
		"DATABASE_POOLER", "pgbouncer-transaction", "DATABASE_MAX_CONNS", strconv.Itoa(sbMaxConns),
		// The viewer caches' LISTEN goes straight to PostgreSQL, as
		// docs/scaling.md recommends, so a list is one statement.
		"DATABASE_LISTEN_URL", db.URL)
	servers := scStartServers(b, env, n)

	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 0 // no limit over all hosts
	tr.MaxIdleConnsPerHost = 2 * sbWorkers
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	b.Cleanup(hc.CloseIdleConnections)
	c := &scClient{http: hc, ip: scRandomIP()}
	tn := scSignup(b, c, servers[0], "b"+sfx, base)
	for i := range sbProjects {
		tn.projects = append(tn.projects, scCreateProject(b, c, servers[i%n], tn, i))
	}
	lg := &sbLoad{c: c, servers: servers, tenant: tn, host: tn.slug + "." + base,
		own: map[string]bool{}, perServer: make([]atomic.Int64, n)}
	for _, id := range tn.projects {
		lg.own[id] = true
	}
	lg.payload, _ = json.Marshal(map[string]any{"query": sbListQuery})

	if w := lg.run(b.Context(), sbWarmUp); w.errors > 0 {
		b.Fatalf("warm-up: %d of %d requests failed: %v", w.errors, w.requests, w.problems)
	}
	for i := range lg.perServer {
		lg.perServer[i].Store(0)
	}
	b.ResetTimer()
	r := lg.run(b.Context(), sbMeasure)
	b.StopTimer()

	per := make([]int64, n)
	for i := range per {
		per[i] = lg.perServer[i].Load()
	}
	rps := float64(r.requests) / r.took.Seconds()
	b.ReportMetric(rps, "req/s")
	b.ReportMetric(float64(r.errors), "errors")
	b.Logf("%d servers (GOMAXPROCS=1 each) through PgBouncer (pool %d): %d requests from %d clients in %s = %.0f req/s, per server %v, %d errors",
		n, sbBouncerPool, r.requests, sbWorkers, r.took.Round(time.Millisecond), rps, per, r.errors)
	if r.errors > 0 {
		b.Fatalf("%d of %d requests failed: %v", r.errors, r.requests, r.problems)
	}
}

// sbLoad is the closed-loop list load of BenchmarkScaleOut.
type sbLoad struct {
	c       *scClient
	servers []*server
	tenant  *scTenant
	host    string          // the tenant's host, <slug>.<BASE_DOMAIN>
	own     map[string]bool // the tenant's project ids (read only)
	payload []byte
	// perServer counts the requests sent to each server.
	perServer []atomic.Int64
}

// sbResult is one run of the load.
type sbResult struct {
	requests, errors int64
	took             time.Duration
	problems         []string // the first few failures
}

// run keeps sbWorkers requests in flight until d has passed, then waits
// for those in flight (they are counted: nothing is cancelled, so no
// answer fails because the time ran out).
func (l *sbLoad) run(ctx context.Context, d time.Duration) sbResult {
	var (
		next, requests, errs atomic.Int64
		mu                   sync.Mutex
		problems             []string
		wg                   sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for range sbWorkers {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				i := int((next.Add(1) - 1) % int64(len(l.servers)))
				l.perServer[i].Add(1)
				requests.Add(1)
				if err := l.one(ctx, l.servers[i]); err != nil {
					errs.Add(1)
					mu.Lock()
					if len(problems) < 5 {
						problems = append(problems, fmt.Sprintf("%s: %v", l.servers[i].addr, err))
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return sbResult{requests: requests.Load(), errors: errs.Load(), took: time.Since(start), problems: problems}
}

// one lists the tenant's projects on s, addressed by the tenant's host as
// a load balancer would pass it, and checks the answer.
func (l *sbLoad) one(ctx context.Context, s *server) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url("/graphql"), bytes.NewReader(l.payload))
	if err != nil {
		return err
	}
	req.Host = l.host
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", l.c.ip)
	req.Header.Set("Authorization", "Bearer "+l.tenant.token)
	resp, err := l.c.http.Do(req)
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", resp.StatusCode, raw)
	}
	var body struct {
		Data struct {
			Projects struct {
				Edges []struct {
					Node struct{ ID, Name string }
				}
			}
		}
		Errors json.RawMessage
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return fmt.Errorf("not JSON: %s", raw)
	}
	if len(body.Errors) > 0 && !bytes.Equal(body.Errors, []byte("null")) {
		return fmt.Errorf("errors: %s", raw)
	}
	edges := body.Data.Projects.Edges
	if len(edges) != min(20, len(l.own)) {
		return fmt.Errorf("%d edges, want %d: %s", len(edges), min(20, len(l.own)), raw)
	}
	seen := make(map[string]bool, len(edges))
	for _, e := range edges {
		if !l.own[e.Node.ID] || !strings.HasPrefix(e.Node.Name, l.tenant.marker) {
			return fmt.Errorf("project %+v is not %s's: %s", e.Node, l.tenant.slug, raw)
		}
		if seen[e.Node.ID] {
			return fmt.Errorf("project %s listed twice: %s", e.Node.ID, raw)
		}
		seen[e.Node.ID] = true
	}
	return nil
}
