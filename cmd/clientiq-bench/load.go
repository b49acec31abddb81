package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// attackSpec is what a scenario sends and how its answers are judged.
type attackSpec struct {
	targeter vegeta.Targeter
	// check returns "" for a good answer (already 2xx), else what is wrong.
	check func(res *vegeta.Result) string
	// onResult sees every answer (scenario 5 harvests refresh tokens).
	onResult func(res *vegeta.Result)
	// direct, when set, is one request's work done in process for the
	// "direct" run (see direct.go).
	direct directFunc
	// writes says the runs write, so WAL flushes are worth counting.
	writes bool
}

// requestTimeout bounds each request of a run.
const requestTimeout = 10 * time.Second

// runMode is one way of loading the server.
type runMode struct {
	name  string // rate, max, c1 or direct
	conns int
	rate  int // requests per second in "rate" mode
}

// runner runs attacks against a server and measures around them.
type runner struct {
	srv    *server
	dbName string
	// pg reads PostgreSQL's WAL statistics around each run (nil: none).
	pg      *pgxpool.Pool
	walOnce sync.Once
	// vegetaLoop drives closed-loop runs with vegeta rather than closedLoop.
	vegetaLoop bool
}

// attack runs spec in mode for du and returns the measured run.
func (rn *runner) attack(ctx context.Context, spec attackSpec, mode runMode, du time.Duration) (Run, error) {
	run := Run{Mode: mode.name, Connections: mode.conns, DBQueries: -1}
	if mode.name == "rate" {
		run.TargetRate = mode.rate
	}
	run.RSSRunningMax = resetPeakRSS(rn.srv.pid) != nil
	var walBefore, walAfter float64
	walOK := spec.writes
	if walOK {
		walBefore, walOK = rn.walSyncs(ctx)
	}
	before := rn.srv.sample(ctx, rn.dbName)
	var t *tally
	if mode.name == "direct" {
		t = directLoop(ctx, spec, mode.conns, du)
	} else if mode.name == "rate" || rn.vegetaLoop {
		atk := rn.attacker(mode)
		stop := context.AfterFunc(ctx, func() { atk.Stop() })
		defer stop()
		pacer := vegeta.ConstantPacer{} // the zero pacer: as fast as the workers go
		if mode.name == "rate" {
			pacer = vegeta.ConstantPacer{Freq: mode.rate, Per: time.Second}
		}
		t = newTally(spec)
		for res := range atk.Attack(spec.targeter, pacer, du, mode.name) {
			t.add(res)
		}
	} else {
		t = closedLoop(ctx, spec, mode.conns, du, requestTimeout)
	}
	after := rn.srv.sample(ctx, rn.dbName)
	if walOK {
		walAfter, walOK = rn.walSyncs(ctx)
	}
	if err := ctx.Err(); err != nil {
		return run, err
	}
	if walOK && len(t.lat) > 0 {
		run.WALSyncs = (walAfter - walBefore) / float64(len(t.lat))
		run.WALSyncRate = (walAfter - walBefore) / after.at.Sub(before.at).Seconds()
	}
	run.Requests, run.Errors, run.Codes = len(t.lat), t.errors, t.codes
	for s := range t.samples {
		run.ErrorSamples = append(run.ErrorSamples, s)
	}
	measure(&run, before, after, rn.srv)
	if mode.name == "direct" {
		// The statement counter is the server's; a direct run's statements
		// go through the harness's own pool.
		run.DBStatements, run.DBQueries = 0, -1
	}
	summarize(&run, t.lat)
	run.PeakRSSMiB, _ = peakRSS(rn.srv.pid)
	run.EndRSSAnonMiB, _ = procStatusMiB(rn.srv.pid, "RssAnon")
	run.EndRSSFileMiB, _ = procStatusMiB(rn.srv.pid, "RssFile")
	run.PGBackends, run.PGBackendMiB, run.PGBackendMaxMiB = postgresMemory(rn.dbName)
	return run, nil
}

// tally counts the answers of a run: their latencies, status codes and
// problems (spec's check), and hands each to spec's onResult.
type tally struct {
	spec    attackSpec
	lat     []time.Duration
	codes   map[string]int
	errors  int
	samples map[string]bool // up to 3 kinds of problem
}

