package member

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/audit"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// AcceptInput is what the invited person gives when accepting.
type AcceptInput struct {
	// Password is the new account's password when no account has the
	// invited email, else the existing account's current password (not
	// needed when signed in as that account).
	Password string
	// Name is the new account's display name; ignored for an existing one.
	Name string
}

// Accepted is an acceptance's result; the caller issues tokens for UserID.
type Accepted struct {
	UserID   uuid.UUID
	MemberID uuid.UUID
	Role     string
	// UserCreated reports whether the account was created by accepting.
	UserCreated bool
}

// errBadInvitation is the one answer to an unknown, accepted, revoked,
// expired or other tenant's token: nothing to probe.
var errBadInvitation = apperr.New(apperr.CodeValidation, "invalid or expired invitation")

// errBadPassword is the one answer to a wrong or missing password and a
// disabled account.
var errBadPassword = apperr.New(apperr.CodeUnauthenticated, "the password is not correct for the invited account")

// AcceptInvitation joins the invitation's email to the tenant of ctx with
// the invitation's role. No permission is needed: the token, sent to that
// email, is the proof. Without an account for the email one is created with
// in.Password (and its email counts as verified); with one, in.Password
// must be its password unless the viewer is signed in as that account. The
// invitation works once.
func (s *Service) AcceptInvitation(ctx context.Context, token string, in AcceptInput, meta Meta) (*Accepted, error) {
	t, err := tenancy.Require(ctx)
	if err != nil {
		return nil, err
	}
	v, _ := tenancy.ViewerFrom(ctx)
	sc, err := newScope(v, t)
	if err != nil {
		return nil, err
	}
	if token == "" || len(token) > maxTokenLen {
		return nil, errBadInvitation
	}
	name := strings.TrimSpace(in.Name)
	if utf8.RuneCountInString(name) > maxNameLen {
		return nil, apperr.Validation("invalid name", map[string][]string{"name": {fmt.Sprintf("must be at most %d characters", maxNameLen)}})
	}
	if s.hasher == nil {
		return nil, errors.New("member: accept invitation: no hasher configured")
	}
	var out *Accepted
	err = s.inTx(ctx, "accept invitation", func(tx pgx.Tx) error {
		invs, err := s.selectInvitations(ctx, tx, sc.q, "WHERE token_hash = $1", true, hashToken(token))
		if err != nil {
			return fmt.Errorf("lock invitation: %w", err)
		}
		if len(invs) == 0 || invs[0].Status != InvitationPending {
			return errBadInvitation
		}
		inv := invs[0]
		roles, err := rolesByName(ctx, tx, sc.q, []string{inv.Role})
		if err != nil {
			return err
		}
		role, ok := roles[inv.Role]
		if !ok {
			return errBadInvitation
		}
		res := &Accepted{Role: inv.Role}
		res.UserID, res.UserCreated, err = s.acceptingUser(ctx, tx, v, inv.Email, name, in.Password)
		if err != nil {
			return err
		}
		var status string
		err = tx.QueryRow(ctx, `INSERT INTO `+sc.q+`.members (id, user_id, status, joined_at, created_at, updated_at)
			VALUES ($1, $2, 'active', now(), now(), now())
			ON CONFLICT (user_id) DO UPDATE SET updated_at = now()
			RETURNING id, status`, uuid.New(), res.UserID).Scan(&res.MemberID, &status)
		if err != nil {
			return fmt.Errorf("add member: %w", err)
		}
		if status != StatusActive {
			return apperr.New(apperr.CodeForbidden, "your membership of this tenant is disabled; ask an administrator to enable it")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+sc.q+`.member_roles (member_id, role_id) VALUES ($1, $2)
			ON CONFLICT DO NOTHING`, res.MemberID, role.ID); err != nil {
			return fmt.Errorf("assign role: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE `+sc.q+`.invitations SET accepted_at = $2 WHERE id = $1`, inv.ID, s.now()); err != nil {
			return fmt.Errorf("mark invitation accepted: %w", err)
		}
		e := audit.Event{Action: audit.InvitationAccepted, ActorID: res.UserID, TargetType: "invitation", TargetID: inv.ID.String(),
			IP: meta.IP, UserAgent: meta.UserAgent,
			Metadata: map[string]any{"member_id": res.MemberID.String(), "role": inv.Role, "user_created": res.UserCreated}}
		if v != nil {
			e.ImpersonatorID = v.ImpersonatorID
		}
		if err := audit.Record(ctx, tx, sc.schema, e); err != nil {
			return err
		}
		out = res
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// acceptingUser returns the account the invitation's email belongs to,
// creating it when there is none, after the password checks.
func (s *Service) acceptingUser(ctx context.Context, tx pgx.Tx, v *tenancy.Viewer, email, name, password string) (uuid.UUID, bool, error) {
	var id uuid.UUID
	var hash *string
	var disabled *time.Time
	err := tx.QueryRow(ctx, `SELECT id, password_hash, disabled_at FROM public.users WHERE email = $1 FOR UPDATE`, email).
		Scan(&id, &hash, &disabled)
	if errors.Is(err, pgx.ErrNoRows) {
		id, err = s.createUser(ctx, tx, email, name, password)
		return id, err == nil, err
	}
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("load invited user: %w", err)
	}
	if disabled != nil {
		return uuid.Nil, false, errBadPassword
	}
	signedIn := v != nil && v.UserID == id && v.ImpersonatorID == uuid.Nil
	if !signedIn {
		if password == "" {
			return uuid.Nil, false, errBadPassword
		}
		var encoded string
		if hash != nil {
			encoded = *hash
		}
		ok, rehash, err := s.hasher.Verify(ctx, password, encoded)
		if err != nil {
			return uuid.Nil, false, err
		}
		if !ok {
			return uuid.Nil, false, errBadPassword
		}
		if rehash {
			if nh, err := s.hasher.Hash(ctx, password); err == nil {
				if _, err := tx.Exec(ctx, `UPDATE public.users SET password_hash = $2, updated_at = now() WHERE id = $1`, id, nh); err != nil {
					return uuid.Nil, false, fmt.Errorf("rehash password: %w", err)
				}
			}
		}
	}
	// The token reached the mailbox: the address is verified.
	if _, err := tx.Exec(ctx, `UPDATE public.users SET email_verified_at = coalesce(email_verified_at, now()), updated_at = now()
		WHERE id = $1`, id); err != nil {
		return uuid.Nil, false, fmt.Errorf("verify invited email: %w", err)
	}
	return id, false, nil
}

// createUser makes the account of an invited email that has none.
func (s *Service) createUser(ctx context.Context, tx pgx.Tx, email, name, password string) (uuid.UUID, error) {
	if err := s.validatePassword("password", password, email); err != nil {
		return uuid.Nil, err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return uuid.Nil, err
	}
	id := uuid.New()
	_, err = tx.Exec(ctx, `INSERT INTO public.users (id, email, password_hash, name, is_staff, email_verified_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, false, now(), now(), now())`, id, email, hash, name)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == db.CodeUniqueViolation {
		return uuid.Nil, apperr.Wrap(apperr.CodeConflict, "an account with this email was created meanwhile; try again", err)
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("create invited user: %w", err)
	}
	return id, nil
}
