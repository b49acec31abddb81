package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/clientiq/clientiq/ent/entgql"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// tenancy is scenario 6: the list query against the tenant whose one schema
// holds every row, interleaved round by round with the same query spread
// over every tenant, so machine noise hits both alike.
func (h *harness) tenancy(ctx context.Context, logf func(string, ...any)) (Scenario, *Tenancy, error) {
	d := h.ds.info
	sc := Scenario{ID: "6-single-schema",
		Title: fmt.Sprintf("GraphQL projects(first: 20, after: cursor) on tenant %q holding all %d projects and %d items, %d places in its rows", singleSlug, d.Tenants*d.ProjectsPerTenant, d.Tenants*d.ItemsPerTenant, d.Tenants)}
	t := &Tenancy{Interpretation: fmt.Sprintf("Scenario 6 compares the same page query, `projects(first: 20, after: $cursor)`, in two builds of the same rows: "+
		"spread over the %d tenant schemas (each tenant's page after the project in the middle of its own, ordered by id), and in tenant `%s`, whose one schema holds "+
		"as many rows as they do together (%d projects, %d data items), asked for %d pages after the projects at the same places of each tenant's share of its rows "+
		"(k × %d + the middle). So both sides read one index leaf and up to 20 heap pages a request, from working sets of about the same size; only the number of schemas "+
		"(tables and indexes in PostgreSQL's caches, one prepared statement per schema in each pooled connection) differs. Both go through the same server, Host resolution and JWT check. "+
		"Closed loop on %d connections, %d interleaved rounds (in alternating order: spread first, then single first). "+
		"The ratio is spread req/s over single-schema req/s, medians of the rounds; the target is ≥ %.2f. "+
		"Until 2026-11-28 the single side asked for page 1 every time: the same 20 rows, which stayed in the CPU's caches (in PostgreSQL's profile under pgbench, hash-table "+
		"lookups took 3 %% of its time there against 12 %% spread over the schemas), so ratios from before then are not comparable. This is not the tenant_id-column "+
		"design, which the server cannot serve; BenchmarkTenancyOverhead (internal/tenant) compares that at the ent level.",
		d.Tenants, singleSlug, d.Tenants*d.ProjectsPerTenant, d.Tenants*d.ItemsPerTenant, d.Tenants, d.ProjectsPerTenant, h.o.conns, h.o.ratioRounds, tenancyTarget)}
	spread, err := h.prepare(ctx, &sc, func() (attackSpec, error) { return h.spreadPages(ctx) })
	if err != nil {
		return sc, nil, err
	}
	single, err := h.singlePages(ctx)
	if err != nil {
		return sc, nil, err
	}
	loop := runMode{name: "max", conns: h.o.conns}
	if h.o.warmup > 0 {
		if _, err := h.run.attack(ctx, single, loop, h.o.warmup); err != nil {
			return sc, nil, err
		}
	}
	for round := range max1(h.o.ratioRounds) {
		// The order alternates (spread first, then single first, …), so a
		// cost that falls on whichever run comes first or second in a round
		// falls on both alike.
		first, second := spread, single
		if round%2 == 1 {
			first, second = single, spread
		}
		x, err := h.run.attack(ctx, first, loop, h.o.duration)
		if err != nil {
			return sc, nil, err
		}
		y, err := h.run.attack(ctx, second, loop, h.o.duration)
		if err != nil {
			return sc, nil, err
		}
		a, b := x, y
		if round%2 == 1 {
			a, b = y, x
		}
		a.Mode, b.Mode = "spread", "single"
		sc.Runs = append(sc.Runs, a, b)
		logf("6-single-schema   round %d: spread %.0f req/s (errors %d), single %.0f req/s (errors %d)", round+1, a.RPS, a.Errors, b.RPS, b.Errors)
		if a.Errors > 0 || b.Errors > 0 {
			// A side that failed did less work: no ratio from it.
			return sc, nil, fmt.Errorf("round %d had errors (spread %d, single %d): %v %v", round+1, a.Errors, b.Errors, a.ErrorSamples, b.ErrorSamples)
		}
		t.SpreadRPS, t.SingleRPS = append(t.SpreadRPS, a.RPS), append(t.SingleRPS, b.RPS)
	}
	c1, err := h.run.attack(ctx, single, runMode{name: "c1", conns: 1}, h.o.duration)
	if err != nil {
		return sc, nil, err
	}
	sc.Runs = append(sc.Runs, c1)
	if err := h.finish(ctx, &sc); err != nil {
		return sc, nil, err
	}
	if m := median(t.SingleRPS); m > 0 {
		t.Ratio = median(t.SpreadRPS) / m
	}
	return sc, t, nil
}

func max1(n int) int { return max(1, n) }

// pageQuery is scenario 6's list query: a page after a cursor.
const pageQuery = `query Page($after: Cursor) { projects(first: 20, after: $after) { edges { node { id name } } pageInfo { hasNextPage endCursor } } }`

// pageBody is pageQuery's request body for the page after project id.
func pageBody(id uuid.UUID) string {
	var cursor bytes.Buffer // a JSON string: quoted base64
	entgql.Cursor[uuid.UUID]{ID: id}.MarshalGQL(&cursor)
	q, _ := json.Marshal(pageQuery)
	return `{"query":` + string(q) + `,"variables":{"after":` + cursor.String() + `}}`
}

