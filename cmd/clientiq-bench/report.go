package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Report is one run of the harness, written as JSON and markdown so two
// runs can be compared field by field.
type Report struct {
	// Version of this format; bump on incompatible changes.
	Version   int        `json:"version"`
	StartedAt time.Time  `json:"started_at"`
	Elapsed   float64    `json:"elapsed_seconds"`
	Machine   Machine    `json:"machine"`
	Dataset   Dataset    `json:"dataset"`
	Server    Server     `json:"server"`
	Settings  Settings   `json:"settings"`
	Tokens    Tokens     `json:"tokens"`
	Scenarios []Scenario `json:"scenarios"`
	// Tenancy compares the list query spread over every tenant with the
	// same query on one tenant holding all the rows (scenario 6).
	Tenancy *Tenancy `json:"tenancy,omitempty"`
	// Profile is the top of a CPU profile of the server under scenario 1.
	Profile *Profile `json:"profile,omitempty"`
	Targets []Target `json:"targets"`
	Notes   []string `json:"notes"`
}

// Machine is where the figures come from.
type Machine struct {
	Cores          int     `json:"cores"`
	CPUModel       string  `json:"cpu_model"`
	Kernel         string  `json:"kernel"`
	MemoryMiB      int     `json:"memory_mib"`
	GoVersion      string  `json:"go_version"`
	Postgres       string  `json:"postgres"`
	SharedBuffers  string  `json:"postgres_shared_buffers"`
	LoadAvgAtStart float64 `json:"load_avg_1m_at_start"`
}

// Dataset is the benchmark database.
type Dataset struct {
	Database          string  `json:"database"`
	Tenants           int     `json:"tenants"`
	ProjectsPerTenant int     `json:"projects_per_tenant"`
	ItemsPerTenant    int     `json:"items_per_tenant"`
	SingleTenantRows  int     `json:"single_tenant_projects"`
	Reused            bool    `json:"reused"`
	BuiltAt           string  `json:"built_at"`
	ProvisionWorkers  int     `json:"provision_workers"`
	ProvisionSeconds  float64 `json:"provision_seconds"`
	TenantsPerSecond  float64 `json:"provision_tenants_per_second"`
	LoadSeconds       float64 `json:"load_seconds"`
	MigrateSeconds    float64 `json:"migrate_noop_seconds"`
	SizeMiB           float64 `json:"size_mib"`
}

// Server is how clientiq serve ran.
type Server struct {
	Profile string   `json:"profile"`
	Workers bool     `json:"river_workers_in_process"`
	Env     []string `json:"env"`
	// IdleQueriesPerSecond and QueriesPerScrape correct the statement
	// counter for background work and for reading /metrics itself.
	IdleQueriesPerSecond float64 `json:"idle_queries_per_second"`
	QueriesPerScrape     float64 `json:"queries_per_scrape"`
}

// Settings are the harness's knobs for this run.
type Settings struct {
	Duration    float64 `json:"duration_seconds"`
	Warmup      float64 `json:"warmup_seconds"`
	Rate        int     `json:"rate"`
	LoginRate   int     `json:"login_rate"`
	Connections int     `json:"connections"`
	RatioRounds int     `json:"ratio_rounds"`
	// Client drives the closed-loop runs: raw (HTTP/1.1 on its own
	// sockets, as wrk) or vegeta. Empty in results from before it existed:
	// vegeta.
	Client string `json:"client,omitempty"`
}

// closedLoopClient names what drove the closed-loop runs.
func closedLoopClient(c string) string {
	if c == "raw" {
		return "the harness's HTTP/1.1 client (one socket per connection, requests written and answers read in place, as wrk)"
	}
	return "vegeta"
}

// Tokens says how the access tokens of the scenarios were obtained.
type Tokens struct {
	ViaLogin     int     `json:"via_login"`
	Minted       int     `json:"minted"`
	LoginSeconds float64 `json:"login_seconds"`
}

