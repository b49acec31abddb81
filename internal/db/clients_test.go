package db_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/ent/dataitem"
	"github.com/clientiq/clientiq/ent/project"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
)

// clientsFixture is a test database with two provisioned tenants.
type clientsFixture struct {
	db      *dbtest.DB
	clients *db.Clients
	a, b    *tenancy.Tenant
	ctxA    context.Context
	ctxB    context.Context
}

func newClientsFixture(t *testing.T) *clientsFixture {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	svc, err := tenant.NewService(tenant.Config{
		Pool:       d.Pool,
		Cache:      cache.NewMemory(0),
		Logger:     slog.New(slog.DiscardHandler),
		BaseDomain: "clientiq.test",
	})
	require.NoError(t, err)
	provision := func(slug string) *tenancy.Tenant {
		tn, err := svc.Create(ctx, tenant.CreateInput{Slug: slug, Name: strings.ToUpper(slug)})
		require.NoError(t, err)
		return &tn.Tenant
	}
	f := &clientsFixture{db: d, clients: db.NewClients(d.Pool), a: provision("alpha"), b: provision("bravo")}
	f.ctxA = tenancy.WithTenant(ctx, f.a)
	f.ctxB = tenancy.WithTenant(ctx, f.b)
	return f
}

// tenantClient returns the scoped client for the tenant in ctx.
func (f *clientsFixture) tenantClient(t *testing.T, ctx context.Context) *ent.Client {
	t.Helper()
	c, err := f.clients.Tenant(ctx)
	require.NoError(t, err)
	return c
}

// seed creates n projects with one item each in the tenant of ctx, named
// after the tenant's slug.
func (f *clientsFixture) seed(t *testing.T, ctx context.Context, n int) []*ent.Project {
	t.Helper()
	tn, err := tenancy.Require(ctx)
	require.NoError(t, err)
	c := f.tenantClient(t, ctx)
	projects := make([]*ent.Project, 0, n)
	for i := range n {
		p, err := c.Project.Create().SetName(fmt.Sprintf("%s project %d", tn.Slug, i)).Save(ctx)
		require.NoError(t, err)
		_, err = c.DataItem.Create().SetProject(p).SetTitle(fmt.Sprintf("%s item %d", tn.Slug, i)).Save(ctx)
		require.NoError(t, err)
		projects = append(projects, p)
	}
	return projects
}

// rawCount counts the rows of table in schema with SQL that names the
// schema itself, bypassing ent.
func rawCount(t *testing.T, pool *pgxpool.Pool, schema, table string) int {
	t.Helper()
	var n int
	err := pool.QueryRow(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{schema, table}.Sanitize()).Scan(&n)
	require.NoError(t, err)
	return n
}

// smallClients is a Clients over its own pool of one connection, so every
// query reuses the connection the previous one left behind.
func smallClients(t *testing.T, url string) (*db.Clients, *pgxpool.Pool) {
	t.Helper()
	pcfg, err := pgxpool.ParseConfig(url)
	require.NoError(t, err)
	pcfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(context.Background(), pcfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		// Close waits for every acquired connection; a transaction left
		// open would make it wait forever, so bound it and say why.
		closed := make(chan struct{})
		go func() {
			pool.Close()
			close(closed)
		}()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Error("a connection was never released (leaked transaction?)")
		}
	})
	return db.NewClients(pool), pool
}

