package auth

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/audit"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// MaxImpersonation bounds an impersonation session.
const MaxImpersonation = time.Hour

// Impersonate lets platform staff act as a member of a tenant: explicit,
// time-limited (≤ 1 hour, no renewal past it), with a reason, and written
// to the tenant's audit log. Staff have no implicit access to tenant data;
// this is the only way in.
func (s *Service) Impersonate(ctx context.Context, t *tenancy.Tenant, userID uuid.UUID, reason string, d time.Duration) (*Tokens, error) {
	staff, err := tenancy.RequireStaff(ctx)
	if err != nil {
		return nil, err
	}
	fe := apperr.FieldErrors{}
	reason = strings.TrimSpace(reason)
	if len(reason) < 10 || len(reason) > 500 {
		fe.Add("reason", "must be 10 to 500 characters: say why")
	}
	if d <= 0 || d > MaxImpersonation {
		fe.Add("minutes", "must be between 1 and 60")
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	if !t.Active() {
		return nil, apperr.New(apperr.CodeTenantSuspended, "this tenant is suspended")
	}
	m, err := s.activeMember(ctx, t.Schema, userID)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, apperr.New(apperr.CodeNotFound, "no such member in this tenant")
	}
	meta := MetaFrom(ctx)
	var tokens *Tokens
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		tokens, err = s.startSession(ctx, tx, userID, t.ID, staff.UserID, meta, d)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, t.Schema, audit.Event{
			Action: audit.ImpersonationStarted, ActorID: userID, ImpersonatorID: staff.UserID,
			TargetType: "user", TargetID: userID.String(), IP: meta.IP, UserAgent: meta.UserAgent,
			Metadata: map[string]any{"reason": reason, "minutes": int(d / time.Minute)},
		})
	})
	if err != nil {
		return nil, fmt.Errorf("impersonate: %w", err)
	}
	s.logger.WarnContext(ctx, "impersonation_started", slog.String("staff_id", staff.UserID.String()),
		slog.String("user_id", userID.String()), slog.String("tenant", t.Slug))
	return tokens, nil
}
