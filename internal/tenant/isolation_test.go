package tenant_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/ent/dataitem"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
)

// The isolation proof: many tenants, many concurrent operations through the
// scoped clients on a small shared pool, a fifth of them cancelled at a
// random point, and afterwards every row is where its name says it belongs.
const (
	isoTenants         = 50
	isoSeedProjects    = 3
	isoSeedItems       = 2 // per seeded project
	isoOps             = 1500
	isoConcurrency     = 64
	isoPoolConns       = 16
	isoProvisioners    = 8
	isoCancelledShare  = 0.2
	isoMaxTimeout      = 3 * time.Millisecond
	isoMaxCancelDelay  = 500 * time.Microsecond
	isoDefaultSearch   = `"$user", public`
	isoWritePrefixMark = "w"
)

// isoPrefix is what every project name and item title of a tenant starts
// with. The brackets keep "iso-t01" from matching "iso-t011".
func isoPrefix(slug string) string { return "[" + slug + "] " }

// isoOutcome is what the run recorded for one write.
type isoOutcome struct {
	slug        string
	cancellable bool
	ok          bool
}

// isoRun gathers the results of the concurrent operations.
type isoRun struct {
	reads, writes, cancelled, cancellableDone atomic.Int64
	// latencyNS is a running average of an operation's duration, so late
	// cancellations can be aimed anywhere in an operation's life.
	latencyNS atomic.Int64

	mu         sync.Mutex
	writesByID map[string]isoOutcome // project name → outcome
	violations []string
}

func (r *isoRun) violate(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.violations = append(r.violations, fmt.Sprintf(format, args...))
}

func (r *isoRun) recordWrite(name string, o isoOutcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writesByID[name] = o
}

// isoProvision creates n tenants, at most isoProvisioners at a time, and
// seeds each with projects and items named after it.
func isoProvision(t *testing.T, d *dbtest.DB, clients *db.Clients, n int) []*tenancy.Tenant {
	t.Helper()
	ctx := context.Background()
	svc, err := tenant.NewService(tenant.Config{
		Pool:       d.Pool,
		Cache:      cache.NewMemory(0),
		Logger:     slog.New(slog.DiscardHandler),
		BaseDomain: "iso.test",
	})
	require.NoError(t, err)

	tenants := make([]*tenancy.Tenant, n)
	errs := make([]error, n)
	sem := make(chan struct{}, isoProvisioners)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			slug := fmt.Sprintf("iso-t%02d", i)
			created, err := svc.Create(ctx, tenant.CreateInput{Slug: slug, Name: "Isolation " + slug})
			if err != nil {
				errs[i] = fmt.Errorf("create %s: %w", slug, err)
				return
			}
			tenants[i] = &created.Tenant
			errs[i] = isoSeed(tenancy.WithTenant(ctx, tenants[i]), clients)
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	return tenants
}

