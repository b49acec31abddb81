package member

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/audit"
	"github.com/clientiq/clientiq/internal/rbac"
)

// Member statuses. A disabled member keeps their roles but cannot sign in
// to the tenant.
const (
	StatusActive   = "active"
	StatusDisabled = "disabled"
)

// Member is a user's membership of the tenant.
type Member struct {
	ID     uuid.UUID
	UserID uuid.UUID
	Email  string
	Name   string
	Status string
	// Roles are the member's role names, sorted.
	Roles []string
	// JoinedAt is when the membership first became active.
	JoinedAt  *time.Time
	CreatedAt time.Time
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// selectMembers reads members with their users' emails and names and
// their roles in one query; where filters the members m.
func selectMembers(ctx context.Context, qr querier, q, where string, args ...any) ([]Member, error) {
	rows, err := qr.Query(ctx, `SELECT m.id, m.user_id, u.email, u.name, m.status,
			coalesce(array_agg(r.name ORDER BY r.name) FILTER (WHERE r.name IS NOT NULL), '{}'),
			m.joined_at, m.created_at
		FROM `+q+`.members m
		JOIN public.users u ON u.id = m.user_id
		LEFT JOIN `+q+`.member_roles mr ON mr.member_id = m.id
		LEFT JOIN `+q+`.roles r ON r.id = mr.role_id
		`+where+`
		GROUP BY m.id, u.id
		ORDER BY m.created_at, m.id`, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Member, error) {
		var m Member
		err := row.Scan(&m.ID, &m.UserID, &m.Email, &m.Name, &m.Status, &m.Roles, &m.JoinedAt, &m.CreatedAt)
		return m, err
	})
}

func getMember(ctx context.Context, qr querier, q string, id uuid.UUID) (*Member, error) {
	ms, err := selectMembers(ctx, qr, q, "WHERE m.id = $1", id)
	if err != nil {
		return nil, fmt.Errorf("get member: %w", err)
	}
	if len(ms) == 0 {
		return nil, errMemberNotFound
	}
	return &ms[0], nil
}

// ListMembers returns the tenant's members, oldest first.
func (s *Service) ListMembers(ctx context.Context) ([]Member, error) {
	sc, err := authorize(ctx, rbac.MembersRead)
	if err != nil {
		return nil, err
	}
	ms, err := selectMembers(ctx, s.pool, sc.q, "")
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return ms, nil
}

// GetMember returns one member of the tenant.
func (s *Service) GetMember(ctx context.Context, id uuid.UUID) (*Member, error) {
	sc, err := authorize(ctx, rbac.MembersRead)
	if err != nil {
		return nil, err
	}
	return getMember(ctx, s.pool, sc.q, id)
}

