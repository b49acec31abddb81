package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// Clients hands out ent clients for the two scopes.
//
// Tenant isolation is done with schema-qualified SQL (ent's schemaconfig
// feature): a tenant client writes "tenant_acme"."projects" into every
// statement, so no query depends on connection state. Nothing is SET on a
// pooled connection, so nothing can leak to the next request after an
// error, panic, cancellation or timeout, and it works behind PgBouncer in
// transaction pooling mode. The cost is one prepared statement per tenant
// and query shape in pgx's per-connection cache (see docs/tenancy.md).
//
// The public client refuses tenant-scoped entities before any SQL is sent,
// and names a schema that does not exist for them as a second guard.
type Clients struct {
	drv    dialect.Driver
	pool   *pgxpool.Pool // nil when the driver is not this package's (SendBatch refuses)
	public *ent.Client

	// bySchema keeps the tenant clients made recently: a client is safe
	// for concurrent use, and making one per request was a tenth of a
	// list's allocations. Bounded; emptied when full.
	mu       sync.RWMutex
	bySchema map[string]*ent.Client
}

// maxCachedClients bounds bySchema (a client is about 15 KB).
const maxCachedClients = 128

// noTenantSchema is where the public client's tenant tables point: a name
// no schema has, so even a path around the interceptors fails.
const noTenantSchema = "clientiq_no_tenant_in_context"

// NewClients returns the client factory over pool.
func NewClients(pool *pgxpool.Pool) *Clients {
	return NewClientsFromDriver(NewDriver(pool))
}

// NewClientsFromDriver is NewClients over an ent driver (tests wrap one to
// count statements).
func NewClientsFromDriver(drv dialect.Driver) *Clients {
	public := ent.NewClient(ent.Driver(drv), ent.AlternateSchema(ent.ScopedSchemaConfig(noTenantSchema)))
	ent.DenyTenantEntities(public, tenancy.ErrNoTenant)
	c := &Clients{drv: drv, public: public, bySchema: map[string]*ent.Client{}}
	inner := drv
	if d, ok := inner.(*dialect.DebugDriver); ok {
		inner = d.Driver // tests log ent's statements through it
	}
	if d, ok := inner.(*Driver); ok {
		c.pool = d.pool
	}
	return c
}

// Public returns the client for the public schema. Tenant-scoped entities
// through it fail with tenancy.ErrNoTenant.
func (c *Clients) Public() *ent.Client { return c.public }

// Tenant returns a client scoped to the tenant in ctx, or
// tenancy.ErrNoTenant when ctx has none.
func (c *Clients) Tenant(ctx context.Context) (*ent.Client, error) {
	t, err := tenancy.Require(ctx)
	if err != nil {
		return nil, err
	}
	return c.ForSchema(t.Schema)
}

// ForSchema returns a client scoped to a tenant schema by name (operators'
// tools and jobs that carry the schema). The name is validated.
func (c *Clients) ForSchema(schema string) (*ent.Client, error) {
	c.mu.RLock()
	client, ok := c.bySchema[schema]
	c.mu.RUnlock()
	if ok {
		return client, nil
	}
	if err := tenancy.CheckSchema(schema); err != nil {
		return nil, err
	}
	client = ent.NewClient(ent.Driver(c.drv), ent.AlternateSchema(ent.ScopedSchemaConfig(schema)))
	// Only the lists that use WithoutCount pay for the interceptor.
	client.Project.Intercept(elideCounts)
	client.DataItem.Intercept(elideCounts)
	c.mu.Lock()
	if len(c.bySchema) >= maxCachedClients {
		clear(c.bySchema)
	}
	c.bySchema[schema] = client
	c.mu.Unlock()
	return client, nil
}

// SendBatch sends b's statements to PostgreSQL in one round trip on one
// pooled connection and returns the first error. Without a BEGIN of its
// own the batch is one implicit transaction (the extended protocol's
// statements up to its Sync): all of it commits or none. For the hot
// writes whose statements are known up front (a row and its audit entry),
// where an ent transaction costs four round trips.
func (c *Clients) SendBatch(ctx context.Context, b *pgx.Batch) error {
	if c.pool == nil {
		return errors.New("db: SendBatch needs clients over this package's Driver")
	}
	return c.pool.SendBatch(ctx, b).Close()
}

// TenantTx runs fn in a transaction on the tenant in ctx's schema, committing
// when fn returns nil and rolling back otherwise (also on panic).
func (c *Clients) TenantTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	client, err := c.Tenant(ctx)
	if err != nil {
		return err
	}
	return WithTx(ctx, client, fn)
}

// WithTx runs fn in a transaction of client, committing when fn returns nil
// and rolling back otherwise.
func WithTx(ctx context.Context, client *ent.Client, fn func(tx *ent.Tx) error) error {
	tx, err := client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	// returned is set once fn came back normally. Any other way out of fn
	// rolls back here: a panic (which keeps unwinding) and runtime.Goexit
	// (t.FailNow in a test), which recover cannot see and which would leave
	// the transaction, and its pooled connection, open for good.
	returned := false
	defer func() {
		if !returned {
			_ = tx.Rollback()
		}
	}()
	err = fn(tx)
	returned = true
	if err != nil {
		_ = tx.Rollback()
		return txContextErr(ctx, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", txContextErr(ctx, err))
	}
	return nil
}

// txContextErr names the context as the cause when ctx has ended and err
// is one of the errors a transaction answers for that reason without
// saying so, which read like a bug or a broken connection rather than a
// cancellation or timeout: sql.ErrTxDone (Driver maps pgx.ErrTxClosed to
// it), and a statement refused before it was sent because pgx closed the
// connection when the context ended mid-statement (pgconn.SafeToRetry).
// Any other error (a constraint violation, say) is left as it is.
func txContextErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) && (errors.Is(err, sql.ErrTxDone) || pgconn.SafeToRetry(err)) {
		return fmt.Errorf("%w: %w", cerr, err)
	}
	return err
}
