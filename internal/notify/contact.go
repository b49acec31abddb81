package notify

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/payment"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// BillingContact is who receives a tenant's billing emails: its longest-
// standing active owner, with the tenant and plan names the emails show.
type BillingContact struct {
	Email, Name, Locale    string
	TenantSlug, TenantName string
	PlanName               string
}

// ErrNoBillingContact means the tenant has no active owner to write to.
var ErrNoBillingContact = errors.New("tenant has no active owner")

// LookupBillingContact finds tenantID's billing contact inside tx (the
// transaction that records what the email is about).
func LookupBillingContact(ctx context.Context, tx pgx.Tx, tenantID uuid.UUID) (BillingContact, error) {
	var c BillingContact
	var schema string
	err := tx.QueryRow(ctx, `SELECT t.slug, t.name, t.schema_name, coalesce(p.name, '')
		FROM public.tenants t
		LEFT JOIN public.subscriptions s ON s.tenant_id = t.id
		LEFT JOIN public.plans p ON p.id = s.plan_id
		WHERE t.id = $1`, tenantID).Scan(&c.TenantSlug, &c.TenantName, &schema, &c.PlanName)
	if err != nil {
		return c, fmt.Errorf("look up billing contact of tenant %s: %w", tenantID, err)
	}
	if err := tenancy.CheckSchema(schema); err != nil {
		return c, err
	}
	q := db.QuoteIdent(schema)
	err = tx.QueryRow(ctx, `SELECT u.email, u.name, u.locale
		FROM `+q+`.members m
		JOIN `+q+`.member_roles mr ON mr.member_id = m.id
		JOIN `+q+`.roles r ON r.id = mr.role_id AND r.name = 'owner'
		JOIN public.users u ON u.id = m.user_id
		WHERE m.status = 'active' AND u.disabled_at IS NULL
		ORDER BY m.joined_at NULLS LAST, m.created_at LIMIT 1`).Scan(&c.Email, &c.Name, &c.Locale)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNoBillingContact
	}
	if err != nil {
		return c, fmt.Errorf("look up billing contact of tenant %s: %w", tenantID, err)
	}
	return c, nil
}

// PaymentEmails sends the payment outcome emails to the tenant's billing
// contact; it is payment.Notifier.
type PaymentEmails struct{ Outbox *Outbox }

var _ payment.Notifier = PaymentEmails{}

// PaymentSucceeded implements payment.Notifier: the receipt.
func (p PaymentEmails) PaymentSucceeded(ctx context.Context, tx pgx.Tx, n payment.PaymentNotice) error {
	e, ok, err := p.email(ctx, tx, n)
	if !ok {
		return err
	}
	return p.Outbox.PaymentReceipt(ctx, tx, e)
}

// PaymentFailed implements payment.Notifier: one failure email.
func (p PaymentEmails) PaymentFailed(ctx context.Context, tx pgx.Tx, n payment.PaymentNotice) error {
	e, ok, err := p.email(ctx, tx, n)
	if !ok {
		return err
	}
	return p.Outbox.PaymentFailed(ctx, tx, e)
}

// email builds the BillingEmail; ok is false when there is nobody to write
// to (a tenant without an active owner sends nothing, and that is not an
// error that should fail the payment's bookkeeping).
func (p PaymentEmails) email(ctx context.Context, tx pgx.Tx, n payment.PaymentNotice) (BillingEmail, bool, error) {
	c, err := LookupBillingContact(ctx, tx, n.TenantID)
	if errors.Is(err, ErrNoBillingContact) {
		return BillingEmail{}, false, nil
	}
	if err != nil {
		return BillingEmail{}, false, err
	}
	return BillingEmail{To: c.Email, Name: c.Name, Locale: c.Locale, TenantSlug: c.TenantSlug,
		TenantName: c.TenantName, PlanName: c.PlanName, AmountMinor: n.Amount, Currency: n.Currency,
		InvoiceNumber: n.InvoiceNumber}, true, nil
}
