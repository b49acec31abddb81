package member_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/rbac"
)

// seatLimit allows up to free more seats.
type seatLimit struct{ free int }

func (l seatLimit) CheckSeats(_ context.Context, adding int) error {
	if adding > l.free {
		return apperr.New(apperr.CodePlanLimit, "the plan's seat limit is reached")
	}
	return nil
}

func TestInviteChecksTheSeatLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newTenant(t)
	owner := e.newMember(t, tn, rbac.RoleOwner)
	svc := func(free int) *member.Service {
		return member.NewService(member.Config{Pool: e.pool, Notifier: e.notes, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Limits: seatLimit{free: free}})
	}
	pending := func() int {
		var n int
		require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT count(*) FROM `+db.QuoteIdent(tn.Schema)+`.invitations`).Scan(&n))
		return n
	}

	t.Run("at the limit the invitation is refused and nothing is stored", func(t *testing.T) {
		_, err := svc(0).Invite(owner.ctx, newEmail(), rbac.RoleViewer, meta)
		require.Equal(t, apperr.CodePlanLimit, apperr.CodeOf(err))
		require.Zero(t, pending())
	})
	t.Run("under the limit the invitation is made", func(t *testing.T) {
		_, err := svc(1).Invite(owner.ctx, newEmail(), rbac.RoleViewer, meta)
		require.NoError(t, err)
		require.Equal(t, 1, pending())
	})
}