// midOffset is the place, in a tenant's projects ordered by id, after
// which scenario 6's pages start: the middle, with a full page after it.
func midOffset(projects int) int { return max(0, (projects-21)/2) }

// pageCheck is gqlCheck that also wants a full page (both sides of the
// comparison must do the same work).
func pageCheck(res *vegeta.Result) string {
	if p := gqlCheck(res); p != "" {
		return p
	}
	if n := bytes.Count(res.Body, []byte(`"node":`)); n != 20 {
		return fmt.Sprintf("a page of %d projects, want 20", n)
	}
	return ""
}

// spreadPages is scenario 6's spread side: each tenant's page after the
// project in the middle of its own.
func (h *harness) spreadPages(ctx context.Context) (attackSpec, error) {
	off := midOffset(h.ds.info.ProjectsPerTenant)
	tgts := make([]vegeta.Target, len(h.tokens.spread))
	for i, s := range h.tokens.spread {
		var id uuid.UUID
		err := h.ds.db.Pool.QueryRow(ctx, `SELECT id FROM `+db.QuoteIdent(tenancy.SchemaName(s.tenant.Slug))+`.projects
			ORDER BY id OFFSET $1 LIMIT 1`, off).Scan(&id)
		if err != nil {
			return attackSpec{}, fmt.Errorf("scenario 6: the cursor of %s: %w", s.tenant.Slug, err)
		}
		tgts[i] = h.gqlTarget(s, pageBody(id))
	}
	return attackSpec{targeter: vegeta.NewStaticTargeter(tgts...), check: pageCheck}, nil
}

// singlePages is scenario 6's single side: as many pages of the single
// tenant as there are tenants, page k after the project at place
// k × projects + the middle of its rows, where tenant k's share would be.
func (h *harness) singlePages(ctx context.Context) (attackSpec, error) {
	per, n := h.ds.info.ProjectsPerTenant, len(h.tokens.spread)
	rows, err := h.ds.db.Pool.Query(ctx, `SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n
		FROM `+db.QuoteIdent(tenancy.SchemaName(singleSlug))+`.projects) p WHERE n % $1 = $2 ORDER BY n LIMIT $3`, per, midOffset(per), n)
	if err != nil {
		return attackSpec{}, fmt.Errorf("scenario 6: the single tenant's cursors: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil || len(ids) != n {
		return attackSpec{}, fmt.Errorf("scenario 6: %d cursors of the single tenant, want %d (%v)", len(ids), n, err)
	}
	tgts := make([]vegeta.Target, n)
	for i, id := range ids {
		tgts[i] = h.gqlTarget(h.tokens.single, pageBody(id))
	}
	return attackSpec{targeter: vegeta.NewStaticTargeter(tgts...), check: pageCheck}, nil
}

// median of fs (0 when empty).
func median(fs []float64) float64 {
	if len(fs) == 0 {
		return 0
	}
	s := slices.Clone(fs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// notes explain how to read the figures of rep.
func notes(rep *Report) []string {
	var ns []string
	if rep.Dataset.Reused {
		ns = append(ns, fmt.Sprintf("The dataset was reused (its marker matched); the provisioning and load figures are from the run that built it, at %s.", rep.Dataset.BuiltAt))
	}
	ns = append(ns,
		"Provisioning is cold: the harness's tenant service has no warm pool, so each tenant is CREATE SCHEMA plus every tenant migration in one transaction.",
		"The load generator (in this process) shares the cores with the server and PostgreSQL: its CPU per request is the 'load gen' column. 'other cores' is the CPU the rest of the machine used during the run (the machine may be shared): large values mean noisy figures.",
		"PG CPU counts the PostgreSQL processes whose title names the benchmark database (backends, autovacuum there), not the shared helpers (WAL writer, checkpointer).",
		fmt.Sprintf("DB stmts/req is the rise of clientiq_db_queries_total over the run, less the cost of reading /metrics (%.1f) and the server's idle background (River, pool upkeep; per scenario in the JSON, the lower of two 2 s idle measurements around its runs), over the requests. BEGIN and COMMIT count; the prepare round trip of a statement new to a connection does not.",
			rep.Server.QueriesPerScrape),
		"A fresh server is started for each scenario and left to finish its start-up work first (River's maintenance fans out over every tenant: tens of statements a second for several seconds), so no scenario pays for another's memory or start-up.",
		"Latency is measured by the load generator from the request's first byte written to the last byte of the body; percentiles are nearest-rank over every request of the run. Errors are non-2xx answers, transport failures, GraphQL answers with \"errors\" (every body is checked), and REST answers without \"success\":true.",
		"The list query asks for no totalCount (so that the single-schema comparison would measure schemas, not a COUNT over a larger table); see scenario 6 for what the server did.",
	)
	for _, sc := range rep.Scenarios {
		for _, r := range sc.Runs {
			if r.RSSRunningMax {
				ns = append(ns, "The kernel refused to reset VmHWM (clear_refs): peak RSS figures marked * are the running maximum since the server started.")
				return ns
			}
		}
	}
	return ns
}
