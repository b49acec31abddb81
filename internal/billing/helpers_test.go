package billing_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/billing"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
)

// fakeCharger records charges and inserts the pending payment row, as
// payment.EnqueueTx does.
type fakeCharger struct {
	// now stamps the payment rows (the service's clock, not the database's).
	now   func() time.Time
	mu    sync.Mutex
	calls []billing.ChargeInput
}

func (c *fakeCharger) EnqueueTx(ctx context.Context, tx pgx.Tx, in billing.ChargeInput) (uuid.UUID, error) {
	id := uuid.New()
	_, err := tx.Exec(ctx, `INSERT INTO public.payments (id, created_at, updated_at, tenant_id, invoice_id, amount, currency,
		status, idempotency_key, provider) VALUES ($1, $8, $8, $2, $3, $4, $5, 'pending', $7, $6)`,
		id, in.TenantID, in.InvoiceID, in.Amount, in.Currency, in.Provider, id.String(), c.now())
	if err != nil {
		return uuid.Nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, in)
	return id, nil
}

func (c *fakeCharger) Calls() []billing.ChargeInput {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]billing.ChargeInput(nil), c.calls...)
}

// fakeNotifier records subscription changes.
type fakeNotifier struct {
	mu      sync.Mutex
	changes []billing.SubscriptionChange
}

func (n *fakeNotifier) SubscriptionChanged(_ context.Context, _ pgx.Tx, c billing.SubscriptionChange) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.changes = append(n.changes, c)
	return nil
}

func (n *fakeNotifier) Reasons() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, c := range n.changes {
		out = append(out, c.Reason)
	}
	return out
}

// fixture is a migrated database with a billing service and its clock.
type fixture struct {
	d        *dbtest.DB
	svc      *billing.Service
	charger  *fakeCharger
	notifier *fakeNotifier
	tenants  *tenant.Service
	clients  *db.Clients

	mu  sync.Mutex
	now time.Time
}

type fixtureOpts struct{ PaymentsOff bool }

func newFixture(t *testing.T, opts *fixtureOpts) *fixture {
	t.Helper()
	d := dbtest.New(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	tenants, err := tenant.NewService(tenant.Config{Pool: d.Pool, Cache: cache.NewMemory(0), Logger: logger, BaseDomain: "billing.test"})
	require.NoError(t, err)
	t.Cleanup(tenants.WaitForgotten)
	f := &fixture{d: d, charger: &fakeCharger{}, notifier: &fakeNotifier{}, tenants: tenants, clients: db.NewClients(d.Pool),
		now: time.Now().UTC().Truncate(time.Second)}
	f.charger.now = f.clock
	f.svc = billing.NewService(billing.Config{Pool: d.Pool, Clients: f.clients, Charger: f.charger, Notifier: f.notifier,
		PaymentsEnabled: opts == nil || !opts.PaymentsOff, Logger: logger, Now: f.clock})
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

var slugSeq struct {
	sync.Mutex
	n int
}

// tenant creates a tenant and returns a context of it with a viewer
// holding perms (all of them when none are given).
func (f *fixture) tenant(t *testing.T, perms ...rbac.Permission) (context.Context, *tenancy.Tenant) {
	t.Helper()
	slugSeq.Lock()
	slugSeq.n++
	slug := fmt.Sprintf("billing-%d", slugSeq.n)
	slugSeq.Unlock()
	tn, err := f.tenants.Create(context.Background(), tenant.CreateInput{Slug: slug, Name: "Tenant " + slug})
	require.NoError(t, err)
	return f.as(&tn.Tenant, perms...), &tn.Tenant
}

// as is a context in tn with a viewer holding perms (all when none).
func (f *fixture) as(tn *tenancy.Tenant, perms ...rbac.Permission) context.Context {
	if len(perms) == 0 {
		perms = rbac.All()
	}
	ctx := tenancy.WithTenant(context.Background(), tn)
	return tenancy.WithViewer(ctx, &tenancy.Viewer{UserID: uuid.New(), Permissions: rbac.NewSet(perms)})
}

// exec runs SQL against the fixture database.
func (f *fixture) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	_, err := f.d.Pool.Exec(context.Background(), sql, args...)
	require.NoError(t, err)
}

// onPlan puts tn's subscription on plan code, active, in a monthly period
// that started daysIn days before the fixture's now, with a card on file
// and a trial already used.
func (f *fixture) onPlan(t *testing.T, tn *tenancy.Tenant, code string, daysIn int) {
	t.Helper()
	start := f.clock().AddDate(0, 0, -daysIn)
	f.exec(t, `INSERT INTO public.subscriptions (id, created_at, updated_at, tenant_id, plan_id, interval, status, trial_ends_at,
		current_period_start, current_period_end, cancel_at_period_end, provider, provider_customer_id, payment_method)
		SELECT gen_random_uuid(), now(), now(), $1, p.id, 'month', 'active', $2, $2, $3, false, 'sandbox', '', 'pm_test'
		FROM public.plans p WHERE p.code = $4
		ON CONFLICT (tenant_id) DO UPDATE SET plan_id = excluded.plan_id, status = 'active', trial_ends_at = excluded.trial_ends_at,
		current_period_start = excluded.current_period_start, current_period_end = excluded.current_period_end,
		payment_method = 'pm_test', scheduled_plan_id = NULL, cancel_at_period_end = false`,
		tn.ID, start, start.AddDate(0, 0, 30), code)
	f.svc.ForgetPlans()
}

// staffCtx is platform staff on the platform host.
func staffCtx() context.Context {
	return tenancy.WithViewer(context.Background(), &tenancy.Viewer{UserID: uuid.New(), IsStaff: true})
}
