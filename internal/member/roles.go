package member

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/audit"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/rbac"
)

// Role is a tenant role: one of the built-in ones seeded from rbac, or a
// custom one made from the permission catalogue.
type Role struct {
	ID          uuid.UUID
	Name        string
	Description string
	// Permissions are rbac permission names in catalogue order.
	Permissions []string
	// Builtin roles cannot be changed or deleted.
	Builtin bool
	// MemberCount is how many members hold the role.
	MemberCount int
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// RoleUpdate changes a custom role; nil fields stay as they are.
type RoleUpdate struct {
	Name        *string
	Description *string
	// Permissions, when not nil, replaces the role's permissions.
	Permissions *[]string
}

// builtinOrder lists the built-in role names in rbac's order, for sorting.
func builtinOrder() []string {
	out := make([]string, len(rbac.Builtin))
	for i, r := range rbac.Builtin {
		out[i] = r.Name
	}
	return out
}

// selectRoles reads roles with their member counts: built-in ones first in
// rbac's order, then custom ones by name. $1 is that order, so where's
// parameters start at $2.
func selectRoles(ctx context.Context, qr querier, q, where string, args ...any) ([]Role, error) {
	args = append([]any{builtinOrder()}, args...)
	rows, err := qr.Query(ctx, `SELECT r.id, r.name, r.description, r.permissions, r.builtin, r.created_at, r.updated_at,
			(SELECT count(*) FROM `+q+`.member_roles mr WHERE mr.role_id = r.id)
		FROM `+q+`.roles r `+where+`
		ORDER BY array_position($1::text[], r.name::text) NULLS LAST, r.name`, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Role, error) {
		var r Role
		err := row.Scan(&r.ID, &r.Name, &r.Description, &r.Permissions, &r.Builtin, &r.CreatedAt, &r.UpdatedAt, &r.MemberCount)
		if r.Permissions == nil {
			r.Permissions = []string{}
		}
		return r, err
	})
}

func getRole(ctx context.Context, qr querier, q string, id uuid.UUID) (*Role, error) {
	rs, err := selectRoles(ctx, qr, q, "WHERE r.id = $2", id)
	if err != nil {
		return nil, fmt.Errorf("get role: %w", err)
	}
	if len(rs) == 0 {
		return nil, errRoleNotFound
	}
	return &rs[0], nil
}

// rolesByName returns the roles called names that exist in the tenant.
func rolesByName(ctx context.Context, tx pgx.Tx, q string, names []string) (map[string]Role, error) {
	rs, err := selectRoles(ctx, tx, q, "WHERE r.name = ANY($2)", names)
	if err != nil {
		return nil, fmt.Errorf("load roles: %w", err)
	}
	out := make(map[string]Role, len(rs))
	for _, r := range rs {
		out[r.Name] = r
	}
	return out, nil
}

// ListRoles returns the tenant's roles with how many members hold each.
func (s *Service) ListRoles(ctx context.Context) ([]Role, error) {
	sc, err := authorize(ctx, rbac.MembersRead)
	if err != nil {
		return nil, err
	}
	rs, err := selectRoles(ctx, s.pool, sc.q, "")
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	return rs, nil
}

// GetRole returns one role of the tenant.
func (s *Service) GetRole(ctx context.Context, id uuid.UUID) (*Role, error) {
	sc, err := authorize(ctx, rbac.MembersRead)
	if err != nil {
		return nil, err
	}
	return getRole(ctx, s.pool, sc.q, id)
}

