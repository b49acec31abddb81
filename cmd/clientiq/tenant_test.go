package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/dbtest"
)

// tcTimeout bounds one CLI run: generous, because the whole suite shares a
// two-core machine.
const tcTimeout = 2 * time.Minute

// tcBase returns a random base domain, so the Redis keys of this test's
// hosts are its own even though every test shares one Redis.
func tcBase() string { return "b" + dbtest.RandomSuffix() + ".test" }

// tcEnv is newEnv with a random BASE_DOMAIN.
func tcEnv(t *testing.T, dbURL string) testEnv {
	t.Helper()
	return newEnv(t, dbURL).with("BASE_DOMAIN", tcBase())
}

// tcMessages returns the lines of stderr meant for the operator: everything
// but the JSON log records (LOG_FORMAT=json) the command writes as it runs.
func tcMessages(stderr string) []string {
	var out []string
	for _, l := range nonEmptyLines(stderr) {
		if !strings.HasPrefix(strings.TrimSpace(l), "{") {
			out = append(out, l)
		}
	}
	return out
}

// tcRequireFails requires res to have exited with code and told the
// operator why in exactly one line, which it returns.
func tcRequireFails(t *testing.T, res result, code int) string {
	t.Helper()
	require.Equal(t, code, res.code, res.String())
	lines := tcMessages(res.stderr)
	require.Len(t, lines, 1, "want one line for the operator on stderr\n%s", res)
	require.NotContains(t, res.stderr, "panic", res.String())
	return lines[0]
}

// tcRun runs `clientiq tenant args...` and requires it to succeed.
func tcRun(t *testing.T, env testEnv, args ...string) result {
	t.Helper()
	res := runCLI(t, tcTimeout, env, append([]string{"tenant"}, args...)...)
	require.Equal(t, exitOK, res.code, res.String())
	return res
}

// tcListed is one element of `clientiq tenant list --json`.
type tcListed struct {
	Slug    string `json:"slug"`
	Name    string `json:"name"`
	Status  string `json:"status"`
	Schema  string `json:"schema"`
	Domains []struct {
		Domain    string `json:"domain"`
		IsPrimary bool   `json:"is_primary"`
	} `json:"domains"`
}

// tcList returns `clientiq tenant list --json`, keyed by slug.
func tcList(t *testing.T, env testEnv) map[string]tcListed {
	t.Helper()
	res := tcRun(t, env, "list", "--json")
	var listed []tcListed
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &listed), res.String())
	out := map[string]tcListed{}
	for _, l := range listed {
		out[l.Slug] = l
	}
	return out
}

// tcStatus returns the status `list --json` shows for slug.
func tcStatus(t *testing.T, env testEnv, slug string) string {
	t.Helper()
	l, ok := tcList(t, env)[slug]
	require.True(t, ok, "tenant %s is not listed", slug)
	return l.Status
}

