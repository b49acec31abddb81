package member_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/rbac"
)

func TestLastOwnerUnderConcurrency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	// Each case has the two owners of a tenant give up ownership at the
	// same moment; without serialization both would see the other as the
	// remaining owner and the tenant would end with none.
	cases := []struct {
		name string
		drop func(a *actor) error
	}{
		{"two owners demoting themselves", func(a *actor) error {
			_, err := e.svc.SetMemberRoles(a.ctx, a.MemberID, []string{rbac.RoleAdmin}, meta)
			return err
		}},
		{"two owners disabling themselves", func(a *actor) error {
			_, err := e.svc.SetMemberStatus(a.ctx, a.MemberID, member.StatusDisabled, meta)
			return err
		}},
		{"two owners leaving", func(a *actor) error { return e.svc.RemoveMember(a.ctx, a.MemberID, meta) }},
	}
	for _, c := range cases {
		t.Run(c.name+" leave exactly one owner", func(t *testing.T) {
			t.Parallel()
			for range 8 {
				tn := e.newTenant(t)
				a := e.newMember(t, tn, rbac.RoleOwner)
				b := e.newMember(t, tn, rbac.RoleOwner)

				errs := concurrently(func() error { return c.drop(a) }, func() error { return c.drop(b) })
				var ok, conflict int
				for _, err := range errs {
					switch {
					case err == nil:
						ok++
					case apperr.CodeOf(err) == apperr.CodeConflict:
						conflict++
					default:
						t.Fatalf("unexpected error: %v", err)
					}
				}
				require.Equal(t, 1, ok, "exactly one succeeds: %v", errs)
				require.Equal(t, 1, conflict)
				require.Equal(t, 1, e.activeOwners(t, tn))
			}
		})
	}

	t.Run("two owners acting on each other leave exactly one owner", func(t *testing.T) {
		t.Parallel()
		for range 8 {
			tn := e.newTenant(t)
			a := e.newMember(t, tn, rbac.RoleOwner)
			b := e.newMember(t, tn, rbac.RoleOwner)

			errs := concurrently(
				func() error {
					_, err := e.svc.SetMemberStatus(a.ctx, b.MemberID, member.StatusDisabled, meta)
					return err
				},
				func() error { return e.svc.RemoveMember(b.ctx, a.MemberID, meta) },
			)
			// The second to run is no longer an owner: FORBIDDEN.
			require.True(t, (errs[0] == nil) != (errs[1] == nil), "exactly one succeeds: %v", errs)
			for _, err := range errs {
				if err != nil {
					requireCode(t, err, apperr.CodeForbidden)
				}
			}
			require.Equal(t, 1, e.activeOwners(t, tn))
		}
	})
}
