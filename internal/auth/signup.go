package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/audit"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// SignupInput is self-service registration; with TenantSlug (and
// TenantName) it also provisions a tenant owned by the new user.
type SignupInput struct {
	Email, Password, Name, Locale string
	TenantName, TenantSlug        string
}

// SignupResult is what signup created.
type SignupResult struct {
	User   *User
	Tenant *tenancy.Tenant
	// Tokens are for the new tenant (nil without one).
	Tokens *Tokens
}

// Signup throttling per client address.
const SignupsPerIPPerHour = 20

// Signup creates a user and, with tenant fields, a tenant with the user as
// its owner, all in one transaction. It runs on the platform host only.
func (s *Service) Signup(ctx context.Context, in SignupInput, meta Meta) (*SignupResult, error) {
	if _, inTenant := tenancy.FromContext(ctx); inTenant {
		return nil, apperr.New(apperr.CodeForbidden, "sign up on the platform host, not a tenant's")
	}
	fe := apperr.FieldErrors{}
	email, err := NormalizeEmail("email", in.Email)
	if err != nil {
		for k, v := range apperr.As(err).Fields {
			fe[k] = v
		}
	}
	if err := ValidatePassword("password", in.Password, email); err != nil {
		for k, v := range apperr.As(err).Fields {
			fe[k] = v
		}
	}
	in.Name = strings.TrimSpace(in.Name)
	if len(in.Name) > 200 {
		fe.Add("name", "must be at most 200 characters")
	}
	locale, lerr := NormalizeLocale(in.Locale)
	if lerr != nil {
		fe.Add("locale", lerr.Error())
	}
	withTenant := in.TenantSlug != "" || in.TenantName != ""
	if withTenant {
		if in.TenantSlug == "" {
			fe.Add("tenantSlug", "is required with tenantName")
		} else if err := tenancy.ValidateSlug("tenantSlug", in.TenantSlug); err != nil {
			for k, v := range apperr.As(err).Fields {
				fe[k] = v
			}
		}
		if strings.TrimSpace(in.TenantName) == "" {
			fe.Add("tenantName", "is required with tenantSlug")
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	if meta.IP != "" {
		if d, err := s.cache.Allow(ctx, cache.Key("", "signup-ip", meta.IP), SignupsPerIPPerHour, time.Hour); err == nil && !d.Allowed {
			return nil, rateLimited(d.RetryAfter)
		}
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}

	res := &SignupResult{User: &User{ID: uuid.New(), Email: email, Name: in.Name, Locale: locale}}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO public.users (id, email, password_hash, name, locale, is_staff, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, false, now(), now()) RETURNING created_at`,
			res.User.ID, email, hash, in.Name, locale).Scan(&res.User.CreatedAt)
		if err != nil {
			return err
		}
		// The verification email is enqueued with the account: a signup
		// that rolls back sends nothing.
		if s.notifier != nil {
			if err := s.sendOneTimeTx(ctx, tx, res.User, PurposeEmailVerification, VerificationTokenTTL); err != nil {
				return err
			}
		}
		if !withTenant {
			return nil
		}
		if s.tenants == nil {
			return errors.New("signup: no tenant provisioner configured")
		}
		t, err := s.tenants.CreateTx(ctx, tx, ProvisionInput{Slug: in.TenantSlug, Name: strings.TrimSpace(in.TenantName)})
		if err != nil {
			return renameFields(err, map[string]string{"slug": "tenantSlug", "name": "tenantName"})
		}
		res.Tenant = t
		if _, err := AddMemberTx(ctx, tx, t.Schema, res.User.ID, []string{rbac.RoleOwner}); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, t.Schema, audit.Event{Action: audit.TenantOwnerSignedUp, ActorID: res.User.ID,
			TargetType: "tenant", TargetID: t.ID.String(), IP: meta.IP, UserAgent: meta.UserAgent}); err != nil {
			return err
		}
		res.Tokens, err = s.startSession(ctx, tx, res.User.ID, t.ID, uuid.Nil, meta, 0)
		return err
	})
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == db.CodeUniqueViolation && strings.Contains(pgErr.ConstraintName, "user_email") {
			return nil, &apperr.Error{Code: apperr.CodeConflict, Message: "an account with this email already exists",
				Fields: map[string][]string{"email": {"is already registered"}}, Cause: err}
		}
		var ae *apperr.Error
		if errors.As(err, &ae) {
			return nil, ae
		}
		return nil, fmt.Errorf("signup: %w", err)
	}
	if res.Tenant != nil {
		s.tenants.Created(ctx, res.Tenant)
	}
	return res, nil
}

// AddMemberTx makes userID an active member of the tenant schema with the
// named roles (which must exist), inside tx. It returns the member id.
func AddMemberTx(ctx context.Context, tx pgx.Tx, schema string, userID uuid.UUID, roles []string) (uuid.UUID, error) {
	if err := tenancy.CheckSchema(schema); err != nil {
		return uuid.Nil, err
	}
	q := db.QuoteIdent(schema)
	id := uuid.New()
	err := tx.QueryRow(ctx, `INSERT INTO `+q+`.members (id, user_id, status, joined_at, created_at, updated_at)
		VALUES ($1, $2, 'active', now(), now(), now())
		ON CONFLICT (user_id) DO UPDATE SET status = 'active', joined_at = coalesce(`+q+`.members.joined_at, now()), updated_at = now()
		RETURNING id`, id, userID).Scan(&id)
	if err != nil {
		return uuid.Nil, fmt.Errorf("add member: %w", err)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO `+q+`.member_roles (member_id, role_id)
		SELECT $1, r.id FROM `+q+`.roles r WHERE r.name = ANY($2) ON CONFLICT DO NOTHING`, id, roles)
	if err != nil {
		return uuid.Nil, fmt.Errorf("assign roles: %w", err)
	}
	_ = tag
	return id, nil
}

// renameFields renames the field keys of a VALIDATION_ERROR or CONFLICT.
func renameFields(err error, names map[string]string) error {
	var ae *apperr.Error
	if !errors.As(err, &ae) || len(ae.Fields) == 0 {
		return err
	}
	out := *ae
	out.Fields = map[string][]string{}
	for k, v := range ae.Fields {
		if n, ok := names[k]; ok {
			k = n
		}
		out.Fields[k] = v
	}
	return &out
}
