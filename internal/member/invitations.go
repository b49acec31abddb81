package member

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/audit"
	"github.com/clientiq/clientiq/internal/credential"
	"github.com/clientiq/clientiq/internal/rbac"
)

// Invitation statuses, computed from the invitation's timestamps.
const (
	InvitationPending  = "pending"
	InvitationAccepted = "accepted"
	InvitationRevoked  = "revoked"
	InvitationExpired  = "expired"
)

// Invitation is an offer to join the tenant with a role. Its token is
// never part of it: only the notifier sees the raw token, once.
type Invitation struct {
	ID    uuid.UUID
	Email string
	Role  string
	// Status is one of the Invitation* constants.
	Status string
	// InvitedBy is the inviting user (uuid.Nil when unknown).
	InvitedBy  uuid.UUID
	CreatedAt  time.Time
	ExpiresAt  time.Time
	AcceptedAt *time.Time
	RevokedAt  *time.Time
}

func (inv *Invitation) setStatus(now time.Time) {
	switch {
	case inv.AcceptedAt != nil:
		inv.Status = InvitationAccepted
	case inv.RevokedAt != nil:
		inv.Status = InvitationRevoked
	case !now.Before(inv.ExpiresAt):
		inv.Status = InvitationExpired
	default:
		inv.Status = InvitationPending
	}
}

// selectInvitations reads invitations with their status; where filters
// them, and lock (when true) locks them FOR UPDATE.
func (s *Service) selectInvitations(ctx context.Context, qr querier, q, where string, lock bool, args ...any) ([]Invitation, error) {
	sql := `SELECT id, email, role, invited_by, created_at, expires_at, accepted_at, revoked_at
		FROM ` + q + `.invitations ` + where + ` ORDER BY created_at DESC, id`
	if lock {
		sql += " FOR UPDATE"
	}
	rows, err := qr.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	now := s.now()
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Invitation, error) {
		var inv Invitation
		var by *uuid.UUID
		err := row.Scan(&inv.ID, &inv.Email, &inv.Role, &by, &inv.CreatedAt, &inv.ExpiresAt, &inv.AcceptedAt, &inv.RevokedAt)
		if by != nil {
			inv.InvitedBy = *by
		}
		inv.setStatus(now)
		return inv, err
	})
}

// ListInvitations returns every invitation of the tenant with its status:
// pending ones first, then the rest, newest first within each group.
func (s *Service) ListInvitations(ctx context.Context) ([]Invitation, error) {
	sc, err := authorize(ctx, rbac.MembersInvite)
	if err != nil {
		return nil, err
	}
	invs, err := s.selectInvitations(ctx, s.pool, sc.q, "", false)
	if err != nil {
		return nil, fmt.Errorf("list invitations: %w", err)
	}
	slices.SortStableFunc(invs, func(a, b Invitation) int {
		ap, bp := a.Status == InvitationPending, b.Status == InvitationPending
		switch {
		case ap == bp:
			return 0
		case ap:
			return -1
		default:
			return 1
		}
	})
	return invs, nil
}

