// Command clientiq is ClientIQ's one binary: the HTTP API with in-process
// River workers (serve), workers alone (worker), migrations (migrate), demo
// data (seed) and its version (version). Wiring happens here and nowhere else.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/clientiq/clientiq/internal/config"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2 // bad flags or configuration
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	// env lists the variables it reads (nil: none).
	env []string
	// flags declares its flags on fs and returns the function that runs it.
	flags func(fs *flag.FlagSet) func(ctx context.Context, e *env) error
}

// env is what a command runs with.
type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	args   []string
}

// allEnv is the variable list of commands that read the whole configuration.
var allEnv = func() []string {
	names := make([]string, len(config.Vars))
	for i, v := range config.Vars {
		names[i] = v.Name
	}
	return names
}()

func commands() []command {
	return []command{
		{name: "serve", summary: "serve the HTTP API (GraphQL, REST, health, metrics) with River workers in-process", env: allEnv, flags: serveFlags},
		{name: "worker", summary: "run River workers only", env: allEnv, flags: workerFlags},
		{name: "migrate", summary: "apply public-schema, River and tenant-schema migrations", env: allEnv, flags: migrateFlags},
		{name: "tenant", summary: "manage tenants: create, list, suspend, reactivate, delete, restore, domains", env: allEnv, flags: tenantFlags},
		{name: "staff", summary: "make an account platform staff (creating it with a generated password)", env: allEnv, flags: staffFlags},
		{name: "seed", summary: "create the demo tenant (local profile; idempotent)", env: allEnv, flags: seedFlags},
		{name: "version", summary: "print the version", flags: versionFlags},
	}
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == args[0] {
			cmd = &c
			break
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "clientiq: unknown command %q (see clientiq --help)\n", args[0])
		return exitUsage
	}
	fs := flag.NewFlagSet("clientiq "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	runFn := cmd.flags(fs)
	fs.Usage = func() { commandUsage(fs.Output(), cmd, fs) }
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			commandUsage(stdout, cmd, fs)
			return exitOK
		}
		return exitUsage
	}
	err := runFn(ctx, &env{getenv: getenv, stdout: stdout, stderr: stderr, args: fs.Args()})
	if err == nil {
		return exitOK
	}
	var cerr *config.Error
	var uerr usageError
	switch {
	case errors.As(err, &cerr):
		fmt.Fprintf(stderr, "clientiq: invalid configuration: %s\n", cerr)
		return exitUsage
	case errors.As(err, &uerr):
		fmt.Fprintf(stderr, "clientiq %s: %s\n", cmd.name, uerr.msg)
		return exitUsage
	}
	fmt.Fprintf(stderr, "clientiq %s: %v\n", cmd.name, err)
	return exitFailure
}

// usageError is a bad flag or argument: exit code 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usage(w io.Writer) {
	fmt.Fprintln(w, "ClientIQ: a multi-tenant SaaS backend.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: clientiq <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'clientiq <command> --help' for its flags and the environment variables it reads.")
}

func commandUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: clientiq %s [flags]\n\n%s.\n", c.name, c.summary)
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	if len(c.env) > 0 {
		fmt.Fprintln(w, "\nEnvironment:")
		for _, name := range c.env {
			for _, v := range config.Vars {
				if v.Name == name {
					def := v.Default
					if def == "" {
						def = "unset"
					}
					fmt.Fprintf(w, "  %-26s %s (default: %s)\n", v.Name, v.Help, def)
				}
			}
		}
	}
}