func TestClientsPublic(t *testing.T) {
	t.Parallel()

	f := newClientsFixture(t)
	ctx := context.Background()
	f.seed(t, f.ctxA, 1)

	t.Run("reads public entities", func(t *testing.T) {
		t.Parallel()

		tenants, err := f.clients.Public().Tenant.Query().All(ctx)
		require.NoError(t, err)
		require.Len(t, tenants, 2)
		domains, err := f.clients.Public().Domain.Query().All(ctx)
		require.NoError(t, err)
		require.Len(t, domains, 2)
	})

	// Each case must fail with ErrNoTenant, which the interceptors return
	// before any SQL: had SQL run, PostgreSQL would have answered that the
	// placeholder schema's relation does not exist.
	denied := map[string]func(ctx context.Context, c *ent.Client) error{
		"project list": func(ctx context.Context, c *ent.Client) error {
			_, err := c.Project.Query().All(ctx)
			return err
		},
		"project count": func(ctx context.Context, c *ent.Client) error {
			_, err := c.Project.Query().Count(ctx)
			return err
		},
		"project exist": func(ctx context.Context, c *ent.Client) error {
			_, err := c.Project.Query().Exist(ctx)
			return err
		},
		"project ids": func(ctx context.Context, c *ent.Client) error {
			_, err := c.Project.Query().IDs(ctx)
			return err
		},
		"project get": func(ctx context.Context, c *ent.Client) error {
			_, err := c.Project.Get(ctx, uuid.New())
			return err
		},
		"project list with items": func(ctx context.Context, c *ent.Client) error {
			_, err := c.Project.Query().WithItems().All(ctx)
			return err
		},
		"project create": func(ctx context.Context, c *ent.Client) error {
			_, err := c.Project.Create().SetName("public leak").Save(ctx)
			return err
		},
		"project bulk create": func(ctx context.Context, c *ent.Client) error {
			_, err := c.Project.CreateBulk(c.Project.Create().SetName("public leak")).Save(ctx)
			return err
		},
		"project update": func(ctx context.Context, c *ent.Client) error {
			_, err := c.Project.Update().SetName("public leak").Save(ctx)
			return err
		},
		"project update one": func(ctx context.Context, c *ent.Client) error {
			_, err := c.Project.UpdateOneID(uuid.New()).SetName("public leak").Save(ctx)
			return err
		},
		"project delete": func(ctx context.Context, c *ent.Client) error {
			_, err := c.Project.Delete().Exec(ctx)
			return err
		},
		"project delete one": func(ctx context.Context, c *ent.Client) error {
			return c.Project.DeleteOneID(uuid.New()).Exec(ctx)
		},
		"data item list": func(ctx context.Context, c *ent.Client) error {
			_, err := c.DataItem.Query().All(ctx)
			return err
		},
		"data item count": func(ctx context.Context, c *ent.Client) error {
			_, err := c.DataItem.Query().Count(ctx)
			return err
		},
		"data item with project": func(ctx context.Context, c *ent.Client) error {
			_, err := c.DataItem.Query().WithProject().All(ctx)
			return err
		},
		"data item create": func(ctx context.Context, c *ent.Client) error {
			_, err := c.DataItem.Create().SetProjectID(uuid.New()).SetTitle("public leak").Save(ctx)
			return err
		},
		"data item delete": func(ctx context.Context, c *ent.Client) error {
			_, err := c.DataItem.Delete().Exec(ctx)
			return err
		},
	}

	t.Run("refuses tenant entities with ErrNoTenant", func(t *testing.T) {
		t.Parallel()

		for name, op := range denied {
			err := op(ctx, f.clients.Public())
			require.ErrorIs(t, err, tenancy.ErrNoTenant, name)
		}
	})

	t.Run("refuses tenant entities even with a tenant in the context", func(t *testing.T) {
		t.Parallel()

		for name, op := range denied {
			err := op(f.ctxA, f.clients.Public())
			require.ErrorIs(t, err, tenancy.ErrNoTenant, name)
		}
	})

	t.Run("refuses tenant entities inside a public transaction", func(t *testing.T) {
		t.Parallel()

		errs := map[string]error{}
		err := db.WithTx(ctx, f.clients.Public(), func(tx *ent.Tx) error {
			for name, op := range denied {
				errs[name] = op(ctx, tx.Client())
			}
			_, err := tx.Tenant.Query().Count(ctx)
			return err
		})
		require.NoError(t, err, "no denied statement reached PostgreSQL and aborted the transaction")
		for name, err := range errs {
			require.ErrorIs(t, err, tenancy.ErrNoTenant, name)
		}
	})

	t.Run("refuses tenant entities before sending any SQL", func(t *testing.T) {
		t.Parallel()

		// Over a closed database, any statement would fail with
		// sql.ErrConnDone-like errors; ErrNoTenant proves none was tried.
		closed, err := pgxpool.New(ctx, f.db.URL)
		require.NoError(t, err)
		closed.Close()
		public := db.NewClients(closed).Public()
		for name, op := range denied {
			err := op(ctx, public)
			require.ErrorIs(t, err, tenancy.ErrNoTenant, name)
		}
		_, err = public.Tenant.Query().All(ctx)
		require.Error(t, err)
		require.NotErrorIs(t, err, tenancy.ErrNoTenant, "public entities do reach the database")
	})

	t.Run("refuses every tenant-scoped entity and serves every public one", func(t *testing.T) {
		t.Parallel()

		// Driven by the generated SchemaConfig, so an entity added later is
		// covered without editing this test.
		const marker = "tenant_marker"
		cfg := reflect.ValueOf(ent.ScopedSchemaConfig(marker))
		public := reflect.ValueOf(f.clients.Public()).Elem()
		var scoped, shared int
		for i := range cfg.NumField() {
			name, schema := cfg.Type().Field(i).Name, cfg.Field(i).String()
			require.Contains(t, []string{marker, "public"}, schema, "SchemaConfig.%s must be placed", name)
			entClient := public.FieldByName(name)
			if !entClient.IsValid() {
				continue // an M2M join table has no client of its own
			}
			query := entClient.MethodByName("Query").Call(nil)[0]
			out := query.MethodByName("Count").Call([]reflect.Value{reflect.ValueOf(ctx)})
			err, _ := out[1].Interface().(error)
			if schema == marker {
				scoped++
				require.ErrorIs(t, err, tenancy.ErrNoTenant, "public client counting %s", name)
			} else {
				shared++
				require.NoError(t, err, "public client counting %s", name)
			}
		}
		require.GreaterOrEqual(t, scoped, 2)
		require.GreaterOrEqual(t, shared, 2)
	})

	t.Run("leaves tenant rows untouched", func(t *testing.T) {
		t.Parallel()

		require.Equal(t, 1, rawCount(t, f.db.Pool, f.a.Schema, "projects"))
		require.Equal(t, 1, rawCount(t, f.db.Pool, f.a.Schema, "data_items"))
	})
}

