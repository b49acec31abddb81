package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/mailtest"
	"github.com/clientiq/clientiq/internal/viewercache"
)

// The scaling set-up: three `clientiq serve` processes that share nothing
// but PostgreSQL, reached through a PgBouncer in transaction pooling mode,
// and Redis. Each process may open scMaxConns client connections; the
// bouncer serves all of them with scBouncerPool server connections, so
// transactions of both tenants and all three processes take turns on the
// same few PostgreSQL sessions.
const (
	scServers     = 3
	scMaxConns    = 8
	scBouncerPool = 5
	scUsers       = 6 // extra signups without a tenant, for their emails
	scPassword    = "correct horse battery staple 42"
	// scJWTSecret is shared, as replicas behind a load balancer must: a
	// token issued by one process is verified by the others.
	scJWTSecret = "Vq8#Lr2!Zt6Wm1Xp9Ks4Dn7Gh3Jc5Bf0Ny-_QwErTyUi"
)

// TestThreeServersThroughPgBouncerInTransactionPooling checks that tenant
// isolation, rate limits, caches and jobs stay correct when ClientIQ is
// scaled out: every check goes through HTTP against all three processes.
// Redis keys are the test's own because every name in them is random (base
// domain, slugs, emails, client addresses), as in the other tests that
// share the machine's Redis.
func TestThreeServersThroughPgBouncerInTransactionPooling(t *testing.T) {
	t.Parallel()
	bin := scPgBouncerBinary(t)
	db := dbtest.New(t)
	mp := mailtest.Start(t)
	bouncer := scStartPgBouncer(t, bin, db.URL, scBouncerPool)
	sfx := dbtest.RandomSuffix()
	base := "scale" + sfx + ".test"
	direct := newEnv(t, db.URL).with("BASE_DOMAIN", base, "JWT_SECRET", scJWTSecret, "SMTP_URL", mp.SMTPURL(),
		"MAIL_FROM", "ClientIQ <no-reply@"+base+">", "TRUSTED_PROXIES", "127.0.0.1/32")
	// The viewer caches LISTEN on a direct connection each, the rest goes
	// through the bouncer.
	pooled := direct.with("DATABASE_URL", bouncer.url, "DATABASE_POOLER", "pgbouncer-transaction",
		"DATABASE_MAX_CONNS", strconv.Itoa(scMaxConns), "DATABASE_LISTEN_URL", db.URL)

	began := time.Now()
	servers := scStartServers(t, pooled, scServers)
	t.Logf("%d servers answering through PgBouncer %s after %s", scServers, bouncer.url, time.Since(began).Round(time.Millisecond))

	c := &scClient{http: &http.Client{Timeout: 30 * time.Second}, ip: scRandomIP()}
	signedUp := time.Now()
	a := scSignup(t, c, servers[0], "a"+sfx, base)
	b := scSignup(t, c, servers[1], "b"+sfx, base)
	emails := []string{"owner@a" + sfx + "." + base, "owner@b" + sfx + "." + base}
	for i := range scUsers {
		email := fmt.Sprintf("user%d@%s", i, base)
		c.ok(t, servers[i%scServers], `mutation($in: SignupInput!) { signup(input: $in) { user { id } } }`,
			map[string]any{"in": map[string]any{"email": email, "password": scPassword}})
		emails = append(emails, email)
	}
	// A's projects are created through every server, B's through two.
	for i := range 3 {
		a.projects = append(a.projects, scCreateProject(t, c, servers[i], a, i))
	}
	for i := range 2 {
		b.projects = append(b.projects, scCreateProject(t, c, servers[(i+2)%scServers], b, i))
	}

	// The subtests run one after the other on this shared set-up: the
	// emails are checked after the load, and the suspension comes last.
	t.Run("every server lists each tenant's projects and only those", func(t *testing.T) {
		for _, s := range servers {
			for _, tn := range []*scTenant{a, b} {
				data := c.ok(t, s, `{ projects(first: 100) { totalCount edges { node { id name } } } }`, nil, tn.headers()...)
				var ids []string
				for _, p := range scNodes(data["projects"]) {
					ids = append(ids, p["id"].(string))
					require.Contains(t, p["name"], tn.marker)
				}
				require.ElementsMatch(t, tn.projects, ids, "%s on %s", tn.slug, s.addr)
			}
		}
	})

	t.Run("no server finds the other tenant's projects by id", func(t *testing.T) {
		for _, s := range servers {
			for _, id := range b.projects {
				for _, q := range []string{`query($id: ID!) { project(id: $id) { id name } }`,
					`query($id: ID!) { node(id: $id) { id ... on Project { name } } }`} {
					r, err := c.post(t.Context(), s, q, map[string]any{"id": id}, a.headers()...)
					require.NoError(t, err)
					require.NotContains(t, string(r.raw), b.marker)
					require.True(t, r.code == "NOT_FOUND" || (r.code == "" && scDig(r.data, "project") == nil && scDig(r.data, "node") == nil),
						"B's project %s under A on %s: %s", id, s.addr, r.raw)
				}
			}
		}
	})

	t.Run("no server accepts one tenant's token for the other", func(t *testing.T) {
		for _, s := range servers {
			r, err := c.post(t.Context(), s, `{ projects(first: 100) { edges { node { name } } } }`, nil,
				"Authorization", "Bearer "+a.token, "X-Tenant", b.slug)
			require.NoError(t, err)
			require.NotContains(t, string(r.raw), b.marker)
			require.NotEmpty(t, r.code, "A's token under B on %s: %s", s.addr, r.raw)
		}
	})

	t.Run("a mixed concurrent load never returns a row of the other tenant", func(t *testing.T) {
		start := time.Now()
		l := scRunLoad(t.Context(), c, servers, a, b)
		t.Logf("mixed load: %s", l.summary(time.Since(start)))
		require.Zero(t, l.leaks, "rows of the other tenant: %v", l.problems)
		require.Empty(t, l.problems)
	})

	t.Run("each verification email is worked once across the servers", func(t *testing.T) {
		mp.WaitForMessages(len(emails), time.Minute)
		took := time.Since(signedUp)
		time.Sleep(2 * time.Second) // two poll intervals: time for a second worker to send it again
		for _, e := range emails {
			require.Len(t, mp.MessagesTo(e), 1, "emails to %s", e)
		}
		rows, err := db.Pool.Query(t.Context(), `SELECT args->>'to', state, attempt, attempted_by
			FROM public.river_job WHERE kind = 'send_email' ORDER BY id`)
		require.NoError(t, err)
		workers := map[string]int{}
		var recipients []string
		for rows.Next() {
			var to, state string
			var attempt int
			var by []string
			require.NoError(t, rows.Scan(&to, &state, &attempt, &by))
			require.Equal(t, "completed", state, to)
			require.Equal(t, 1, attempt, to)
			require.Len(t, by, 1, to)
			workers[by[0]]++
			recipients = append(recipients, to)
		}
		require.NoError(t, rows.Err())
		require.ElementsMatch(t, emails, recipients, "one job per signup")
		// River polls (DATABASE_POOLER): a LISTEN through the bouncer would
		// stay on a server connection that other clients then share.
		channels, sessions := bouncer.listening(t)
		require.Equal(t, bouncer.poolSize, sessions, "every server connection was looked at")
		require.Empty(t, channels, "channels LISTENed on behind the bouncer")
		t.Logf("%d emails sent within %s of the first signup, each job worked once, by %d of the %d processes: %v",
			len(emails), took.Round(time.Millisecond), len(workers), scServers, workers)
	})

	t.Run("failed logins spread over the servers lock the account at the limit", func(t *testing.T) {
		cc := &scClient{http: c.http, ip: scRandomIP()}
		email, start := emails[2], time.Now()
		for i := range auth.AccountFailureLimit {
			require.Equal(t, "UNAUTHENTICATED", scLogin(t, cc, servers[i%scServers], email, "wrong password "+strconv.Itoa(i)), "failure %d", i+1)
		}
		for _, s := range servers {
			require.Equal(t, "RATE_LIMITED", scLogin(t, cc, s, email, scPassword), "the locked account on %s", s.addr)
		}
		t.Logf("%d failures spread over %d servers (at most %d on one) locked the account everywhere, in %s",
			auth.AccountFailureLimit, scServers, (auth.AccountFailureLimit+scServers-1)/scServers, time.Since(start).Round(time.Millisecond))
	})

	t.Run("attempts from one address spread over the servers reach the address limit", func(t *testing.T) {
		cc := &scClient{http: c.http, ip: scRandomIP()}
		start := time.Now()
		codes := make([]string, auth.IPAttemptLimit)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 6)
		for i := range codes {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				r, err := cc.post(context.Background(), servers[i%scServers], scLoginMutation,
					map[string]any{"e": fmt.Sprintf("nobody%d@%s", i, base), "p": scPassword})
				codes[i] = r.code
				if err != nil {
					codes[i] = err.Error()
				}
			})
		}
		wg.Wait()
		for i, code := range codes {
			require.Equal(t, "UNAUTHENTICATED", code, "attempt %d", i+1)
		}
		for _, s := range servers {
			require.Equal(t, "RATE_LIMITED", scLogin(t, cc, s, "nobody@"+base, scPassword), "one more on %s", s.addr)
		}
		t.Logf("%d attempts from one address spread over %d servers (%d each) reached the limit everywhere, in %s",
			auth.IPAttemptLimit, scServers, auth.IPAttemptLimit/scServers, time.Since(start).Round(time.Millisecond))
	})

	t.Run("a session ended on one server is refused by every server within a second", func(t *testing.T) {
		// Each process keeps its viewer cache's feed on DATABASE_LISTEN_URL,
		// past the bouncer, so its cache is live.
		require.Eventually(t, func() bool {
			var listening int
			err := db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND application_name = 'clientiq-listen' AND query = 'LISTEN '||$1`,
				viewercache.Channel).Scan(&listening)
			return err == nil && listening == scServers
		}, 10*time.Second, 10*time.Millisecond, "direct LISTEN sessions, one per process")

		data := c.ok(t, servers[0], scLoginMutation, map[string]any{"e": emails[0], "p": scPassword}, "X-Tenant", a.slug)
		token, _ := scDig(data, "login", "accessToken").(string)
		require.NotEmpty(t, token)
		session := []string{"Authorization", "Bearer " + token, "X-Tenant", a.slug}
		const q = `{ projects(first: 1) { totalCount } }`
		for _, s := range servers { // each process caches the viewer
			require.Eventually(t, func() bool { return scMetric(t, s, "clientiq_viewer_cache_live") == 1 },
				10*time.Second, 10*time.Millisecond, "the cache of %s answers", s.addr)
			hits := scMetric(t, s, `clientiq_viewer_cache_lookups_total{result="hit"}`)
			for range 2 {
				require.Empty(t, c.code(t, s, q, nil, session...), "the new session on %s", s.addr)
			}
			require.Greater(t, scMetric(t, s, `clientiq_viewer_cache_lookups_total{result="hit"}`), hits,
				"the second request on %s took its viewer from the cache", s.addr)
		}
		c.ok(t, servers[0], `mutation { logout }`, nil, session...)
		returned := time.Now()
		require.Equal(t, "UNAUTHENTICATED", c.code(t, servers[0], q, nil, session...), "on the server that ended it")
		var last []string
		for {
			last = last[:0]
			for _, s := range servers {
				last = append(last, c.code(t, s, q, nil, session...))
			}
			if slices.Equal(last, []string{"UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED"}) {
				break
			}
			require.Less(t, time.Since(returned), time.Second, "servers answer %v", last)
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("all servers refused the ended session %s after logout returned", time.Since(returned).Round(time.Microsecond))
		require.Empty(t, c.code(t, servers[1], q, nil, a.headers()...), "the owner's other session still works")
	})

	t.Run("a suspension through the CLI is honoured by every server within a second", func(t *testing.T) {
		stop := scKeepAsking(c, servers, b)
		res := runCLI(t, time.Minute, direct, "tenant", "suspend", b.slug)
		stop()
		require.Equal(t, exitOK, res.code, res.String())
		returned := time.Now()
		var last []string
		for {
			last = last[:0]
			for _, s := range servers {
				last = append(last, c.code(t, s, `{ projects(first: 1) { totalCount } }`, nil, b.headers()...))
			}
			if slices.Equal(last, []string{"TENANT_SUSPENDED", "TENANT_SUSPENDED", "TENANT_SUSPENDED"}) {
				break
			}
			require.Less(t, time.Since(returned), time.Second, "servers answer %v", last)
			time.Sleep(10 * time.Millisecond)
		}
		took := time.Since(returned)
		for _, s := range servers {
			require.Empty(t, c.code(t, s, `{ projects(first: 1) { totalCount } }`, nil, a.headers()...), "A on %s", s.addr)
		}
		t.Logf("all servers answered TENANT_SUSPENDED %s after `tenant suspend` returned (the command took %s)",
			took.Round(time.Millisecond), res.elapsed.Round(time.Millisecond))
	})

	t.Run("the servers shared a few PostgreSQL sessions through the bouncer", func(t *testing.T) {
		p := bouncer.pool(t, db.Name)
		t.Logf("PgBouncer: %d client connections from %d processes on %d server connections (default_pool_size %d)",
			p.clients, scServers, p.servers, bouncer.poolSize)
		require.LessOrEqual(t, p.servers, bouncer.poolSize)
		require.Greater(t, p.clients, p.servers, "more clients than server connections: transactions took turns")
	})
}

// scStartServers starts n `clientiq serve` processes with env, each on a
// port of its own, and stops them at cleanup, failing tb for one that
// does not exit cleanly.
func scStartServers(tb testing.TB, env testEnv, n int) []*server {
	tb.Helper()
	servers := make([]*server, n)
	for i := range servers {
		servers[i] = startServer(tb, env.with("HTTP_ADDR", "127.0.0.1:"+freePort(tb)))
	}
	tb.Cleanup(func() {
		for _, s := range servers {
			_ = s.cmd.Process.Signal(syscall.SIGTERM)
		}
		for _, s := range servers {
			if code := s.wait(tb, time.Minute); code != exitOK {
				tb.Errorf("server %s exited with %d\nstderr:\n%s", s.addr, code, s.stderr)
			}
		}
	})
	return servers
}

const scLoginMutation = `mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { accessToken } }`

// scLogin tries a login on the platform host and returns the error code.
func scLogin(t *testing.T, c *scClient, s *server, email, password string) string {
	t.Helper()
	return c.code(t, s, scLoginMutation, map[string]any{"e": email, "p": password})
}

// scSignup signs up an owner with a new tenant through s.
func scSignup(t testing.TB, c *scClient, s *server, slug, base string) *scTenant {
	t.Helper()
	data := c.ok(t, s, `mutation($in: SignupInput!) { signup(input: $in) { tokens { accessToken } } }`,
		map[string]any{"in": map[string]any{"email": "owner@" + slug + "." + base, "password": scPassword,
			"name": "Owner", "tenantName": "Tenant " + slug, "tenantSlug": slug}})
	token, _ := scDig(data, "signup", "tokens", "accessToken").(string)
	require.NotEmpty(t, token)
	return &scTenant{slug: slug, marker: "[" + slug + "] ", token: token}
}

// scCreateProject creates a project of tn through s and returns its id.
func scCreateProject(t testing.TB, c *scClient, s *server, tn *scTenant, i int) string {
	t.Helper()
	data := c.ok(t, s, `mutation($in: CreateProjectInput!) { createProject(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"name": fmt.Sprintf("%sproject %d", tn.marker, i)}}, tn.headers()...)
	id, _ := scDig(data, "createProject", "id").(string)
	require.NotEmpty(t, id)
	return id
}

// scKeepAsking reads tn's projects on every server every 20ms until stop is
// called, so each process's in-process tenant cache is warm when the
// change comes: the worst case for invalidation.
func scKeepAsking(c *scClient, servers []*server, tn *scTenant) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			for _, s := range servers {
				_, _ = c.post(ctx, s, `{ projects(first: 1) { totalCount } }`, nil, tn.headers()...)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// scMetric reads one sample (name with its labels, as exposed) from s's
// /metrics.
func scMetric(t *testing.T, s *server, sample string) float64 {
	t.Helper()
	resp, err := http.Get(s.url("/metrics"))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			require.NoError(t, err, line)
			return f
		}
	}
	t.Fatalf("no %s in %s's /metrics", sample, s.addr)
	return 0
}
