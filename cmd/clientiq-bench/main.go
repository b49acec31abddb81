// Command clientiq-bench is ClientIQ's load-test harness (issue 7). It
// builds or reuses a benchmark database (tenants provisioned through the
// tenant service, rows loaded with COPY), builds and starts `clientiq
// serve` on loopback, runs the load scenarios with vegeta (a constant rate,
// a closed loop on 32 connections, one connection), and writes
// bench/results/<UTC stamp>-load.json and .md. Missed targets are
// reported, not failures: it exits non-zero only when the harness fails.
package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "clientiq-bench: %v\n", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	tenants, projects, items int
	duration, warmup         time.Duration
	rate, loginRate, conns   int
	databaseURL, redisURL    string
	out, profile             string
	provisionWorkers         int
	maxLogins, ratioRounds   int
	only                     string
	cpuprofile               bool
	direct                   bool
	serverEnv                []string
	// client is what drives the closed-loop runs: raw or vegeta.
	client string
	// serverBin is a prebuilt server to run instead of building one.
	serverBin string
	// pprofAddr is the server's PPROF_ADDR (a free loopback port), where
	// the allocation profile is read.
	pprofAddr string
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("clientiq-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.tenants, "tenants", 100, "benchmark tenants")
	fs.IntVar(&o.projects, "projects", 1000, "projects per tenant")
	fs.IntVar(&o.items, "items", 10000, "data items per tenant")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of each measured run")
	fs.DurationVar(&o.warmup, "warmup", 5*time.Second, "closed-loop warm-up before each scenario (0: none): connections, caches, per-connection prepared statements")
	fs.IntVar(&o.rate, "rate", 1000, "requests per second of the constant-rate runs (0: skip them)")
	fs.IntVar(&o.loginRate, "login-rate", 20, "logins per second of the login scenario's constant-rate run")
	fs.IntVar(&o.conns, "connections", 32, "connections of the closed-loop runs")
	fs.StringVar(&o.serverBin, "server-bin", "", "run this prebuilt clientiq binary instead of building one (to compare two builds)")
	fs.StringVar(&o.client, "client", "raw", "client of the closed-loop runs: raw (HTTP/1.1 on its own sockets, as wrk) or vegeta (net/http)")
	fs.StringVar(&o.databaseURL, "database-url", cmp.Or(os.Getenv("DATABASE_URL"), "postgres://postgres@127.0.0.1:5432/clientiq_bench?sslmode=disable"),
		"benchmark database (its name must contain \"bench\": it is dropped and rebuilt when the dataset changes)")
	fs.StringVar(&o.redisURL, "redis-url", cmp.Or(os.Getenv("REDIS_URL"), "redis://127.0.0.1:6379/0"), "Redis for the server")
	fs.StringVar(&o.out, "out", "bench/results", "results directory")
	fs.StringVar(&o.profile, "profile", "production", "CLIENTIQ_ENV of the server")
	fs.IntVar(&o.provisionWorkers, "provision-workers", 4, "tenants provisioned (and loaded) at once")
	fs.IntVar(&o.maxLogins, "max-logins", 1000, "tenants whose tokens come from a login through the API; the rest are minted")
	fs.IntVar(&o.ratioRounds, "ratio-rounds", 4, "interleaved rounds of scenario 6 (spread and single, the order alternating)")
	fs.StringVar(&o.only, "scenarios", "", "comma-separated scenario numbers to run (default all: 1,2,3,4,5,6)")
	fs.BoolVar(&o.direct, "direct", true, "also run scenarios 3 and 4's work in this process through the server's services, without HTTP (the direct run)")
	fs.BoolVar(&o.cpuprofile, "cpuprofile", false, "also record the server's CPU under scenario 1 with perf (an extra run)")
	fs.Func("server-env", "extra KEY=VALUE for the server's environment (repeatable), e.g. GOGC=200 to compare runtime settings", func(v string) error {
		if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
			return fmt.Errorf("--server-env %q: want KEY=VALUE", v)
		}
		o.serverEnv = append(o.serverEnv, v)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.client != "raw" && o.client != "vegeta" {
		return nil, fmt.Errorf("--client %q: want raw or vegeta", o.client)
	}
	if o.tenants < 1 || o.projects < 21 || o.items < 0 || o.conns < 1 || o.duration < time.Second {
		return nil, errors.New("need --tenants ≥ 1, --projects ≥ 21 (two pages), --items ≥ 0, --connections ≥ 1, --duration ≥ 1s")
	}
	return o, nil
}

// wants reports whether scenario number n is to run.
func (o *options) wants(id string) bool {
	if o.only == "" {
		return true
	}
	num := strings.TrimRightFunc(strings.SplitN(id, "-", 2)[0], func(r rune) bool { return r >= 'a' && r <= 'z' })
	return slices.Contains(strings.Split(o.only, ","), num)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if !filepath.IsAbs(o.out) {
		o.out = filepath.Join(root, o.out)
	}
	rep := &Report{Version: 1, StartedAt: time.Now().UTC(), Settings: Settings{Duration: o.duration.Seconds(),
		Warmup: o.warmup.Seconds(), Rate: o.rate, LoginRate: o.loginRate, Connections: o.conns, RatioRounds: o.ratioRounds, Client: o.client}}
	stamp := rep.StartedAt.Format("20060102T150405Z")
	tmp, err := os.MkdirTemp("", "clientiq-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := o.serverBin
	if bin == "" {
		logf("building the server")
		if bin, err = buildServer(ctx, root, tmp); err != nil {
			return err
		}
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	if o.pprofAddr, err = freeAddr(); err != nil {
		return err
	}
	secret := randomSecret()
	env, shown := serverEnv(o, addr, secret)
	ds, err := prepareDataset(ctx, o, bin, env, logf)
	if err != nil {
		return err
	}
	defer ds.db.Close()
	rep.Dataset = ds.info
	rep.Machine = machineFacts(ctx, ds)
	logf("starting clientiq serve on %s (profile %s)", addr, o.profile)
	srv, err := startServer(ctx, bin, env, addr, filepath.Join(tmp, "serve.log"))
	if err != nil {
		return err
	}
	rep.Server = Server{Profile: o.profile, Workers: true, Env: shown}
	api := &apiClient{base: srv.base, http: &http.Client{Timeout: 30 * time.Second}}
	tokens, loginSecs, err := obtainTokens(ctx, api, ds, secret, o.maxLogins)
	if err != nil {
		return err
	}
	rep.Tokens = Tokens{ViaLogin: len(ds.tenants) - tokens.minted + 1, Minted: tokens.minted, LoginSeconds: loginSecs}
	h := &harness{o: o, srv: srv, ds: ds, tokens: tokens, api: api, secret: secret, bin: bin, env: env,
		run: &runner{srv: srv, dbName: ds.info.Database, pg: ds.db.Pool, vegetaLoop: o.client == "vegeta"}, refreshPool: make(chan session, 4096),
		direct: newDirectDB(o.databaseURL, o.serverEnv)}
	defer func() { h.srv.stop() }()
	defer h.direct.close()
	runErr := h.runAll(ctx, rep, logf)
	if runErr != nil && len(rep.Scenarios) > 0 {
		// Keep what was measured: a partial report says so and the exit
		// code still says the harness failed.
		rep.Notes = append(rep.Notes, "INCOMPLETE: "+runErr.Error())
		ctx = context.WithoutCancel(ctx)
	} else if runErr != nil {
		return runErr
	}
	if o.cpuprofile && runErr == nil {
		logf("profiling the server under scenario 1 with perf")
		if rep.Profile, err = h.profileServer(ctx, o.duration, tmp, stamp); err != nil {
			rep.Notes = append(rep.Notes, "no CPU profile: "+err.Error())
		}
	}
	if out := tail(srv.log, 5); out != "" {
		rep.Notes = append(rep.Notes, "last lines of the server's log (LOG_LEVEL=warn): "+strings.ReplaceAll(out, "\n", " | "))
	}
	rep.Server.IdleQueriesPerSecond, rep.Server.QueriesPerScrape = h.srv.idleRate, h.srv.scrapeCost
	rep.Targets = checkTargets(rep)
	rep.Notes = append(rep.Notes, notes(rep)...)
	rep.Elapsed = time.Since(rep.StartedAt).Seconds()
	jsonPath, mdPath, err := writeReport(o.out, rep)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "load results: %s\n              %s\n", jsonPath, mdPath)
	return runErr
}

// runAll runs the chosen scenarios in order, appending each to rep.
func (h *harness) runAll(ctx context.Context, rep *Report, logf func(string, ...any)) error {
	for _, sc := range h.scenarios() {
		if !h.o.wants(sc.id) {
			continue
		}
		logf("scenario %s: %s", sc.id, sc.title)
		res, err := h.runScenario(ctx, sc, logf)
		if err != nil {
			return fmt.Errorf("scenario %s: %w", sc.id, err)
		}
		rep.Scenarios = append(rep.Scenarios, res)
	}
	if h.o.wants("6-single-schema") {
		logf("scenario 6-single-schema: %d interleaved rounds", h.o.ratioRounds)
		sc, ten, err := h.tenancy(ctx, logf)
		if err != nil {
			return fmt.Errorf("scenario 6: %w", err)
		}
		rep.Scenarios, rep.Tenancy = append(rep.Scenarios, sc), ten
	}
	return nil
}

// serverEnv is the server's environment: the production profile, which
// refuses insecure settings, with what it requires set for a loopback run.
// It also returns the variables to show (the secret masked).
func serverEnv(o *options, addr, secret string) (env, shown []string) {
	vars := [][2]string{
		{"CLIENTIQ_ENV", o.profile}, {"DATABASE_URL", o.databaseURL}, {"REDIS_URL", o.redisURL},
		{"HTTP_ADDR", addr}, {"BASE_DOMAIN", benchDomain}, {"LOG_LEVEL", "warn"},
		// The scenarios send no email; production only requires a relay.
		{"SMTP_URL", "smtp://127.0.0.1:1025"}, {"PUBLIC_URL_SCHEME", "https"},
		{"ENABLE_PAYMENTS", "false"}, {"PLAYGROUND", "off"},
		// Logins come through "a proxy" on loopback, each with its own
		// client address, instead of one address hitting the per-IP limit.
		{"TRUSTED_PROXIES", "127.0.0.1/32"},
		// Go's profiler on a loopback listener of its own (allocations).
		{"PPROF_ADDR", o.pprofAddr},
	}
	env = append(env, "PATH="+os.Getenv("PATH"), "HOME="+os.Getenv("HOME"), "JWT_SECRET="+secret)
	shown = append(shown, "JWT_SECRET=(random)")
	for _, v := range vars {
		env = append(env, v[0]+"="+v[1])
		if v[0] != "DATABASE_URL" && v[0] != "REDIS_URL" {
			shown = append(shown, v[0]+"="+v[1])
		}
	}
	// Extra settings come last so they override the defaults above.
	env = append(env, o.serverEnv...)
	shown = append(shown, o.serverEnv...)
	return env, shown
}

func randomSecret() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// moduleRoot is the directory of the main module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
		return "", errors.New("run clientiq-bench inside the ClientIQ module (go env GOMOD found none)")
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// machineFacts describes the machine and the database server.
func machineFacts(ctx context.Context, ds *dataset) Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPUModel = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		_, _ = fmt.Sscanf(string(b), "MemTotal: %d kB", &kb)
		m.MemoryMiB = kb / 1024
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		_, _ = fmt.Sscanf(string(b), "%f", &m.LoadAvgAtStart)
	}
	_ = ds.db.Pool.QueryRow(ctx, `SELECT split_part(version(), ' on ', 1), current_setting('shared_buffers')`).Scan(&m.Postgres, &m.SharedBuffers)
	return m
}
