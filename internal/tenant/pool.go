package tenant

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/internal/db"
)

// The warm pool: schemas created and fully migrated ahead of time, so
// provisioning renames one (a catalog update) instead of running every
// tenant migration while the user waits. A pool schema is recorded in
// public.schema_versions like a tenant schema, under a name no slug can
// produce (slugs start with a letter or digit, so "tenant__" is free).
const poolPrefix = "tenant__pool_"

// claimPooled renames a warm pool schema to schema inside tx and brings it
// to the latest version; it reports false when the pool is empty. A
// rollback of tx returns the schema to the pool.
func (s *Service) claimPooled(ctx context.Context, tx pgx.Tx, schema string) (bool, error) {
	var pooled, version string
	err := tx.QueryRow(ctx, `SELECT schema_name, version FROM public.schema_versions
		WHERE schema_name LIKE 'tenant\_\_pool\_%' ORDER BY updated_at LIMIT 1
		FOR UPDATE SKIP LOCKED`).Scan(&pooled, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim pooled schema: %w", err)
	}
	if _, err := tx.Exec(ctx, "ALTER SCHEMA "+db.QuoteIdent(pooled)+" RENAME TO "+db.QuoteIdent(schema)); err != nil {
		return false, fmt.Errorf("rename pooled schema: %w", err)
	}
	if _, err := tx.Exec(ctx, "UPDATE public.schema_versions SET schema_name = $2 WHERE schema_name = $1", pooled, schema); err != nil {
		return false, fmt.Errorf("rename pooled schema version: %w", err)
	}
	if err := s.migrateInTx(ctx, tx, schema, version); err != nil {
		return false, err
	}
	return true, nil
}

// FillPool creates warm pool schemas until target are ready and returns
// how many it created. Each is created and migrated in its own
// transaction; several replicas filling at once may overshoot a little.
func (s *Service) FillPool(ctx context.Context, target int) (int, error) {
	var have int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM public.schema_versions
		WHERE schema_name LIKE 'tenant\_\_pool\_%'`).Scan(&have); err != nil {
		return 0, fmt.Errorf("count pooled schemas: %w", err)
	}
	created := 0
	for ; have+created < target; created++ {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		name := poolPrefix + hex.EncodeToString(b)
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "CREATE SCHEMA "+db.QuoteIdent(name)); err != nil {
				return err
			}
			return s.migrateInTx(ctx, tx, name, "")
		})
		if err != nil {
			return created, fmt.Errorf("create pooled schema: %w", err)
		}
	}
	return created, nil
}

// KeepPoolFilled refills the warm pool to target every interval and soon
// after each provisioning, until ctx ends. target 0 disables the pool.
func (s *Service) KeepPoolFilled(ctx context.Context, target int, interval time.Duration) {
	if target <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.FillPool(ctx, target); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.logger.WarnContext(ctx, "tenant_pool_fill_failed", slog.Any("error", err))
		} else if n > 0 {
			s.logger.DebugContext(ctx, "tenant_pool_filled", slog.Int("created", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.claimed:
		}
	}
}
