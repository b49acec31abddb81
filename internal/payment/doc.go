// Package payment owns collecting money for invoices: the Provider
// interface and its two implementations (the built-in Sandbox and Stripe),
// the payments rows and their idempotency keys, the River jobs that charge
// (ProcessPaymentArgs) and that apply Stripe webhooks
// (ProcessWebhookEventArgs), and the Stripe webhook endpoint.
//
// Billing (plans, invoices, renewals) lives elsewhere and calls
// Processor.EnqueueTx inside its own transaction. The rules that keep a
// crash or a retry from charging twice are in docs/payments.md.
package payment
