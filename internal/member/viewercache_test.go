package member_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/viewercache"
)

// The viewer cache is told about a change by the service itself as soon as
// it commits, not only by the database's notification, so the request
// that follows a demotion in this process never sees the old roles.
func TestChangesDropTheTenantsCachedViewersAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	vc := viewercache.New(viewercache.Config{})
	vc.SetLive(true) // no feed: only the service's own invalidation
	svc := member.NewService(member.Config{Pool: e.pool, Sessions: nopRevoker{}, Notifier: e.notes, Hasher: e.hasher,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Viewers: vc})

	tn := e.newTenant(t)
	other := e.newTenant(t)
	owner := e.newMember(t, tn, rbac.RoleOwner)
	target := e.newMember(t, tn, rbac.RoleAdmin)
	cached := viewercache.Key{Schema: tn.Schema, User: target.UserID}
	elsewhere := viewercache.Key{Schema: other.Schema, User: target.UserID}
	for _, k := range []viewercache.Key{cached, elsewhere} {
		vc.Put(k, vc.Begin(), &tenancy.Viewer{UserID: target.UserID, Roles: []string{rbac.RoleAdmin}})
	}

	_, err := svc.SetMemberRoles(owner.ctx, target.MemberID, []string{rbac.RoleViewer}, meta)
	require.NoError(t, err)
	_, ok := vc.Get(cached)
	require.False(t, ok, "the demoted member's cached viewer is gone when the call returns")
	_, ok = vc.Get(elsewhere)
	require.True(t, ok, "another tenant's viewers are kept")
}

// nopRevoker revokes nothing: the cache, not revocation, is under test.
type nopRevoker struct{}

func (nopRevoker) RevokeUserSessions(context.Context, uuid.UUID, uuid.UUID) (int, error) {
	return 0, nil
}
