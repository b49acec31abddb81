package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/clientiq/clientiq/internal/config"
	"github.com/clientiq/clientiq/internal/demo"
	"github.com/clientiq/clientiq/internal/tenant"
)

func seedFlags(fs *flag.FlagSet) func(context.Context, *env) error {
	force := fs.Bool("force", false, "seed outside the local profile too")
	return func(ctx context.Context, e *env) error {
		// With the cache: provisioning invalidates the hosts a running
		// server may have cached as unknown.
		d, err := open(ctx, e, true)
		if err != nil {
			return err
		}
		defer d.Close()
		if d.cfg.Profile != config.ProfileLocal && !*force {
			return usageError{"demo data is only seeded in the local profile (use --force to override)"}
		}
		svc, err := d.tenantService()
		if err != nil {
			return err
		}
		create := func(ctx context.Context, slug, name, domain string) error {
			_, err := svc.Create(ctx, tenant.CreateInput{Slug: slug, Name: name, Domain: domain})
			return err
		}
		res, err := demo.Seed(ctx, create, d.cfg.BaseDomain)
		if err != nil {
			return err
		}
		if !res.Created {
			fmt.Fprintf(e.stdout, "demo tenant %q already exists; nothing seeded\n", res.Slug)
			return nil
		}
		fmt.Fprintf(e.stdout, "seeded demo tenant %q at %s\n", res.Slug, res.Domain)
		return nil
	}
}
