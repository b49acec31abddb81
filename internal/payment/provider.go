package payment

import (
	"context"
	"errors"
)

// Outcome is the final answer of a provider to a charge.
type Outcome string

// Outcomes of a charge. A transient failure is not an outcome: Charge
// returns an error for it, and the caller retries with the same key.
const (
	OutcomeSucceeded Outcome = "succeeded"
	OutcomeDeclined  Outcome = "declined"
)

// ChargeRequest asks a provider to collect an amount once.
type ChargeRequest struct {
	// IdempotencyKey identifies the charge at the provider: every retry of
	// one payment sends the same key, so the provider charges at most once.
	IdempotencyKey string
	// Amount is in the currency's minor unit (cents); Currency its ISO 4217
	// code.
	Amount   int64
	Currency string
	// PaymentMethod is the provider's token for the card ("pm_…"). Empty
	// means the customer's default (the sandbox's default is success).
	PaymentMethod string
	// Customer is the provider's customer id, when the payment method is
	// attached to one. Optional.
	Customer string
	// Reference is ClientIQ's reference for the charge: the invoice id.
	Reference string
	// Description is shown on the provider's dashboard.
	Description string
	// Metadata travels with the charge to the provider and back in its
	// webhooks (payment_id, invoice_id, tenant_id).
	Metadata map[string]string
}

// ChargeResult is a provider's final answer.
type ChargeResult struct {
	// ChargeID is the provider's id of the charge (Stripe: the
	// PaymentIntent id). It may be set for a decline too.
	ChargeID string
	// Outcome is succeeded or declined; a decline is final.
	Outcome Outcome
	// DeclineCode says why a charge was declined (card_declined,
	// insufficient_funds, …), and Message says it for people.
	DeclineCode string
	Message     string
}

// Provider charges payment methods. A returned error means the outcome is
// unknown or the provider is unavailable: the caller retries later with the
// same IdempotencyKey, and a provider must then return the first result
// instead of charging again. A decline is a result, not an error.
type Provider interface {
	// Name is the provider's name as stored in payments.provider.
	Name() string
	// Charge collects req.Amount once per req.IdempotencyKey.
	Charge(ctx context.Context, req ChargeRequest) (ChargeResult, error)
}

// ErrIdempotencyMismatch is returned (wrapped) by a provider when a key is
// replayed with different parameters. Payments never change their amount,
// so this is a bug, not a transient failure: the payment is failed and the
// mismatch logged, never retried under a new key.
var ErrIdempotencyMismatch = errors.New("payment: idempotency key reused with different parameters")

// IntentState is a provider's current view of one payment, fetched again
// when a webhook arrives so that out-of-order events cannot regress it.
type IntentState struct {
	// ChargeID is the provider's id (Stripe: the PaymentIntent id).
	ChargeID string
	// PaymentID is ClientIQ's payment id from the charge's metadata; zero
	// when the charge did not come from ClientIQ.
	PaymentID string
	// Succeeded and Failed are the two final states; neither means the
	// payment is still in flight (processing, requires action).
	Succeeded, Failed bool
	// FailureCode and FailureReason explain Failed.
	FailureCode, FailureReason string
	// Refunded reports an amount returned to the customer after success.
	AmountRefunded int64
}

// IntentFetcher is implemented by providers that can report the current
// state of a charge (Stripe). The webhook worker uses it to apply the state
// the provider has now rather than the state an event had when it was sent.
type IntentFetcher interface {
	FetchIntent(ctx context.Context, chargeID string) (IntentState, error)
}