// Scenario is one load scenario with its runs.
type Scenario struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// StartRSSMiB is the fresh server's VmRSS before the scenario.
	StartRSSMiB float64 `json:"server_start_rss_mib"`
	// SettleSeconds is how long the fresh server's start-up work took
	// (see server.settle) before the warm-up began.
	SettleSeconds float64 `json:"server_settle_seconds"`
	// IdleQueries is the server's statements per second with no load
	// (River, pool upkeep), the lower of before and after the runs; it is
	// subtracted from the runs' counts.
	IdleQueries float64 `json:"idle_queries_per_second"`
	Runs        []Run   `json:"runs"`
}

// Run is one bounded attack: a constant rate, or closed loop on a fixed
// number of connections.
type Run struct {
	// Mode is "rate" (constant rate), "max" (closed loop, as fast as the
	// connections go), "c1" (closed loop on one connection), "direct" (the
	// work in process, no HTTP: see direct.go), or scenario 6's "spread"
	// and "single" (closed loop, the two sides of a round).
	Mode        string  `json:"mode"`
	Connections int     `json:"connections"`
	TargetRate  int     `json:"target_rate,omitempty"`
	Seconds     float64 `json:"seconds"`
	Requests    int     `json:"requests"`
	RPS         float64 `json:"rps"`
	P50         float64 `json:"p50_ms"`
	P95         float64 `json:"p95_ms"`
	P99         float64 `json:"p99_ms"`
	Max         float64 `json:"max_ms"`
	Errors      int     `json:"errors"`
	// ErrorSamples are a few distinct failures, truncated.
	ErrorSamples []string       `json:"error_samples,omitempty"`
	Codes        map[string]int `json:"status_codes"`
	// PeakRSSMiB is the server's VmHWM over this run (reset before it when
	// the kernel allows; see RSSRunningMax).
	PeakRSSMiB    float64 `json:"server_peak_rss_mib"`
	RSSRunningMax bool    `json:"server_peak_rss_is_running_max,omitempty"`
	// EndRSSAnonMiB and EndRSSFileMiB split the server's resident set at
	// the end of the run: heap, stacks and runtime (anonymous) and pages of
	// the executable (file-backed).
	EndRSSAnonMiB float64 `json:"server_end_rss_anon_mib"`
	EndRSSFileMiB float64 `json:"server_end_rss_file_mib"`
	// PostgreSQL backends of the benchmark database at the end of the run
	// and their private memory (see postgresMemory).
	PGBackends      int     `json:"pg_backends"`
	PGBackendMiB    float64 `json:"pg_backend_private_mib_total"`
	PGBackendMaxMiB float64 `json:"pg_backend_private_mib_max"`
	ServerCPU       float64 `json:"server_cpu_seconds"`
	// The CPU µs per request of the server, PostgreSQL, this load
	// generator, and everything else on the machine (other work).
	ServerCPUus   float64 `json:"server_cpu_us_per_request"`
	PostgresCPUus float64 `json:"postgres_cpu_us_per_request"`
	LoadgenCPUus  float64 `json:"loadgen_cpu_us_per_request"`
	OtherCPUShare float64 `json:"other_cpu_cores"`
	// DBStatements is the rise of clientiq_db_queries_total over the run
	// (less the reads of /metrics), background work included.
	DBStatements float64 `json:"db_statements"`
	// DBQueries is statements per request, the scenario's idle background
	// taken out; -1 when unknown.
	DBQueries float64 `json:"db_queries_per_request"`
	// WALSyncs is PostgreSQL's WAL flushes (pg_stat_wal.wal_sync, the
	// whole cluster) per request, WALSyncRate per second: a commit waits
	// for one, and concurrent commits share it.
	WALSyncs    float64 `json:"wal_syncs_per_request"`
	WALSyncRate float64 `json:"wal_syncs_per_second"`
}

// Tenancy is the tenancy overhead: the spread throughput over the
// single-schema throughput (median of interleaved rounds).
type Tenancy struct {
	Interpretation string    `json:"interpretation"`
	SpreadRPS      []float64 `json:"spread_rps"`
	SingleRPS      []float64 `json:"single_rps"`
	Ratio          float64   `json:"ratio"`
}