func newTally(spec attackSpec) *tally {
	return &tally{spec: spec, lat: make([]time.Duration, 0, 1<<14), codes: map[string]int{}, samples: map[string]bool{}}
}

func (t *tally) add(res *vegeta.Result) {
	t.lat = append(t.lat, res.Latency)
	t.codes[strconv.Itoa(int(res.Code))]++
	problem := res.Error
	if problem == "" && (res.Code < 200 || res.Code > 299) {
		problem = http.StatusText(int(res.Code))
	}
	if problem == "" && t.spec.check != nil {
		problem = t.spec.check(res)
	}
	if problem != "" {
		t.errors++
		if len(t.samples) < 3 {
			t.samples[truncate(fmt.Sprintf("%d %s", res.Code, problem), 240)] = true
		}
	}
	if t.spec.onResult != nil {
		t.spec.onResult(res)
	}
}

// merge adds o's counts to t.
func (t *tally) merge(o *tally) {
	t.lat = append(t.lat, o.lat...)
	t.errors += o.errors
	for k, v := range o.codes {
		t.codes[k] += v
	}
	for k := range o.samples {
		if len(t.samples) < 3 {
			t.samples[k] = true
		}
	}
}

// attacker is vegeta for mode: open loop at a constant rate, or closed
// loop on mode.conns connections.
func (rn *runner) attacker(mode runMode) *vegeta.Attacker {
	opts := []func(*vegeta.Attacker){
		vegeta.Timeout(requestTimeout), vegeta.KeepAlive(true), vegeta.Redirects(vegeta.NoFollow),
		vegeta.HTTP2(false),
	}
	if mode.name == "rate" {
		// Open loop: more workers (and connections) when answers are late,
		// up to a bound, as real clients would keep arriving.
		opts = append(opts, vegeta.Workers(uint64(mode.conns)), vegeta.MaxWorkers(256), vegeta.Connections(256))
	} else {
		// Closed loop: exactly conns workers on conns kept-alive connections.
		opts = append(opts, vegeta.Workers(uint64(mode.conns)), vegeta.MaxWorkers(uint64(mode.conns)),
			vegeta.Connections(mode.conns), vegeta.MaxConnections(mode.conns))
	}
	return vegeta.NewAttacker(opts...)
}

// measure fills the rates of run from the samples around it.
func measure(run *Run, before, after sample, srv *server) {
	secs := after.at.Sub(before.at).Seconds()
	run.Seconds = secs
	if run.Requests == 0 || secs <= 0 {
		return
	}
	n := float64(run.Requests)
	run.RPS = n / secs
	run.ServerCPU = after.serverCPU - before.serverCPU
	perReq := func(s float64) float64 { return s / n * 1e6 }
	run.ServerCPUus = perReq(run.ServerCPU)
	run.PostgresCPUus = perReq(after.pgCPU - before.pgCPU)
	run.LoadgenCPUus = perReq(after.selfCPU - before.selfCPU)
	ours := run.ServerCPU + (after.pgCPU - before.pgCPU) + (after.selfCPU - before.selfCPU)
	run.OtherCPUShare = max(0, (after.busy-before.busy)-ours) / secs
	if before.queriesOK && after.queriesOK {
		run.DBStatements = max(0, after.queries-before.queries-srv.scrapeCost)
		run.DBQueries = max(0, run.DBStatements-srv.idleRate*secs) / n
	}
}

// walSyncs is pg_stat_wal's count of WAL flushes (fdatasync and the like;
// the whole cluster). A backend reports it at most once a second, and one
// that goes idle within a second of its last report holds the rest for
// ten (PostgreSQL 15's pgstat.c), so a run's count may miss up to about a
// second of its own flushes and take as much of what came before: good
// to about a tenth over 10 s. PostgreSQL 18 moved the column to pg_stat_io;
// where the query fails the runs go without the figure, said once in the
// log.
func (rn *runner) walSyncs(ctx context.Context) (float64, bool) {
	if rn.pg == nil {
		return 0, false
	}
	var n float64
	if err := rn.pg.QueryRow(ctx, `SELECT wal_sync FROM pg_stat_wal`).Scan(&n); err != nil {
		rn.walOnce.Do(func() { slog.Warn("no WAL flush counts", slog.Any("error", err)) })
		return 0, false
	}
	return n, true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
