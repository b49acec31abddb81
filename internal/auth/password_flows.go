package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/audit"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// One-time token lifetimes and request limits.
const (
	ResetTokenTTL        = time.Hour
	VerificationTokenTTL = 24 * time.Hour
	// ResetRequestsPerHour per email address: more are accepted (the answer
	// must not reveal anything) but send nothing.
	ResetRequestsPerHour = 3
)

// Purposes of one-time tokens.
const (
	PurposePasswordReset     = "password_reset"
	PurposeEmailVerification = "email_verification"
)

var errBadOneTime = apperr.New(apperr.CodeValidation, "this link is invalid or has expired")

// ChangePassword sets a new password after checking the current one, and
// revokes the viewer's other sessions.
func (s *Service) ChangePassword(ctx context.Context, current, next string, meta Meta) error {
	v, err := tenancy.RequireViewer(ctx)
	if err != nil {
		return err
	}
	if v.ImpersonatorID != uuid.Nil {
		return apperr.New(apperr.CodeForbidden, "passwords cannot be changed while impersonating")
	}
	u, hash, _, err := s.userByEmail(ctx, nil, v.Email)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if err := ValidatePassword("newPassword", next, u.Email); err != nil {
		return err
	}
	ok, _, err := s.hasher.Verify(ctx, current, hash)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Validation("the current password is wrong", map[string][]string{"currentPassword": {"is wrong"}})
	}
	nh, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, "UPDATE public.users SET password_hash = $2, updated_at = now() WHERE id = $1", u.ID, nh); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if _, err := s.RevokeUserSessions(ctx, u.ID, v.SessionID); err != nil {
		return err
	}
	if t, ok := tenancy.FromContext(ctx); ok {
		_ = audit.Record(ctx, s.pool, t.Schema, audit.Event{Action: audit.PasswordChanged, ActorID: u.ID,
			TargetType: "user", TargetID: u.ID.String(), IP: meta.IP, UserAgent: meta.UserAgent})
	}
	return nil
}

// RequestPasswordReset sends a reset link when email belongs to an active
// account. It answers the same whether or not it does, so it cannot be used
// to find accounts; requests beyond the hourly limit send nothing.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) error {
	e, err := NormalizeEmail("email", email)
	if err != nil {
		return err
	}
	if d, err := s.cache.Allow(ctx, cache.Key("", "reset-req", e), ResetRequestsPerHour, time.Hour); err == nil && !d.Allowed {
		return nil
	}
	u, _, disabled, err := s.userByEmail(ctx, nil, e)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && disabled != nil) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("request password reset: %w", err)
	}
	return s.sendOneTime(ctx, u, PurposePasswordReset, ResetTokenTTL)
}

// RequestEmailVerification sends the viewer a verification link.
func (s *Service) RequestEmailVerification(ctx context.Context) error {
	v, err := tenancy.RequireViewer(ctx)
	if err != nil {
		return err
	}
	u, err := s.UserByID(ctx, v.UserID)
	if err != nil {
		return err
	}
	if u.EmailVerifiedAt != nil {
		return nil
	}
	if d, err := s.cache.Allow(ctx, cache.Key("", "verify-req", u.ID.String()), ResetRequestsPerHour, time.Hour); err == nil && !d.Allowed {
		return rateLimited(d.RetryAfter)
	}
	return s.sendOneTime(ctx, u, PurposeEmailVerification, VerificationTokenTTL)
}

// sendOneTime stores a new single-use token (hashed) and hands the email
// to the notifier in the same transaction.
func (s *Service) sendOneTime(ctx context.Context, u *User, purpose string, ttl time.Duration) error {
	if s.notifier == nil {
		return errors.New("auth: no notifier configured")
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return s.sendOneTimeTx(ctx, tx, u, purpose, ttl)
	})
}

// sendOneTimeTx is sendOneTime in the caller's transaction: the token and
// the email job commit or roll back with it.
func (s *Service) sendOneTimeTx(ctx context.Context, tx pgx.Tx, u *User, purpose string, ttl time.Duration) error {
	token, hash := NewOpaqueToken()
	to := Recipient{UserID: u.ID, Email: u.Email, Name: u.Name, Locale: u.Locale}
	if _, err := tx.Exec(ctx, `INSERT INTO public.user_tokens (id, user_id, purpose, token_hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4, now(), $5)`, uuid.New(), u.ID, purpose, hash, s.now().Add(ttl)); err != nil {
		return fmt.Errorf("store %s token: %w", purpose, err)
	}
	if purpose == PurposePasswordReset {
		return s.notifier.PasswordReset(ctx, tx, to, token)
	}
	return s.notifier.EmailVerification(ctx, tx, to, token)
}

// consumeOneTime marks a token used and returns its user, once.
func (s *Service) consumeOneTime(ctx context.Context, tx pgx.Tx, token, purpose string) (uuid.UUID, error) {
	if token == "" || len(token) > 128 {
		return uuid.Nil, errBadOneTime
	}
	var userID uuid.UUID
	err := tx.QueryRow(ctx, `UPDATE public.user_tokens SET used_at = now()
		WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3
		RETURNING user_id`, HashOpaque(token), purpose, s.now()).Scan(&userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, errBadOneTime
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("use %s token: %w", purpose, err)
	}
	return userID, nil
}

// ResetPassword sets a new password with a reset token (single use, ≤ 1 h)
// and revokes every session of the user.
func (s *Service) ResetPassword(ctx context.Context, token, password string) error {
	if err := ValidatePassword("password", password, ""); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	var userID uuid.UUID
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		userID, err = s.consumeOneTime(ctx, tx, token, PurposePasswordReset)
		if err != nil {
			return err
		}
		var email string
		if err := tx.QueryRow(ctx, "SELECT email FROM public.users WHERE id = $1", userID).Scan(&email); err != nil {
			return err
		}
		if err := ValidatePassword("password", password, email); err != nil {
			return err
		}
		// A reset proves the mailbox too.
		_, err = tx.Exec(ctx, `UPDATE public.users SET password_hash = $2, updated_at = now(),
			email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1`, userID, hash)
		return err
	})
	if err != nil {
		return err
	}
	_, err = s.RevokeUserSessions(ctx, userID, uuid.Nil)
	s.logger.InfoContext(ctx, "password_reset", slog.String("user_id", userID.String()))
	return err
}

// VerifyEmail marks the user's email verified with a verification token.
func (s *Service) VerifyEmail(ctx context.Context, token string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		userID, err := s.consumeOneTime(ctx, tx, token, PurposeEmailVerification)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE public.users SET email_verified_at = coalesce(email_verified_at, now()), updated_at = now()
			WHERE id = $1`, userID)
		return err
	})
}
