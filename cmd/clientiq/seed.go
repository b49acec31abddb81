package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/clientiq/clientiq/internal/config"
	"github.com/clientiq/clientiq/internal/demo"
)

func seedFlags(fs *flag.FlagSet) func(context.Context, *env) error {
	force := fs.Bool("force", false, "seed outside the local profile too")
	return func(ctx context.Context, e *env) error {
		d, err := open(ctx, e, false)
		if err != nil {
			return err
		}
		defer d.Close()
		if d.cfg.Profile != config.ProfileLocal && !*force {
			return usageError{"demo data is only seeded in the local profile (use --force to override)"}
		}
		res, err := demo.Seed(ctx, d.ent, d.cfg.BaseDomain)
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