// isoSeed gives the tenant in ctx its seed projects and items.
func isoSeed(ctx context.Context, clients *db.Clients) error {
	tn, err := tenancy.Require(ctx)
	if err != nil {
		return err
	}
	return clients.TenantTx(ctx, func(tx *ent.Tx) error {
		for p := range isoSeedProjects {
			proj, err := tx.Project.Create().SetName(fmt.Sprintf("%sseed %d", isoPrefix(tn.Slug), p)).Save(ctx)
			if err != nil {
				return err
			}
			for i := range isoSeedItems {
				title := fmt.Sprintf("%sseed %d item %d", isoPrefix(tn.Slug), p, i)
				if _, err := tx.DataItem.Create().SetProject(proj).SetTitle(title).Save(ctx); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// isoLoadClients is a Clients over a pool of its own, smaller than the
// number of concurrent operations, so connections are handed from tenant to
// tenant all the time.
func isoLoadClients(t *testing.T, url string) (*db.Clients, *pgxpool.Pool) {
	t.Helper()
	pcfg, err := pgxpool.ParseConfig(url)
	require.NoError(t, err)
	pcfg.MaxConns = isoPoolConns
	pool, err := pgxpool.NewWithConfig(context.Background(), pcfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return db.NewClients(pool), pool
}

// isoContextErr reports whether err comes from the operation's context
// being cancelled or timing out.
func isoContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// isoOp runs one operation for tn and records what it saw.
func isoOp(base context.Context, clients *db.Clients, tn *tenancy.Tenant, id int, run *isoRun) {
	ctx := tenancy.WithTenant(base, tn)
	cancellable := rand.Float64() < isoCancelledShare
	if cancellable {
		var cancel context.CancelFunc
		switch rand.IntN(3) {
		case 0: // a short deadline, often gone before a connection is free
			ctx, cancel = context.WithTimeout(ctx, rand.N(isoMaxTimeout))
		case 1: // cancelled right after the start
			ctx, cancel = context.WithCancel(ctx)
			time.AfterFunc(rand.N(isoMaxCancelDelay), cancel)
		default: // cancelled anywhere in a typical operation, COMMIT included
			ctx, cancel = context.WithCancel(ctx)
			time.AfterFunc(rand.N(2*time.Duration(max(run.latencyNS.Load(), 1))), cancel)
		}
		defer cancel()
	}
	began := time.Now()
	defer func() {
		// An exponential moving average is enough to aim the cancellations.
		d := time.Since(began).Nanoseconds()
		old := run.latencyNS.Load()
		run.latencyNS.CompareAndSwap(old, old+(d-old)/16)
	}()
	prefix := isoPrefix(tn.Slug)

	var err error
	switch k := rand.IntN(10); {
	case k < 5:
		err = isoList(ctx, clients, prefix, run)
	case k < 7:
		err = isoCount(ctx, clients, prefix, run)
	default:
		name := fmt.Sprintf("%s%s%05d", prefix, isoWritePrefixMark, id)
		err = isoWrite(ctx, clients, name)
		run.recordWrite(name, isoOutcome{slug: tn.Slug, cancellable: cancellable, ok: err == nil})
		if err == nil {
			run.writes.Add(1)
		}
	}
	switch {
	case err == nil && cancellable:
		run.cancellableDone.Add(1)
	case err == nil:
	case cancellable && isoContextErr(err):
		run.cancelled.Add(1)
	case cancellable:
		run.violate("op %d for %s: cancelled with a non-context error: %v", id, tn.Slug, err)
	default:
		run.violate("op %d for %s: %v", id, tn.Slug, err)
	}
}

// isoList lists the tenant's projects with their items and checks every
// row is the tenant's own.
func isoList(ctx context.Context, clients *db.Clients, prefix string, run *isoRun) error {
	c, err := clients.Tenant(ctx)
	if err != nil {
		return err
	}
	projects, err := c.Project.Query().WithItems().All(ctx)
	if err != nil {
		return err
	}
	if len(projects) < isoSeedProjects {
		run.violate("%s listed %d projects, fewer than its %d seeds", prefix, len(projects), isoSeedProjects)
	}
	for _, p := range projects {
		if !strings.HasPrefix(p.Name, prefix) {
			run.violate("%s read foreign project %q", prefix, p.Name)
		}
		for _, it := range p.Edges.Items {
			if !strings.HasPrefix(it.Title, prefix) {
				run.violate("%s read foreign item %q", prefix, it.Title)
			}
			if it.ProjectID != p.ID {
				run.violate("%s item %q eager-loaded under the wrong project", prefix, it.Title)
			}
		}
	}
	run.reads.Add(1)
	return nil
}

// isoCount counts the tenant's projects and any item not named after it.
func isoCount(ctx context.Context, clients *db.Clients, prefix string, run *isoRun) error {
	c, err := clients.Tenant(ctx)
	if err != nil {
		return err
	}
	n, err := c.Project.Query().Count(ctx)
	if err != nil {
		return err
	}
	foreign, err := c.DataItem.Query().Where(dataitem.Not(dataitem.TitleHasPrefix(prefix))).Count(ctx)
	if err != nil {
		return err
	}
	if n < isoSeedProjects {
		run.violate("%s counted %d projects, fewer than its %d seeds", prefix, n, isoSeedProjects)
	}
	if foreign != 0 {
		run.violate("%s counted %d foreign items", prefix, foreign)
	}
	run.reads.Add(1)
	return nil
}

// isoWrite creates a project and one item in a transaction of the tenant in
// ctx.
func isoWrite(ctx context.Context, clients *db.Clients, name string) error {
	return clients.TenantTx(ctx, func(tx *ent.Tx) error {
		p, err := tx.Project.Create().SetName(name).Save(ctx)
		if err != nil {
			return err
		}
		_, err = tx.DataItem.Create().SetProject(p).SetTitle(name + " item").Save(ctx)
		return err
	})
}

// isoRow is a project found in a schema after the run, with its items.
type isoRow struct {
	name   string
	titles []string
}

// isoRows reads every project and item of schema with SQL that names the
// schema itself, bypassing ent and the clients under test.
func isoRows(t *testing.T, pool *pgxpool.Pool, schema string) []isoRow {
	t.Helper()
	q := fmt.Sprintf(`SELECT p.name, coalesce(array_agg(i.title ORDER BY i.title) FILTER (WHERE i.id IS NOT NULL), '{}')
		FROM %s p LEFT JOIN %s i ON i.project_id = p.id GROUP BY p.id, p.name`,
		pgx.Identifier{schema, "projects"}.Sanitize(), pgx.Identifier{schema, "data_items"}.Sanitize())
	rows, err := pool.Query(context.Background(), q)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (isoRow, error) {
		var r isoRow
		err := row.Scan(&r.name, &r.titles)
		return r, err
	})
	require.NoError(t, err)
	return out
}

func TestIsolationUnderConcurrentLoad(t *testing.T) {
	t.Parallel()

	start := time.Now()
	d := dbtest.New(t)
	clients, loadPool := isoLoadClients(t, d.URL)
	tenants := isoProvision(t, d, clients, isoTenants)
	provisioned := time.Since(start)

	run := &isoRun{writesByID: map[string]isoOutcome{}}
	ctx := context.Background()
	sem := make(chan struct{}, isoConcurrency)
	var wg sync.WaitGroup
	loadStart := time.Now()
	for id := range isoOps {
		tn := tenants[rand.IntN(len(tenants))]
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			isoOp(ctx, clients, tn, id, run)
		})
	}
	wg.Wait()
	loaded := time.Since(loadStart)

	t.Run("no operation saw a foreign row or failed for another reason than its context", func(t *testing.T) {
		require.Empty(t, run.violations)
	})

	t.Run("every row sits in the schema of the tenant it names", func(t *testing.T) {
		found := map[string]string{} // write name → schema it was found in
		for _, tn := range tenants {
			prefix := isoPrefix(tn.Slug)
			seeds := 0
			for _, r := range isoRows(t, d.Pool, tn.Schema) {
				require.True(t, strings.HasPrefix(r.name, prefix), "project %q in %s", r.name, tn.Schema)
				for _, title := range r.titles {
					require.True(t, strings.HasPrefix(title, prefix), "item %q in %s", title, tn.Schema)
				}
				if strings.HasPrefix(r.name, prefix+"seed ") {
					seeds++
					require.Len(t, r.titles, isoSeedItems, r.name)
					continue
				}
				// A write's project and its item commit together or not at all.
				require.Equal(t, []string{r.name + " item"}, r.titles, "items of %q", r.name)
				found[r.name] = tn.Schema
			}
			require.Equal(t, isoSeedProjects, seeds, tn.Schema)
		}

		var reportedOK, inDoubt int
		perTenantOK := map[string]int{}
		perTenantInDoubt := map[string]int{}
		perTenantFound := map[string]int{}
		for name, o := range run.writesByID {
			schema, ok := found[name]
			if ok {
				perTenantFound[o.slug]++
				require.Equal(t, tenancy.SchemaName(o.slug), schema, name)
			}
			switch {
			case o.ok:
				reportedOK++
				perTenantOK[o.slug]++
				require.True(t, ok, "write %q reported success but is not in %s", name, tenancy.SchemaName(o.slug))
			case ok:
				// Cancelled while COMMIT was in flight: PostgreSQL committed
				// but the answer never reached the caller. No client can
				// tell these apart from a rollback; they are still in the
				// right schema.
				require.True(t, o.cancellable, "write %q failed without cancellation but committed", name)
				inDoubt++
				perTenantInDoubt[o.slug]++
			}
		}
		require.Len(t, found, reportedOK+inDoubt, "rows from writes nobody issued")
		for _, tn := range tenants {
			require.Equal(t, perTenantOK[tn.Slug]+perTenantInDoubt[tn.Slug], perTenantFound[tn.Slug],
				"rows found in %s == writes reported successful + commits in doubt", tn.Schema)
		}
		t.Logf("writes: %d reported successful, %d found, %d committed while their context was cancelled (in doubt)",
			reportedOK, len(found), inDoubt)
	})

	t.Run("no tenant table leaked into public", func(t *testing.T) {
		var n int
		err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY($1)`,
			ent.TenantTables).Scan(&n)
		require.NoError(t, err)
		require.Zero(t, n)
	})

	t.Run("every pooled connection keeps the default search_path", func(t *testing.T) {
		conns := loadPool.AcquireAllIdle(ctx)
		require.NotEmpty(t, conns)
		for _, c := range conns {
			var sp string
			err := c.QueryRow(ctx, "SHOW search_path").Scan(&sp)
			c.Release()
			require.NoError(t, err)
			require.Equal(t, isoDefaultSearch, sp)
		}
	})

	t.Logf("tenants=%d ops=%d reads=%d writes=%d cancelled=%d cancellable_but_finished=%d provision=%s load=%s",
		len(tenants), isoOps, run.reads.Load(), run.writes.Load(), run.cancelled.Load(), run.cancellableDone.Load(),
		provisioned.Round(time.Millisecond), loaded.Round(time.Millisecond))
}
