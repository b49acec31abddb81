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
	"github.com/clientiq/clientiq/internal/tenancy"
)

// startSession opens a refresh-token family and issues the first pair.
func (s *Service) startSession(ctx context.Context, tx pgx.Tx, userID, tenantID, actorID uuid.UUID, meta Meta, ttl time.Duration) (*Tokens, error) {
	return s.issuePair(ctx, tx, uuid.New(), userID, tenantID, actorID, meta, ttl)
}

func (s *Service) issuePair(ctx context.Context, tx pgx.Tx, family, userID, tenantID, actorID uuid.UUID, meta Meta, ttl time.Duration) (*Tokens, error) {
	access, exp, err := s.keys.Issue(AccessInput{UserID: userID, TenantID: tenantID, SessionID: family, ActorID: actorID, TTL: ttl})
	if err != nil {
		return nil, err
	}
	refresh, hash := NewOpaqueToken()
	refreshTTL := s.refreshTTL
	if ttl > 0 && ttl < refreshTTL {
		refreshTTL = ttl
	}
	rexp := s.now().Add(refreshTTL)
	if _, err := tx.Exec(ctx, `INSERT INTO public.refresh_tokens
		(id, token_hash, family_id, user_id, tenant_id, actor_id, created_at, expires_at, user_agent, ip)
		VALUES ($1, $2, $3, $4, $5, $6, now(), $7, $8, $9)`,
		uuid.New(), hash, family, userID, nilIfZero(tenantID), nilIfZero(actorID), rexp,
		truncate(meta.UserAgent, 512), truncate(meta.IP, 64)); err != nil {
		return nil, fmt.Errorf("store refresh token: %w", err)
	}
	return &Tokens{AccessToken: access, RefreshToken: refresh, ExpiresAt: exp, RefreshExpiresAt: rexp}, nil
}

var errBadRefresh = apperr.New(apperr.CodeUnauthenticated, "invalid or expired refresh token")

