package demo_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/demo"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
)

const baseDomain = "clientiq.test"

// signup returns the production SignupOwner (auth.Service.Signup with the
// tenant service as provisioner) on pool.
func signup(t *testing.T, pool *pgxpool.Pool) (demo.SignupOwner, *auth.Service) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := cache.NewMemory(0)
	tenants, err := tenant.NewService(tenant.Config{Pool: pool, Cache: store, Logger: logger, BaseDomain: baseDomain})
	require.NoError(t, err)
	keys, _, err := auth.NewKeyRing(auth.KeyRingConfig{Generate: true, Issuer: "test", Audience: "test"})
	require.NoError(t, err)
	svc := auth.NewService(auth.Config{Pool: pool, Keys: keys, Hasher: auth.NewHasher(auth.DefaultArgon2, 2),
		Cache: store, Logger: logger, Tenants: provisionerFunc{tenants}})
	return func(ctx context.Context, o demo.Owner) error {
		_, err := svc.Signup(ctx, auth.SignupInput{Email: o.Email, Password: o.Password, Name: o.Name,
			TenantName: o.TenantName, TenantSlug: o.TenantSlug}, auth.Meta{})
		return err
	}, svc
}

type provisionerFunc struct{ svc *tenant.Service }

func (p provisionerFunc) CreateTx(ctx context.Context, tx pgx.Tx, in auth.ProvisionInput) (*tenancy.Tenant, error) {
	t, err := p.svc.CreateTx(ctx, tx, tenant.CreateInput{Slug: in.Slug, Name: in.Name})
	if err != nil {
		return nil, err
	}
	return &t.Tenant, nil
}

func (p provisionerFunc) Created(ctx context.Context, t *tenancy.Tenant) {
	p.svc.Created(ctx, &tenant.Tenant{Tenant: *t})
}

func counts(t *testing.T, pool *pgxpool.Pool) (tenants, users, owners int) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM public.tenants").Scan(&tenants))
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM public.users").Scan(&users))
	if tenants == 1 {
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM tenant_acme.members m
			JOIN tenant_acme.member_roles mr ON mr.member_id = m.id JOIN tenant_acme.roles r ON r.id = mr.role_id
			WHERE r.name = 'owner' AND m.status = 'active'`).Scan(&owners))
	}
	return tenants, users, owners
}

func TestSeed(t *testing.T) {
	t.Parallel()

	t.Run("creates acme with an owner who can log in, once", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		db := dbtest.New(t)
		create, svc := signup(t, db.Pool)

		first, err := demo.Seed(ctx, create, baseDomain)
		require.NoError(t, err)
		require.True(t, first.Created)
		require.Equal(t, "acme."+baseDomain, first.Domain)
		require.Equal(t, "owner@acme."+baseDomain, first.OwnerEmail)
		require.GreaterOrEqual(t, len(first.OwnerPassword), 16)

		second, err := demo.Seed(ctx, create, baseDomain)
		require.NoError(t, err)
		require.False(t, second.Created)
		require.Empty(t, second.OwnerPassword, "the password is shown once")

		tenants, users, owners := counts(t, db.Pool)
		require.Equal(t, []int{1, 1, 1}, []int{tenants, users, owners})

		var acme tenancy.Tenant
		require.NoError(t, db.Pool.QueryRow(ctx, "SELECT id, slug, schema_name, status FROM public.tenants").
			Scan(&acme.ID, &acme.Slug, &acme.Schema, &acme.Status))
		tokens, err := svc.Login(tenancy.WithTenant(ctx, &acme), first.OwnerEmail, first.OwnerPassword, auth.Meta{})
		require.NoError(t, err)
		require.NotEmpty(t, tokens.AccessToken)
	})

	t.Run("concurrent seeds create one tenant and one owner", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		db := dbtest.New(t)
		create, _ := signup(t, db.Pool)
		var wg sync.WaitGroup
		errs := make([]error, 5)
		created := make([]bool, 5)
		for i := range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := demo.Seed(ctx, create, baseDomain)
				errs[i] = err
				if err == nil {
					created[i] = res.Created
				}
			}()
		}
		wg.Wait()
		n := 0
		for i := range 5 {
			require.NoError(t, errs[i])
			if created[i] {
				n++
			}
		}
		require.Equal(t, 1, n)
		tenants, users, owners := counts(t, db.Pool)
		require.Equal(t, []int{1, 1, 1}, []int{tenants, users, owners})
	})

	t.Run("other failures are reported", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("boom")
		_, err := demo.Seed(context.Background(), func(context.Context, demo.Owner) error { return boom }, baseDomain)
		require.ErrorIs(t, err, boom)
	})
}
