package member

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/internal/rbac"
)

// lockOwnership serializes, per tenant, every change that can take the
// owner role away from someone (demotion, disabling, removal). It locks the
// owner role's row FOR NO KEY UPDATE: that conflicts with itself, so two
// such changes run one after the other and the second counts the owners the
// first left; it does not conflict with the FOR KEY SHARE lock of a foreign
// key check, so granting roles elsewhere never waits on it. Callers take it
// before locking any member row, so the lock order is always the same and
// concurrent changes cannot deadlock.
func lockOwnership(ctx context.Context, tx pgx.Tx, q string) error {
	var id uuid.UUID
	err := tx.QueryRow(ctx, `SELECT id FROM `+q+`.roles WHERE name = $1 FOR NO KEY UPDATE`, rbac.RoleOwner).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return errors.New("the owner role is missing from the tenant schema")
	}
	if err != nil {
		return fmt.Errorf("lock ownership: %w", err)
	}
	return nil
}

// isOwner reports whether userID is an active member holding the owner
// role, as committed now: the viewer's roles in the context may be a
// request old, and ownership decides who may hand ownership on.
func isOwner(ctx context.Context, tx pgx.Tx, q string, userID uuid.UUID) (bool, error) {
	var ok bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+q+`.members m
			JOIN `+q+`.member_roles mr ON mr.member_id = m.id
			JOIN `+q+`.roles r ON r.id = mr.role_id
		WHERE m.user_id = $1 AND m.status = 'active' AND r.name = $2)`, userID, rbac.RoleOwner).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("check owner: %w", err)
	}
	return ok, nil
}

// otherActiveOwners counts the owners, other than memberID, who can still
// act: an active membership of a user account that is not disabled.
func otherActiveOwners(ctx context.Context, tx pgx.Tx, q string, memberID uuid.UUID) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM `+q+`.members m
			JOIN public.users u ON u.id = m.user_id
		WHERE m.id <> $1 AND m.status = 'active' AND u.disabled_at IS NULL
			AND EXISTS (SELECT 1 FROM `+q+`.member_roles mr JOIN `+q+`.roles r ON r.id = mr.role_id
				WHERE mr.member_id = m.id AND r.name = $2)`, memberID, rbac.RoleOwner).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count owners: %w", err)
	}
	return n, nil
}

// lockedMember is a member row locked FOR UPDATE with its role names.
type lockedMember struct {
	ID     uuid.UUID
	UserID uuid.UUID
	Status string
	Roles  []string
}

func (m *lockedMember) hasRole(name string) bool {
	for _, r := range m.Roles {
		if r == name {
			return true
		}
	}
	return false
}

// lockMember locks the member row id of the tenant, or returns
// errMemberNotFound (an id of another tenant is simply not there).
func lockMember(ctx context.Context, tx pgx.Tx, q string, id uuid.UUID) (*lockedMember, error) {
	m := &lockedMember{}
	err := tx.QueryRow(ctx, `SELECT id, user_id, status FROM `+q+`.members WHERE id = $1 FOR UPDATE`, id).
		Scan(&m.ID, &m.UserID, &m.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errMemberNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("lock member: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT r.name FROM `+q+`.member_roles mr JOIN `+q+`.roles r ON r.id = mr.role_id
		WHERE mr.member_id = $1 ORDER BY r.name`, id)
	if err != nil {
		return nil, fmt.Errorf("load member roles: %w", err)
	}
	m.Roles, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("load member roles: %w", err)
	}
	return m, nil
}
