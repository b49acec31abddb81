package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/internal/billing"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/notify"
	"github.com/clientiq/clientiq/internal/payment"
)

// commerce is billing and payments wired together: the processor charges
// invoices billing creates, and both send their emails through the outbox.
type commerce struct {
	payments *payment.Processor
	billing  *billing.Service
}

// commerce builds the payment processor (the sandbox provider, and Stripe
// when PAYMENT_PROVIDER=stripe) and the billing service over it.
func (d *deps) commerce() (*commerce, error) {
	if d.shop != nil {
		return d.shop, nil
	}
	outbox, err := d.outbox()
	if err != nil {
		return nil, err
	}
	inserter, err := d.riverInserter()
	if err != nil {
		return nil, err
	}
	sandbox, err := payment.NewSandbox(payment.SandboxConfig{Pool: d.db.Pool})
	if err != nil {
		return nil, fmt.Errorf("create sandbox payment provider: %w", err)
	}
	providers := []payment.Provider{sandbox}
	if d.cfg.Payments.Provider == "stripe" {
		stripe, err := payment.NewStripe(payment.StripeConfig{SecretKey: d.cfg.Payments.StripeSecretKey})
		if err != nil {
			return nil, fmt.Errorf("create stripe payment provider: %w", err)
		}
		providers = append(providers, stripe)
	}
	proc, err := payment.New(payment.Config{
		Pool: d.db.Pool, Providers: providers, DefaultProvider: d.cfg.Payments.Provider,
		Inserter: inserter, Notifier: notify.PaymentEmails{Outbox: outbox},
		Enabled: d.cfg.Features.Payments, Logger: d.logger,
	})
	if err != nil {
		return nil, fmt.Errorf("create payment processor: %w", err)
	}
	svc := billing.NewService(billing.Config{
		Pool: d.db.Pool, Clients: db.NewClients(d.db.Pool), Charger: charger{proc},
		Notifier: subscriptionEmails{outbox}, PaymentsEnabled: d.cfg.Features.Payments, Logger: d.logger,
	})
	d.shop = &commerce{payments: proc, billing: svc}
	return d.shop, nil
}

// charger lets billing enqueue charges with the payment processor.
type charger struct{ proc *payment.Processor }

func (c charger) EnqueueTx(ctx context.Context, tx pgx.Tx, in billing.ChargeInput) (uuid.UUID, error) {
	return c.proc.EnqueueTx(ctx, tx, payment.EnqueueInput{
		TenantID: in.TenantID, InvoiceID: in.InvoiceID, Amount: in.Amount, Currency: in.Currency,
		Provider: in.Provider, PaymentMethod: in.PaymentMethod,
	})
}

// subscriptionEmails writes "subscription changed" to the tenant's billing
// contact.
type subscriptionEmails struct{ outbox *notify.Outbox }

func (s subscriptionEmails) SubscriptionChanged(ctx context.Context, tx pgx.Tx, c billing.SubscriptionChange) error {
	contact, err := notify.LookupBillingContact(ctx, tx, c.TenantID)
	if errors.Is(err, notify.ErrNoBillingContact) {
		return nil
	}
	if err != nil {
		return err
	}
	currency := c.Currency
	if currency == "" {
		currency = "USD" // nothing was billed: the amount reads 0
	}
	return s.outbox.SubscriptionChanged(ctx, tx, notify.BillingEmail{
		To: contact.Email, Name: contact.Name, Locale: contact.Locale,
		TenantSlug: c.TenantSlug, TenantName: c.TenantName, PlanName: c.PlanName,
		AmountMinor: c.AmountMinor, Currency: currency, InvoiceNumber: c.InvoiceNumber,
	})
}
