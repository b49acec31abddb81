package jobs_test

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/ent/project"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbmigrate"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/jobs"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
)

// env is one test database with a tenant service and ent clients.
type env struct {
	db      *dbtest.DB
	tenants *tenant.Service
	clients *db.Clients
}

func newEnv(t testing.TB) *env {
	t.Helper()
	d := dbtest.New(t)
	inserter, err := jobs.NewInserter(d.Pool, discard)
	require.NoError(t, err)
	svc, err := tenant.NewService(tenant.Config{Pool: d.Pool, Cache: cache.NewMemory(0), Logger: discard, Jobs: inserter})
	require.NoError(t, err)
	return &env{db: d, tenants: svc, clients: db.NewClients(d.Pool)}
}

// newTenant provisions a tenant holding one project called marker.
func (e *env) newTenant(t testing.TB, marker string) *tenancy.Tenant {
	t.Helper()
	tn, err := e.tenants.Create(context.Background(), tenant.CreateInput{Slug: "t" + dbtest.RandomSuffix(), Name: "Tenant " + marker})
	require.NoError(t, err)
	if marker != "" {
		_, err = e.db.Pool.Exec(context.Background(), `INSERT INTO `+db.QuoteIdent(tn.Schema)+`.projects (id, created_at, updated_at, name)
			VALUES ($1, now(), now(), $2)`, uuid.New(), marker)
		require.NoError(t, err)
	}
	return &tn.Tenant
}

// start starts client and stops it when the test ends.
func start(t *testing.T, client *river.Client[pgx.Tx]) {
	t.Helper()
	require.NoError(t, client.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, client.Stop(ctx))
	})
}

// finished subscribes to the ends of job attempts (completed, cancelled,
// failed) before the client starts.
func finished(t *testing.T, client *river.Client[pgx.Tx]) <-chan *river.Event {
	t.Helper()
	ch, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobCancelled,
		river.EventKindJobFailed)
	t.Cleanup(cancel)
	return ch
}

// waitFor returns the event of job id, failing after 10s.
func waitFor(t *testing.T, events <-chan *river.Event, id int64) *river.Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Job.ID == id {
				return ev
			}
		case <-deadline:
			t.Fatalf("job %d did not finish within 10s", id)
		}
	}
}

// rawInserter inserts with no middleware at all, as a bug or an operator
// writing to river_job by hand would.
func rawInserter(t *testing.T, pool *pgxpool.Pool) *river.Client[pgx.Tx] {
	t.Helper()
	c, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: dbmigrate.RiverSchema, Logger: discard})
	require.NoError(t, err)
	return c
}

// countRows counts public.river_job rows.
func countRows(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM public.river_job").Scan(&n))
	return n
}

// metadata decodes a job's metadata.
func metadata(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	m := map[string]any{}
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

// SeeArgs is a tenant job whose worker reports what it can see.
type SeeArgs struct {
	Note string `json:"note"`
}

func (SeeArgs) Kind() string { return "test_see" }

// sight is what one run of a job saw.
type sight struct {
	JobID    int64
	TenantID uuid.UUID // uuid.Nil: no tenant in ctx
	System   string
	Projects []string // through db.Clients.Tenant(ctx)
	Err      error    // from db.Clients.Tenant(ctx)
}

// seer records sights; SeeWorker and GlobalSeeWorker report to it.
type seer struct {
	mu     sync.Mutex
	sights []sight
	ch     chan sight
}

func newSeer() *seer { return &seer{ch: make(chan sight, 1000)} }

func (s *seer) look(ctx context.Context, clients *db.Clients, id int64) {
	sg := sight{JobID: id, System: tenancy.SystemReason(ctx)}
	if t, ok := tenancy.FromContext(ctx); ok {
		sg.TenantID = t.ID
	}
	if client, err := clients.Tenant(ctx); err != nil {
		sg.Err = err
	} else {
		sg.Projects, sg.Err = client.Project.Query().Select(project.FieldName).Strings(ctx)
		sort.Strings(sg.Projects)
	}
	s.mu.Lock()
	s.sights = append(s.sights, sg)
	s.mu.Unlock()
	s.ch <- sg
}

func (s *seer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sights)
}

// SeeWorker works SeeArgs.
type SeeWorker struct {
	river.WorkerDefaults[SeeArgs]
	clients *db.Clients
	seer    *seer
}

func (w *SeeWorker) Work(ctx context.Context, job *river.Job[SeeArgs]) error {
	w.seer.look(ctx, w.clients, job.ID)
	return nil
}

// GlobalSeeArgs is a global job whose worker reports what it can see.
type GlobalSeeArgs struct{}

func (GlobalSeeArgs) Kind() string { return "test_global_see" }
func (GlobalSeeArgs) Global() bool { return true }

// GlobalSeeWorker works GlobalSeeArgs.
type GlobalSeeWorker struct {
	river.WorkerDefaults[GlobalSeeArgs]
	clients *db.Clients
	seer    *seer
}

func (w *GlobalSeeWorker) Work(ctx context.Context, job *river.Job[GlobalSeeArgs]) error {
	w.seer.look(ctx, w.clients, job.ID)
	return nil
}

// seeClient returns a started client working SeeArgs and GlobalSeeArgs
// into s, with cfg's other settings, and its finished events.
func (e *env) seeClient(t *testing.T, s *seer, cfg jobs.Config) (*river.Client[pgx.Tx], <-chan *river.Event) {
	t.Helper()
	w := river.NewWorkers()
	river.AddWorker(w, &SeeWorker{clients: e.clients, seer: s})
	river.AddWorker(w, &GlobalSeeWorker{clients: e.clients, seer: s})
	cfg.Logger, cfg.Workers, cfg.TestOnly = discard, w, true
	client, err := jobs.NewClient(e.db.Pool, cfg)
	require.NoError(t, err)
	events := finished(t, client)
	start(t, client)
	return client, events
}
