package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/audit"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// Login throttling.
const (
	// AccountFailureLimit failures of one account within AccountWindow lock
	// it out until the window ends.
	AccountFailureLimit = 10
	AccountWindow       = 15 * time.Minute
	// IPAttemptLimit attempts from one address within IPWindow.
	IPAttemptLimit = 60
	IPWindow       = 15 * time.Minute
)

// RateLimitedError is RATE_LIMITED with the time to wait.
func rateLimited(retry time.Duration) error {
	e := apperr.New(apperr.CodeRateLimited, "too many attempts; try again in "+retry.Round(time.Second).String())
	e.Fields = map[string][]string{"retry_after_seconds": {strconv.Itoa(int(retry.Seconds() + 0.999))}}
	return e
}

// Login checks email and password. In a tenant context (tenant in ctx) it
// admits only that tenant's active members; on the platform only staff.
// Unknown email, wrong password, disabled account and non-member all get
// the same answer after the same work (a dummy hash runs for unknown
// emails). Failures are throttled per account and per IP.
func (s *Service) Login(ctx context.Context, email, password string, meta Meta) (*Tokens, error) {
	t, inTenant := tenancy.FromContext(ctx)
	normalized, err := NormalizeEmail("email", email)
	if err != nil {
		normalized = "" // still costs a hash below: no shortcut for malformed input
	}
	scope := "platform"
	if inTenant {
		scope = t.Slug
	}
	if meta.IP != "" {
		d, err := s.cache.Allow(ctx, cache.Key("", "login-ip", meta.IP), IPAttemptLimit, IPWindow)
		if err == nil && !d.Allowed {
			return nil, rateLimited(d.RetryAfter)
		}
	}
	lockKey := cache.Key("", "login-lock", normalized)
	if normalized != "" {
		if b, ok, _ := s.cache.Get(ctx, lockKey); ok {
			until, _ := time.Parse(time.RFC3339Nano, string(b))
			if retry := until.Sub(s.now()); retry > 0 {
				return nil, rateLimited(retry)
			}
		}
	}

	var user *User
	var hash string
	var disabled *time.Time
	if normalized != "" {
		user, hash, disabled, err = s.userByEmail(ctx, nil, normalized)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("login: %w", err)
		}
	}
	ok, rehash, err := s.hasher.Verify(ctx, password, hash)
	if err != nil {
		return nil, err
	}
	var member *membership
	if ok && user != nil && disabled == nil {
		if inTenant {
			member, err = s.activeMember(ctx, t.Schema, user.ID)
			if err != nil {
				return nil, err
			}
			ok = member != nil
		} else {
			ok = user.IsStaff
		}
	} else {
		ok = false
	}

	if !ok {
		s.loginFailed(ctx, t, normalized, user, meta, lockKey)
		return nil, errBadCredentials
	}
	if rehash {
		if nh, err := s.hasher.Hash(ctx, password); err == nil {
			_, _ = s.pool.Exec(ctx, "UPDATE public.users SET password_hash = $2, updated_at = now() WHERE id = $1", user.ID, nh)
		}
	}
	var tenantID uuid.UUID
	if inTenant {
		tenantID = t.ID
	}
	var tokens *Tokens
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		tokens, err = s.startSession(ctx, tx, user.ID, tenantID, uuid.Nil, meta, 0)
		if err != nil {
			return err
		}
		if inTenant {
			return audit.Record(ctx, tx, t.Schema, audit.Event{Action: audit.LoginSucceeded, ActorID: user.ID,
				TargetType: "user", TargetID: user.ID.String(), IP: meta.IP, UserAgent: meta.UserAgent})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	s.logger.InfoContext(ctx, "login_succeeded", slog.String("user_id", user.ID.String()), slog.String("scope", scope))
	return tokens, nil
}

// loginFailed counts a failure against the account (locking it at the
// limit) and records it in the tenant's audit log.
func (s *Service) loginFailed(ctx context.Context, t *tenancy.Tenant, email string, user *User, meta Meta, lockKey string) {
	if email != "" {
		d, err := s.cache.Allow(ctx, cache.Key("", "login-fail", email), AccountFailureLimit, AccountWindow)
		if err == nil && d.Count >= AccountFailureLimit {
			until := s.now().Add(d.RetryAfter)
			_ = s.cache.Set(ctx, lockKey, []byte(until.Format(time.RFC3339Nano)), d.RetryAfter)
		}
	}
	if t != nil {
		e := audit.Event{Action: audit.LoginFailed, IP: meta.IP, UserAgent: meta.UserAgent,
			TargetType: "email", TargetID: email}
		if user != nil {
			e.TargetType, e.TargetID = "user", user.ID.String()
		}
		if err := audit.Record(ctx, s.pool, t.Schema, e); err != nil {
			s.logger.WarnContext(ctx, "audit_failed", slog.Any("error", err))
		}
	}
}

// membership is a user's active membership with its permissions.
type membership struct {
	ID          uuid.UUID
	Roles       []string
	Permissions []string
}

// activeMember returns the user's active membership of the tenant schema,
// or nil.
func (s *Service) activeMember(ctx context.Context, schema string, userID uuid.UUID) (*membership, error) {
	return activeMemberOn(ctx, s.pool, schema, userID)
}

// rowQuerier runs a query returning one row: the pool, or a transaction.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// activeMemberOn is activeMember on db. Code inside a transaction passes
// the transaction: taking a second pool connection while holding the first
// (and its row locks) deadlocks once concurrent callers hold every
// connection waiting for those locks.
func activeMemberOn(ctx context.Context, dbq rowQuerier, schema string, userID uuid.UUID) (*membership, error) {
	if err := tenancy.CheckSchema(schema); err != nil {
		return nil, err
	}
	q := db.QuoteIdent(schema)
	var m membership
	err := dbq.QueryRow(ctx, `SELECT m.id,
			coalesce(array_agg(DISTINCT r.name) FILTER (WHERE r.name IS NOT NULL), '{}'),
			coalesce(array_agg(DISTINCT p.perm) FILTER (WHERE p.perm IS NOT NULL), '{}')
		FROM `+q+`.members m
		LEFT JOIN `+q+`.member_roles mr ON mr.member_id = m.id
		LEFT JOIN `+q+`.roles r ON r.id = mr.role_id
		LEFT JOIN LATERAL jsonb_array_elements_text(r.permissions) AS p(perm) ON true
		WHERE m.user_id = $1 AND m.status = 'active'
		GROUP BY m.id`, userID).Scan(&m.ID, &m.Roles, &m.Permissions)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load membership: %w", err)
	}
	return &m, nil
}
