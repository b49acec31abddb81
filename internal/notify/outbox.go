package notify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/mail"
	"github.com/clientiq/clientiq/internal/member"
)

// Inserter enqueues River jobs, inside a caller's transaction or on their
// own; *river.Client[pgx.Tx] is one.
type Inserter interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// ResetEmailWindow is how long one password reset email per user stays
// the only one: repeated requests inside it send nothing more.
const ResetEmailWindow = 5 * time.Minute

// OutboxConfig configures an Outbox.
type OutboxConfig struct {
	// Inserter enqueues the SendEmail jobs. Required.
	Inserter Inserter
	// Pool opens the transaction that keeps an email with a token and its
	// job together when the caller has none. Required.
	Pool *pgxpool.Pool
	// BaseURL is the platform's origin, where password reset and email
	// verification links point: "https://clientiq.example" or
	// "http://localhost:8080". Required.
	BaseURL string
	// TenantURL returns a tenant's origin, where invitation and billing
	// links point. Default: BaseURL with "<slug>." before its host.
	TenantURL func(slug string) string
	// SalesEmail receives demo_request_sales. Empty: DemoRequest sends
	// only the requester's confirmation.
	SalesEmail string
	// Now is the clock for the expiry shown in emails. Default time.Now.
	Now func() time.Time
}

// Outbox decides which email to send and enqueues it as a SendEmail job in
// the caller's transaction: the email goes out exactly when the
// transaction commits, and never when it rolls back. It implements
// auth.Notifier and member.InviteNotifier.
type Outbox struct {
	ins        Inserter
	pool       *pgxpool.Pool
	base       *url.URL
	tenantURL  func(string) string
	salesEmail string
	now        func() time.Time
}

var (
	_ auth.Notifier         = (*Outbox)(nil)
	_ member.InviteNotifier = (*Outbox)(nil)
)

// NewOutbox checks cfg and returns an Outbox.
func NewOutbox(cfg OutboxConfig) (*Outbox, error) {
	if cfg.Inserter == nil || cfg.Pool == nil {
		return nil, errors.New("new outbox: Inserter and Pool are required")
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.Path != "" {
		return nil, fmt.Errorf("new outbox: BaseURL %q is not an http(s) origin", cfg.BaseURL)
	}
	o := &Outbox{ins: cfg.Inserter, pool: cfg.Pool, base: base, tenantURL: cfg.TenantURL, salesEmail: cfg.SalesEmail, now: cfg.Now}
	if o.now == nil {
		o.now = time.Now
	}
	if o.tenantURL == nil {
		o.tenantURL = func(slug string) string { return base.Scheme + "://" + slug + "." + base.Host }
	}
	return o, nil
}

// PasswordReset implements auth.Notifier. One email per user per
// ResetEmailWindow: the token of the first one stays valid, so repeated
// clicks on "forgot password" do not flood the inbox.
func (o *Outbox) PasswordReset(ctx context.Context, tx pgx.Tx, to auth.Recipient, token string) error {
	return o.enqueueWithLink(ctx, tx, mail.SendEmailArgs{
		Template: mail.TemplatePasswordReset, To: to.Email, ToName: to.Name, Locale: to.Locale,
		DedupeKey: "user:" + to.UserID.String(),
		Data:      map[string]string{"name": to.Name},
	}, o.link(o.base.String(), "/reset-password", token), o.now().Add(auth.ResetTokenTTL),
		&river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: ResetEmailWindow}})
}

// EmailVerification implements auth.Notifier.
func (o *Outbox) EmailVerification(ctx context.Context, tx pgx.Tx, to auth.Recipient, token string) error {
	return o.enqueueWithLink(ctx, tx, mail.SendEmailArgs{
		Template: mail.TemplateEmailVerification, To: to.Email, ToName: to.Name, Locale: to.Locale,
		Data: map[string]string{"name": to.Name},
	}, o.link(o.base.String(), "/verify-email", token), o.now().Add(auth.VerificationTokenTTL), nil)
}

// Invitation implements member.InviteNotifier. The invitee has no account
// yet, so no locale: the email is in the fallback language.
func (o *Outbox) Invitation(ctx context.Context, tx pgx.Tx, inv member.InvitationEmail) error {
	return o.enqueueWithLink(ctx, tx, mail.SendEmailArgs{
		Template: mail.TemplateInvitation, To: inv.To,
		Data: map[string]string{
			"tenant_name":  inv.TenantName,
			"inviter_name": cmp.Or(inv.InviterName, "A colleague"),
			"role":         inv.Role,
		},
	}, o.link(o.tenantURL(inv.TenantSlug), "/accept-invitation", inv.Token), inv.ExpiresAt, nil)
}

// defaultLinkTTL keeps the stored link of an email whose caller gave no
// expiry: a week, the invitations' default.
const defaultLinkTTL = 7 * 24 * time.Hour

// enqueueWithLink enqueues an email whose link carries a token valid until
// expires, which the email shows (Data's expires_at). The link goes to
// public.email_secrets (mail.StoreSecret) in the job's transaction (tx, or
// one of its own), and the job's args only name it, so the token is not
// kept with the job after the email is sent. A job River skips as a
// duplicate stores nothing.
func (o *Outbox) enqueueWithLink(ctx context.Context, tx pgx.Tx, args mail.SendEmailArgs, link string,
	expires time.Time, opts *river.InsertOpts) error {
	if tx == nil {
		return pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
			return o.enqueueWithLink(ctx, tx, args, link, expires, opts)
		})
	}
	if expires.IsZero() {
		expires = o.now().Add(defaultLinkTTL)
	}
	args.Data["expires_at"] = formatTime(expires)
	args.SecretRef = uuid.New()
	res, err := o.ins.InsertTx(ctx, tx, args, opts)
	if err != nil {
		return fmt.Errorf("enqueue %s email: %w", args.Template, err)
	}
	if res.UniqueSkippedAsDuplicate {
		return nil
	}
	if err := mail.StoreSecret(ctx, tx, args.SecretRef, map[string]string{"link": link}, expires); err != nil {
		return fmt.Errorf("enqueue %s email: %w", args.Template, err)
	}
	return nil
}

// enqueue inserts args in tx, or on its own when tx is nil.
func (o *Outbox) enqueue(ctx context.Context, tx pgx.Tx, args mail.SendEmailArgs, opts *river.InsertOpts) error {
	var err error
	if tx != nil {
		_, err = o.ins.InsertTx(ctx, tx, args, opts)
	} else {
		_, err = o.ins.Insert(ctx, args, opts)
	}
	if err != nil {
		return fmt.Errorf("enqueue %s email: %w", args.Template, err)
	}
	return nil
}

// link is origin+path with the token as its query.
func (o *Outbox) link(origin, path, token string) string {
	return origin + path + "?token=" + url.QueryEscape(token)
}

// formatTime is how emails show a moment: in UTC, unambiguous in any
// locale (the recipient's time zone is not known).
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") }