// Profile is the top of a CPU profile.
type Profile struct {
	Tool     string   `json:"tool"`
	Scenario string   `json:"scenario"`
	File     string   `json:"file"`
	Flat     []string `json:"flat"`
	Cum      []string `json:"cumulative"`
	// Parts are the cumulative shares of the parts of a request (see
	// profileParts).
	Parts []string `json:"parts"`
	// Allocs is the top of the allocation profile (bytes allocated over
	// the same run, Go's pprof through PPROF_ADDR), when it could be taken.
	Allocs []string `json:"allocations,omitempty"`
}

// Target is one figure of the issue: the reference's, the target, ours.
type Target struct {
	Name      string  `json:"name"`
	Unit      string  `json:"unit"`
	Reference float64 `json:"reference"`
	Goal      string  `json:"target"`
	Ours      float64 `json:"ours"`
	// VsReference is ours over the reference (for latency and memory:
	// the reference over ours, so above 1 is better either way).
	VsReference float64 `json:"vs_reference"`
	Met         bool    `json:"met"`
}

// percentile is the nearest-rank q-quantile of sorted (0 when empty).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// ms turns a duration into milliseconds rounded to the microsecond.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// summarize fills the latency figures of r from lat (sorted in place).
func summarize(r *Run, lat []time.Duration) {
	slices.Sort(lat)
	r.P50, r.P95, r.P99 = ms(percentile(lat, .50)), ms(percentile(lat, .95)), ms(percentile(lat, .99))
	if len(lat) > 0 {
		r.Max = ms(lat[len(lat)-1])
	}
}

// writeReport writes dir/<stamp>-load.json and .md and returns their paths.
func writeReport(dir string, rep *Report) (string, string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("create results dir: %w", err)
	}
	base := filepath.Join(dir, rep.StartedAt.UTC().Format("20060102T150405Z")+"-load")
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return "", "", fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(base+".json", append(b, '\n'), 0o644); err != nil {
		return "", "", fmt.Errorf("write report: %w", err)
	}
	if err := os.WriteFile(base+".md", []byte(renderMarkdown(rep)), 0o644); err != nil {
		return "", "", fmt.Errorf("write report: %w", err)
	}
	return base + ".json", base + ".md", nil
}

// readReport reads a JSON report (to compare runs).
func readReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return &r, nil
}

