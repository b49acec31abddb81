package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/clientiq/clientiq/ent/entgql"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty is zero", nil, 0.5, 0},
		{"one value is every percentile", ms(7), 0.99, 7 * time.Millisecond},
		{"p50 of 1..100 is 50", ms(hundred...), 0.50, 50 * time.Millisecond},
		{"p95 of 1..100 is 95", ms(hundred...), 0.95, 95 * time.Millisecond},
		{"p99 of 1..100 is 99", ms(hundred...), 0.99, 99 * time.Millisecond},
		{"p100 is the maximum", ms(hundred...), 1, 100 * time.Millisecond},
		{"p0 is the minimum", ms(3, 4, 5), 0, 3 * time.Millisecond},
		{"nearest rank rounds up", ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{"p99 of four values is the largest", ms(1, 2, 3, 4), 0.99, 4 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, percentile(tc.sorted, tc.q))
		})
	}
}

func TestSummarizeSortsAndRounds(t *testing.T) {
	t.Parallel()
	var r Run
	summarize(&r, []time.Duration{3 * time.Millisecond, 1500 * time.Microsecond, 1234567 * time.Nanosecond, 10 * time.Millisecond})
	require.Equal(t, 1.5, r.P50)
	require.Equal(t, 10.0, r.P99)
	require.Equal(t, 10.0, r.Max)
}

func TestMedian(t *testing.T) {
	t.Parallel()
	require.Equal(t, 0.0, median(nil))
	require.Equal(t, 2.0, median([]float64{3, 1, 2}))
	require.Equal(t, 2.5, median([]float64{4, 1, 3, 2}))
}

// sampleReport is a small report with every part the markdown renders.
func sampleReport() *Report {
	r := &Report{
		Version: 1, StartedAt: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC), Elapsed: 321.5,
		Machine:  Machine{Cores: 2, CPUModel: "AMD EPYC", GoVersion: "go1.26.8", Postgres: "PostgreSQL 15.20", SharedBuffers: "128MB"},
		Dataset:  Dataset{Database: "clientiq_bench", Tenants: 100, ProjectsPerTenant: 1000, ItemsPerTenant: 10000, TenantsPerSecond: 42.5},
		Server:   Server{Profile: "production", Workers: true, Env: []string{"LOG_LEVEL=warn"}},
		Settings: Settings{Duration: 10, Warmup: 2, Rate: 1000, LoginRate: 20, Connections: 32, RatioRounds: 3},
		Tokens:   Tokens{ViaLogin: 101},
		Scenarios: []Scenario{{ID: "1-graphql-list", Title: "list", StartRSSMiB: 30.5, Runs: []Run{
			{Mode: "max", Connections: 32, Requests: 45000, RPS: 4500, P50: 6.5, P95: 12, P99: 19.25, PeakRSSMiB: 48.2,
				Codes: map[string]int{"200": 45000}, DBQueries: 2},
			{Mode: "c1", Connections: 1, Requests: 20000, RPS: 2000, P50: 0.45, P99: 1.1, Errors: 2,
				ErrorSamples: []string{"500 boom"}, Codes: map[string]int{"200": 19998, "500": 2}, DBQueries: -1},
		}}, {ID: "3-graphql-create", Title: "create", Runs: []Run{
			{Mode: "max", Connections: 32, Requests: 25000, RPS: 2500, P50: 11, P99: 30, Codes: map[string]int{"200": 25000},
				DBQueries: 1, WALSyncs: 0.42, WALSyncRate: 1050},
			{Mode: "direct", Connections: 32, Requests: 42000, RPS: 4200, P50: 6, P99: 15, Codes: map[string]int{"200": 42000},
				DBQueries: -1, WALSyncs: 0.25, WALSyncRate: 1050},
		}}},
		Tenancy: &Tenancy{Interpretation: "spread over single", SpreadRPS: []float64{4400, 4500, 4600}, SingleRPS: []float64{4700, 4800, 4900}, Ratio: 0.9375},
		Profile: &Profile{Tool: "perf", Scenario: "1-graphql-list", File: "x-perf.txt", Flat: []string{"12.5% runtime.mallocgc"}},
		Notes:   []string{"a note"},
	}
	r.Targets = checkTargets(r)
	return r
}

func TestReportJSONRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	want := sampleReport()
	jsonPath, mdPath, err := writeReport(dir, want)
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(jsonPath, "/20261127T090000Z-load.json"), jsonPath)
	require.True(t, strings.HasSuffix(mdPath, "/20261127T090000Z-load.md"), mdPath)
	got, err := readReport(jsonPath)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func TestMarkdown(t *testing.T) {
	t.Parallel()
	md := renderMarkdown(sampleReport())

	t.Run("has a row per run with its figures", func(t *testing.T) {
		t.Parallel()
		require.Contains(t, md, "| 1-graphql-list | max | 32 | 4500 | 6.50 | 12.00 | 19.25 | 0 | 48.2 |")
		require.Contains(t, md, "| 1-graphql-list | c1 | 1 | 2000 | 0.45 |")
	})
	t.Run("shows unknown statement counts as a dash", func(t *testing.T) {
		t.Parallel()
		require.Contains(t, md, "| 1-graphql-list | c1 | 1 | 2000 | 0.45 | 0.00 | 1.10 | 2 | 0.0 | 0 | 0 | 0 | 0.00 | – |")
	})
	t.Run("lists error samples", func(t *testing.T) {
		t.Parallel()
		require.Contains(t, md, "Errors in 1-graphql-list (c1): 500 boom")
	})
	t.Run("sets ours beside the reference with the ratio", func(t *testing.T) {
		t.Parallel()
		require.Contains(t, md, "| 1-graphql-list: req/s, 32 connections | 927 req/s | ≥ 4600 | 4500.00 req/s | 4.85× | no |")
		require.Contains(t, md, "| 1-graphql-list: p50, one connection | 2.29 ms | ≤ 0.5 | 0.45 ms | 5.09× | yes |")
		require.Contains(t, md, "| 1-graphql-list: database statements per request | 6  | ≤ 2 | 2.00  | 3.00× | yes |")
		require.Contains(t, md, "| tenancy: spread req/s over single-schema req/s | – | ≥ 0.9 | 0.94  | – | yes |")
	})
	t.Run("sets the direct run beside the server's and says what it is", func(t *testing.T) {
		t.Parallel()
		require.Contains(t, md, "| 3-graphql-create | direct | 32 | 4200 | 6.00 | 0.00 | 15.00 | 0 | – | – |")
		require.Contains(t, md, "Direct runs (scenarios 3 and 4): the same work done 32 at a time in the harness's process")
		require.Contains(t, md, "3-graphql-create 2500 req/s through the server, 4200 direct (0.60 of it).")
		// The create target is the server's alone; the direct run is no figure of it.
		require.Contains(t, md, "| 3-graphql-create: req/s, 32 connections | 833 req/s | ≥ 3332 | 2500.00 req/s | 3.00× | no |")
		require.NotContains(t, md, "| 3-graphql-create: its database work")
	})
	t.Run("reports WAL flushes per request of the runs that write", func(t *testing.T) {
		t.Parallel()
		require.Contains(t, md, "3-graphql-create max 0.42 (1050/s); 3-graphql-create direct 0.25 (1050/s).")
		require.NotContains(t, md, "1-graphql-list max 0.00")
	})
	t.Run("reports the tenancy ratio, the profile and the notes", func(t *testing.T) {
		t.Parallel()
		require.Contains(t, md, "ratio of the medians: **0.94**")
		require.Contains(t, md, "12.5% runtime.mallocgc")
		require.Contains(t, md, "- a note")
	})
}

func TestTopLines(t *testing.T) {
	t.Parallel()
	report := "# Samples: 1K\n#\n     5.16%  [k] _raw_spin_unlock_irqrestore  -      -            \n\n     4.41%  [.] runtime.mallocgc   -  -\n     1.00%  [.] main.main\n"
	require.Equal(t, []string{"5.16% [k] _raw_spin_unlock_irqrestore", "4.41% [.] runtime.mallocgc"}, topLines(report, 2))
}

func TestProfileParts(t *testing.T) {
	t.Parallel()
	cum := `# comment
    59.07%     0.07%  [.] net/http.(*conn).serve  -  -
    20.48%     0.10%  [.] github.com/clientiq/clientiq/ent.(*ProjectQuery).Paginate  -  -
     8.57%     0.00%  [.] github.com/clientiq/clientiq/ent.(*ProjectQuery).Count  -  -
     8.54%     0.00%  [.] github.com/clientiq/clientiq/ent.(*ProjectQuery).Count.querierCount[go.shape.*uint8].func1  -  -
`
	require.Equal(t, []string{
		" 59.07%  HTTP server, whole requests",
		" 20.48%    ent Paginate",
		"  8.57%      its COUNT",
	}, profileParts(cum))
}

func TestPageBodyCarriesTheCursorOfItsProject(t *testing.T) {
	t.Parallel()
	id := uuid.New()
	var body struct {
		Query     string `json:"query"`
		Variables struct {
			After string `json:"after"`
		} `json:"variables"`
	}
	require.NoError(t, json.Unmarshal([]byte(pageBody(id)), &body))
	require.Equal(t, pageQuery, body.Query)
	var c entgql.Cursor[uuid.UUID]
	require.NoError(t, c.UnmarshalGQL(body.Variables.After))
	require.Equal(t, id, c.ID)
}

func TestMidOffsetLeavesAFullPageAfterIt(t *testing.T) {
	t.Parallel()
	for projects, want := range map[int]int{21: 0, 22: 0, 23: 1, 1000: 489} {
		require.Equal(t, want, midOffset(projects), "%d projects", projects)
		require.GreaterOrEqual(t, projects-midOffset(projects)-1, 20, "%d projects", projects)
	}
}

func TestPageCheckWantsAFullPage(t *testing.T) {
	t.Parallel()
	page := func(n int) *vegeta.Result {
		return &vegeta.Result{Body: []byte(`{"data":{"projects":{"edges":[` + strings.Repeat(`{"node":{"id":"x"}},`, n) + `]}}}`)}
	}
	require.Empty(t, pageCheck(page(20)))
	require.Contains(t, pageCheck(page(19)), "a page of 19 projects")
	require.NotEmpty(t, pageCheck(&vegeta.Result{Body: []byte(`{"errors":[{"message":"no"}],"data":null}`)}))
}
