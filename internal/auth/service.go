package auth

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
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/credential"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/viewercache"
)

// TenantProvisioner creates a tenant inside a caller's transaction (the
// tenant service); declared here so auth does not import that domain.
type TenantProvisioner interface {
	CreateTx(ctx context.Context, tx pgx.Tx, in ProvisionInput) (*tenancy.Tenant, error)
	Created(ctx context.Context, t *tenancy.Tenant)
}

// ProvisionInput is what signup asks the provisioner for.
type ProvisionInput struct {
	Slug, Name string
}

// Notifier delivers the emails auth flows send (reset links, verification
// links). Implementations enqueue email jobs in tx when it is not nil.
type Notifier interface {
	PasswordReset(ctx context.Context, tx pgx.Tx, to Recipient, token string) error
	EmailVerification(ctx context.Context, tx pgx.Tx, to Recipient, token string) error
}

// Recipient is who an email goes to.
type Recipient struct {
	UserID uuid.UUID
	Email  string
	Name   string
	Locale string
}

// Config configures the Service.
type Config struct {
	Pool   *pgxpool.Pool
	Keys   *KeyRing
	Hasher *Hasher
	Cache  cache.Store
	Logger *slog.Logger
	// Tenants provisions tenants at signup.
	Tenants TenantProvisioner
	// Notifier sends reset and verification emails. Required by those flows.
	Notifier Notifier
	// RefreshTTL is a refresh token's lifetime. Default 30 days.
	RefreshTTL time.Duration
	// ReuseGrace is how long after a refresh a second use of the same token
	// is taken as a client retry (refused) rather than theft (family
	// revoked). Default 10s.
	ReuseGrace time.Duration
	// Viewers caches authenticated viewers between requests; nil reads
	// them from the database on every request.
	Viewers *viewercache.Cache
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
}

// Service runs the identity flows for GraphQL and REST alike.
type Service struct {
	pool       *pgxpool.Pool
	keys       *KeyRing
	hasher     *Hasher
	cache      cache.Store
	logger     *slog.Logger
	tenants    TenantProvisioner
	notifier   Notifier
	refreshTTL time.Duration
	reuseGrace time.Duration
	viewers    *viewercache.Cache
	now        func() time.Time
}

// NewService returns a Service.
func NewService(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{
		pool: cfg.Pool, keys: cfg.Keys, hasher: cfg.Hasher, cache: cfg.Cache, logger: cfg.Logger,
		tenants: cfg.Tenants, notifier: cfg.Notifier,
		refreshTTL: cmp.Or(cfg.RefreshTTL, 30*24*time.Hour),
		reuseGrace: cmp.Or(cfg.ReuseGrace, 10*time.Second),
		viewers:    cfg.Viewers,
		now:        cfg.Now,
	}
}

// Keys exposes the key ring (JWKS endpoint, middleware).
func (s *Service) Keys() *KeyRing { return s.keys }

// Hasher exposes the password hasher (shared with invitations).
func (s *Service) Hasher() *Hasher { return s.hasher }

// Meta is what is known about the client making a request.
type Meta struct {
	IP        string
	UserAgent string
}

// Tokens is a login's result.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	// ExpiresAt is the access token's expiry.
	ExpiresAt time.Time
	// RefreshExpiresAt is the refresh token's expiry.
	RefreshExpiresAt time.Time
}

// User is a public user as the flows return it.
type User struct {
	ID              uuid.UUID
	Email           string
	Name            string
	Locale          string
	IsStaff         bool
	EmailVerifiedAt *time.Time
	CreatedAt       time.Time
}

// errBadCredentials is the one answer to a wrong email or password, an
// unknown account, a disabled account or a non-member: nothing to enumerate.
var errBadCredentials = apperr.New(apperr.CodeUnauthenticated, "invalid email or password")

// NormalizeEmail lowercases and checks an email address
// (credential.NormalizeEmail).
func NormalizeEmail(field, email string) (string, error) {
	return credential.NormalizeEmail(field, email)
}

// userByEmail returns the user and password hash, or pgx.ErrNoRows.
func (s *Service) userByEmail(ctx context.Context, q pgx.Tx, email string) (*User, string, *time.Time, error) {
	var u User
	var hash *string
	var disabled *time.Time
	row := s.pool.QueryRow
	if q != nil {
		row = q.QueryRow
	}
	err := row(ctx, `SELECT id, email, name, locale, is_staff, email_verified_at, created_at, password_hash, disabled_at
		FROM public.users WHERE email = $1`, email).
		Scan(&u.ID, &u.Email, &u.Name, &u.Locale, &u.IsStaff, &u.EmailVerifiedAt, &u.CreatedAt, &hash, &disabled)
	if err != nil {
		return nil, "", nil, err
	}
	return &u, deref(hash), disabled, nil
}

// UserByID returns a user.
func (s *Service) UserByID(ctx context.Context, id uuid.UUID) (*User, error) {
	var u User
	err := s.pool.QueryRow(ctx, `SELECT id, email, name, locale, is_staff, email_verified_at, created_at
		FROM public.users WHERE id = $1`, id).
		Scan(&u.ID, &u.Email, &u.Name, &u.Locale, &u.IsStaff, &u.EmailVerifiedAt, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apperr.New(apperr.CodeNotFound, "no such user")
	}
	if err != nil {
		return nil, fmt.Errorf("load user: %w", err)
	}
	return &u, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
