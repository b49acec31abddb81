package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/clientiq/clientiq/internal/mail"
)

// BillingEmail is what the billing emails say. The billing domain will
// call the Outbox through an interface it declares, with this shape.
type BillingEmail struct {
	// To is the billing contact's address; Name and Locale are theirs
	// (Locale empty means the fallback language).
	To, Name, Locale string
	// TenantSlug builds the link to the tenant's billing page.
	TenantSlug, TenantName string
	// PlanName is the plan's display name.
	PlanName string
	// AmountMinor is the amount in the currency's minor unit (cents), and
	// Currency its ISO 4217 code ("EUR").
	AmountMinor int64
	Currency    string
	// InvoiceNumber is the invoice's number as the customer sees it; it
	// also makes the receipt unique (a webhook delivered twice mails once).
	InvoiceNumber string
}

// billingPath is the tenant page billing emails link to.
const billingPath = "/settings/billing"

// PaymentReceipt enqueues payment_receipt: once per invoice while the job
// row is kept (River's completed-job retention).
func (o *Outbox) PaymentReceipt(ctx context.Context, tx pgx.Tx, e BillingEmail) error {
	return o.billing(ctx, tx, mail.TemplatePaymentReceipt, e,
		&river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}})
}

// PaymentFailed enqueues payment_failed: at most once per invoice a day,
// however often the provider retries the charge.
func (o *Outbox) PaymentFailed(ctx context.Context, tx pgx.Tx, e BillingEmail) error {
	return o.billing(ctx, tx, mail.TemplatePaymentFailed, e,
		&river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: 24 * time.Hour}})
}

// SubscriptionChanged enqueues subscription_changed; InvoiceNumber may be
// empty (a downgrade bills nothing).
func (o *Outbox) SubscriptionChanged(ctx context.Context, tx pgx.Tx, e BillingEmail) error {
	return o.billing(ctx, tx, mail.TemplateSubscriptionChanged, e, nil)
}

func (o *Outbox) billing(ctx context.Context, tx pgx.Tx, template string, e BillingEmail, opts *river.InsertOpts) error {
	amount, err := mail.FormatAmount(e.AmountMinor, e.Currency, e.Locale)
	if err != nil {
		return fmt.Errorf("enqueue %s email: %w", template, err)
	}
	args := mail.SendEmailArgs{
		Template: template, To: e.To, ToName: e.Name, Locale: e.Locale,
		Data: map[string]string{
			"tenant_name": e.TenantName, "plan_name": e.PlanName, "amount": amount,
			"invoice_number": e.InvoiceNumber, "link": o.tenantURL(e.TenantSlug) + billingPath,
		},
	}
	if opts != nil {
		args.DedupeKey = "invoice:" + e.TenantSlug + ":" + e.InvoiceNumber
	}
	return o.enqueue(ctx, tx, args, opts)
}

// DemoRequestEmail is a prospect's demo request.
type DemoRequestEmail struct {
	// Name, Email and Locale are the prospect's; Company and Message what
	// they typed.
	Name, Email, Locale, Company, Message string
	// ReviewPath is the platform page where sales reviews the request.
	// Default "/".
	ReviewPath string
}

// DemoRequest enqueues the prospect's confirmation and, when SalesEmail is
// configured, the sales team's notification, in one transaction.
func (o *Outbox) DemoRequest(ctx context.Context, tx pgx.Tx, d DemoRequestEmail) error {
	base := o.base.String()
	if err := o.enqueue(ctx, tx, mail.SendEmailArgs{
		Template: mail.TemplateDemoRequestConfirmation, To: d.Email, ToName: d.Name, Locale: d.Locale,
		Data: map[string]string{"name": d.Name, "company": d.Company, "link": base + "/"},
	}, nil); err != nil {
		return err
	}
	if o.salesEmail == "" {
		return nil
	}
	review := d.ReviewPath
	if review == "" {
		review = "/"
	}
	return o.enqueue(ctx, tx, mail.SendEmailArgs{
		Template: mail.TemplateDemoRequestSales, To: o.salesEmail,
		Data: map[string]string{
			"name": d.Name, "email": d.Email, "company": d.Company, "message": d.Message, "link": base + review,
		},
	}, nil)
}