// Invite invites email to the tenant with role and hands the email with
// the raw token to the notifier in the same transaction; only the token's
// hash is stored. A pending invitation for the same email is revoked and
// replaced. Inviting to the owner role takes an owner, and nobody invites
// to a role with permissions they do not hold.
func (s *Service) Invite(ctx context.Context, email, role string, meta Meta) (*Invitation, error) {
	sc, err := authorize(ctx, rbac.MembersInvite)
	if err != nil {
		return nil, err
	}
	fe := apperr.FieldErrors{}
	email, eerr := credential.NormalizeEmail("email", email)
	if eerr != nil {
		for k, v := range apperr.As(eerr).Fields {
			fe[k] = v
		}
	}
	role = strings.TrimSpace(role)
	if role == "" {
		fe.Add("role", "is required")
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	if s.notifier == nil {
		return nil, errors.New("member: invite: no notifier configured")
	}
	if s.limits != nil {
		if err := s.limits.CheckSeats(ctx, 1); err != nil {
			return nil, err
		}
	}
	var out *Invitation
	err = s.inTx(ctx, "invite member", func(tx pgx.Tx) error {
		// One invitation in flight per address: two concurrent invites of
		// the same email would otherwise both stay pending.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
			"clientiq.member.invite:"+sc.schema+":"+email); err != nil {
			return fmt.Errorf("lock invitation email: %w", err)
		}
		roles, err := rolesByName(ctx, tx, sc.q, []string{role})
		if err != nil {
			return err
		}
		r, ok := roles[role]
		if !ok {
			return apperr.Validation("unknown role", map[string][]string{"role": {"does not exist"}})
		}
		if role == rbac.RoleOwner {
			owner, err := isOwner(ctx, tx, sc.q, sc.viewer.UserID)
			if err != nil {
				return err
			}
			if !owner {
				return errOwnerOnly
			}
		}
		if len(notHeld(sc.viewer.Permissions, r.Permissions)) > 0 {
			return errEscalation
		}
		if err := refuseExistingMember(ctx, tx, sc.q, email); err != nil {
			return err
		}
		now := s.now()
		replaced, err := tx.Query(ctx, `UPDATE `+sc.q+`.invitations SET revoked_at = $2
			WHERE email = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2 RETURNING id`, email, now)
		if err != nil {
			return fmt.Errorf("revoke previous invitations: %w", err)
		}
		old, err := pgx.CollectRows(replaced, pgx.RowTo[uuid.UUID])
		if err != nil {
			return fmt.Errorf("revoke previous invitations: %w", err)
		}
		for _, id := range old {
			if err := audit.Record(ctx, tx, sc.schema, sc.event(audit.InvitationRevoked, "invitation", id.String(), meta,
				map[string]any{"email": email, "reason": "replaced"})); err != nil {
				return err
			}
		}
		var inviter string
		if err := tx.QueryRow(ctx, `SELECT coalesce(nullif(name, ''), email) FROM public.users WHERE id = $1`,
			sc.viewer.UserID).Scan(&inviter); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("load inviter: %w", err)
		}
		token, hash := newToken()
		inv := &Invitation{ID: uuid.New(), Email: email, Role: role, Status: InvitationPending, InvitedBy: sc.viewer.UserID,
			CreatedAt: now, ExpiresAt: now.Add(s.invitationTTL)}
		if _, err := tx.Exec(ctx, `INSERT INTO `+sc.q+`.invitations (id, email, role, token_hash, invited_by, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, inv.ID, inv.Email, inv.Role, hash, nilIfZero(inv.InvitedBy),
			inv.CreatedAt, inv.ExpiresAt); err != nil {
			return fmt.Errorf("store invitation: %w", err)
		}
		if err := audit.Record(ctx, tx, sc.schema, sc.event(audit.MemberInvited, "invitation", inv.ID.String(), meta,
			map[string]any{"email": email, "role": role, "replaced": len(old)})); err != nil {
			return err
		}
		if err := s.notifier.Invitation(ctx, tx, InvitationEmail{
			InvitationID: inv.ID, To: email, TenantName: sc.tenant.Name, TenantSlug: sc.tenant.Slug,
			Role: role, InviterName: inviter, Token: token, ExpiresAt: inv.ExpiresAt,
		}); err != nil {
			return fmt.Errorf("notify invitation: %w", err)
		}
		out = inv
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// refuseExistingMember answers CONFLICT when email already has a
// membership. A disabled member is re-enabled, not re-invited: an invite
// must not undo what a members.manage holder decided.
func refuseExistingMember(ctx context.Context, tx pgx.Tx, q, email string) error {
	var status string
	err := tx.QueryRow(ctx, `SELECT m.status FROM `+q+`.members m JOIN public.users u ON u.id = m.user_id
		WHERE u.email = $1`, email).Scan(&status)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("check membership: %w", err)
	case status == StatusActive:
		return &apperr.Error{Code: apperr.CodeConflict, Message: "this person is already a member",
			Fields: map[string][]string{"email": {"is already a member"}}}
	default:
		return &apperr.Error{Code: apperr.CodeConflict, Message: "this person is a disabled member; enable them instead",
			Fields: map[string][]string{"email": {"belongs to a disabled member"}}}
	}
}

// RevokeInvitation withdraws an invitation so its token no longer works.
// An accepted or already revoked invitation is a CONFLICT.
func (s *Service) RevokeInvitation(ctx context.Context, id uuid.UUID, meta Meta) (*Invitation, error) {
	sc, err := authorize(ctx, rbac.MembersInvite)
	if err != nil {
		return nil, err
	}
	var out *Invitation
	err = s.inTx(ctx, "revoke invitation", func(tx pgx.Tx) error {
		invs, err := s.selectInvitations(ctx, tx, sc.q, "WHERE id = $1", true, id)
		if err != nil {
			return fmt.Errorf("lock invitation: %w", err)
		}
		if len(invs) == 0 {
			return errInvitationNotFound
		}
		inv := &invs[0]
		switch inv.Status {
		case InvitationAccepted:
			return apperr.New(apperr.CodeConflict, "this invitation was already accepted")
		case InvitationRevoked:
			return apperr.New(apperr.CodeConflict, "this invitation was already revoked")
		}
		now := s.now()
		if _, err := tx.Exec(ctx, `UPDATE `+sc.q+`.invitations SET revoked_at = $2 WHERE id = $1`, id, now); err != nil {
			return fmt.Errorf("revoke invitation: %w", err)
		}
		if err := audit.Record(ctx, tx, sc.schema, sc.event(audit.InvitationRevoked, "invitation", id.String(), meta,
			map[string]any{"email": inv.Email, "role": inv.Role})); err != nil {
			return err
		}
		inv.RevokedAt = &now
		inv.setStatus(now)
		out = inv
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func nilIfZero(u uuid.UUID) *uuid.UUID {
	if u == uuid.Nil {
		return nil
	}
	return &u
}
