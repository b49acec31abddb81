package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/tenant"
)

const tenantUsage = `usage:
  clientiq tenant create --slug S --name N [--domain D]
  clientiq tenant list [--json]
  clientiq tenant suspend S
  clientiq tenant reactivate S
  clientiq tenant delete S
  clientiq tenant restore S
  clientiq tenant domains S [--add D | --remove D | --primary D]`

func tenantFlags(fs *flag.FlagSet) func(context.Context, *env) error {
	fs.Usage = func() { fmt.Fprintln(fs.Output(), tenantUsage) }
	return func(ctx context.Context, e *env) error {
		if len(e.args) == 0 {
			return usageError{"missing subcommand\n" + tenantUsage}
		}
		sub, rest := e.args[0], e.args[1:]
		sfs := flag.NewFlagSet("clientiq tenant "+sub, flag.ContinueOnError)
		sfs.SetOutput(e.stderr)
		var (
			slug    = sfs.String("slug", "", "tenant slug (create)")
			name    = sfs.String("name", "", "tenant name (create)")
			domain  = sfs.String("domain", "", "primary domain (create; default <slug>.<BASE_DOMAIN>)")
			asJSON  = sfs.Bool("json", false, "print JSON (list)")
			add     = sfs.String("add", "", "add a domain (domains)")
			remove  = sfs.String("remove", "", "remove a domain (domains)")
			primary = sfs.String("primary", "", "make a domain primary (domains)")
		)
		// Positional slug first, flags after (clientiq tenant domains acme --add x).
		var pos []string
		for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			pos, rest = append(pos, rest[0]), rest[1:]
		}
		if err := sfs.Parse(rest); err != nil {
			return usageError{err.Error()}
		}
		pos = append(pos, sfs.Args()...)

		d, err := open(ctx, e, true)
		if err != nil {
			return err
		}
		defer d.Close()
		svc, err := d.tenantService()
		if err != nil {
			return err
		}
		// Before d.Close: the delayed second invalidation needs the cache.
		defer svc.WaitForgotten()
		one := func() (string, error) {
			if len(pos) != 1 {
				return "", usageError{"expected one tenant slug\n" + tenantUsage}
			}
			return pos[0], nil
		}
		var t *tenant.Tenant
		switch sub {
		case "create":
			t, err = svc.Create(ctx, tenant.CreateInput{Slug: *slug, Name: *name, Domain: *domain})
		case "list":
			ts, err := svc.List(ctx)
			if err != nil {
				return cliErr(err)
			}
			return printTenants(e, ts, *asJSON)
		case "suspend", "reactivate", "delete", "restore":
			s, uerr := one()
			if uerr != nil {
				return uerr
			}
			switch sub {
			case "suspend":
				t, err = svc.Suspend(ctx, s)
			case "reactivate":
				t, err = svc.Reactivate(ctx, s)
			case "restore":
				t, err = svc.Restore(ctx, s)
			case "delete":
				var due time.Time
				t, due, err = svc.Delete(ctx, s)
				if err == nil {
					fmt.Fprintf(e.stdout, "tenant %s is pending deletion; its schema is dropped after %s unless restored\n",
						s, due.UTC().Format(time.RFC3339))
				}
			}
		case "domains":
			s, uerr := one()
			if uerr != nil {
				return uerr
			}
			n := 0
			for _, v := range []string{*add, *remove, *primary} {
				if v != "" {
					n++
				}
			}
			switch {
			case n > 1:
				return usageError{"use one of --add, --remove, --primary"}
			case *add != "":
				t, err = svc.AddDomain(ctx, s, *add)
			case *remove != "":
				t, err = svc.RemoveDomain(ctx, s, *remove)
			case *primary != "":
				t, err = svc.SetPrimary(ctx, s, *primary)
			default:
				t, err = svc.Get(ctx, s)
			}
			if err == nil {
				for _, dm := range t.Domains {
					mark := ""
					if dm.IsPrimary {
						mark = " (primary)"
					}
					fmt.Fprintf(e.stdout, "%s%s\n", dm.Domain, mark)
				}
				return nil
			}
		default:
			return usageError{fmt.Sprintf("unknown tenant subcommand %q\n%s", sub, tenantUsage)}
		}
		if err != nil {
			return cliErr(err)
		}
		if sub != "delete" {
			fmt.Fprintf(e.stdout, "tenant %s (%s): %s, schema %s\n", t.Slug, t.Name, t.Status, t.Schema)
		}
		return nil
	}
}

// cliErr turns an apperr into one clear line (with its field details).
func cliErr(err error) error {
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		return err
	}
	msg := ae.Message
	for f, probs := range ae.Fields {
		msg += fmt.Sprintf("; %s %s", f, strings.Join(probs, ", "))
	}
	if ae.Code == apperr.CodeValidation {
		return usageError{msg}
	}
	return fmt.Errorf("%s: %s", ae.Code, msg)
}

func printTenants(e *env, ts []*tenant.Tenant, asJSON bool) error {
	if asJSON {
		if ts == nil {
			ts = []*tenant.Tenant{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ts)
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SLUG\tNAME\tSTATUS\tSCHEMA\tPRIMARY DOMAIN")
	for _, t := range ts {
		primary := ""
		if len(t.Domains) > 0 && t.Domains[0].IsPrimary {
			primary = t.Domains[0].Domain
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.Slug, t.Name, t.Status, t.Schema, primary)
	}
	return w.Flush()
}