// renderMarkdown is the human-readable report.
func renderMarkdown(r *Report) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	m, d := r.Machine, r.Dataset
	p("# ClientIQ load run %s", r.StartedAt.UTC().Format(time.RFC3339))
	p("")
	p("Machine: %d cores (%s), %d MiB RAM, %s; %s; %s (shared_buffers %s); 1-min load average at start %.2f.",
		m.Cores, m.CPUModel, m.MemoryMiB, m.Kernel, m.GoVersion, m.Postgres, m.SharedBuffers, m.LoadAvgAtStart)
	reused := "built by this run"
	if d.Reused {
		reused = "reused, built " + d.BuiltAt
	}
	p("Dataset (%s): database %s, %d tenants × %d projects and %d data items, plus one tenant `single` holding %d projects (%.0f MiB).",
		reused, d.Database, d.Tenants, d.ProjectsPerTenant, d.ItemsPerTenant, d.SingleTenantRows, d.SizeMiB)
	p("Provisioning: %d tenants in %.1f s with %d workers = **%.1f tenants/s** (cold: CREATE SCHEMA and every tenant migration); data loaded with COPY in %.1f s; `clientiq migrate` with nothing to do over all schemas: %.2f s.",
		d.Tenants, d.ProvisionSeconds, d.ProvisionWorkers, d.TenantsPerSecond, d.LoadSeconds, d.MigrateSeconds)
	p("Server: `clientiq serve`, profile %s, River workers in process: %v; %s.", r.Server.Profile, r.Server.Workers, strings.Join(r.Server.Env, " "))
	s := r.Settings
	p("Load: on loopback; each run %.0f s after a %.0f s warm-up; constant rate %d req/s (logins %d/s) with vegeta; closed loop on %d connections (max) and on 1 (c1) with %s.",
		s.Duration, s.Warmup, s.Rate, s.LoginRate, s.Connections, closedLoopClient(s.Client))
	if hasDirect(r) {
		p("Direct runs (scenarios 3 and 4): the same work done %d at a time in the harness's process through the service the handler calls (project.Service over a pool configured as the server's), with no HTTP, GraphQL, token check, tenant resolution, plan limit or event; its CPU is in the load gen column. It is what the database work alone reaches on these cores, a ceiling for the server's run above it.",
			s.Connections)
	}
	p("Tokens: %d by logging in through the API (%.1f s), %d minted with the server's JWT secret.", r.Tokens.ViaLogin, r.Tokens.LoginSeconds, r.Tokens.Minted)
	p("")
	p("## Scenarios")
	p("")
	p("| scenario | run | conns | req/s | p50 ms | p95 ms | p99 ms | errors | peak RSS MiB | server CPU µs/req | PG CPU µs/req | load gen µs/req | other cores | DB stmts/req |")
	p("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, sc := range r.Scenarios {
		for _, run := range sc.Runs {
			mode := run.Mode
			if run.TargetRate > 0 {
				mode = fmt.Sprintf("rate %d/s", run.TargetRate)
			}
			rss := fmt.Sprintf("%.1f", run.PeakRSSMiB)
			if run.RSSRunningMax {
				rss += "*"
			}
			srvCPU := fmt.Sprintf("%.0f", run.ServerCPUus)
			if run.Mode == "direct" { // the server idles through it
				rss, srvCPU = "–", "–"
			}
			p("| %s | %s | %d | %.0f | %.2f | %.2f | %.2f | %d | %s | %s | %.0f | %.0f | %.2f | %s |",
				sc.ID, mode, run.Connections, run.RPS, run.P50, run.P95, run.P99, run.Errors, rss,
				srvCPU, run.PostgresCPUus, run.LoadgenCPUus, run.OtherCPUShare, queriesCell(run.DBQueries))
		}
	}
	var starts []string
	for _, sc := range r.Scenarios {
		starts = append(starts, fmt.Sprintf("%s %.1f MiB, %.0f s, %.1f/s", sc.ID, sc.StartRSSMiB, sc.SettleSeconds, sc.IdleQueries))
	}
	p("")
	p("Each scenario starts a fresh server (VmHWM is also reset before each run). Its RSS once started, the time its start-up work took, and its idle statements per second: %s.", strings.Join(starts, "; "))
	var splits, pgMem []string
	for _, sc := range r.Scenarios {
		for _, run := range sc.Runs {
			if run.Mode != "max" {
				continue
			}
			if run.EndRSSAnonMiB > 0 {
				splits = append(splits, fmt.Sprintf("%s %.1f MiB anonymous + %.1f MiB of the executable", sc.ID, run.EndRSSAnonMiB, run.EndRSSFileMiB))
			}
			if run.PGBackends > 0 {
				pgMem = append(pgMem, fmt.Sprintf("%s %d backends, %.1f MiB in all, at most %.1f MiB in one",
					sc.ID, run.PGBackends, run.PGBackendMiB, run.PGBackendMaxMiB))
			}
		}
	}
	if len(splits) > 0 {
		p("")
		p("Resident set at the end of each 32-connection run: %s.", strings.Join(splits, "; "))
	}
	if len(pgMem) > 0 {
		p("")
		p("PostgreSQL backends of the benchmark database at the end of each 32-connection run, private memory (catalog and relation caches, prepared statements; shared_buffers excluded): %s.", strings.Join(pgMem, "; "))
	}
	var direct []string
	for i := range r.Scenarios {
		sc := &r.Scenarios[i]
		srv, dir := sc.run("max"), sc.run("direct")
		if srv != nil && dir != nil && dir.RPS > 0 {
			direct = append(direct, fmt.Sprintf("%s %.0f req/s through the server, %.0f direct (%.2f of it)", sc.ID, srv.RPS, dir.RPS, srv.RPS/dir.RPS))
		}
	}
	if len(direct) > 0 {
		p("")
		p("The server's runs against the same work done direct, in process without HTTP (32 connections): %s.", strings.Join(direct, "; "))
	}
	var wal []string
	for _, sc := range r.Scenarios {
		for _, run := range sc.Runs {
			if run.WALSyncs >= 0.05 {
				wal = append(wal, fmt.Sprintf("%s %s %.2f (%.0f/s)", sc.ID, run.Mode, run.WALSyncs, run.WALSyncRate))
			}
		}
	}
	if len(wal) > 0 {
		p("")
		p("PostgreSQL's WAL flushes per request (pg_stat_wal.wal_sync, good to about a tenth: backends report it late; a commit waits for one flush, and the commits in progress share it): %s.", strings.Join(wal, "; "))
	}
	for _, sc := range r.Scenarios {
		for _, run := range sc.Runs {
			if len(run.ErrorSamples) > 0 {
				p("")
				p("Errors in %s (%s): %s", sc.ID, run.Mode, strings.Join(run.ErrorSamples, "; "))
			}
		}
	}
	if t := r.Tenancy; t != nil {
		p("")
		p("## Tenancy overhead")
		p("")
		p("%s", t.Interpretation)
		p("")
		p("Spread req/s per round: %s; single-schema: %s; ratio of the medians: **%.2f**.", floats(t.SpreadRPS), floats(t.SingleRPS), t.Ratio)
	}
	p("")
	p("## Against the issue's reference and targets")
	p("")
	p("| figure | reference (Django) | target | ClientIQ | vs reference | met |")
	p("|---|---|---|---|---|---|")
	for _, t := range r.Targets {
		met := "no"
		if t.Met {
			met = "yes"
		}
		ref := "–"
		if t.Reference > 0 {
			ref = fmt.Sprintf("%g %s", t.Reference, t.Unit)
		}
		vs := "–"
		if t.VsReference > 0 {
			vs = fmt.Sprintf("%.2f×", t.VsReference)
		}
		p("| %s | %s | %s | %.2f %s | %s | %s |", t.Name, ref, t.Goal, t.Ours, t.Unit, vs, met)
	}
	if pr := r.Profile; pr != nil {
		p("")
		p("## CPU profile of the server under %s (%s; full report in %s beside this file)", pr.Scenario, pr.Tool, pr.File)
		p("")
		// Flat always; the other sections when the profile has them.
		for i, sec := range []struct {
			title string
			lines []string
		}{
			{"Flat (self):", pr.Flat},
			{"Where the time goes (cumulative share of the server's samples; parts overlap):", pr.Parts},
			{"Cumulative (with children):", pr.Cum},
			{"Allocations over the same run (Go's pprof, bytes allocated, flat and cumulative):", pr.Allocs},
		} {
			if i > 0 {
				if len(sec.lines) == 0 {
					continue
				}
				p("")
			}
			p("%s", sec.title)
			p("")
			p("```")
			p("%s", strings.Join(sec.lines, "\n"))
			p("```")
		}
	}
	if len(r.Notes) > 0 {
		p("")
		p("## Notes")
		p("")
		for _, n := range r.Notes {
			p("- %s", n)
		}
	}
	return b.String()
}

// hasDirect reports whether r has a direct run.
func hasDirect(r *Report) bool {
	for i := range r.Scenarios {
		if r.Scenarios[i].run("direct") != nil {
			return true
		}
	}
	return false
}

// run returns sc's first run in mode, nil when it has none.
func (sc *Scenario) run(mode string) *Run {
	for i := range sc.Runs {
		if sc.Runs[i].Mode == mode {
			return &sc.Runs[i]
		}
	}
	return nil
}

func queriesCell(q float64) string {
	if q < 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", q)
}

func floats(fs []float64) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = fmt.Sprintf("%.0f", f)
	}
	return strings.Join(parts, ", ")
}
