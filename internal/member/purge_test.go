package member_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/jobs"
	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// rawInvite inserts an invitation in tn expiring at expires (accepted
// then, when accepted).
func (e *env) rawInvite(t *testing.T, tn *tenancy.Tenant, expires time.Time, accepted bool) uuid.UUID {
	t.Helper()
	id := uuid.New()
	var acceptedAt *time.Time
	if accepted {
		acceptedAt = &expires
	}
	_, err := e.pool.Exec(context.Background(), `INSERT INTO `+quote(tn)+`.invitations (id, email, role, token_hash, created_at, expires_at, accepted_at)
		VALUES ($1, $2, 'member', $3, $4, $5, $6)`, id, newEmail(), id[:], expires.Add(-7*24*time.Hour), expires, acceptedAt)
	require.NoError(t, err)
	return id
}

func (e *env) invitationIDs(t *testing.T, tn *tenancy.Tenant) []uuid.UUID {
	t.Helper()
	rows, err := e.pool.Query(context.Background(), `SELECT id FROM `+quote(tn)+`.invitations`)
	require.NoError(t, err)
	var ids []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	return ids
}

func TestPurgeInvitations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	clients := db.NewClients(e.pool)
	now := time.Now()
	old := now.Add(-member.DefaultInvitationRetention - time.Hour)

	t.Run("deletes only the job tenant's invitations expired past retention", func(t *testing.T) {
		t.Parallel()
		a, b := e.newTenant(t), e.newTenant(t)
		e.rawInvite(t, a, old, false)
		keepA := []uuid.UUID{e.rawInvite(t, a, now.Add(-time.Hour), false), e.rawInvite(t, a, old, true), e.rawInvite(t, a, now.Add(time.Hour), false)}
		keepB := []uuid.UUID{e.rawInvite(t, b, old, false)}
		w := river.NewWorkers()
		river.AddWorker(w, member.NewPurgeInvitationsWorker(member.PurgeInvitationsConfig{Clients: clients, Logger: logger}))
		client, err := jobs.NewClient(e.pool, jobs.Config{Logger: logger, Workers: w, TestOnly: true})
		require.NoError(t, err)
		done, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
		t.Cleanup(cancel)
		require.NoError(t, client.Start(ctx))
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, client.Stop(sctx))
		})

		res, err := client.Insert(tenancy.WithTenant(ctx, a), member.PurgeInvitationsArgs{}, nil)
		require.NoError(t, err)

		select {
		case ev := <-done:
			require.Equal(t, res.Job.ID, ev.Job.ID)
			require.Equal(t, river.EventKindJobCompleted, ev.Kind, "%v", ev.Job.Errors)
		case <-time.After(10 * time.Second):
			t.Fatal("the purge did not finish within 10s")
		}
		require.ElementsMatch(t, keepA, e.invitationIDs(t, a))
		require.ElementsMatch(t, keepB, e.invitationIDs(t, b), "another tenant's invitations are untouched")
	})

	t.Run("without a tenant it is cancelled and touches nothing", func(t *testing.T) {
		t.Parallel()
		tn := e.newTenant(t)
		id := e.rawInvite(t, tn, old, false)
		w := member.NewPurgeInvitationsWorker(member.PurgeInvitationsConfig{Clients: clients, Logger: logger})

		err := w.Work(ctx, &river.Job[member.PurgeInvitationsArgs]{JobRow: &rivertype.JobRow{}})

		var cancelErr *rivertype.JobCancelError
		require.True(t, errors.As(err, &cancelErr), "%v", err)
		require.ErrorIs(t, err, tenancy.ErrNoTenant)
		require.Equal(t, []uuid.UUID{id}, e.invitationIDs(t, tn))
	})
}
