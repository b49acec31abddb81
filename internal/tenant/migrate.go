package tenant

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// MigrateOptions tune MigrateAll.
type MigrateOptions struct {
	// Concurrency is how many schemas migrate at once. Default 4.
	Concurrency int
	// Slug limits the run to one tenant.
	Slug string
	// Progress, when set, is called after each schema.
	Progress func(p Progress)
}

// Progress is the state of a fleet migration.
type Progress struct {
	Done, Failed, Total int
	Elapsed             time.Duration
}

// Rate returns schemas per second so far.
func (p Progress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Done+p.Failed) / p.Elapsed.Seconds()
}

// ETA estimates the time left.
func (p Progress) ETA() time.Duration {
	r := p.Rate()
	if r == 0 {
		return 0
	}
	return time.Duration(float64(p.Total-p.Done-p.Failed)/r) * time.Second
}

// MigrateResult summarizes a fleet migration.
type MigrateResult struct {
	// Behind is how many schemas needed migrations.
	Behind   int
	Migrated int
	// Failures maps a schema to its error.
	Failures map[string]error
	Elapsed  time.Duration
}

// MigrateAll brings every tenant schema (or one, with opts.Slug) to the
// latest tenant migration. One query finds the schemas that are behind, so
// a run with nothing to do costs one round trip whatever the tenant count.
// Each schema migrates in its own transaction; one schema's failure does
// not stop the others, and a rerun resumes where it failed.
func (s *Service) MigrateAll(ctx context.Context, opts MigrateOptions) (*MigrateResult, error) {
	start := time.Now()
	latest := s.LatestVersion()
	res := &MigrateResult{Failures: map[string]error{}}
	if latest == "" {
		return res, nil
	}
	q := `SELECT t.schema_name, coalesce(v.version, '') FROM public.tenants t
		LEFT JOIN public.schema_versions v ON v.schema_name = t.schema_name
		WHERE v.version IS DISTINCT FROM $1`
	args := []any{latest}
	if opts.Slug != "" {
		if _, err := s.Get(ctx, opts.Slug); err != nil {
			return nil, err
		}
		q += " AND t.slug = $2"
		args = append(args, opts.Slug)
	}
	rows, err := s.pool.Query(ctx, q+" ORDER BY t.created_at", args...)
	if err != nil {
		return nil, fmt.Errorf("find schemas behind: %w", err)
	}
	type job struct{ schema, from string }
	jobs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (job, error) {
		var j job
		err := row.Scan(&j.schema, &j.from)
		return j, err
	})
	if err != nil {
		return nil, fmt.Errorf("find schemas behind: %w", err)
	}
	res.Behind = len(jobs)

	conc := max(opts.Concurrency, 1)
	if opts.Concurrency == 0 {
		conc = 4
	}
	work := make(chan job)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(conc, max(len(jobs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
					return s.migrateInTx(ctx, tx, j.schema, j.from)
				})
				mu.Lock()
				if err != nil {
					res.Failures[j.schema] = err
					s.logger.ErrorContext(ctx, "tenant_migration_failed", slog.String("schema", j.schema), slog.Any("error", err))
				} else {
					res.Migrated++
				}
				p := Progress{Done: res.Migrated, Failed: len(res.Failures), Total: len(jobs), Elapsed: time.Since(start)}
				mu.Unlock()
				if opts.Progress != nil {
					opts.Progress(p)
				}
			}
		}()
	}
	for _, j := range jobs {
		select {
		case work <- j:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	res.Elapsed = time.Since(start)
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, nil
}
