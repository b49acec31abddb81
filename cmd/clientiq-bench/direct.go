package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/clientiq/clientiq/ent/entgql"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/project"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/reqinfo"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// The "direct" run of a scenario does each request's work in this process
// through the service the server's handler calls (project.Service over a
// pool and driver configured as the server's), with no HTTP, GraphQL, token
// check, tenant resolution, plan limit or event: what the same SQL costs
// from Go on these cores. Set beside the scenario's 32-connection run, it
// shows how much of a request the database layer is, and so what a target
// can ask of the layers above it.

// directFunc does one request's work; i counts the requests of the run.
type directFunc func(i uint64) error

// directLoop runs fn on conns goroutines, each starting its next call as
// soon as the last returns, until du has passed, and tallies the calls as
// closedLoop tallies answers (a failed call is an error with its message).
func directLoop(ctx context.Context, spec attackSpec, conns int, du time.Duration) *tally {
	ctx, cancel := context.WithTimeout(ctx, du)
	defer cancel()
	var n atomic.Uint64
	tallies := make([]*tally, conns)
	var wg sync.WaitGroup
	for w := range conns {
		tallies[w] = newTally(spec)
		wg.Go(func() {
			for ctx.Err() == nil {
				start := time.Now()
				// A call in progress at the end is finished and counted, as
				// closedLoop does: cancelling it would close its connection.
				err := spec.direct(n.Add(1) - 1)
				res := vegeta.Result{Timestamp: start, Latency: time.Since(start), Code: 200}
				if err != nil {
					res.Code, res.Error = 500, err.Error()
				}
				tallies[w].add(&res)
			}
		})
	}
	wg.Wait()
	t := newTally(spec)
	for _, w := range tallies {
		t.merge(w)
	}
	return t
}

// directDB is the in-process service side of the direct runs: its pool is
// opened for a direct run and closed right after it (harness.attackMode),
// so its backends count in no other run's PostgreSQL figures.
type directDB struct {
	url      string
	maxConns int32
	pool     *db.DB
	projects *project.Service
}

// newDirectDB sizes the pool as the server's: DATABASE_MAX_CONNS from the
// server's extra environment, else the server's default.
func newDirectDB(url string, serverEnv []string) *directDB {
	d := &directDB{url: url}
	for _, kv := range serverEnv {
		if v, ok := strings.CutPrefix(kv, "DATABASE_MAX_CONNS="); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				d.maxConns = int32(n)
			}
		}
	}
	return d
}

func (d *directDB) service(ctx context.Context) (*project.Service, error) {
	if d.projects != nil {
		return d.projects, nil
	}
	// db.Open gives the pool the server's settings (size, exec mode,
	// statement counter); 0 is the server's default size.
	pool, err := db.Open(ctx, db.Config{URL: d.url, MaxConns: d.maxConns, ApplicationName: "clientiq-bench-direct"})
	if err != nil {
		return nil, err
	}
	d.pool, d.projects = pool, project.NewService(db.NewClients(pool.Pool))
	return d.projects, nil
}

func (d *directDB) close() {
	if d.pool != nil {
		d.pool.Close()
		d.pool, d.projects = nil, nil
	}
}

// directContexts are one request context per tenant, as the server's
// middleware leaves it for the handler: the tenant, its owner as the viewer
// with every permission, and the client's address and user agent (which
// the audit entry records).
func directContexts(tenants []tenantRef) []context.Context {
	all := rbac.NewSet(rbac.All())
	ctxs := make([]context.Context, len(tenants))
	for i, t := range tenants {
		ctx, _ := reqinfo.NewWithClient(context.Background(), "bench-"+t.Slug, "127.0.0.1", "clientiq-bench")
		ctx = tenancy.WithTenant(ctx, &tenancy.Tenant{ID: t.ID, Slug: t.Slug, Name: t.Slug,
			Schema: tenancy.SchemaName(t.Slug), Status: tenancy.StatusActive})
		ctxs[i] = tenancy.WithViewer(ctx, &tenancy.Viewer{UserID: t.UserID, Permissions: all})
	}
	return ctxs
}

// directCreate is scenario 3's work: project.Service.Create (the row and
// its audit entry in one round trip), round robin over the tenants.
func (h *harness) directCreate(ctx context.Context) (directFunc, error) {
	svc, err := h.direct.service(ctx)
	if err != nil {
		return nil, fmt.Errorf("direct runs: %w", err)
	}
	ctxs := directContexts(h.ds.tenants)
	return func(i uint64) error {
		ctx, cancel := context.WithTimeout(ctxs[i%uint64(len(ctxs))], requestTimeout)
		defer cancel()
		_, err := svc.Create(ctx, project.CreateInput{Name: createdName})
		return err
	}, nil
}

// directList is scenario 4's work: project.Service.List of 20, pages 1 and
// 2 of each tenant in turn (page 2 after the cursor page 1 ended with).
func (h *harness) directList(ctx context.Context) (directFunc, error) {
	svc, err := h.direct.service(ctx)
	if err != nil {
		return nil, fmt.Errorf("direct runs: %w", err)
	}
	tenants := h.ds.tenants
	ctxs := directContexts(tenants)
	first := 20
	after := make([]*entgql.Cursor[uuid.UUID], len(ctxs))
	for i, c := range ctxs {
		conn, err := svc.List(c, project.Page{First: &first}, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("direct runs: first page of %s: %w", h.ds.tenants[i].Slug, err)
		}
		if !conn.PageInfo.HasNextPage || conn.PageInfo.EndCursor == nil {
			return nil, fmt.Errorf("direct runs: first page of %s has no next cursor", h.ds.tenants[i].Slug)
		}
		after[i] = conn.PageInfo.EndCursor
	}
	return func(i uint64) error {
		t := (i / 2) % uint64(len(ctxs))
		pg := project.Page{First: &first}
		if i%2 == 1 {
			pg.After = after[t]
		}
		ctx, cancel := context.WithTimeout(ctxs[t], requestTimeout)
		defer cancel()
		conn, err := svc.List(ctx, pg, nil, nil)
		if err == nil && len(conn.Edges) == 0 {
			err = fmt.Errorf("page %d of %s is empty", i%2+1, tenants[t].Slug)
		}
		return err
	}, nil
}
