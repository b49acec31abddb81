package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/config"
	"github.com/clientiq/clientiq/internal/demo"
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
		tenants, err := d.tenantService()
		if err != nil {
			return err
		}
		// Wait for the delayed second cache invalidation before exiting.
		defer tenants.WaitForgotten()
		authSvc, err := d.authService(ctx, tenants)
		if err != nil {
			return err
		}
		signup := func(ctx context.Context, o demo.Owner) error {
			_, err := authSvc.Signup(ctx, auth.SignupInput{
				Email: o.Email, Password: o.Password, Name: o.Name,
				TenantName: o.TenantName, TenantSlug: o.TenantSlug,
			}, auth.Meta{})
			return err
		}
		res, err := demo.Seed(ctx, signup, d.cfg.BaseDomain)
		if err != nil {
			return err
		}
		if !res.Created {
			fmt.Fprintf(e.stdout, "demo tenant %q already exists; nothing seeded\n", res.Slug)
			return nil
		}
		fmt.Fprintf(e.stdout, "seeded demo tenant %q at %s\n", res.Slug, res.Domain)
		fmt.Fprintf(e.stdout, "  owner login: %s / %s   (shown once; only its hash is stored)\n", res.OwnerEmail, res.OwnerPassword)
		return nil
	}
}
