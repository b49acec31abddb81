package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/clientiq/clientiq/internal/config"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbmigrate"
)

func migrateFlags(fs *flag.FlagSet) func(context.Context, *env) error {
	createDB := fs.Bool("create-db", false, "create the database named in DATABASE_URL when it does not exist")
	return func(ctx context.Context, e *env) error {
		if len(e.args) > 0 {
			return usageError{"unexpected arguments: " + strings.Join(e.args, " ")}
		}
		if *createDB {
			cfg, err := config.Load(e.getenv)
			if err != nil {
				return err
			}
			created, err := db.EnsureDatabase(ctx, db.Config{URL: cfg.DatabaseURL, ConnectTimeout: cfg.DatabaseConnectTimeout})
			if err != nil {
				return err
			}
			if created {
				fmt.Fprintln(e.stdout, "created database")
			}
		}
		d, err := open(ctx, e, false)
		if err != nil {
			return err
		}
		defer d.Close()
		start := time.Now()
		res, err := dbmigrate.Public(ctx, d.db.Pool, d.logger)
		if err != nil {
			return err
		}
		d.logger.InfoContext(ctx, "migrate_complete",
			slog.Int("public_applied", len(res.Applied)),
			slog.Int("river_applied", res.RiverSteps),
			slog.Duration("elapsed", time.Since(start)))
		fmt.Fprintf(e.stdout, "public: %d migration(s) applied; river: %d applied (%s)\n",
			len(res.Applied), res.RiverSteps, time.Since(start).Round(time.Millisecond))
		return nil
	}
}
