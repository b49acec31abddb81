package demorequest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/clientiq/clientiq/ent/entgql"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/ent"
	entdemo "github.com/clientiq/clientiq/ent/demorequest"
	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/demorequest"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// seed creates n requests (oldest first) and returns their ids.
func (f *fixture) seed(t *testing.T, companies ...string) []uuid.UUID {
	t.Helper()
	ids := make([]uuid.UUID, len(companies))
	for i, c := range companies {
		in := valid()
		in.Company = c
		rc, err := f.svc.Create(context.Background(), in, demorequest.Meta{})
		require.NoError(t, err)
		ids[i] = rc.ID
	}
	return ids
}

func companies(conn *ent.DemoRequestConnection) []string {
	out := make([]string, 0, len(conn.Edges))
	for _, e := range conn.Edges {
		out = append(out, e.Node.Company)
	}
	return out
}

func intp(n int) *int { return &n }

func TestStaffInbox(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ids := f.seed(t, "A", "B", "C", "D", "E")
	ctx := staff()

	t.Run("lists newest first by default", func(t *testing.T) {
		t.Parallel()
		conn, err := f.svc.List(ctx, demorequest.Page{}, nil, nil)
		require.NoError(t, err)
		require.Equal(t, []string{"E", "D", "C", "B", "A"}, companies(conn))
		require.Equal(t, 5, conn.TotalCount)
	})

	t.Run("pages keep the order", func(t *testing.T) {
		t.Parallel()
		order := &ent.DemoRequestOrder{Direction: entgql.OrderDirectionAsc, Field: ent.DemoRequestOrderFieldCreatedAt}
		first, err := f.svc.List(ctx, demorequest.Page{First: intp(2)}, order, nil)
		require.NoError(t, err)
		require.Equal(t, []string{"A", "B"}, companies(first))
		require.True(t, first.PageInfo.HasNextPage)
		next, err := f.svc.List(ctx, demorequest.Page{First: intp(2), After: first.PageInfo.EndCursor}, order, nil)
		require.NoError(t, err)
		require.Equal(t, []string{"C", "D"}, companies(next))
	})

	t.Run("a page holds at most 100", func(t *testing.T) {
		t.Parallel()
		g := newFixture(t, nil)
		_, err := g.db.Pool.Exec(context.Background(), `INSERT INTO public.demo_requests (id, created_at, updated_at, name, email, company)
			SELECT gen_random_uuid(), now(), now(), 'N', 'n' || i || '@example.com', 'C' FROM generate_series(1, 101) i`)
		require.NoError(t, err)
		for _, p := range []demorequest.Page{{}, {First: intp(1_000_000)}, {Last: intp(500)}} {
			conn, err := g.svc.List(ctx, p, nil, nil)
			require.NoError(t, err)
			require.Len(t, conn.Edges, demorequest.MaxPage)
			require.Equal(t, 101, conn.TotalCount)
		}
		_, err = f.svc.List(ctx, demorequest.Page{First: intp(1), Last: intp(1)}, nil, nil)
		require.Equal(t, apperr.CodeValidation, apperr.CodeOf(err))
		_, err = f.svc.List(ctx, demorequest.Page{First: intp(-1)}, nil, nil)
		require.Equal(t, apperr.CodeValidation, apperr.CodeOf(err))
	})

	t.Run("gets one by id and NOT_FOUND for none", func(t *testing.T) {
		t.Parallel()
		d, err := f.svc.Get(ctx, ids[2])
		require.NoError(t, err)
		require.Equal(t, "C", d.Company)
		require.Equal(t, "", d.SourceIP)
		_, err = f.svc.Get(ctx, uuid.New())
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))
	})

	t.Run("update records status, notes and who handled it", func(t *testing.T) {
		t.Parallel()
		g := newFixture(t, nil)
		id := g.seed(t, "X")[0]
		v, _ := tenancy.ViewerFrom(ctx)
		status, notes := "contacted", "Called, wants pricing for 60 seats."
		d, err := g.svc.Update(ctx, id, demorequest.Update{Status: &status, Notes: &notes})
		require.NoError(t, err)
		require.Equal(t, entdemo.StatusContacted, d.Status)
		require.Equal(t, notes, d.Notes)
		require.Equal(t, v.UserID, *d.HandledBy)
		require.True(t, d.UpdatedAt.After(d.CreatedAt))

		qualified := "qualified"
		d, err = g.svc.Update(ctx, id, demorequest.Update{Status: &qualified})
		require.NoError(t, err)
		require.Equal(t, notes, d.Notes, "omitted fields stay")
	})

	t.Run("update refuses an unknown status, long notes and unknown ids", func(t *testing.T) {
		t.Parallel()
		bad, long := "won", strings.Repeat("n", demorequest.MaxNotes+1)
		_, err := f.svc.Update(ctx, ids[0], demorequest.Update{Status: &bad, Notes: &long})
		ae := apperr.As(err)
		require.Equal(t, apperr.CodeValidation, ae.Code)
		require.ElementsMatch(t, []string{"status", "notes"}, keys(ae.Fields))
		_, err = f.svc.Update(ctx, uuid.New(), demorequest.Update{})
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))
	})

	t.Run("filters by status and email", func(t *testing.T) {
		t.Parallel()
		g := newFixture(t, nil)
		gids := g.seed(t, "P", "Q", "R")
		closed := "closed"
		_, err := g.svc.Update(ctx, gids[1], demorequest.Update{Status: &closed})
		require.NoError(t, err)

		st := entdemo.StatusNew
		conn, err := g.svc.List(ctx, demorequest.Page{}, nil, &ent.DemoRequestWhereInput{Status: &st})
		require.NoError(t, err)
		require.Equal(t, []string{"R", "P"}, companies(conn))

		r, err := g.svc.Get(ctx, gids[2])
		require.NoError(t, err)
		conn, err = g.svc.List(ctx, demorequest.Page{}, nil, &ent.DemoRequestWhereInput{Email: &r.Email})
		require.NoError(t, err)
		require.Equal(t, []string{"R"}, companies(conn))
	})

	t.Run("orders by status", func(t *testing.T) {
		t.Parallel()
		g := newFixture(t, nil)
		gids := g.seed(t, "new", "contacted", "closed")
		for i, s := range []string{"new", "contacted", "closed"} {
			_, err := g.svc.Update(ctx, gids[i], demorequest.Update{Status: &s})
			require.NoError(t, err)
		}
		conn, err := g.svc.List(ctx, demorequest.Page{},
			&ent.DemoRequestOrder{Direction: entgql.OrderDirectionAsc, Field: ent.DemoRequestOrderFieldStatus}, nil)
		require.NoError(t, err)
		require.Equal(t, []string{"closed", "contacted", "new"}, companies(conn))
	})
}

