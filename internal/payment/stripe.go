package payment

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v82"
)

// ProviderStripe is the Stripe provider's name.
const ProviderStripe = "stripe"

// StripeConfig configures the Stripe provider.
type StripeConfig struct {
	// SecretKey is STRIPE_SECRET_KEY (sk_live_… or sk_test_…). Required;
	// never logged.
	SecretKey string
	// BackendURL replaces Stripe's API URL; tests point it at a fake
	// Stripe. Default: https://api.stripe.com.
	BackendURL string
	// HTTPClient makes the calls. Default: a client with a 10 s timeout and
	// the system's TLS verification.
	HTTPClient *http.Client
}

// Stripe charges through Stripe PaymentIntents, created and confirmed in
// one off-session call under the payment's idempotency key.
type Stripe struct {
	client *stripe.Client
}

// NewStripe returns the Stripe provider.
func NewStripe(cfg StripeConfig) (*Stripe, error) {
	if cfg.SecretKey == "" {
		return nil, errors.New("payment: Stripe needs a secret key")
	}
	bc := &stripe.BackendConfig{
		HTTPClient: cmp.Or(cfg.HTTPClient, &http.Client{Timeout: 10 * time.Second}),
		// River retries, with the same key and a backoff; the library's own
		// quick retries would only multiply requests inside one attempt.
		MaxNetworkRetries: stripe.Int64(0),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	}
	if cfg.BackendURL != "" {
		bc.URL = stripe.String(strings.TrimRight(cfg.BackendURL, "/"))
	}
	return &Stripe{client: stripe.NewClient(cfg.SecretKey, stripe.WithBackends(stripe.NewBackendsWithConfig(bc)))}, nil
}

// Name implements Provider.
func (*Stripe) Name() string { return ProviderStripe }

// Charge implements Provider: a PaymentIntent created with confirm=true.
// Stripe stores the first response to a key for at least 24 hours, so a
// retry returns the same PaymentIntent rather than charging again.
func (s *Stripe) Charge(ctx context.Context, req ChargeRequest) (ChargeResult, error) {
	params := &stripe.PaymentIntentCreateParams{
		Amount:     stripe.Int64(req.Amount),
		Currency:   stripe.String(strings.ToLower(req.Currency)),
		Confirm:    stripe.Bool(true),
		OffSession: stripe.Bool(true),
		// Server-side confirmation cannot follow a redirect.
		AutomaticPaymentMethods: &stripe.PaymentIntentCreateAutomaticPaymentMethodsParams{
			Enabled: stripe.Bool(true), AllowRedirects: stripe.String("never"),
		},
		Metadata: map[string]string{},
	}
	for k, v := range req.Metadata {
		params.Metadata[k] = v
	}
	if req.Reference != "" {
		params.Metadata["reference"] = req.Reference
	}
	if req.PaymentMethod != "" {
		params.PaymentMethod = stripe.String(req.PaymentMethod)
	}
	if req.Customer != "" {
		params.Customer = stripe.String(req.Customer)
	}
	if req.Description != "" {
		params.Description = stripe.String(req.Description)
	}
	params.IdempotencyKey = stripe.String(req.IdempotencyKey)

	pi, err := s.client.V1PaymentIntents.Create(ctx, params)
	if err != nil {
		return stripeError(err)
	}
	switch pi.Status {
	case stripe.PaymentIntentStatusSucceeded:
		return ChargeResult{ChargeID: pi.ID, Outcome: OutcomeSucceeded}, nil
	case stripe.PaymentIntentStatusRequiresPaymentMethod:
		code, msg := "card_declined", "the card was declined"
		if e := pi.LastPaymentError; e != nil {
			code, msg = cmp.Or(string(e.DeclineCode), string(e.Code), code), cmp.Or(e.Msg, msg)
		}
		return ChargeResult{ChargeID: pi.ID, Outcome: OutcomeDeclined, DeclineCode: code, Message: msg}, nil
	case stripe.PaymentIntentStatusRequiresAction:
		// Off session, nobody is there to authenticate.
		return ChargeResult{ChargeID: pi.ID, Outcome: OutcomeDeclined,
			DeclineCode: string(stripe.ErrorCodeAuthenticationRequired), Message: "the card requires authentication"}, nil
	case stripe.PaymentIntentStatusCanceled:
		return ChargeResult{ChargeID: pi.ID, Outcome: OutcomeDeclined, DeclineCode: "canceled", Message: "the payment was canceled"}, nil
	}
	// processing (and anything new): not final. A retry replays the same
	// answer, so the payment_intent.* webhook is what settles it.
	return ChargeResult{}, fmt.Errorf("stripe: payment intent %s is %s", pi.ID, pi.Status)
}