// CreateRole creates a custom role from catalogue permissions the viewer
// holds.
func (s *Service) CreateRole(ctx context.Context, name, description string, permissions []string, meta Meta) (*Role, error) {
	sc, err := authorize(ctx, rbac.RolesManage)
	if err != nil {
		return nil, err
	}
	name, description = strings.TrimSpace(name), strings.TrimSpace(description)
	fe := apperr.FieldErrors{}
	checkRoleName(fe, name)
	checkDescription(fe, description)
	perms := normalizePermissions(fe, permissions)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	if rbac.IsBuiltin(name) {
		return nil, errRoleNameTaken(nil)
	}
	if len(notHeld(sc.viewer.Permissions, perms)) > 0 {
		return nil, errEscalation
	}
	var out *Role
	err = s.inTx(ctx, "create role", func(tx pgx.Tx) error {
		id := uuid.New()
		b, _ := json.Marshal(perms)
		if _, err := tx.Exec(ctx, `INSERT INTO `+sc.q+`.roles (id, name, description, permissions, builtin, created_at, updated_at)
			VALUES ($1, $2, $3, $4, false, now(), now())`, id, name, description, string(b)); err != nil {
			return translateRoleWrite(err)
		}
		if err := audit.Record(ctx, tx, sc.schema, sc.event(audit.RoleCreated, "role", id.String(), meta,
			map[string]any{"name": name, "permissions": perms})); err != nil {
			return err
		}
		var err error
		out, err = getRole(ctx, tx, sc.q, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateRole changes a custom role. Built-in roles cannot be changed.
// Renaming carries pending invitations along; changing permissions revokes
// the sessions of the members holding the role.
func (s *Service) UpdateRole(ctx context.Context, id uuid.UUID, in RoleUpdate, meta Meta) (*Role, error) {
	sc, err := authorize(ctx, rbac.RolesManage)
	if err != nil {
		return nil, err
	}
	fe := apperr.FieldErrors{}
	var name, description string
	var perms []string
	if in.Name != nil {
		name = strings.TrimSpace(*in.Name)
		checkRoleName(fe, name)
	}
	if in.Description != nil {
		description = strings.TrimSpace(*in.Description)
		checkDescription(fe, description)
	}
	if in.Permissions != nil {
		perms = normalizePermissions(fe, *in.Permissions)
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	var out *Role
	var holders []uuid.UUID
	err = s.inTx(ctx, "update role", func(tx pgx.Tx) error {
		cur, err := lockRole(ctx, tx, sc.q, id)
		if err != nil {
			return err
		}
		if cur.Builtin {
			return apperr.New(apperr.CodeForbidden, "built-in roles cannot be changed")
		}
		md := map[string]any{}
		if in.Name != nil && name != cur.Name {
			if rbac.IsBuiltin(name) {
				return errRoleNameTaken(nil)
			}
			if _, err := tx.Exec(ctx, `UPDATE `+sc.q+`.roles SET name = $2, updated_at = now() WHERE id = $1`, id, name); err != nil {
				return translateRoleWrite(err)
			}
			// Invitations name their role: keep the pending ones pointing at it.
			if _, err := tx.Exec(ctx, `UPDATE `+sc.q+`.invitations SET role = $2
				WHERE role = $1 AND accepted_at IS NULL AND revoked_at IS NULL`, cur.Name, name); err != nil {
				return fmt.Errorf("rename role in invitations: %w", err)
			}
			md["name"] = map[string]string{"from": cur.Name, "to": name}
		}
		if in.Description != nil && description != cur.Description {
			if _, err := tx.Exec(ctx, `UPDATE `+sc.q+`.roles SET description = $2, updated_at = now() WHERE id = $1`, id, description); err != nil {
				return fmt.Errorf("update role description: %w", err)
			}
			md["description_changed"] = true
		}
		if added, removed := diff(cur.Permissions, perms); in.Permissions != nil && len(added)+len(removed) > 0 {
			if len(notHeld(sc.viewer.Permissions, added)) > 0 {
				return errEscalation
			}
			b, _ := json.Marshal(perms)
			if _, err := tx.Exec(ctx, `UPDATE `+sc.q+`.roles SET permissions = $2, updated_at = now() WHERE id = $1`, id, string(b)); err != nil {
				return fmt.Errorf("update role permissions: %w", err)
			}
			md["permissions_added"], md["permissions_removed"] = added, removed
			if holders, err = roleHolders(ctx, tx, sc.q, id); err != nil {
				return err
			}
		}
		if len(md) > 0 {
			if err := audit.Record(ctx, tx, sc.schema, sc.event(audit.RoleUpdated, "role", id.String(), meta, md)); err != nil {
				return err
			}
		}
		out, err = getRole(ctx, tx, sc.q, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.revokeSessions(ctx, holders...)
	return out, nil
}

// DeleteRole deletes a custom role: its assignments go with it, pending
// invitations to it are revoked, and its holders' sessions are revoked.
// Built-in roles cannot be deleted.
func (s *Service) DeleteRole(ctx context.Context, id uuid.UUID, meta Meta) error {
	sc, err := authorize(ctx, rbac.RolesManage)
	if err != nil {
		return err
	}
	var holders []uuid.UUID
	err = s.inTx(ctx, "delete role", func(tx pgx.Tx) error {
		cur, err := lockRole(ctx, tx, sc.q, id)
		if err != nil {
			return err
		}
		if cur.Builtin {
			return apperr.New(apperr.CodeForbidden, "built-in roles cannot be deleted")
		}
		if holders, err = roleHolders(ctx, tx, sc.q, id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE `+sc.q+`.invitations SET revoked_at = $2
			WHERE role = $1 AND accepted_at IS NULL AND revoked_at IS NULL`, cur.Name, s.now())
		if err != nil {
			return fmt.Errorf("revoke invitations to role: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+sc.q+`.roles WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete role: %w", err)
		}
		return audit.Record(ctx, tx, sc.schema, sc.event(audit.RoleDeleted, "role", id.String(), meta,
			map[string]any{"name": cur.Name, "members": len(holders), "invitations_revoked": tag.RowsAffected()}))
	})
	if err != nil {
		return err
	}
	s.revokeSessions(ctx, holders...)
	return nil
}

// lockRole locks the role row id of the tenant, or returns errRoleNotFound.
func lockRole(ctx context.Context, tx pgx.Tx, q string, id uuid.UUID) (*Role, error) {
	r := &Role{ID: id}
	err := tx.QueryRow(ctx, `SELECT name, description, permissions, builtin FROM `+q+`.roles WHERE id = $1 FOR UPDATE`, id).
		Scan(&r.Name, &r.Description, &r.Permissions, &r.Builtin)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errRoleNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("lock role: %w", err)
	}
	return r, nil
}

// roleHolders returns the users holding role id.
func roleHolders(ctx context.Context, tx pgx.Tx, q string, id uuid.UUID) ([]uuid.UUID, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT m.user_id FROM `+q+`.member_roles mr
		JOIN `+q+`.members m ON m.id = mr.member_id WHERE mr.role_id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("load role holders: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("load role holders: %w", err)
	}
	return ids, nil
}

func errRoleNameTaken(cause error) error {
	return &apperr.Error{Code: apperr.CodeConflict, Message: "a role with this name already exists",
		Fields: map[string][]string{"name": {"is already taken"}}, Cause: cause}
}

// translateRoleWrite turns the unique violation of a role's name into
// CONFLICT on the name field.
func translateRoleWrite(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == db.CodeUniqueViolation && pgErr.ConstraintName == "role_name" {
		return errRoleNameTaken(err)
	}
	return fmt.Errorf("write role: %w", err)
}

// diff returns what is in next but not in prev, and what is in prev but
// not in next.
func diff(prev, next []string) (added, removed []string) {
	added, removed = []string{}, []string{}
	for _, n := range next {
		if !slices.Contains(prev, n) {
			added = append(added, n)
		}
	}
	for _, p := range prev {
		if !slices.Contains(next, p) {
			removed = append(removed, p)
		}
	}
	return added, removed
}