func TestClientsScope(t *testing.T) {
	t.Parallel()

	f := newClientsFixture(t)
	ctx := context.Background()

	t.Run("Tenant without a tenant in the context is ErrNoTenant", func(t *testing.T) {
		t.Parallel()

		c, err := f.clients.Tenant(ctx)
		require.Nil(t, c)
		require.ErrorIs(t, err, tenancy.ErrNoTenant)

		err = f.clients.TenantTx(ctx, func(*ent.Tx) error {
			t.Fatal("fn must not run without a tenant")
			return nil
		})
		require.ErrorIs(t, err, tenancy.ErrNoTenant)
	})

	t.Run("ForSchema refuses names that are not tenant schemas", func(t *testing.T) {
		t.Parallel()

		for _, schema := range []string{"public", `tenant_x"; DROP`, `tenant_x"; DROP SCHEMA public CASCADE; --`, "pg_catalog", "tenant_", "", "Tenant_alpha"} {
			c, err := f.clients.ForSchema(schema)
			require.Error(t, err, schema)
			require.Nil(t, c, schema)
		}
	})

	t.Run("Tenant refuses a tenant whose schema name is invalid", func(t *testing.T) {
		t.Parallel()

		bad := tenancy.WithTenant(ctx, &tenancy.Tenant{Slug: "evil", Schema: "public"})
		c, err := f.clients.Tenant(bad)
		require.Error(t, err)
		require.Nil(t, c)
	})

	t.Run("ForSchema reaches the named tenant", func(t *testing.T) {
		t.Parallel()

		c, err := f.clients.ForSchema(f.b.Schema)
		require.NoError(t, err)
		n, err := c.Project.Query().Count(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
	})

	t.Run("a tenant's client is reused, each schema keeps its own", func(t *testing.T) {
		t.Parallel()

		a1, err := f.clients.ForSchema(f.a.Schema)
		require.NoError(t, err)
		a2, err := f.clients.ForSchema(f.a.Schema)
		require.NoError(t, err)
		b, err := f.clients.ForSchema(f.b.Schema)
		require.NoError(t, err)
		require.Same(t, a1, a2)
		require.NotSame(t, a1, b)
		// Past the bound the cache starts over, and every schema still
		// gets a client scoped to it.
		for i := range 300 {
			_, err := f.clients.ForSchema(fmt.Sprintf("tenant_filler%d", i))
			require.NoError(t, err)
		}
		again, err := f.clients.ForSchema(f.b.Schema)
		require.NoError(t, err)
		n, err := again.Project.Query().Count(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
	})
}

func TestClientsTenantIsolation(t *testing.T) {
	t.Parallel()

	f := newClientsFixture(t)
	projectsA := f.seed(t, f.ctxA, 3)
	f.seed(t, f.ctxB, 2)
	clientA, clientB := f.tenantClient(t, f.ctxA), f.tenantClient(t, f.ctxB)

	t.Run("writes land in the tenant's own schema only", func(t *testing.T) {
		t.Parallel()

		require.Equal(t, 3, rawCount(t, f.db.Pool, f.a.Schema, "projects"))
		require.Equal(t, 3, rawCount(t, f.db.Pool, f.a.Schema, "data_items"))
		require.Equal(t, 2, rawCount(t, f.db.Pool, f.b.Schema, "projects"))
		require.Equal(t, 2, rawCount(t, f.db.Pool, f.b.Schema, "data_items"))

		var inPublic bool
		err := f.db.Pool.QueryRow(context.Background(),
			"SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('projects', 'data_items'))").Scan(&inPublic)
		require.NoError(t, err)
		require.False(t, inPublic, "tenant tables must never exist in public")
	})

	t.Run("reads see only the tenant's own rows", func(t *testing.T) {
		t.Parallel()

		for _, tc := range []struct {
			ctx    context.Context
			c      *ent.Client
			slug   string
			expect int
		}{{f.ctxA, clientA, f.a.Slug, 3}, {f.ctxB, clientB, f.b.Slug, 2}} {
			projects, err := tc.c.Project.Query().WithItems().All(tc.ctx)
			require.NoError(t, err)
			require.Len(t, projects, tc.expect)
			for _, p := range projects {
				require.True(t, strings.HasPrefix(p.Name, tc.slug+" "), p.Name)
				require.Len(t, p.Edges.Items, 1, "eager-loaded items of %s", p.Name)
				require.True(t, strings.HasPrefix(p.Edges.Items[0].Title, tc.slug+" "), p.Edges.Items[0].Title)
				require.Equal(t, p.ID, p.Edges.Items[0].ProjectID)
			}
			n, err := tc.c.DataItem.Query().Where(dataitem.HasProjectWith(project.NameHasPrefix(tc.slug))).Count(tc.ctx)
			require.NoError(t, err)
			require.Equal(t, tc.expect, n, "edge predicate joins inside the tenant schema")
		}
	})

	t.Run("the data item edge resolves inside the tenant schema", func(t *testing.T) {
		t.Parallel()

		items, err := clientA.DataItem.Query().WithProject().All(f.ctxA)
		require.NoError(t, err)
		require.Len(t, items, 3)
		for _, it := range items {
			require.NotNil(t, it.Edges.Project)
			require.True(t, strings.HasPrefix(it.Edges.Project.Name, f.a.Slug+" "))
			p, err := clientA.DataItem.QueryProject(it).Only(f.ctxA)
			require.NoError(t, err)
			require.Equal(t, it.ProjectID, p.ID)
		}
		items, err = clientA.Project.QueryItems(projectsA[0]).All(f.ctxA)
		require.NoError(t, err)
		require.Len(t, items, 1)
	})

	t.Run("another tenant cannot read, update or delete a row by id", func(t *testing.T) {
		t.Parallel()

		victim := projectsA[1]
		_, err := clientB.Project.Get(f.ctxB, victim.ID)
		require.True(t, ent.IsNotFound(err), "get: %v", err)
		_, err = clientB.Project.UpdateOneID(victim.ID).SetName("stolen").Save(f.ctxB)
		require.True(t, ent.IsNotFound(err), "update: %v", err)
		err = clientB.Project.DeleteOneID(victim.ID).Exec(f.ctxB)
		require.True(t, ent.IsNotFound(err), "delete: %v", err)
		n, err := clientB.Project.Update().Where(project.ID(victim.ID)).SetName("stolen").Save(f.ctxB)
		require.NoError(t, err)
		require.Zero(t, n)

		got, err := clientA.Project.Get(f.ctxA, victim.ID)
		require.NoError(t, err)
		require.Equal(t, victim.Name, got.Name)
	})

	t.Run("another tenant cannot attach an item to a foreign project", func(t *testing.T) {
		t.Parallel()

		_, err := clientB.DataItem.Create().SetProjectID(projectsA[2].ID).SetTitle("bravo intruder").Save(f.ctxB)
		require.Error(t, err, "the foreign key lives in bravo's schema, where alpha's project does not exist")
		require.Equal(t, 3, rawCount(t, f.db.Pool, f.a.Schema, "data_items"))
	})
}

func TestClientsTenantTx(t *testing.T) {
	t.Parallel()

	f := newClientsFixture(t)
	// One connection: a transaction left open by a failure would block or
	// break the next statement.
	clients, _ := smallClients(t, f.db.URL)
	countA := func() int { return rawCount(t, f.db.Pool, f.a.Schema, "projects") }

	t.Run("commits when fn returns nil", func(t *testing.T) {
		err := clients.TenantTx(f.ctxA, func(tx *ent.Tx) error {
			p, err := tx.Project.Create().SetName("alpha committed").Save(f.ctxA)
			if err != nil {
				return err
			}
			_, err = tx.DataItem.Create().SetProject(p).SetTitle("alpha committed item").Save(f.ctxA)
			return err
		})
		require.NoError(t, err)
		require.Equal(t, 1, countA())
		require.Equal(t, 1, rawCount(t, f.db.Pool, f.a.Schema, "data_items"))
		require.Zero(t, rawCount(t, f.db.Pool, f.b.Schema, "projects"))
	})

	t.Run("rolls back when fn returns an error", func(t *testing.T) {
		boom := errors.New("boom")
		err := clients.TenantTx(f.ctxA, func(tx *ent.Tx) error {
			if _, err := tx.Project.Create().SetName("alpha rolled back").Save(f.ctxA); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom)
		require.Equal(t, 1, countA())
	})

	t.Run("rolls back and re-panics when fn panics", func(t *testing.T) {
		require.PanicsWithValue(t, "kaboom", func() {
			_ = clients.TenantTx(f.ctxA, func(tx *ent.Tx) error {
				if _, err := tx.Project.Create().SetName("alpha panicked").Save(f.ctxA); err != nil {
					return err
				}
				panic("kaboom")
			})
		})
		require.Equal(t, 1, countA())

		// The single connection came back usable and outside a transaction.
		c, err := clients.Tenant(f.ctxB)
		require.NoError(t, err)
		_, err = c.Project.Create().SetName("bravo after panic").Save(f.ctxB)
		require.NoError(t, err)
		require.Equal(t, 1, rawCount(t, f.db.Pool, f.b.Schema, "projects"))
		require.Equal(t, 1, countA())
	})

	t.Run("rolls back when fn exits its goroutine", func(t *testing.T) {
		// runtime.Goexit is what t.FailNow does inside fn; recover cannot
		// see it, and a transaction left open would hold the only
		// connection.
		exited := make(chan struct{})
		go func() {
			defer close(exited)
			_ = clients.TenantTx(f.ctxA, func(tx *ent.Tx) error {
				if _, err := tx.Project.Create().SetName("alpha goexit").Save(f.ctxA); err != nil {
					return err
				}
				runtime.Goexit()
				return nil
			})
		}()
		<-exited
		require.Equal(t, 1, countA())

		ctx, cancel := context.WithTimeout(f.ctxB, 5*time.Second)
		defer cancel()
		c, err := clients.Tenant(ctx)
		require.NoError(t, err)
		_, err = c.Project.Query().Count(ctx)
		require.NoError(t, err, "the connection was released")
	})

	t.Run("a commit after the context ended reports the context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(f.ctxA)
		defer cancel()
		err := clients.TenantTx(ctx, func(tx *ent.Tx) error {
			if _, err := tx.Project.Create().SetName("alpha cancelled before commit").Save(ctx); err != nil {
				return err
			}
			cancel() // WithTx then commits under the ended context
			return nil
		})
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, 1, countA())
	})

	t.Run("rolls back when the context is cancelled mid-transaction", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(f.ctxA, 150*time.Millisecond)
		defer cancel()
		err := clients.TenantTx(ctx, func(tx *ent.Tx) error {
			if _, err := tx.Project.Create().SetName("alpha cancelled").Save(ctx); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "SELECT pg_sleep(2)")
			return err
		})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Equal(t, 1, countA())
	})
}