// Refresh rotates a refresh token: the presented one is consumed and a new
// pair in the same family is issued. A token consumed earlier and presented
// again is theft: its whole family is revoked (after a short grace window in
// which a concurrent retry is refused but revokes nothing, so two parallel
// refreshes yield exactly one new pair). The token must be used in the
// tenant it was issued for.
func (s *Service) Refresh(ctx context.Context, refreshToken string, meta Meta) (*Tokens, error) {
	if refreshToken == "" || len(refreshToken) > 128 {
		return nil, errBadRefresh
	}
	hash := HashOpaque(refreshToken)
	t, inTenant := tenancy.FromContext(ctx)
	var tokens *Tokens
	var reuse *reuseInfo
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id, family, userID uuid.UUID
		var tenantID, actorID *uuid.UUID
		var consumedAt, revokedAt *time.Time
		var expiresAt time.Time
		err := tx.QueryRow(ctx, `SELECT id, family_id, user_id, tenant_id, actor_id, consumed_at, revoked_at, expires_at
			FROM public.refresh_tokens WHERE token_hash = $1 FOR UPDATE`, hash).
			Scan(&id, &family, &userID, &tenantID, &actorID, &consumedAt, &revokedAt, &expiresAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return errBadRefresh
		}
		if err != nil {
			return err
		}
		// The tenant must match: a token of tenant A is useless on B's host.
		if inTenant != (tenantID != nil) || (inTenant && *tenantID != t.ID) {
			return errBadRefresh
		}
		now := s.now()
		if revokedAt != nil || !now.Before(expiresAt) {
			return errBadRefresh
		}
		if consumedAt != nil {
			if now.Sub(*consumedAt) <= s.reuseGrace {
				return apperr.New(apperr.CodeConflict, "this refresh token was just used; use the new one")
			}
			reuse = &reuseInfo{family: family, userID: userID}
			return errBadRefresh
		}
		// The user must still be allowed in.
		var disabled *time.Time
		if err := tx.QueryRow(ctx, "SELECT disabled_at FROM public.users WHERE id = $1", userID).Scan(&disabled); err != nil || disabled != nil {
			return errBadRefresh
		}
		if inTenant {
			// On tx, not the pool: this transaction holds the token's row
			// lock, and parallel refreshes of the same token hold pool
			// connections waiting for it.
			m, err := activeMemberOn(ctx, tx, t.Schema, userID)
			if err != nil {
				return err
			}
			if m == nil && deref(actorID) == uuid.Nil {
				return errBadRefresh
			}
		}
		var tid uuid.UUID
		if tenantID != nil {
			tid = *tenantID
		}
		var ttl time.Duration
		if actorID != nil {
			ttl = time.Until(expiresAt) // impersonation never outlives its first window
		}
		tokens, err = s.issuePair(ctx, tx, family, userID, tid, deref(actorID), meta, ttl)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE public.refresh_tokens SET consumed_at = now() WHERE id = $1`, id)
		return err
	})
	if reuse != nil {
		s.revokeFamily(ctx, reuse.family, reuse.userID)
		s.logger.WarnContext(ctx, "refresh_token_reuse_detected", slog.String("user_id", reuse.userID.String()),
			slog.String("family_id", reuse.family.String()))
		if inTenant {
			_ = audit.Record(ctx, s.pool, t.Schema, audit.Event{Action: audit.TokenReuseDetected, ActorID: reuse.userID,
				TargetType: "session", TargetID: reuse.family.String(), IP: meta.IP, UserAgent: meta.UserAgent})
		}
	}
	if err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) {
			return nil, err
		}
		return nil, fmt.Errorf("refresh: %w", err)
	}
	return tokens, nil
}

type reuseInfo struct {
	family, userID uuid.UUID
}

// revokeFamily revokes a session of userID.
func (s *Service) revokeFamily(ctx context.Context, family, userID uuid.UUID) {
	if _, err := s.pool.Exec(ctx, `UPDATE public.refresh_tokens SET revoked_at = now()
		WHERE family_id = $1 AND revoked_at IS NULL`, family); err != nil {
		s.logger.ErrorContext(ctx, "revoke_family_failed", slog.Any("error", err))
	}
	s.viewers.InvalidateUser(userID)
}

// Logout revokes the session (refresh-token family) of the viewer's access
// token, and the one of refreshToken when given.
func (s *Service) Logout(ctx context.Context, refreshToken string) error {
	v, err := tenancy.RequireViewer(ctx)
	if err != nil {
		return err
	}
	families := []uuid.UUID{}
	if v.SessionID != uuid.Nil {
		families = append(families, v.SessionID)
	}
	if refreshToken != "" {
		var fam uuid.UUID
		err := s.pool.QueryRow(ctx, `SELECT family_id FROM public.refresh_tokens WHERE token_hash = $1 AND user_id = $2`,
			HashOpaque(refreshToken), v.UserID).Scan(&fam)
		if err == nil {
			families = append(families, fam)
		}
	}
	for _, f := range families {
		s.revokeFamily(ctx, f, v.UserID)
	}
	return nil
}

// LogoutAll revokes every session of the viewer.
func (s *Service) LogoutAll(ctx context.Context) (int, error) {
	v, err := tenancy.RequireViewer(ctx)
	if err != nil {
		return 0, err
	}
	return s.RevokeUserSessions(ctx, v.UserID, uuid.Nil)
}

// RevokeUserSessions revokes every session of userID except keep (uuid.Nil:
// all); password changes, member removal and role changes call it.
func (s *Service) RevokeUserSessions(ctx context.Context, userID, keep uuid.UUID) (int, error) {
	rows, err := s.pool.Query(ctx, `UPDATE public.refresh_tokens SET revoked_at = now()
		WHERE user_id = $1 AND revoked_at IS NULL AND family_id <> $2 RETURNING family_id`, userID, keep)
	s.viewers.InvalidateUser(userID)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	fams, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	seen := map[uuid.UUID]bool{}
	for _, f := range fams {
		seen[f] = true
	}
	return len(seen), nil
}

func nilIfZero(u uuid.UUID) *uuid.UUID {
	if u == uuid.Nil {
		return nil
	}
	return &u
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// RevokeUserTenantSessions revokes the user's sessions in one tenant only:
// a role change in tenant A must not sign the user out of tenant B.
func (s *Service) RevokeUserTenantSessions(ctx context.Context, userID, tenantID uuid.UUID) (int, error) {
	rows, err := s.pool.Query(ctx, `UPDATE public.refresh_tokens SET revoked_at = now()
		WHERE user_id = $1 AND tenant_id = $2 AND revoked_at IS NULL RETURNING family_id`, userID, tenantID)
	s.viewers.InvalidateUser(userID)
	if err != nil {
		return 0, fmt.Errorf("revoke tenant sessions: %w", err)
	}
	fams, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return 0, fmt.Errorf("revoke tenant sessions: %w", err)
	}
	seen := map[uuid.UUID]bool{}
	for _, f := range fams {
		seen[f] = true
	}
	return len(seen), nil
}

// TenantRevoker adapts the Service to revoke sessions in the tenant of the
// context only (what membership changes need).
type TenantRevoker struct{ Auth *Service }

// RevokeUserSessions revokes userID's sessions in the tenant of ctx.
func (r TenantRevoker) RevokeUserSessions(ctx context.Context, userID, _ uuid.UUID) (int, error) {
	t, err := tenancy.Require(ctx)
	if err != nil {
		return 0, err
	}
	return r.Auth.RevokeUserTenantSessions(ctx, userID, t.ID)
}

// StartSession opens a session for a user who just proved who they are
// another way (an accepted invitation) in the tenant of ctx.
func (s *Service) StartSession(ctx context.Context, userID uuid.UUID) (*Tokens, error) {
	t, err := tenancy.Require(ctx)
	if err != nil {
		return nil, err
	}
	var tokens *Tokens
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		tokens, err = s.startSession(ctx, tx, userID, t.ID, uuid.Nil, MetaFrom(ctx), 0)
		return err
	})
	return tokens, err
}