// tcSchemaExists reports whether the schema exists in db.
func tcSchemaExists(t *testing.T, db *dbtest.DB, schema string) bool {
	t.Helper()
	var exists bool
	require.NoError(t, db.Pool.QueryRow(t.Context(),
		"SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists))
	return exists
}

func TestTenantCreateProvisionsTheSchemaAndRefusesBadInput(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	env := tcEnv(t, db.URL)

	res := tcRun(t, env, "create", "--slug", "acme2", "--name", "Acme Two")

	require.Contains(t, res.stdout, "schema tenant_acme2", res.String())
	require.True(t, tcSchemaExists(t, db, "tenant_acme2"))

	t.Run("the same slug again exits one with CONFLICT", func(t *testing.T) {
		t.Parallel()

		res := runCLI(t, tcTimeout, env, "tenant", "create", "--slug", "acme2", "--name", "Acme Again")

		line := tcRequireFails(t, res, exitFailure)
		require.Contains(t, line, "CONFLICT")
		require.Contains(t, line, "slug")
	})

	for _, slug := range []string{"www", "Bad_Slug"} {
		t.Run("slug "+slug+" exits two naming the slug", func(t *testing.T) {
			t.Parallel()

			res := runCLI(t, tcTimeout, env, "tenant", "create", "--slug", slug, "--name", "Bad")

			line := tcRequireFails(t, res, exitUsage)
			require.Contains(t, line, "slug")
			require.NotContains(t, line, "domain", "no domain was given; only the slug is wrong")
		})
	}

	t.Run("a missing name exits two naming the name", func(t *testing.T) {
		t.Parallel()

		res := runCLI(t, tcTimeout, env, "tenant", "create", "--slug", "nameless")

		line := tcRequireFails(t, res, exitUsage)
		require.Contains(t, line, "name")
	})

	// Runs after the parallel subtests: none of the refused runs left a
	// schema or a row behind.
	t.Cleanup(func() {
		require.Equal(t, []string{"acme2"}, tcSlugs(tcList(t, env)))
		var schemas int
		require.NoError(t, db.Pool.QueryRow(context.Background(),
			"SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tenant\\_%'").Scan(&schemas))
		require.Equal(t, 1, schemas)
	})
}

// tcSlugs returns the slugs of a listing.
func tcSlugs(listed map[string]tcListed) []string {
	out := make([]string, 0, len(listed))
	for s := range listed {
		out = append(out, s)
	}
	return out
}

func TestTenantListPrintsATableOrJSON(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	env := tcEnv(t, db.URL)
	base := env["BASE_DOMAIN"]
	tcRun(t, env, "create", "--slug", "alpha", "--name", "Alpha Inc")
	tcRun(t, env, "create", "--slug", "beta", "--name", "Beta", "--domain", "beta.example.com")
	tcRun(t, env, "suspend", "beta")

	t.Run("the table has a header and one row per tenant", func(t *testing.T) {
		t.Parallel()

		res := tcRun(t, env, "list")

		lines := nonEmptyLines(res.stdout)
		require.Len(t, lines, 3, res.String())
		require.Equal(t, []string{"SLUG", "NAME", "STATUS", "SCHEMA", "PRIMARY", "DOMAIN"}, strings.Fields(lines[0]))
		require.Equal(t, []string{"alpha", "Alpha", "Inc", "active", "tenant_alpha", "alpha." + base}, strings.Fields(lines[1]))
		require.Equal(t, []string{"beta", "Beta", "suspended", "tenant_beta", "beta.example.com"}, strings.Fields(lines[2]))
	})

	t.Run("--json is an array with slug, status, schema and domains", func(t *testing.T) {
		t.Parallel()

		res := tcRun(t, env, "list", "--json")

		var raw []map[string]any
		require.NoError(t, json.Unmarshal([]byte(res.stdout), &raw), res.String())
		require.Len(t, raw, 2)
		for _, r := range raw {
			for _, k := range []string{"slug", "status", "schema", "domains"} {
				require.Contains(t, r, k, "%v", r)
			}
		}
		listed := tcList(t, env)
		require.Equal(t, "active", listed["alpha"].Status)
		require.Equal(t, "tenant_alpha", listed["alpha"].Schema)
		require.Len(t, listed["alpha"].Domains, 1)
		require.Equal(t, "alpha."+base, listed["alpha"].Domains[0].Domain)
		require.True(t, listed["alpha"].Domains[0].IsPrimary)
		require.Equal(t, "suspended", listed["beta"].Status)
		require.Equal(t, "beta.example.com", listed["beta"].Domains[0].Domain)
	})

	t.Run("--json with no tenants is an empty array", func(t *testing.T) {
		t.Parallel()
		empty := tcEnv(t, dbtest.New(t).URL)

		res := tcRun(t, empty, "list", "--json")

		require.JSONEq(t, "[]", res.stdout)
	})
}

// tcDue matches the due time `clientiq tenant delete` prints.
var tcDue = regexp.MustCompile(`dropped after (\S+) unless restored`)

func TestTenantLifecycleThroughTheCLI(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	env := tcEnv(t, db.URL)
	tcRun(t, env, "create", "--slug", "acme", "--name", "Acme")

	tcRun(t, env, "suspend", "acme")
	require.Equal(t, "suspended", tcStatus(t, env, "acme"))

	tcRun(t, env, "reactivate", "acme")
	require.Equal(t, "active", tcStatus(t, env, "acme"))

	deleted := time.Now()
	res := tcRun(t, env, "delete", "acme")
	require.Equal(t, "pending_deletion", tcStatus(t, env, "acme"))
	m := tcDue.FindStringSubmatch(res.stdout)
	require.NotNil(t, m, "delete does not say when the schema is dropped\n%s", res)
	due, err := time.Parse(time.RFC3339, m[1])
	require.NoError(t, err)
	const grace = 30 * 24 * time.Hour
	require.WithinDuration(t, deleted.Add(grace), due, time.Minute, res.String())

	var scheduled time.Time
	var jobs int
	require.NoError(t, db.Pool.QueryRow(t.Context(),
		`SELECT count(*), max(scheduled_at) FROM public.river_job WHERE kind = 'tenant_purge' AND args->>'slug' = 'acme'`).
		Scan(&jobs, &scheduled))
	require.Equal(t, 1, jobs)
	require.WithinDuration(t, deleted.Add(grace), scheduled, time.Minute)
	require.WithinDuration(t, due, scheduled, time.Second, "the printed due time is the job's")

	res = runCLI(t, tcTimeout, env, "tenant", "reactivate", "acme")
	require.Contains(t, tcRequireFails(t, res, exitFailure), "CONFLICT", "a deletion is undone by restore, not reactivate")

	tcRun(t, env, "restore", "acme")
	require.Equal(t, "active", tcStatus(t, env, "acme"))
	require.True(t, tcSchemaExists(t, db, "tenant_acme"), "a restored tenant keeps its schema")

	for _, sub := range []string{"suspend", "reactivate", "delete", "restore"} {
		t.Run(sub+" of an unknown slug exits one", func(t *testing.T) {
			t.Parallel()

			res := runCLI(t, tcTimeout, env, "tenant", sub, "nope")

			require.Contains(t, tcRequireFails(t, res, exitFailure), "NOT_FOUND")
			require.Empty(t, strings.TrimSpace(res.stdout))
		})
	}
}

func TestTenantDomainsAddSetPrimaryAndRemove(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	env := tcEnv(t, db.URL)
	old := "shopco." + env["BASE_DOMAIN"]
	tcRun(t, env, "create", "--slug", "shopco", "--name", "Shop Co")
	tcRun(t, env, "create", "--slug", "rival", "--name", "Rival")

	res := tcRun(t, env, "domains", "shopco", "--add", "shop.example.com")
	require.Equal(t, []string{old + " (primary)", "shop.example.com"}, nonEmptyLines(res.stdout))

	res = runCLI(t, tcTimeout, env, "tenant", "domains", "shopco", "--remove", old)
	require.Contains(t, tcRequireFails(t, res, exitFailure), "CONFLICT", "the primary domain cannot be removed")

	res = tcRun(t, env, "domains", "shopco", "--primary", "shop.example.com")
	require.Equal(t, []string{"shop.example.com (primary)", old}, nonEmptyLines(res.stdout))

	res = tcRun(t, env, "domains", "shopco", "--remove", old)
	require.Equal(t, []string{"shop.example.com (primary)"}, nonEmptyLines(res.stdout))

	res = tcRun(t, env, "domains", "shopco")
	require.Equal(t, []string{"shop.example.com (primary)"}, nonEmptyLines(res.stdout), "without a flag it lists")
	listed := tcList(t, env)["shopco"]
	require.Len(t, listed.Domains, 1)
	require.Equal(t, "shop.example.com", listed.Domains[0].Domain)
	require.True(t, listed.Domains[0].IsPrimary)

	t.Run("a domain of another tenant exits one with CONFLICT", func(t *testing.T) {
		t.Parallel()

		res := runCLI(t, tcTimeout, env, "tenant", "domains", "rival", "--add", "SHOP.example.com.")

		require.Contains(t, tcRequireFails(t, res, exitFailure), "CONFLICT")
	})

	for _, flags := range [][]string{
		{"--add", "a.example.com", "--remove", "shop.example.com"},
		{"--add", "a.example.com", "--primary", "shop.example.com"},
		{"--remove", "shop.example.com", "--primary", "shop.example.com"},
	} {
		t.Run(strings.Join([]string{flags[0], flags[2]}, " with ")+" exits two", func(t *testing.T) {
			t.Parallel()

			res := runCLI(t, tcTimeout, env, append([]string{"tenant", "domains", "shopco"}, flags...)...)

			require.Contains(t, tcRequireFails(t, res, exitUsage), "one of")
		})
	}

	t.Run("a domain the tenant does not have exits one with NOT_FOUND", func(t *testing.T) {
		t.Parallel()

		for _, flag := range []string{"--remove", "--primary"} {
			res := runCLI(t, tcTimeout, env, "tenant", "domains", "shopco", flag, "elsewhere.example.com")

			require.Contains(t, tcRequireFails(t, res, exitFailure), "NOT_FOUND", flag)
		}
	})

	// Runs after the parallel subtests: no refused change touched a domain.
	t.Cleanup(func() {
		listed := tcList(t, env)
		require.Len(t, listed["shopco"].Domains, 1)
		require.Equal(t, "shop.example.com", listed["shopco"].Domains[0].Domain)
		require.True(t, listed["shopco"].Domains[0].IsPrimary)
		require.Len(t, listed["rival"].Domains, 1)
		require.Equal(t, "rival."+env["BASE_DOMAIN"], listed["rival"].Domains[0].Domain)
	})
}

func TestTenantSchemasMigrateFindsNoneBehindAfterCreatingFive(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	env := tcEnv(t, db.URL)
	for i := range 5 {
		tcRun(t, env, "create", "--slug", fmt.Sprintf("fleet%d", i), "--name", fmt.Sprintf("Fleet %d", i))
	}

	res := runCLI(t, tcTimeout, env, "migrate")

	require.Equal(t, exitOK, res.code, res.String())
	require.Contains(t, res.stdout, "tenants: 0 schema(s) behind", res.String())

	t.Run("--tenant naming no tenant fails", func(t *testing.T) {
		t.Parallel()

		res := runCLI(t, tcTimeout, env, "migrate", "--tenant", "nope")

		require.NotEqual(t, exitOK, res.code, res.String())
		require.Contains(t, tcRequireFails(t, res, res.code), "NOT_FOUND")
	})

	t.Run("--tenant naming one tenant migrates only it", func(t *testing.T) {
		t.Parallel()
		// Recorded before the built-in roles' digest was part of the version:
		// behind, with no migration file to run again.
		_, err := db.Pool.Exec(t.Context(), `UPDATE public.schema_versions SET version = split_part(version, '@', 1)
			WHERE schema_name IN ('tenant_fleet1', 'tenant_fleet2')`)
		require.NoError(t, err)

		res := runCLI(t, tcTimeout, env, "migrate", "--tenant", "fleet1")

		require.Equal(t, exitOK, res.code, res.String())
		require.Contains(t, res.stdout, "tenants: 1 schema(s) behind, 1 migrated, 0 failed", res.String())
		var fleet1, fleet2 string
		require.NoError(t, db.Pool.QueryRow(t.Context(), `SELECT
			(SELECT version FROM public.schema_versions WHERE schema_name = 'tenant_fleet1'),
			(SELECT version FROM public.schema_versions WHERE schema_name = 'tenant_fleet2')`).Scan(&fleet1, &fleet2))
		require.Contains(t, fleet1, "@", "fleet1 is brought to the latest version")
		require.NotContains(t, fleet2, "@", "fleet2 is left alone")
	})

	t.Run("--concurrency 0 exits two", func(t *testing.T) {
		t.Parallel()

		res := runCLI(t, tcTimeout, env, "migrate", "--concurrency", "0")

		require.Contains(t, tcRequireFails(t, res, exitUsage), "--concurrency")
	})
}

// tcAnswer is what a server said to one GraphQL request.
type tcAnswer struct {
	status int
	// code is the first error's extensions.code ("" without errors).
	code string
}

func (a tcAnswer) String() string { return fmt.Sprintf("%d %s", a.status, a.code) }

// tcAsk posts the version query to s with the given Host and X-Tenant.
func tcAsk(t *testing.T, client *http.Client, s *server, host, xTenant string) tcAnswer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.url("/graphql"), strings.NewReader(versionQuery))
	require.NoError(t, err)
	req.Host = host
	req.Header.Set("Content-Type", "application/json")
	if xTenant != "" {
		req.Header.Set("X-Tenant", xTenant)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct {
		Errors []struct {
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body), "POST /graphql Host %s", host)
	a := tcAnswer{status: resp.StatusCode}
	if len(body.Errors) > 0 {
		a.code = body.Errors[0].Extensions.Code
	}
	return a
}

// tcAwait polls every server every 20ms until all give want, and fails if
// any still does not after within. It returns how long that took: the time
// a change made through the CLI takes to reach every replica.
func tcAwait(t *testing.T, client *http.Client, servers []*server, host string, want tcAnswer, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	last := make([]tcAnswer, len(servers))
	for {
		all := true
		for i, s := range servers {
			last[i] = tcAsk(t, client, s, host, "")
			all = all && last[i] == want
		}
		elapsed := time.Since(start)
		if all {
			return elapsed
		}
		if elapsed > within {
			t.Fatalf("after %s the servers answer %v, want %v from every one", elapsed.Round(time.Millisecond), last, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tcKeepAsking posts the version query for host to every server every
// 20ms until the returned stop is called, keeping each replica's
// in-process cache warm: a change then has to displace a hot entry, the
// worst case, rather than find the cache empty.
func tcKeepAsking(client *http.Client, servers []*server, host string) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			for _, s := range servers {
				req, err := http.NewRequest(http.MethodPost, s.url("/graphql"), strings.NewReader(versionQuery))
				if err != nil {
					return
				}
				req.Host = host
				req.Header.Set("Content-Type", "application/json")
				if resp, err := client.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// tcWriteBackWhenDeleted waits for key to disappear from the store and
// writes stale back at once, as a replica racing an invalidation would. The
// returned function waits for the write (or its failure).
func tcWriteBackWhenDeleted(store cache.Store, key string, stale []byte) func() error {
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), tcTimeout)
		defer cancel()
		for {
			_, found, err := store.Get(ctx, key)
			if err != nil {
				errc <- fmt.Errorf("watch %s: %w", key, err)
				return
			}
			if !found {
				errc <- store.Set(ctx, key, stale, 5*time.Minute)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	return func() error { return <-errc }
}

func TestTwoServersHonourATenantSuspensionWithinOneSecond(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	env := tcEnv(t, db.URL)
	base := env["BASE_DOMAIN"]
	// Slugs are random too: resolutions by slug (X-Tenant) are cached under
	// the slug alone, in the Redis every test shares.
	t1, t2 := "t1"+dbtest.RandomSuffix(), "t2"+dbtest.RandomSuffix()
	tcRun(t, env, "create", "--slug", t1, "--name", "Tenant One")
	tcRun(t, env, "create", "--slug", t2, "--name", "Tenant Two")

	// Two replicas, each on its own port, sharing the database and Redis.
	servers := []*server{
		startServer(t, env.with("HTTP_ADDR", "127.0.0.1:"+freePort(t))),
		startServer(t, env.with("HTTP_ADDR", "127.0.0.1:"+freePort(t))),
	}
	t.Cleanup(func() {
		for _, s := range servers {
			_ = s.cmd.Process.Signal(syscall.SIGTERM)
		}
		for _, s := range servers {
			require.Equal(t, exitOK, s.wait(t, time.Minute), "stderr:\n%s", s.stderr)
		}
	})

	client := &http.Client{Timeout: 5 * time.Second}
	host := t1 + "." + base
	ok := tcAnswer{status: http.StatusOK}
	suspended := tcAnswer{status: http.StatusForbidden, code: "TENANT_SUSPENDED"}
	for _, s := range servers {
		require.Equal(t, ok, tcAsk(t, client, s, host, ""))
	}

	stop := tcKeepAsking(client, servers, host)
	res := tcRun(t, env, "suspend", t1)
	stop()
	took := tcAwait(t, client, servers, host, suspended, time.Second)
	t.Logf("both servers answered TENANT_SUSPENDED %s after `tenant suspend` returned (the command took %s)",
		took.Round(time.Millisecond), res.elapsed.Round(time.Millisecond))

	stop = tcKeepAsking(client, servers, host)
	res = tcRun(t, env, "reactivate", t1)
	stop()
	took = tcAwait(t, client, servers, host, ok, time.Second)
	t.Logf("both servers answered 200 %s after `tenant reactivate` returned (the command took %s)",
		took.Round(time.Millisecond), res.elapsed.Round(time.Millisecond))

	// A replica that read the row just before the suspension committed can
	// write the old resolution back into Redis after the CLI's invalidation:
	// the change must still reach every replica within a second.
	store, err := cache.NewRedis(env["REDIS_URL"])
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	key := cache.Key("", "tenant-host", host)
	// The resolution the servers share, once their in-process copies have
	// expired and one of them has read it back from the database.
	var stale []byte
	require.Eventually(t, func() bool {
		for _, s := range servers {
			tcAsk(t, client, s, host, "")
		}
		b, found, err := store.Get(t.Context(), key)
		require.NoError(t, err)
		stale = b
		return found
	}, 10*time.Second, 50*time.Millisecond, "the servers cache %s under %s", host, key)
	writtenBack := tcWriteBackWhenDeleted(store, key, stale)
	res = tcRun(t, env, "suspend", t1)
	require.NoError(t, writtenBack())
	took = tcAwait(t, client, servers, host, suspended, time.Second)
	t.Logf("despite a stale write-back, both servers answered TENANT_SUSPENDED %s after `tenant suspend` returned (the command took %s)",
		took.Round(time.Millisecond), res.elapsed.Round(time.Millisecond))

	tcRun(t, env, "reactivate", t1)
	tcAwait(t, client, servers, host, ok, time.Second)

	for _, s := range servers {
		t.Run("an unknown host answers TENANT_NOT_FOUND on "+s.addr, func(t *testing.T) {
			t.Parallel()

			got := tcAsk(t, client, s, "x"+dbtest.RandomSuffix()+"."+base, "")

			require.Equal(t, tcAnswer{status: http.StatusNotFound, code: "TENANT_NOT_FOUND"}, got)
		})

		t.Run("X-Tenant on the platform host selects the tenant on "+s.addr, func(t *testing.T) {
			t.Parallel()

			require.Equal(t, ok, tcAsk(t, client, s, base, t1))
		})

		t.Run("X-Tenant naming another tenant than the host answers VALIDATION_ERROR on "+s.addr, func(t *testing.T) {
			t.Parallel()

			got := tcAsk(t, client, s, host, t2)

			require.Equal(t, tcAnswer{status: http.StatusBadRequest, code: "VALIDATION_ERROR"}, got)
		})
	}
}