func TestClientsCancellation(t *testing.T) {
	t.Parallel()

	f := newClientsFixture(t)
	f.seed(t, f.ctxA, 2)
	f.seed(t, f.ctxB, 3)
	clients, pool := smallClients(t, f.db.URL)

	// assertOwnRows lists projects through the tenant in ctx and checks that
	// every row is that tenant's.
	assertOwnRows := func(t *testing.T, ctx context.Context, want int) {
		t.Helper()
		tn, err := tenancy.Require(ctx)
		require.NoError(t, err)
		c, err := clients.Tenant(ctx)
		require.NoError(t, err)
		projects, err := c.Project.Query().WithItems().All(ctx)
		require.NoError(t, err)
		require.Len(t, projects, want)
		for _, p := range projects {
			require.True(t, strings.HasPrefix(p.Name, tn.Slug+" "), p.Name)
			for _, it := range p.Edges.Items {
				require.True(t, strings.HasPrefix(it.Title, tn.Slug+" "), it.Title)
			}
		}
	}
	// assertDefaultSearchPath checks the pooled connection was never SET to
	// a tenant schema.
	assertDefaultSearchPath := func(t *testing.T) {
		t.Helper()
		// The pool has one connection: the one every client used.
		var viaPool string
		require.NoError(t, pool.QueryRow(context.Background(), "SHOW search_path").Scan(&viaPool))
		require.Equal(t, `"$user", public`, viaPool)
	}

	t.Run("a raw query on the shared pool cancelled mid-flight leaves nothing for the next tenant", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(f.ctxA, 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		rows, err := pool.Query(ctx, "SELECT pg_sleep(2)")
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
			rows.Close()
		}
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Less(t, time.Since(start), 1500*time.Millisecond, "the query was interrupted, not waited for")

		assertOwnRows(t, f.ctxB, 3)
		assertOwnRows(t, f.ctxA, 2)
	})

	t.Run("a raw exec cancelled mid-flight leaves nothing for the next tenant", func(t *testing.T) {
		c, err := clients.Tenant(f.ctxB)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(f.ctxB)
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err = c.ExecContext(ctx, "SELECT pg_sleep(2)")
		require.ErrorIs(t, err, context.Canceled)

		assertOwnRows(t, f.ctxA, 2)
	})

	t.Run("an ent query cancelled mid-flight leaves nothing for the next tenant", func(t *testing.T) {
		c, err := clients.Tenant(f.ctxA)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(f.ctxA, 100*time.Millisecond)
		defer cancel()
		// The uncorrelated sub-select runs once, when the first row is
		// filtered, and holds the query in PostgreSQL for 2 s.
		_, err = c.Project.Query().
			Where(func(s *entsql.Selector) { s.Where(entsql.ExprP("(SELECT true FROM pg_sleep(2))")) }).
			WithItems().
			All(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)

		assertOwnRows(t, f.ctxB, 3)
	})

	t.Run("an already cancelled context sends nothing", func(t *testing.T) {
		ctx, cancel := context.WithCancel(f.ctxA)
		cancel()
		c, err := clients.Tenant(ctx)
		require.NoError(t, err)
		_, err = c.Project.Query().All(ctx)
		require.ErrorIs(t, err, context.Canceled)
		err = clients.TenantTx(ctx, func(*ent.Tx) error { return nil })
		require.ErrorIs(t, err, context.Canceled)

		assertOwnRows(t, f.ctxB, 3)
	})

	t.Run("the pooled connection keeps the default search_path", func(t *testing.T) {
		for _, tc := range []struct {
			ctx  context.Context
			want int
		}{{f.ctxA, 2}, {f.ctxB, 3}, {f.ctxA, 2}} {
			ctx := tc.ctx
			assertOwnRows(t, ctx, tc.want)
			require.NoError(t, clients.TenantTx(ctx, func(tx *ent.Tx) error {
				_, err := tx.Project.Query().Count(ctx)
				return err
			}))
			assertDefaultSearchPath(t)
		}
	})
}