// stripeError maps a failed call: card errors and refused requests are
// declines (final); rate limits, authentication, conflicts, 5xx and
// network errors are transient (retried with the same key).
func stripeError(err error) (ChargeResult, error) {
	var se *stripe.Error
	if !errors.As(err, &se) {
		return ChargeResult{}, fmt.Errorf("stripe: %w", err)
	}
	chargeID := ""
	if se.PaymentIntent != nil {
		chargeID = se.PaymentIntent.ID
	}
	switch {
	case se.Type == stripe.ErrorTypeIdempotency:
		return ChargeResult{}, fmt.Errorf("stripe: %s: %w", se.Msg, ErrIdempotencyMismatch)
	case se.Type == stripe.ErrorTypeCard:
		return ChargeResult{ChargeID: chargeID, Outcome: OutcomeDeclined,
			DeclineCode: cmp.Or(string(se.DeclineCode), string(se.Code), "card_declined"), Message: se.Msg}, nil
	case se.Type == stripe.ErrorTypeInvalidRequest &&
		(se.HTTPStatusCode == http.StatusBadRequest || se.HTTPStatusCode == http.StatusPaymentRequired || se.HTTPStatusCode == http.StatusNotFound):
		return ChargeResult{ChargeID: chargeID, Outcome: OutcomeDeclined,
			DeclineCode: cmp.Or(string(se.Code), "invalid_request"), Message: se.Msg}, nil
	}
	return ChargeResult{}, fmt.Errorf("stripe: status %d, %s: %w", se.HTTPStatusCode, se.Type, err)
}

// FetchIntent implements IntentFetcher: the PaymentIntent as Stripe has it
// now, with its latest charge for refunds.
func (s *Stripe) FetchIntent(ctx context.Context, id string) (IntentState, error) {
	params := &stripe.PaymentIntentRetrieveParams{Expand: []*string{stripe.String("latest_charge")}}
	pi, err := s.client.V1PaymentIntents.Retrieve(ctx, id, params)
	if err != nil {
		return IntentState{}, fmt.Errorf("stripe: retrieve payment intent %s: %w", id, err)
	}
	return intentState(pi), nil
}

// intentState reads a PaymentIntent's state (fetched, or from an event).
func intentState(pi *stripe.PaymentIntent) IntentState {
	st := IntentState{ChargeID: pi.ID, PaymentID: pi.Metadata["payment_id"]}
	switch pi.Status {
	case stripe.PaymentIntentStatusSucceeded:
		st.Succeeded = true
	case stripe.PaymentIntentStatusCanceled:
		st.Failed, st.FailureCode, st.FailureReason = true, "canceled", "the payment was canceled"
	case stripe.PaymentIntentStatusRequiresPaymentMethod:
		// Also the state of a new intent: only a recorded error is a failure.
		if e := pi.LastPaymentError; e != nil {
			st.Failed = true
			st.FailureCode = cmp.Or(string(e.DeclineCode), string(e.Code), "card_declined")
			st.FailureReason = cmp.Or(e.Msg, "the card was declined")
		}
	}
	if pi.LatestCharge != nil {
		st.AmountRefunded = pi.LatestCharge.AmountRefunded
	}
	return st
}