func TestOnlyStaffReadOrTriage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	id := f.seed(t, "Secret Corp")[0]
	acme := &tenancy.Tenant{ID: uuid.New(), Slug: "acme", Schema: "tenant_acme", Status: tenancy.StatusActive}
	owner, ok := rbac.BuiltinRole(rbac.RoleOwner)
	require.True(t, ok)
	staffID := uuid.New()
	callers := []struct {
		name string
		ctx  context.Context
		code apperr.Code
	}{
		{"anonymous", context.Background(), apperr.CodeUnauthenticated},
		{"a signed-in user who is not staff", tenancy.WithViewer(context.Background(), &tenancy.Viewer{UserID: uuid.New()}),
			apperr.CodeForbidden},
		{"a tenant owner on the tenant's host", tenancy.WithViewer(tenancy.WithTenant(context.Background(), acme),
			&tenancy.Viewer{UserID: uuid.New(), MemberID: uuid.New(), Roles: []string{rbac.RoleOwner},
				Permissions: rbac.NewSet(owner.Permissions)}), apperr.CodeForbidden},
		{"staff on a tenant host", tenancy.WithViewer(tenancy.WithTenant(context.Background(), acme),
			&tenancy.Viewer{UserID: staffID, IsStaff: true}), apperr.CodeForbidden},
		{"staff impersonating a member", tenancy.WithViewer(context.Background(),
			&tenancy.Viewer{UserID: uuid.New(), IsStaff: true, ImpersonatorID: staffID}), apperr.CodeForbidden},
	}
	// The refusals run in parallel inside one group; the check after it
	// sees what they left behind.
	t.Run("refused", func(t *testing.T) {
		for _, c := range callers {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				_, err := f.svc.List(c.ctx, demorequest.Page{}, nil, nil)
				require.Equal(t, c.code, apperr.CodeOf(err), "list")
				_, err = f.svc.Get(c.ctx, id)
				require.Equal(t, c.code, apperr.CodeOf(err), "get")
				closed := "closed"
				_, err = f.svc.Update(c.ctx, id, demorequest.Update{Status: &closed})
				require.Equal(t, c.code, apperr.CodeOf(err), "update")
			})
		}
	})

	t.Run("refused calls leave the request as it was", func(t *testing.T) {
		d, err := f.svc.Get(staff(), id)
		require.NoError(t, err)
		require.Equal(t, entdemo.StatusNew, d.Status)
		require.Nil(t, d.HandledBy)
	})
}