func TestSendBatchIsAllOrNothing(t *testing.T) {
	t.Parallel()
	f := newClientsFixture(t)
	ctx := context.Background()
	q := db.QuoteIdent(f.a.Schema)
	insert := `INSERT INTO ` + q + `.projects (id, created_at, updated_at, name) VALUES ($1, now(), now(), $2)`
	count := func() int {
		n, err := f.tenantClient(t, f.ctxA).Project.Query().Count(ctx)
		require.NoError(t, err)
		return n
	}

	ok := &pgx.Batch{}
	ok.Queue(insert, uuid.New(), "first")
	ok.Queue(insert, uuid.New(), "second")
	require.NoError(t, f.clients.SendBatch(ctx, ok))
	require.Equal(t, 2, count())

	dup := uuid.New()
	bad := &pgx.Batch{}
	bad.Queue(insert, uuid.New(), "third")
	bad.Queue(insert, dup, "fourth")
	bad.Queue(insert, dup, "fourth again") // primary key violation
	err := f.clients.SendBatch(ctx, bad)
	require.Error(t, err)
	require.Equal(t, 2, count(), "the statements before the failing one are rolled back with it")

	clients := db.NewClientsFromDriver(dialect.DebugWithContext(db.NewDriver(f.db.Pool), func(context.Context, ...any) {}))
	require.NoError(t, clients.SendBatch(ctx, &pgx.Batch{}), "a driver wrapped for logging still reaches the pool")
}
