package main

import (
	"context"
	"flag"
	"fmt"
)

func staffFlags(fs *flag.FlagSet) func(context.Context, *env) error {
	email := fs.String("email", "", "the staff member's email (required)")
	name := fs.String("name", "", "their name (for a new account)")
	return func(ctx context.Context, e *env) error {
		if *email == "" {
			return usageError{"--email is required"}
		}
		d, err := open(ctx, e, true)
		if err != nil {
			return err
		}
		defer d.Close()
		tenants, err := d.tenantService()
		if err != nil {
			return err
		}
		authSvc, err := d.authService(ctx, tenants)
		if err != nil {
			return err
		}
		created, password, err := authSvc.EnsureStaff(ctx, *email, *name)
		if err != nil {
			return cliErr(err)
		}
		if !created {
			fmt.Fprintf(e.stdout, "%s is platform staff\n", *email)
			return nil
		}
		fmt.Fprintf(e.stdout, "created platform staff account %s\n  password: %s   (shown once; only its hash is stored)\n", *email, password)
		return nil
	}
}
