package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/jobs"
	"github.com/clientiq/clientiq/internal/mail"
	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
)

// invite inserts an invitation in tn that expires at expires (accepted when
// accepted), and returns its id.
func (e *env) invite(t *testing.T, tn *tenancy.Tenant, expires time.Time, accepted bool) uuid.UUID {
	t.Helper()
	id := uuid.New()
	var acceptedAt *time.Time
	if accepted {
		acceptedAt = &expires
	}
	_, err := e.db.Pool.Exec(context.Background(), `INSERT INTO `+db.QuoteIdent(tn.Schema)+`.invitations
		(id, email, role, token_hash, created_at, expires_at, accepted_at) VALUES ($1, $2, 'member', $3, $4, $5, $6)`,
		id, id.String()+"@example.com", id[:], expires.Add(-7*24*time.Hour), expires, acceptedAt)
	require.NoError(t, err)
	return id
}

// invitations returns the invitation ids left in tn.
func (e *env) invitations(t *testing.T, tn *tenancy.Tenant) []uuid.UUID {
	t.Helper()
	var ids []uuid.UUID
	rows, err := e.db.Pool.Query(context.Background(), `SELECT id FROM `+db.QuoteIdent(tn.Schema)+`.invitations ORDER BY id`)
	require.NoError(t, err)
	for rows.Next() {
		var id uuid.UUID
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	return ids
}

func TestMaintenanceRunsOnStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	now := time.Now()
	old, recent := now.Add(-60*24*time.Hour), now.Add(-24*time.Hour)

	type kept struct {
		tn   *tenancy.Tenant
		keep []uuid.UUID
	}
	var live []kept
	for range 3 {
		tn := e.newTenant(t, "")
		e.invite(t, tn, old, false)
		live = append(live, kept{tn, []uuid.UUID{e.invite(t, tn, recent, false), e.invite(t, tn, old, true), e.invite(t, tn, now.Add(time.Hour), false)}})
	}
	// A tenant deleted long ago whose purge job was lost: the sweep finds it.
	overdue := e.newTenant(t, "")
	e.invite(t, overdue, old, false)
	_, err := e.db.Pool.Exec(ctx, `UPDATE public.tenants SET status = 'pending_deletion', deletion_requested_at = $2 WHERE id = $1`,
		overdue.ID, old)
	require.NoError(t, err)
	// Refresh tokens: one expired long ago, one live.
	userID := uuid.New()
	_, err = e.db.Pool.Exec(ctx, `INSERT INTO public.users (id, email, created_at, updated_at) VALUES ($1, $2, now(), now())`,
		userID, userID.String()+"@example.com")
	require.NoError(t, err)
	expiredToken, liveToken := uuid.New(), uuid.New()
	for id, exp := range map[uuid.UUID]time.Time{expiredToken: old, liveToken: now.Add(time.Hour)} {
		_, err = e.db.Pool.Exec(ctx, `INSERT INTO public.refresh_tokens (id, token_hash, family_id, user_id, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $5)`, id, id[:], uuid.New(), userID, exp)
		require.NoError(t, err)
	}

	// Stored email links: one whose token expired (an email never sent),
	// one live.
	expiredLink, liveLink := uuid.New(), uuid.New()
	require.NoError(t, mail.StoreSecret(ctx, e.db.Pool, expiredLink, map[string]string{"link": "x"}, old))
	require.NoError(t, mail.StoreSecret(ctx, e.db.Pool, liveLink, map[string]string{"link": "y"}, now.Add(time.Hour)))

	w := jobs.Register()
	river.AddWorker(w, tenant.NewPurgeWorker(e.tenants))
	client, err := jobs.NewClient(e.db.Pool, jobs.Config{Logger: discard, Workers: w, TestOnly: true,
		Maintenance: &jobs.Maintenance{Tenants: e.tenants, Clients: e.clients, Logger: discard}})
	require.NoError(t, err)
	start(t, client)

	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM public.river_job
			WHERE kind = ANY($1) AND state = 'completed'`, []string{"auth_purge_tokens", "tenant_purge_sweep", "tenant_fan_out",
			"tenant_purge", member.PurgeInvitationsArgs{}.Kind(), mail.PurgeSecretsArgs{}.Kind()}).Scan(&n))
		return n == 5+len(live)
	}, 20*time.Second, 100*time.Millisecond, "every maintenance job completes")

	t.Run("expired invitations are purged in each tenant's own schema", func(t *testing.T) {
		for _, l := range live {
			require.ElementsMatch(t, l.keep, e.invitations(t, l.tn), "tenant %s", l.tn.Slug)
		}
		var tenants []string
		rows, err := e.db.Pool.Query(ctx, `SELECT metadata->>'tenant_id' FROM public.river_job WHERE kind = $1`,
			member.PurgeInvitationsArgs{}.Kind())
		require.NoError(t, err)
		for rows.Next() {
			var id string
			require.NoError(t, rows.Scan(&id))
			tenants = append(tenants, id)
		}
		require.NoError(t, rows.Err())
		require.ElementsMatch(t, []string{live[0].tn.ID.String(), live[1].tn.ID.String(), live[2].tn.ID.String()}, tenants)
	})

	t.Run("expired email links are purged, live ones kept", func(t *testing.T) {
		rows, err := e.db.Pool.Query(ctx, `SELECT id FROM public.email_secrets`)
		require.NoError(t, err)
		ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		require.NoError(t, err)
		require.Equal(t, []uuid.UUID{liveLink}, ids)
	})

	t.Run("the sweep purged the tenant deleted long ago", func(t *testing.T) {
		var exists bool
		require.NoError(t, e.db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM public.tenants WHERE id = $1)`, overdue.ID).Scan(&exists))
		require.False(t, exists)
	})

	t.Run("expired tokens are purged, live ones kept", func(t *testing.T) {
		var ids []uuid.UUID
		rows, err := e.db.Pool.Query(ctx, `SELECT id FROM public.refresh_tokens WHERE user_id = $1`, userID)
		require.NoError(t, err)
		for rows.Next() {
			var id uuid.UUID
			require.NoError(t, rows.Scan(&id))
			ids = append(ids, id)
		}
		require.NoError(t, rows.Err())
		require.Equal(t, []uuid.UUID{liveToken}, ids)
	})
}
