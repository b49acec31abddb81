package main

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/tenant"
)

func TestDirectLoopCountsEveryCallAndItsFailure(t *testing.T) {
	t.Parallel()
	spec := attackSpec{direct: func(i uint64) error {
		time.Sleep(time.Millisecond)
		if i%3 == 2 {
			return errors.New("refused")
		}
		return nil
	}}
	tl := directLoop(t.Context(), spec, 4, 100*time.Millisecond)
	n := len(tl.lat)
	if n < 20 {
		t.Fatalf("only %d calls in 100 ms", n)
	}
	// Every index 0..n-1 was handed out once and counted: a third failed.
	if want := n / 3; tl.errors != want || tl.codes["500"] != want || tl.codes["200"] != n-want {
		t.Fatalf("%d calls: errors %d, codes %v; want %d failures", n, tl.errors, tl.codes, want)
	}
	if len(tl.samples) != 1 {
		t.Fatalf("samples %v", tl.samples)
	}
}

func TestDirectLoopFinishesTheCallInProgressWhenTheRunEnds(t *testing.T) {
	t.Parallel()
	spec := attackSpec{direct: func(uint64) error { time.Sleep(150 * time.Millisecond); return nil }}
	tl := directLoop(t.Context(), spec, 2, 50*time.Millisecond)
	if len(tl.lat) != 2 || tl.errors != 0 || tl.lat[0] < 150*time.Millisecond {
		t.Fatalf("calls %v, errors %d: want the two in progress at the end, finished", tl.lat, tl.errors)
	}
}

// The direct runs call the server's project service with the context the
// server's middleware would build: if the service comes to need more from
// it, these fail rather than the run measuring errors.
func TestDirectRunsCreateAndListThroughTheProjectService(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	tenants, err := tenant.NewService(tenant.Config{Pool: d.Pool, Cache: cache.NewMemory(0), Logger: slog.New(slog.DiscardHandler), BaseDomain: "bench.test"})
	if err != nil {
		t.Fatal(err)
	}
	ds := &dataset{}
	for _, slug := range []string{"t00001", "t00002"} {
		tn, err := tenants.Create(ctx, tenant.CreateInput{Slug: slug, Name: slug})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Pool.Exec(ctx, `INSERT INTO `+db.QuoteIdent(tn.Schema)+`.projects (id, name, description, status, created_at, updated_at)
			SELECT gen_random_uuid(), 'project ' || g, '', 'active', now(), now() FROM generate_series(1, 30) g`); err != nil {
			t.Fatal(err)
		}
		ds.tenants = append(ds.tenants, tenantRef{Slug: slug, ID: tn.ID, UserID: uuid.New()})
	}
	h := &harness{ds: ds, direct: newDirectDB(d.URL, []string{"GOGC=100", "DATABASE_MAX_CONNS=3"})}
	t.Cleanup(h.direct.close)
	if h.direct.maxConns != 3 {
		t.Fatalf("pool size %d, want the server's DATABASE_MAX_CONNS (3)", h.direct.maxConns)
	}

	create, err := h.directCreate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range uint64(4) {
		if err := create(i); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	for _, tr := range ds.tenants {
		q := db.QuoteIdent("tenant_" + tr.Slug)
		var projects, audits int
		if err := d.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM `+q+`.projects WHERE name = $1 AND owner_id = $2),
			(SELECT count(*) FROM `+q+`.audit_events WHERE action = 'project.created' AND actor_id = $2 AND ip = '127.0.0.1' AND user_agent = 'clientiq-bench')`,
			createdName, tr.UserID).Scan(&projects, &audits); err != nil {
			t.Fatal(err)
		}
		if projects != 2 || audits != 2 {
			t.Fatalf("%s: %d projects and %d audit events by its owner, want 2 and 2 (round robin)", tr.Slug, projects, audits)
		}
	}

	list, err := h.directList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range uint64(4) { // pages 1 and 2 of each tenant
		if err := list(i); err != nil {
			t.Fatalf("list %d: %v", i, err)
		}
	}

	h.direct.close()
	if h.direct.pool != nil {
		t.Fatal("the pool stays open after close")
	}
	if _, err := h.directCreate(ctx); err != nil {
		t.Fatalf("a later scenario's direct run reopens the pool: %v", err)
	}
}