// SetMemberRoles replaces a member's roles. Every role must exist; the
// owner role can be granted or taken only by an owner, and never from the
// last owner; nobody grants a role with permissions they do not hold. The
// member's sessions are revoked afterwards.
func (s *Service) SetMemberRoles(ctx context.Context, memberID uuid.UUID, roles []string, meta Meta) (*Member, error) {
	sc, err := authorize(ctx, rbac.MembersManage)
	if err != nil {
		return nil, err
	}
	names := normalizeRoleNames(roles)
	if len(names) == 0 {
		return nil, apperr.Validation("a member needs at least one role", map[string][]string{"roles": {"must name at least one role"}})
	}
	var out *Member
	var revokeUser uuid.UUID
	err = s.inTx(ctx, "set member roles", func(tx pgx.Tx) error {
		if err := lockOwnership(ctx, tx, sc.q); err != nil {
			return err
		}
		m, err := lockMember(ctx, tx, sc.q, memberID)
		if err != nil {
			return err
		}
		found, err := rolesByName(ctx, tx, sc.q, names)
		if err != nil {
			return err
		}
		var unknown []string
		for _, n := range names {
			if _, ok := found[n]; !ok {
				unknown = append(unknown, n)
			}
		}
		if len(unknown) > 0 {
			return apperr.Validation("unknown roles", map[string][]string{"roles": {"unknown roles: " + strings.Join(unknown, ", ")}})
		}
		added, removed := diff(m.Roles, names)
		if len(added) == 0 && len(removed) == 0 {
			out, err = getMember(ctx, tx, sc.q, memberID)
			return err
		}
		if slices.Contains(added, rbac.RoleOwner) || slices.Contains(removed, rbac.RoleOwner) {
			ok, err := isOwner(ctx, tx, sc.q, sc.viewer.UserID)
			if err != nil {
				return err
			}
			if !ok {
				return errOwnerOnly
			}
		}
		for _, n := range added {
			if len(notHeld(sc.viewer.Permissions, found[n].Permissions)) > 0 {
				return errEscalation
			}
		}
		if slices.Contains(removed, rbac.RoleOwner) {
			n, err := otherActiveOwners(ctx, tx, sc.q, m.ID)
			if err != nil {
				return err
			}
			if n == 0 {
				return &apperr.Error{Code: apperr.CodeConflict, Message: "the last owner cannot lose the owner role; make someone else an owner first",
					Fields: map[string][]string{"roles": {"must include owner for the last owner"}}}
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+sc.q+`.member_roles mr USING `+sc.q+`.roles r
			WHERE mr.role_id = r.id AND mr.member_id = $1 AND r.name = ANY($2)`, m.ID, removed); err != nil {
			return fmt.Errorf("remove roles: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+sc.q+`.member_roles (member_id, role_id)
			SELECT $1, r.id FROM `+sc.q+`.roles r WHERE r.name = ANY($2) ON CONFLICT DO NOTHING`, m.ID, added); err != nil {
			return fmt.Errorf("add roles: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE `+sc.q+`.members SET updated_at = now() WHERE id = $1`, m.ID); err != nil {
			return fmt.Errorf("touch member: %w", err)
		}
		if err := audit.Record(ctx, tx, sc.schema, sc.event(audit.MemberRolesChanged, "member", m.ID.String(), meta,
			map[string]any{"user_id": m.UserID.String(), "roles": names, "added": added, "removed": removed})); err != nil {
			return err
		}
		revokeUser = m.UserID
		out, err = getMember(ctx, tx, sc.q, memberID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if revokeUser != uuid.Nil {
		s.revokeSessions(ctx, revokeUser)
	}
	return out, nil
}

// SetMemberStatus enables or disables a member. The last active owner
// cannot be disabled, only an owner can disable or enable an owner, and
// disabling revokes the member's sessions.
func (s *Service) SetMemberStatus(ctx context.Context, memberID uuid.UUID, status string, meta Meta) (*Member, error) {
	sc, err := authorize(ctx, rbac.MembersManage)
	if err != nil {
		return nil, err
	}
	if status != StatusActive && status != StatusDisabled {
		return nil, apperr.Validation("invalid status", map[string][]string{"status": {"must be active or disabled"}})
	}
	var out *Member
	var revokeUser uuid.UUID
	err = s.inTx(ctx, "set member status", func(tx pgx.Tx) error {
		if err := lockOwnership(ctx, tx, sc.q); err != nil {
			return err
		}
		m, err := lockMember(ctx, tx, sc.q, memberID)
		if err != nil {
			return err
		}
		if m.Status == status {
			out, err = getMember(ctx, tx, sc.q, memberID)
			return err
		}
		if err := requireOwnerToManageOwner(ctx, tx, sc, m); err != nil {
			return err
		}
		if status == StatusDisabled && m.hasRole(rbac.RoleOwner) {
			n, err := otherActiveOwners(ctx, tx, sc.q, m.ID)
			if err != nil {
				return err
			}
			if n == 0 {
				return apperr.New(apperr.CodeConflict, "the last owner cannot be disabled; make someone else an owner first")
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE `+sc.q+`.members SET status = $2::text, updated_at = now(),
			joined_at = CASE WHEN $2::text = 'active' THEN coalesce(joined_at, now()) ELSE joined_at END
			WHERE id = $1`, m.ID, status); err != nil {
			return fmt.Errorf("update member status: %w", err)
		}
		if err := audit.Record(ctx, tx, sc.schema, sc.event(audit.MemberStatusChanged, "member", m.ID.String(), meta,
			map[string]any{"user_id": m.UserID.String(), "from": m.Status, "to": status})); err != nil {
			return err
		}
		if status == StatusDisabled {
			revokeUser = m.UserID
		}
		out, err = getMember(ctx, tx, sc.q, memberID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if revokeUser != uuid.Nil {
		s.revokeSessions(ctx, revokeUser)
	}
	return out, nil
}

// RemoveMember deletes a membership (its role assignments go with it) and
// revokes the user's sessions. Members may remove themselves (leave) with
// members.manage; nobody removes the last owner, and only an owner removes
// an owner.
func (s *Service) RemoveMember(ctx context.Context, memberID uuid.UUID, meta Meta) error {
	sc, err := authorize(ctx, rbac.MembersManage)
	if err != nil {
		return err
	}
	var revokeUser uuid.UUID
	err = s.inTx(ctx, "remove member", func(tx pgx.Tx) error {
		if err := lockOwnership(ctx, tx, sc.q); err != nil {
			return err
		}
		m, err := lockMember(ctx, tx, sc.q, memberID)
		if err != nil {
			return err
		}
		if err := requireOwnerToManageOwner(ctx, tx, sc, m); err != nil {
			return err
		}
		if m.hasRole(rbac.RoleOwner) {
			n, err := otherActiveOwners(ctx, tx, sc.q, m.ID)
			if err != nil {
				return err
			}
			if n == 0 {
				return apperr.New(apperr.CodeConflict, "the last owner cannot be removed; make someone else an owner first")
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+sc.q+`.members WHERE id = $1`, m.ID); err != nil {
			return fmt.Errorf("delete member: %w", err)
		}
		if err := audit.Record(ctx, tx, sc.schema, sc.event(audit.MemberRemoved, "member", m.ID.String(), meta,
			map[string]any{"user_id": m.UserID.String(), "roles": nonNil(m.Roles), "self": m.UserID == sc.viewer.UserID})); err != nil {
			return err
		}
		revokeUser = m.UserID
		return nil
	})
	if err != nil {
		return err
	}
	s.revokeSessions(ctx, revokeUser)
	return nil
}

// requireOwnerToManageOwner refuses a non-owner viewer acting on an owner:
// otherwise an admin could lock every owner out and take the tenant.
func requireOwnerToManageOwner(ctx context.Context, tx pgx.Tx, sc *scope, m *lockedMember) error {
	if !m.hasRole(rbac.RoleOwner) {
		return nil
	}
	ok, err := isOwner(ctx, tx, sc.q, sc.viewer.UserID)
	if err != nil {
		return err
	}
	if !ok {
		return errOwnerOnly
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
