package main

import (
	"context"
	"fmt"
	"slices"
)

// tenancy is scenario 6: the list query against the tenant whose one schema
// holds every row, interleaved round by round with the same query spread
// over every tenant, so machine noise hits both alike.
func (h *harness) tenancy(ctx context.Context, logf func(string, ...any)) (Scenario, *Tenancy, error) {
	d := h.ds.info
	sc := Scenario{ID: "6-single-schema",
		Title: fmt.Sprintf("GraphQL projects(first: 20) on tenant %q holding all %d projects and %d items", singleSlug, d.Tenants*d.ProjectsPerTenant, d.Tenants*d.ItemsPerTenant)}
	t := &Tenancy{Interpretation: fmt.Sprintf("Scenario 6 sends scenario 1's list query to tenant `%s`, whose one schema holds as many rows as "+
		"the %d tenant schemas together (%d projects, %d data items), and compares it with scenario 1 spread over the %d schemas: closed loop "+
		"on %d connections, %d interleaved rounds (in alternating order: spread first, then single first). Both go through the same server, Host resolution and JWT check; only the number of schemas "+
		"touched differs (tables and indexes in PostgreSQL's caches, one prepared statement per schema in each pooled connection). "+
		"The ratio is spread req/s over single-schema req/s, medians of the rounds; the target is ≥ %.2f. Work that grows with the table "+
		"(a COUNT of the tenant's projects per list request, which the server issued when this harness was written, even without totalCount) "+
		"costs the single tenant more and so flatters the spread. This is not the tenant_id-column "+
		"design, which the server cannot serve; BenchmarkTenancyOverhead (internal/tenant) compares that at the ent level.",
		singleSlug, d.Tenants, d.Tenants*d.ProjectsPerTenant, d.Tenants*d.ItemsPerTenant, d.Tenants, h.o.conns, h.o.ratioRounds, tenancyTarget)}
	spread, err := h.prepare(ctx, &sc, func() (attackSpec, error) { return h.spread(listQuery), nil })
	if err != nil {
		return sc, nil, err
	}
	single := h.single()
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
		t.SpreadRPS, t.SingleRPS = append(t.SpreadRPS, a.RPS), append(t.SingleRPS, b.RPS)
		sc.Runs = append(sc.Runs, b)
		logf("6-single-schema   round %d: spread %.0f req/s (errors %d), single %.0f req/s (errors %d)", round+1, a.RPS, a.Errors, b.RPS, b.Errors)
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
