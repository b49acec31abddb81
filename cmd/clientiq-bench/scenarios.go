package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The GraphQL operations. The list asks for no totalCount: a count over
// the single tenant's 100× larger table would measure table size, not
// tenancy (scenario 6); the nested query takes owners and items of ten
// projects.
const (
	listQuery   = `{"query":"query List { projects(first: 20) { edges { node { id name } } pageInfo { hasNextPage endCursor } } }"}`
	nestedQuery = `{"query":"query Nested { projects(first: 10) { edges { node { id name owner { id email } items(first: 5) { edges { node { id title } } } } } } }"}`
	createQuery = `{"query":"mutation Create($input: CreateProjectInput!) { createProject(input: $input) { id name } }","variables":{"input":{"name":"` + createdName + `"}}}`
)

// scenario is one of the load scenarios.
type scenario struct {
	id, title string
	// rate is its constant rate; 0 skips the constant-rate run.
	rate int
	// spec builds its attack (tokens may have been renewed since).
	spec func() (attackSpec, error)
	// direct, when set, builds the in-process work of its "direct" run.
	direct func(ctx context.Context) (directFunc, error)
	// after cleans up once its runs are done.
	after func(ctx context.Context) error
}

// harness is everything the scenarios need.
type harness struct {
	o      *options
	srv    *server
	ds     *dataset
	tokens *tokenSet
	api    *apiClient
	run    *runner
	secret string
	bin    string
	env    []string
	// refreshPool holds refresh tokens harvested from the login scenario,
	// by tenant host, for the refresh scenario.
	refreshPool chan session
	// direct serves the scenarios' direct runs.
	direct *directDB
}

func (h *harness) gqlTarget(s session, body string) vegeta.Target {
	return vegeta.Target{Method: http.MethodPost, URL: h.srv.base + "/graphql", Body: []byte(body), Header: http.Header{
		"Host": {s.tenant.host()}, "Authorization": {"Bearer " + s.access}, "Content-Type": {"application/json"},
	}}
}

// spread is one target per tenant, round robin.
func (h *harness) spread(body string) attackSpec {
	tgts := make([]vegeta.Target, len(h.tokens.spread))
	for i, s := range h.tokens.spread {
		tgts[i] = h.gqlTarget(s, body)
	}
	return attackSpec{targeter: vegeta.NewStaticTargeter(tgts...), check: gqlCheck}
}

// gqlCheck fails answers with GraphQL errors (every answer is checked).
func gqlCheck(res *vegeta.Result) string {
	if bytes.Contains(res.Body, []byte(`"errors"`)) || !bytes.Contains(res.Body, []byte(`"data"`)) {
		return string(res.Body)
	}
	return ""
}

func restCheck(res *vegeta.Result) string {
	if !bytes.HasPrefix(res.Body, []byte(`{"success":true`)) {
		return string(res.Body)
	}
	return ""
}

func (h *harness) scenarios() []scenario {
	return []scenario{
		{id: "1-graphql-list", title: "GraphQL projects(first: 20), spread over every tenant by Host, with JWT", rate: h.o.rate,
			spec: func() (attackSpec, error) { return h.spread(listQuery), nil }},
		{id: "2-graphql-nested", title: "GraphQL projects(first: 10) → owner and items(first: 5)", rate: h.o.rate,
			spec: func() (attackSpec, error) { return h.spread(nestedQuery), nil }},
		{id: "3-graphql-create", title: "GraphQL createProject (with its audit write), spread over every tenant", rate: h.o.rate,
			spec:   func() (attackSpec, error) { return writes(h.spread(createQuery), nil) },
			direct: h.directCreate, after: h.ds.deleteCreated},
		{id: "4-rest-list", title: "REST GET /api/v1/projects/?limit=20, pages 1 and 2 (cursor), spread over every tenant", rate: h.o.rate,
			spec: h.restList, direct: h.directList},
		{id: "5a-login", title: "REST POST /api/v1/auth/login (argon2id), spread over every tenant", rate: h.o.loginRate,
			spec: func() (attackSpec, error) { return writes(h.login()) }},
		{id: "5b-refresh", title: "REST POST /api/v1/auth/refresh (rotation), sessions from 5a", rate: h.o.rate,
			spec: func() (attackSpec, error) { return writes(h.refresh()) }},
	}
}

// writes marks a scenario's runs as writing: their WAL flushes are counted
// (see walSyncs).
func writes(spec attackSpec, err error) (attackSpec, error) {
	spec.writes = true
	return spec, err
}

