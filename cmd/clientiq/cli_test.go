package main

import (
	"flag"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// unreachableURL names a port nothing listens on.
const unreachableURL = "postgres://postgres@127.0.0.1:1/clientiq?sslmode=disable"

func TestInvalidConfigurationExitsTwoWithOneLineNamingTheVariable(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		name  string
		vars  []string
		names string
	}{
		{"unparseable DATABASE_URL", []string{"DATABASE_URL", "::not a url::"}, "DATABASE_URL"},
		{"non-boolean ENABLE_PAYMENTS", []string{"ENABLE_PAYMENTS", "maybe"}, "ENABLE_PAYMENTS"},
		{"unknown CLIENTIQ_ENV profile", []string{"CLIENTIQ_ENV", "prod"}, "CLIENTIQ_ENV"},
		{"migrate through a transaction pooler", []string{"DATABASE_POOLER", "pgbouncer-transaction"}, "DATABASE_POOLER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newEnv(t, unreachableURL).with(tc.vars...)

			res := runCLI(t, 30*time.Second, env, "migrate")

			require.Equal(t, exitUsage, res.code, res.String())
			lines := nonEmptyLines(res.stderr)
			require.Len(t, lines, 1, "want exactly one line on stderr\n%s", res)
			require.Contains(t, lines[0], tc.names)
			require.NotContains(t, res.stderr, "::not a url::", "the rejected URL could hold a password")
		})
	}
}

func TestUnknownCommandExitsTwo(t *testing.T) {
	t.Parallel()

	res := runCLI(t, 30*time.Second, newEnv(t, unreachableURL), "frobnicate")

	require.Equal(t, exitUsage, res.code, res.String())
	require.Contains(t, res.stderr, `unknown command "frobnicate"`)
}

func TestHelpListsEachCommandsFlagsAndEnvironment(t *testing.T) {
	t.Parallel()

	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
			c.flags(fs)

			res := runCLI(t, 30*time.Second, newEnv(t, unreachableURL), c.name, "--help")

			require.Equal(t, exitOK, res.code, res.String())
			require.Contains(t, res.stdout, "Usage: clientiq "+c.name)
			fs.VisitAll(func(f *flag.Flag) {
				require.Contains(t, res.stdout, "-"+f.Name, "help of %s must list flag -%s", c.name, f.Name)
			})
			for _, name := range c.env {
				require.Contains(t, res.stdout, name, "help of %s must list variable %s", c.name, name)
			}
		})
	}

	t.Run("serve names the variables operators set most", func(t *testing.T) {
		t.Parallel()

		res := runCLI(t, 30*time.Second, newEnv(t, unreachableURL), "serve", "--help")

		require.Equal(t, exitOK, res.code, res.String())
		for _, v := range []string{"DATABASE_URL", "REDIS_URL", "ENABLE_PAYMENTS", "-addr", "-no-workers"} {
			require.Contains(t, res.stdout, v)
		}
	})

	t.Run("migrate documents -create-db", func(t *testing.T) {
		t.Parallel()

		res := runCLI(t, 30*time.Second, newEnv(t, unreachableURL), "migrate", "--help")

		require.Equal(t, exitOK, res.code, res.String())
		require.Contains(t, res.stdout, "-create-db")
		require.Contains(t, res.stdout, "DATABASE_URL")
	})
}

func TestVersionPrintsOneNonEmptyLine(t *testing.T) {
	t.Parallel()

	res := runCLI(t, 30*time.Second, newEnv(t, unreachableURL), "version")

	require.Equal(t, exitOK, res.code, res.String())
	lines := nonEmptyLines(res.stdout)
	require.Len(t, lines, 1, res.String())
	require.NotEmpty(t, strings.TrimSpace(lines[0]))
}

func TestUnreachableDatabaseFailsFastWithoutPanic(t *testing.T) {
	t.Parallel()

	for _, target := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"nothing listens", func(*testing.T) string { return unreachableURL }},
		{"the server never answers", silentServerURL},
	} {
		for _, command := range []string{"migrate", "serve"} {
			t.Run(command+" when "+target.name, func(t *testing.T) {
				t.Parallel()
				env := newEnv(t, target.url(t)).with("DATABASE_CONNECT_TIMEOUT", "1s")

				// The 10s context kills a hang; runCLI fails the test if it fires.
				res := runCLI(t, 10*time.Second, env, command)

				require.Equal(t, exitFailure, res.code, res.String())
				out := res.stdout + res.stderr
				require.Contains(t, out, "database unreachable", res.String())
				require.NotContains(t, out, "panic", res.String())
				require.NotContains(t, out, "goroutine", res.String())
				require.Less(t, res.elapsed, 10*time.Second)
			})
		}
	}
}

// silentServerURL returns a database URL whose server accepts connections
// and never says a word: only the connect timeout ends the wait.
func silentServerURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "postgres://postgres@" + ln.Addr().String() + "/clientiq?sslmode=disable"
}
