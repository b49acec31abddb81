package main

import "fmt"

// The reference of issue 7: Django 3.2 + django-tenants + DRF under
// gunicorn (2 sync workers, no authentication) on this kind of machine,
// GET /api/v1/projects/ by Host, wrk -t2 -c32 -d15s.
const (
	refListRPS     = 927
	refListP50     = 33.8
	refListP99     = 44.6
	refC1P50       = 2.29
	refCreateRPS   = 833
	refCreateP99   = 61.6
	refPeakRSSMiB  = 171.5
	refRoundTrips  = 6
	targetListRPS  = 4600
	targetRSSMiB   = 60e6 / (1 << 20) // "60 MB" read as 10^6 bytes: the stricter reading
	tenancyTarget  = 0.9
	createRPSTimes = 4
)

// checkTargets sets ours beside the reference and the targets.
func checkTargets(r *Report) []Target {
	find := func(id, mode string) *Run {
		for i := range r.Scenarios {
			if r.Scenarios[i].ID == id {
				return r.Scenarios[i].run(mode)
			}
		}
		return nil
	}
	var ts []Target
	higher := func(name, unit string, ref, goal, ours float64) Target {
		t := Target{Name: name, Unit: unit, Reference: ref, Goal: fmt.Sprintf("≥ %g", goal), Ours: ours, Met: ours >= goal}
		if ref > 0 {
			t.VsReference = ours / ref
		}
		return t
	}
	lower := func(name, unit string, ref, goal, ours float64) Target {
		t := Target{Name: name, Unit: unit, Reference: ref, Goal: fmt.Sprintf("≤ %g", goal), Ours: ours, Met: ours <= goal}
		if ref > 0 && ours > 0 {
			t.VsReference = ref / ours
		}
		return t
	}
	for _, id := range []string{"1-graphql-list", "4-rest-list"} {
		if m := find(id, "max"); m != nil {
			ts = append(ts,
				higher(id+": req/s, 32 connections", "req/s", refListRPS, targetListRPS, m.RPS),
				lower(id+": p99, 32 connections", "ms", refListP99, 15, m.P99),
				lower(id+": p50, 32 connections (no target)", "ms", refListP50, refListP50, m.P50))
			if m.DBQueries >= 0 {
				ts = append(ts, lower(id+": database statements per request", "", refRoundTrips, 2, m.DBQueries))
			}
		}
		if c := find(id, "c1"); c != nil {
			ts = append(ts, lower(id+": p50, one connection", "ms", refC1P50, 0.5, c.P50))
		}
	}
	if m := find("3-graphql-create", "max"); m != nil {
		ts = append(ts, higher("3-graphql-create: req/s, 32 connections", "req/s", refCreateRPS, createRPSTimes*refCreateRPS, m.RPS),
			lower("3-graphql-create: p99, 32 connections (no target)", "ms", refCreateP99, refCreateP99, m.P99))
	}
	// Peak RSS under the list scenario on 32 connections, the reference's
	// load (the constant-rate run may open more connections).
	if m := find("1-graphql-list", "max"); m != nil && m.PeakRSSMiB > 0 {
		ts = append(ts, lower("server peak RSS, 1-graphql-list on 32 connections (60 MB)", "MiB", refPeakRSSMiB, round2(targetRSSMiB), m.PeakRSSMiB))
	}
	if r.Tenancy != nil {
		ts = append(ts, higher("tenancy: spread req/s over single-schema req/s", "", 0, tenancyTarget, r.Tenancy.Ratio))
	}
	return ts
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }
