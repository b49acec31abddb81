package auth_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/viewercache"
)

// cachedEnv is sessionEnv with a viewer cache; with feed, the cache's
// invalidation feed (LISTEN) is connected and the cache is live once this
// returns.
func cachedEnv(t *testing.T, feed bool) (*env, *viewercache.Cache, *tenancy.Tenant, *fixtureUser) {
	t.Helper()
	vc := viewercache.New(viewercache.Config{TTL: time.Minute})
	e, acme, u := sessionEnv(t, &envOpts{Viewers: vc})
	if feed {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		connCfg := e.pool.Config().ConnConfig.Copy()
		go func() {
			defer close(done)
			vc.Listen(ctx, func(ctx context.Context) (*pgx.Conn, error) { return pgx.ConnectConfig(ctx, connCfg) }, nil,
				10*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
		}()
		t.Cleanup(func() { cancel(); <-done })
		require.Eventually(t, vc.Live, 5*time.Second, time.Millisecond, "the feed connects")
	}
	return e, vc, acme, u
}

// withoutTriggers runs sql with triggers off (session_replication_role):
// a change the cache is not told about, to see whether it answered.
func withoutTriggers(t *testing.T, e *env, sql string, args ...any) {
	t.Helper()
	err := pgx.BeginFunc(t.Context(), e.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(t.Context(), "SET LOCAL session_replication_role = replica"); err != nil {
			return err
		}
		_, err := tx.Exec(t.Context(), sql, args...)
		return err
	})
	require.NoError(t, err)
}

func TestViewerCache(t *testing.T) {
	t.Parallel()

	t.Run("a second request reuses the viewer until the tenant is invalidated", func(t *testing.T) {
		t.Parallel()
		e, vc, acme, u := cachedEnv(t, false)
		vc.SetLive(true) // no feed: only explicit invalidations
		tokens := e.login(t, acme, u)
		ctx := tenancy.WithTenant(t.Context(), acme)
		v, err := e.svc.Authenticate(ctx, "Bearer "+tokens.AccessToken)
		require.NoError(t, err)
		require.True(t, v.Can(rbac.TenantManage))

		q := db.QuoteIdent(acme.Schema)
		withoutTriggers(t, e, `UPDATE `+q+`.roles SET permissions = '[]'::jsonb WHERE name = $1`, rbac.RoleOwner)
		v, err = e.svc.Authenticate(ctx, "Bearer "+tokens.AccessToken)
		require.NoError(t, err)
		require.True(t, v.Can(rbac.TenantManage), "served from the cache: the silent change is not seen")

		vc.InvalidateTenant(acme.Schema)
		v, err = e.svc.Authenticate(ctx, "Bearer "+tokens.AccessToken)
		require.NoError(t, err)
		require.False(t, v.Can(rbac.TenantManage), "read again after the invalidation")
	})

	t.Run("without its feed the cache answers nothing", func(t *testing.T) {
		t.Parallel()
		e, vc, acme, u := cachedEnv(t, false)
		require.False(t, vc.Live())
		tokens := e.login(t, acme, u)
		ctx := tenancy.WithTenant(t.Context(), acme)
		_, err := e.svc.Authenticate(ctx, "Bearer "+tokens.AccessToken)
		require.NoError(t, err)
		withoutTriggers(t, e, `UPDATE public.users SET disabled_at = now() WHERE id = $1`, u.ID)
		_, err = e.svc.Authenticate(ctx, "Bearer "+tokens.AccessToken)
		requireInvalidToken(t, err)
	})

	t.Run("a logout in this process counts on the next request", func(t *testing.T) {
		t.Parallel()
		e, vc, acme, u := cachedEnv(t, false)
		vc.SetLive(true) // no feed: the service's own invalidation must do it
		tokens := e.login(t, acme, u)
		ctx := e.viewerCtx(t, acme, tokens)
		require.NoError(t, e.svc.Logout(ctx, ""))
		_, err := e.svc.Authenticate(tenancy.WithTenant(t.Context(), acme), "Bearer "+tokens.AccessToken)
		requireInvalidToken(t, err)

		other := e.login(t, acme, u)
		_, err = e.svc.Authenticate(tenancy.WithTenant(t.Context(), acme), "Bearer "+other.AccessToken)
		require.NoError(t, err)
		_, err = e.svc.RevokeUserSessions(t.Context(), u.ID, uuid.Nil)
		require.NoError(t, err)
		_, err = e.svc.Authenticate(tenancy.WithTenant(t.Context(), acme), "Bearer "+other.AccessToken)
		requireInvalidToken(t, err)
	})

	// Changes made anywhere else (another replica, a job, an operator's
	// SQL) reach the cache through the triggers' notifications.
	changes := map[string]struct {
		sql   string
		check func(t *testing.T, v *tenancy.Viewer, err error) bool
	}{
		"disabled user":    {`UPDATE public.users SET disabled_at = now() WHERE id = $1`, refused},
		"revoked session":  {`UPDATE public.refresh_tokens SET revoked_at = now() WHERE user_id = $1`, refused},
		"removed member":   {`DELETE FROM %s.members WHERE user_id = $1`, refused},
		"suspended member": {`UPDATE %s.members SET status = 'suspended' WHERE user_id = $1`, refused},
		"demoted member": {`UPDATE %s.member_roles SET role_id = (SELECT id FROM %s.roles WHERE name = 'viewer')
			WHERE member_id = (SELECT id FROM %s.members WHERE user_id = $1)`, lostManage},
		"role narrowed": {`UPDATE %s.roles SET permissions = '[]'::jsonb WHERE name = 'owner' AND $1::uuid IS NOT NULL`, lostManage},
	}
	for name, c := range changes {
		t.Run("another process's change counts: "+name, func(t *testing.T) {
			t.Parallel()
			e, _, acme, u := cachedEnv(t, true)
			tokens := e.login(t, acme, u)
			ctx := tenancy.WithTenant(t.Context(), acme)
			for range 3 {
				v, err := e.svc.Authenticate(ctx, "Bearer "+tokens.AccessToken)
				require.NoError(t, err)
				require.True(t, v.Can(rbac.TenantManage))
			}
			q := db.QuoteIdent(acme.Schema)
			_, err := e.pool.Exec(t.Context(), strings.ReplaceAll(c.sql, "%s", q), u.ID)
			require.NoError(t, err)
			start := time.Now()
			require.Eventually(t, func() bool {
				v, err := e.svc.Authenticate(ctx, "Bearer "+tokens.AccessToken)
				return c.check(t, v, err)
			}, 2*time.Second, 100*time.Microsecond)
			t.Logf("seen after %v", time.Since(start))
		})
	}
}

func refused(_ *testing.T, _ *tenancy.Viewer, err error) bool {
	return errors.Is(err, auth.ErrInvalidToken)
}

func lostManage(t *testing.T, v *tenancy.Viewer, err error) bool {
	require.NoError(t, err)
	return !v.Can(rbac.TenantManage)
}
