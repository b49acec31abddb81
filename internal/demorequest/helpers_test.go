package demorequest_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/demorequest"
	"github.com/clientiq/clientiq/internal/tenancy"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// fixture is a Service on its own database.
type fixture struct {
	db    *dbtest.DB
	svc   *demorequest.Service
	notes *recorder
}

// newFixture builds a Service over a fresh database with a recording
// notifier and an in-memory throttle; mutate adjusts the Config. The clock
// moves one minute per call, so requests have distinct creation times in
// the order they were made.
func newFixture(t *testing.T, mutate func(*demorequest.Config)) *fixture {
	t.Helper()
	d := dbtest.New(t)
	rec := &recorder{pool: d}
	var tick atomic.Int64
	base := time.Date(2030, 1, 2, 3, 4, 0, 0, time.UTC)
	cfg := demorequest.Config{
		Pool: d.Pool, Clients: db.NewClients(d.Pool), Cache: cache.NewMemory(0), Notifier: rec, Logger: discard,
		Now: func() time.Time { return base.Add(time.Duration(tick.Add(1)) * time.Minute) },
	}
	if mutate != nil {
		mutate(&cfg)
	}
	svc, err := demorequest.NewService(cfg)
	require.NoError(t, err)
	return &fixture{db: d, svc: svc, notes: rec}
}

// valid is a complete, valid form; each call uses a fresh email.
func valid() demorequest.Input {
	return demorequest.Input{
		Name: "Dana Scully", Email: "Dana." + uuid.NewString()[:8] + "@Initech.test", Company: "Initech",
		JobTitle: "CTO", Phone: "+1 (555) 010-9999", CompanySize: "51-200", Message: "We would like a demo.",
		Locale: "de-CH",
	}
}

// staff is a context of platform staff on the platform host.
func staff() context.Context {
	return tenancy.WithViewer(context.Background(), &tenancy.Viewer{UserID: uuid.New(), Email: "staff@clientiq.test", IsStaff: true})
}

// count is the number of stored demo requests.
func (f *fixture) count(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, f.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM public.demo_requests`).Scan(&n))
	return n
}

// recorder is the Notifier of the tests: it keeps every notice and checks,
// while the transaction is open, that the request is visible in tx and
// not yet outside it (the call happens inside the inserting transaction).
type recorder struct {
	pool *dbtest.DB
	// fail makes DemoRequested return an error.
	fail atomic.Bool

	mu      sync.Mutex
	notices []demorequest.Notice
	// inTx and outside are what tx and the pool saw of the row.
	inTx, outside []int
}

var errNotifier = errors.New("outbox unavailable")

func (r *recorder) DemoRequested(ctx context.Context, tx pgx.Tx, n demorequest.Notice) error {
	var in, out int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM public.demo_requests WHERE id = $1`, n.ID).Scan(&in); err != nil {
		return err
	}
	if err := r.pool.Pool.QueryRow(ctx, `SELECT count(*) FROM public.demo_requests WHERE id = $1`, n.ID).Scan(&out); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notices = append(r.notices, n)
	r.inTx, r.outside = append(r.inTx, in), append(r.outside, out)
	if r.fail.Load() {
		return errNotifier
	}
	return nil
}

func (r *recorder) all() ([]demorequest.Notice, []int, []int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]demorequest.Notice(nil), r.notices...), append([]int(nil), r.inTx...), append([]int(nil), r.outside...)
}

// brokenCache is a throttle backend that is down.
type brokenCache struct{ *cache.Memory }

func (brokenCache) Allow(context.Context, string, int, time.Duration) (cache.Decision, error) {
	return cache.Decision{}, errors.New("redis: connection refused")
}
