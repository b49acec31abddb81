// Package member owns a tenant's memberships, roles and invitations: who
// belongs to the tenant, with which roles, who may join, and the rules that
// keep a tenant governable (someone always owns it, nobody grants more than
// they hold). Every method checks the viewer's permission first, works
// inside one transaction with its audit entry, and touches only the tenant
// schema of its context.
package member

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/audit"
	"github.com/clientiq/clientiq/internal/credential"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/viewercache"
)

// SessionRevoker ends a user's sessions after their roles, status or
// membership change. auth.Service satisfies it; declared here so member
// does not import that domain.
type SessionRevoker interface {
	RevokeUserSessions(ctx context.Context, userID, keep uuid.UUID) (int, error)
}

// InviteNotifier delivers invitation emails. It is called inside the
// inviting transaction, so an implementation that enqueues a job in tx
// sends the email exactly when the invitation commits.
type InviteNotifier interface {
	Invitation(ctx context.Context, tx pgx.Tx, inv InvitationEmail) error
}

// SeatLimiter enforces the plan's seat limit; billing.Limits satisfies
// it. Declared here so member does not import billing.
type SeatLimiter interface {
	// CheckSeats answers PLAN_LIMIT_EXCEEDED when adding seats would take
	// the tenant in ctx over its plan's limit.
	CheckSeats(ctx context.Context, adding int) error
}

// Hasher hashes and verifies passwords; auth.Hasher satisfies it.
type Hasher interface {
	Hash(ctx context.Context, password string) (string, error)
	Verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error)
}

// InvitationEmail is everything an invitation email needs. Token is the
// only copy of the raw token: the database keeps its hash.
type InvitationEmail struct {
	InvitationID uuid.UUID
	To           string
	TenantName   string
	TenantSlug   string
	Role         string
	InviterName  string
	Token        string
	ExpiresAt    time.Time
}

// Config configures the Service.
type Config struct {
	// Pool is the PostgreSQL pool. Required.
	Pool *pgxpool.Pool
	// Sessions revokes a user's sessions after a demotion, a disabling or a
	// removal. Required by those methods and by UpdateRole and DeleteRole.
	Sessions SessionRevoker
	// Notifier sends invitation emails. Required by Invite.
	Notifier InviteNotifier
	// Hasher hashes the passwords of users created by AcceptInvitation and
	// verifies existing users' passwords. Required by AcceptInvitation.
	Hasher Hasher
	// ValidatePassword applies the password rules to a new user's password;
	// field names the input in the VALIDATION_ERROR. Default: 12 to 128
	// characters, not the email address (auth.ValidatePassword fits).
	ValidatePassword func(field, password, email string) error
	// Logger is required.
	Logger *slog.Logger
	// InvitationTTL is how long an invitation can be accepted. Default 7 days.
	InvitationTTL time.Duration
	// Now is the clock (tests move it). Default time.Now.
	Now func() time.Time
	// Limits checks the plan's seat limit before a seat is added (an
	// invitation: accepting it takes the seat the invitation held). Nil
	// means no limits.
	Limits SeatLimiter
	// Viewers is the viewer cache to invalidate for the tenant after each
	// committed change (nil: none).
	Viewers *viewercache.Cache
}

// Service manages a tenant's members, roles and invitations for GraphQL
// and REST alike.
type Service struct {
	pool             *pgxpool.Pool
	sessions         SessionRevoker
	notifier         InviteNotifier
	hasher           Hasher
	validatePassword func(field, password, email string) error
	logger           *slog.Logger
	invitationTTL    time.Duration
	now              func() time.Time
	limits           SeatLimiter
	viewers          *viewercache.Cache
}

