package payment

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Sandbox payment methods. Their behaviour is deterministic, so tests and
// demos can pick an outcome by picking a card.
const (
	// CardSuccess (and an empty payment method) is charged.
	CardSuccess = "pm_card_success"
	// CardDeclined is declined with card_declined.
	CardDeclined = "pm_card_declined"
	// CardInsufficientFunds is declined with insufficient_funds.
	CardInsufficientFunds = "pm_card_insufficient_funds"
	// CardProcessingError fails with a transient error on the first
	// SandboxProcessingFailures calls for a key (counted in this process's
	// memory), then is charged: a retry with the same key succeeds.
	CardProcessingError = "pm_card_processing_error"
	// CardTimeout never answers: Charge blocks until its context is done and
	// returns a transient error. Nothing is charged.
	CardTimeout = "pm_card_timeout"
)

// SandboxProcessingFailures is how many calls per key CardProcessingError
// fails before it succeeds.
const SandboxProcessingFailures = 2

// ProviderSandbox is the sandbox provider's name.
const ProviderSandbox = "sandbox"

// errSandboxProcessing is the transient error of CardProcessingError.
var errSandboxProcessing = errors.New("sandbox: processing error, retry with the same idempotency key")

// SandboxConfig configures the sandbox provider.
type SandboxConfig struct {
	// Pool holds the sandbox's ledger, public.sandbox_charges. Required.
	Pool *pgxpool.Pool
	// BeforeCharge and AfterCharge are fault hooks for tests only (crash
	// and lost-response simulations); production leaves them nil.
	// BeforeCharge runs before anything is charged; AfterCharge after the
	// ledger row is committed, before the result is returned.
	BeforeCharge, AfterCharge func(ctx context.Context, req ChargeRequest)
}

// Sandbox is a provider that charges nobody: it keeps its own ledger in
// public.sandbox_charges, one row per idempotency key, playing the part of
// a real provider's database. Like Stripe it remembers the first result of
// a key and returns it to every replay (counting the replay in requests),
// so it is what tests audit for double and lost charges.
type Sandbox struct {
	cfg SandboxConfig

	mu       sync.Mutex
	failures map[string]int // CardProcessingError calls per key
}

// NewSandbox returns the sandbox provider.
func NewSandbox(cfg SandboxConfig) (*Sandbox, error) {
	if cfg.Pool == nil {
		return nil, errors.New("payment: sandbox needs a Pool")
	}
	return &Sandbox{cfg: cfg, failures: map[string]int{}}, nil
}

// Name implements Provider.
func (*Sandbox) Name() string { return ProviderSandbox }

// Charge implements Provider.
func (s *Sandbox) Charge(ctx context.Context, req ChargeRequest) (ChargeResult, error) {
	if req.IdempotencyKey == "" {
		return ChargeResult{}, errors.New("sandbox: charge without an idempotency key")
	}
	if s.cfg.BeforeCharge != nil {
		s.cfg.BeforeCharge(ctx, req)
	}
	outcome := "succeeded"
	switch req.PaymentMethod {
	case "", CardSuccess:
	case CardDeclined:
		outcome = "declined"
	case CardInsufficientFunds:
		outcome = "insufficient_funds"
	case CardProcessingError:
		if s.failedBefore(req.IdempotencyKey) {
			return ChargeResult{}, errSandboxProcessing
		}
	case CardTimeout:
		<-ctx.Done()
		return ChargeResult{}, fmt.Errorf("sandbox: no answer: %w", ctx.Err())
	default:
		// An unknown card is refused before any money moves, like
		// Stripe's "No such PaymentMethod": no ledger row.
		return ChargeResult{Outcome: OutcomeDeclined, DeclineCode: "invalid_payment_method",
			Message: "the payment method does not exist"}, nil
	}

	// One autocommit statement: the provider's side commits on its own,
	// whatever happens to ClientIQ's transactions afterwards. A replay with
	// the same key and parameters counts a request and returns the first
	// row; with other parameters the WHERE refuses it and no row returns.
	var (
		id        uuid.UUID
		stored    string
		requested = req.PaymentMethod
	)
	if requested == "" {
		requested = CardSuccess
	}
	err := s.cfg.Pool.QueryRow(ctx, `INSERT INTO public.sandbox_charges
			(id, created_at, updated_at, idempotency_key, reference, amount, currency, payment_method, outcome, requests)
		VALUES ($1, now(), now(), $2, $3, $4, $5, $6, $7, 1)
		ON CONFLICT (idempotency_key) DO UPDATE SET requests = sandbox_charges.requests + 1, updated_at = now()
			WHERE sandbox_charges.amount = EXCLUDED.amount AND sandbox_charges.currency = EXCLUDED.currency
		RETURNING id, outcome`,
		uuid.New(), req.IdempotencyKey, req.Reference, req.Amount, req.Currency, requested, outcome,
	).Scan(&id, &stored)
	if errors.Is(err, pgx.ErrNoRows) {
		return ChargeResult{}, fmt.Errorf("sandbox: key %s: %w", req.IdempotencyKey, ErrIdempotencyMismatch)
	}
	if err != nil {
		return ChargeResult{}, fmt.Errorf("sandbox: record charge: %w", err)
	}
	if s.cfg.AfterCharge != nil {
		s.cfg.AfterCharge(ctx, req)
	}
	res := ChargeResult{ChargeID: "ch_sandbox_" + id.String(), Outcome: OutcomeSucceeded}
	switch stored {
	case "declined":
		res.Outcome, res.DeclineCode, res.Message = OutcomeDeclined, "card_declined", "the card was declined"
	case "insufficient_funds":
		res.Outcome, res.DeclineCode, res.Message = OutcomeDeclined, "insufficient_funds", "the card has insufficient funds"
	}
	return res, nil
}

// failedBefore counts a CardProcessingError call for key and reports
// whether it still fails.
func (s *Sandbox) failedBefore(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[key]++
	return s.failures[key] <= SandboxProcessingFailures
}
