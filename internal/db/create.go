package db

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnsureDatabase creates the database named in cfg.URL when it does not
// exist, connecting to the server's "postgres" database to do so. It
// reports whether it created one. It is for development set-up (`make run`)
// and tests; production databases are created by their operators.
func EnsureDatabase(ctx context.Context, cfg Config) (bool, error) {
	pcfg, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		return false, errors.New("parse DATABASE_URL: invalid connection URL")
	}
	name := pcfg.Database
	if name == "" {
		return false, errors.New("DATABASE_URL names no database")
	}
	pcfg.Database = "postgres"
	pcfg.ConnectTimeout = cmp.Or(cfg.ConnectTimeout, 5*time.Second)
	cctx, cancel := context.WithTimeout(ctx, pcfg.ConnectTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, pcfg)
	if err != nil {
		return false, fmt.Errorf("%w: %s", ErrUnreachable, describeConnError(err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return false, fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return false, nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+QuoteIdent(name)); err != nil {
		if HasCode(err, "42P04") { // created concurrently
			return false, nil
		}
		return false, fmt.Errorf("create database %s: %w", name, err)
	}
	return true, nil
}