// NewService returns a Service. It panics without a Pool or a Logger: that
// is a wiring mistake, not a runtime condition.
func NewService(cfg Config) *Service {
	if cfg.Pool == nil || cfg.Logger == nil {
		panic("member: Config.Pool and Config.Logger are required")
	}
	s := &Service{
		pool:             cfg.Pool,
		sessions:         cfg.Sessions,
		notifier:         cfg.Notifier,
		hasher:           cfg.Hasher,
		validatePassword: cfg.ValidatePassword,
		logger:           cfg.Logger,
		invitationTTL:    cmp.Or(cfg.InvitationTTL, 7*24*time.Hour),
		now:              cfg.Now,
		limits:           cfg.Limits,
		viewers:          cfg.Viewers,
	}
	if s.validatePassword == nil {
		s.validatePassword = credential.ValidatePassword
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Meta is what is known about the client making a request, for the audit
// log.
type Meta struct {
	IP        string
	UserAgent string
}

// scope is the checked viewer and tenant of a call, with the tenant's
// quoted schema name ready for SQL.
type scope struct {
	viewer *tenancy.Viewer
	tenant *tenancy.Tenant
	schema string
	// q is db.QuoteIdent(schema).
	q string
}

// authorize is the first step of every permission-checked method: the
// viewer must hold p in the tenant of ctx.
func authorize(ctx context.Context, p rbac.Permission) (*scope, error) {
	v, err := tenancy.RequirePermission(ctx, p)
	if err != nil {
		return nil, err
	}
	t, err := tenancy.Require(ctx)
	if err != nil {
		return nil, err
	}
	return newScope(v, t)
}

func newScope(v *tenancy.Viewer, t *tenancy.Tenant) (*scope, error) {
	if err := tenancy.CheckSchema(t.Schema); err != nil {
		return nil, err
	}
	return &scope{viewer: v, tenant: t, schema: t.Schema, q: db.QuoteIdent(t.Schema)}, nil
}

// event is an audit event by the scope's viewer.
func (sc *scope) event(action, targetType, targetID string, meta Meta, md map[string]any) audit.Event {
	e := audit.Event{Action: action, TargetType: targetType, TargetID: targetID,
		IP: meta.IP, UserAgent: meta.UserAgent, Metadata: md}
	if sc.viewer != nil {
		e.ActorID, e.ImpersonatorID = sc.viewer.UserID, sc.viewer.ImpersonatorID
	}
	return e
}

// inTx runs fn in a transaction. Errors with a code pass through unchanged;
// anything else is wrapped with op. Whatever the outcome, the viewers of
// the tenant in ctx are invalidated here at once, rather than only when
// the database's notification arrives (see viewercache).
func (s *Service) inTx(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, s.pool, fn)
	if t, ok := tenancy.FromContext(ctx); ok {
		s.viewers.InvalidateTenant(t.Schema)
	}
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// revokeSessions ends users' sessions after a committed change. A failure
// is logged, not returned: the change stands, and roles and membership are
// read on every request anyway, so revocation only shortens the time a
// stale access token is believed.
func (s *Service) revokeSessions(ctx context.Context, userIDs ...uuid.UUID) {
	if s.sessions == nil {
		s.logger.ErrorContext(ctx, "member_session_revoker_missing")
		return
	}
	for _, id := range userIDs {
		if _, err := s.sessions.RevokeUserSessions(ctx, id, uuid.Nil); err != nil {
			s.logger.ErrorContext(ctx, "member_revoke_sessions_failed", slog.String("user_id", id.String()), slog.Any("error", err))
		}
	}
}

// Errors shared by several methods.
var (
	errMemberNotFound     = apperr.New(apperr.CodeNotFound, "no such member")
	errRoleNotFound       = apperr.New(apperr.CodeNotFound, "no such role")
	errInvitationNotFound = apperr.New(apperr.CodeNotFound, "no such invitation")
	errOwnerOnly          = apperr.New(apperr.CodeForbidden, "only an owner can grant or take the owner role, or manage another owner")
	errEscalation         = apperr.New(apperr.CodeForbidden, "you cannot grant permissions you do not hold")
)