// restList asks each tenant for page 1 and, with the cursor page 1
// returned, page 2.
func (h *harness) restList() (attackSpec, error) {
	var tgts []vegeta.Target
	hdr := func(s session) http.Header {
		return http.Header{"Host": {s.tenant.host()}, "Authorization": {"Bearer " + s.access}}
	}
	for _, s := range h.tokens.spread {
		first := h.srv.base + "/api/v1/projects/?limit=20"
		req, _ := http.NewRequest(http.MethodGet, first, nil)
		req.Host, req.Header = s.tenant.host(), hdr(s)
		resp, err := h.api.http.Do(req)
		if err != nil {
			return attackSpec{}, err
		}
		var page struct {
			Meta struct {
				Pagination struct {
					NextCursor *string `json:"next_cursor"`
				} `json:"pagination"`
			} `json:"meta"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || page.Meta.Pagination.NextCursor == nil {
			return attackSpec{}, fmt.Errorf("first page of %s has no next cursor (%v, status %d)", s.tenant.Slug, err, resp.StatusCode)
		}
		tgts = append(tgts, vegeta.Target{Method: http.MethodGet, URL: first, Header: hdr(s)},
			vegeta.Target{Method: http.MethodGet, URL: first + "&cursor=" + url.QueryEscape(*page.Meta.Pagination.NextCursor), Header: hdr(s)})
	}
	return attackSpec{targeter: vegeta.NewStaticTargeter(tgts...), check: restCheck}, nil
}

// login signs the tenants' owners in, round robin, each from its own
// client address; the refresh tokens go to the refresh scenario.
func (h *harness) login() (attackSpec, error) {
	var n atomic.Uint64
	tenants := h.ds.tenants
	bodies := make([][]byte, len(tenants))
	for i, t := range tenants {
		bodies[i], _ = json.Marshal(map[string]string{"email": t.email(), "password": benchPassword})
	}
	tr := func(tgt *vegeta.Target) error {
		i := int(n.Add(1)-1) % len(tenants)
		*tgt = vegeta.Target{Method: http.MethodPost, URL: h.srv.base + "/api/v1/auth/login/?t=" + tenants[i].Slug, Body: bodies[i],
			Header: http.Header{"Host": {tenants[i].host()}, "Content-Type": {"application/json"}, "X-Forwarded-For": {nextClientIP()}}}
		return nil
	}
	return attackSpec{targeter: tr, check: tokenCheck, onResult: h.harvest}, nil
}

func tokenCheck(res *vegeta.Result) string {
	if _, _, err := parseTokens(res.Body); err != nil {
		return err.Error()
	}
	return ""
}

// harvest keeps the refresh token of a good login or refresh answer, with
// its tenant (named in the URL's t parameter).
func (h *harness) harvest(res *vegeta.Result) {
	_, refresh, err := parseTokens(res.Body)
	if err != nil || refresh == "" {
		return
	}
	u, err := url.Parse(res.URL)
	if err != nil {
		return
	}
	slug := u.Query().Get("t")
	s := session{tenant: tenantRef{Slug: slug}, refresh: refresh}
	select {
	case h.refreshPool <- s:
	default: // enough harvested
	}
}

var errNoSession = errors.New("no refresh token available (the login scenario yields them)")

// refresh rotates the harvested sessions: each answer's new refresh token
// goes back to the pool, so a session is never presented twice.
func (h *harness) refresh() (attackSpec, error) {
	ctx := context.Background()
	for len(h.refreshPool) < 2*h.o.conns {
		s, err := h.api.login(ctx, h.ds.tenants[len(h.refreshPool)%len(h.ds.tenants)])
		if err != nil {
			return attackSpec{}, err
		}
		h.refreshPool <- s
	}
	tr := func(tgt *vegeta.Target) error {
		var s session
		select {
		case s = <-h.refreshPool:
		case <-time.After(2 * time.Second):
			return errNoSession
		}
		body, _ := json.Marshal(map[string]string{"refresh_token": s.refresh})
		*tgt = vegeta.Target{Method: http.MethodPost, URL: h.srv.base + "/api/v1/auth/refresh/?t=" + s.tenant.Slug, Body: body,
			Header: http.Header{"Host": {s.tenant.Slug + "." + benchDomain}, "Content-Type": {"application/json"}}}
		return nil
	}
	return attackSpec{targeter: tr, check: tokenCheck, onResult: h.harvest}, nil
}

// modes are the runs of a scenario, lightest first: the constant rate,
// which may be more than the server can take, comes last; the direct run,
// when the scenario has one, right after the closed loop it compares with.
func (h *harness) modes(rate int, direct bool) []runMode {
	ms := []runMode{{name: "c1", conns: 1}, {name: "max", conns: h.o.conns}}
	if direct {
		ms = append(ms, runMode{name: "direct", conns: h.o.conns})
	}
	if rate > 0 {
		ms = append(ms, runMode{name: "rate", conns: h.o.conns, rate: rate})
	}
	return ms
}

// restart gives the next scenario a fresh server, so its peak RSS owes
// nothing to the scenarios before it (logins' argon2id memory above all).
func (h *harness) restart(ctx context.Context) (float64, error) {
	h.srv.stop()
	srv, err := startServer(ctx, h.bin, h.env, h.srv.addr, h.srv.log)
	if err != nil {
		return 0, err
	}
	h.srv, h.run.srv = srv, srv
	return procStatusMiB(srv.pid, "VmRSS")
}

// settleRate is the statements per second under which a server counts as
// idle (about 5 a second once River's start-up fan-out is over).
const settleRate = 20

// prepare restarts the server, renews old tokens, builds the attack and
// warms up (caches, connections, statement caches), then measures the
// idle background of the statement counter.
func (h *harness) prepare(ctx context.Context, out *Scenario, build func() (attackSpec, error)) (attackSpec, error) {
	var err error
	if out.StartRSSMiB, err = h.restart(ctx); err != nil {
		return attackSpec{}, err
	}
	settled, err := h.srv.settle(ctx, settleRate, 2*time.Minute)
	if err != nil {
		return attackSpec{}, err
	}
	out.SettleSeconds = settled.Seconds()
	if err := h.tokens.freshen(ctx, h.api, h.secret); err != nil {
		return attackSpec{}, err
	}
	spec, err := build()
	if err != nil {
		return attackSpec{}, fmt.Errorf("%s: %w", out.ID, err)
	}
	if h.o.warmup > 0 {
		if _, err := h.run.attack(ctx, spec, runMode{name: "max", conns: h.o.conns}, h.o.warmup); err != nil {
			return attackSpec{}, err
		}
	}
	err = h.srv.calibrate(ctx, 2*time.Second)
	out.IdleQueries = h.srv.idleRate
	return spec, err
}

// finish measures the idle background again after the runs and charges
// each run the lower of the two rates (a burst of background work during
// one measurement would otherwise be taken from the requests' count).
func (h *harness) finish(ctx context.Context, out *Scenario) error {
	if err := h.srv.calibrate(ctx, 2*time.Second); err != nil {
		return err
	}
	out.IdleQueries = min(out.IdleQueries, h.srv.idleRate)
	for i := range out.Runs {
		r := &out.Runs[i]
		if r.DBQueries >= 0 && r.Requests > 0 {
			r.DBQueries = max(0, r.DBStatements-out.IdleQueries*r.Seconds) / float64(r.Requests)
		}
	}
	return nil
}

// runScenario runs each mode of sc on a fresh, warmed-up server.
func (h *harness) runScenario(ctx context.Context, sc scenario, logf func(string, ...any)) (Scenario, error) {
	out := Scenario{ID: sc.id, Title: sc.title}
	spec, err := h.prepare(ctx, &out, sc.spec)
	if err != nil {
		return out, err
	}
	for _, m := range h.modes(sc.rate, sc.direct != nil && h.o.direct) {
		r, err := h.attackMode(ctx, sc, spec, m)
		if err != nil {
			return out, err
		}
		logf("%-17s %-5s %7.0f req/s  p50 %6.2f ms  p99 %7.2f ms  errors %d",
			sc.id, label(r), r.RPS, r.P50, r.P99, r.Errors)
		out.Runs = append(out.Runs, r)
	}
	if err := h.finish(ctx, &out); err != nil {
		return out, err
	}
	if sc.after != nil {
		if err := sc.after(ctx); err != nil {
			return out, err
		}
	}
	return out, nil
}

// attackMode runs mode m of sc. The direct run opens its pool, builds its
// work and warms up just before, and closes the pool right after, so its
// backends count in no other run.
func (h *harness) attackMode(ctx context.Context, sc scenario, spec attackSpec, m runMode) (Run, error) {
	if m.name != "direct" {
		return h.run.attack(ctx, spec, m, h.o.duration)
	}
	defer h.direct.close()
	var err error
	if spec.direct, err = sc.direct(ctx); err != nil {
		return Run{}, err
	}
	if h.o.warmup > 0 {
		// Its own pool: connections and their statement caches.
		_ = directLoop(ctx, spec, m.conns, h.o.warmup)
	}
	return h.run.attack(ctx, spec, m, h.o.duration)
}

func label(r Run) string {
	if r.Mode == "rate" {
		return fmt.Sprintf("%d/s", r.TargetRate)
	}
	return strings.ToLower(r.Mode)
}
