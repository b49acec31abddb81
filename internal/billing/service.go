// Package billing owns what a tenant pays for: the plans of the price list,
// each tenant's one subscription and its state machine (trialing → active
// → past_due → canceled), invoices with their lines, proration on plan
// changes, plan limits (seats, projects, data items), and the River jobs
// that renew subscriptions and dun past-due ones. Billing rows live in the
// public schema, keyed by tenant_id; every tenant-facing method reads the
// tenant from the context and never reaches another tenant's rows.
//
// Charging a card is not billing's job: it hands an invoice to a Charger
// (package payment) inside its own transaction, and the payment job reports
// back by updating the payment, invoice and subscription rows.
package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/db"
)

// Charger starts collecting an invoice: it inserts the pending payment row
// (with its idempotency key) and the job that charges it, both in tx, so
// the charge exists exactly when the billing change that caused it commits.
// payment.Service satisfies it through a small adapter in wiring.
type Charger interface {
	EnqueueTx(ctx context.Context, tx pgx.Tx, in ChargeInput) (uuid.UUID, error)
}

// ChargeInput is one charge of an invoice.
type ChargeInput struct {
	TenantID  uuid.UUID
	InvoiceID uuid.UUID
	// Amount is in the currency's minor units (cents); always positive.
	Amount   int64
	Currency string
	// Provider names the PaymentProvider (sandbox, stripe).
	Provider string
	// PaymentMethod is the provider's token for the card on file; empty
	// when the tenant has none (the provider then fails the charge).
	PaymentMethod string
}

// Notifier tells a tenant's billing contact that its subscription changed.
// It is called inside the changing transaction, so an implementation that
// enqueues an email job in tx sends it exactly when the change commits.
type Notifier interface {
	SubscriptionChanged(ctx context.Context, tx pgx.Tx, c SubscriptionChange) error
}

// SubscriptionChange is what a "subscription changed" email needs.
type SubscriptionChange struct {
	TenantID   uuid.UUID
	TenantSlug string
	TenantName string
	// PlanName is the plan after the change; OldPlanName the one before
	// (equal when only the status changed).
	PlanName    string
	OldPlanName string
	// Status is the subscription's status after the change; OldStatus the
	// one before.
	Status    string
	OldStatus string
	// Reason says what happened: upgrade, downgrade_scheduled, downgrade,
	// cancel_scheduled, resumed, canceled, trial_ended, renewed.
	Reason string
	// EffectiveAt is when the change takes (or took) effect.
	EffectiveAt time.Time
	// InvoiceNumber, AmountMinor and Currency describe the invoice the
	// change created; InvoiceNumber is empty when it billed nothing.
	InvoiceNumber string
	AmountMinor   int64
	Currency      string
}

// Config configures the Service.
type Config struct {
	// Pool is the PostgreSQL pool billing writes through (pgx transactions
	// shared with River's InsertTx). Required.
	Pool *pgxpool.Pool
	// Clients hands out the public ent client (plans, subscriptions,
	// invoices) and the tenant client (usage for plan limits). Required.
	Clients *db.Clients
	// Charger enqueues charges. Nil means invoices are created and left
	// open, as with PaymentsEnabled false.
	Charger Charger
	// Notifier sends "subscription changed" emails. Nil sends none.
	Notifier Notifier
	// PaymentsEnabled turns charging on. When false everything else keeps
	// working: upgrades create their invoice and leave it open, renewals
	// invoice without charging, and PayInvoice answers FEATURE_DISABLED.
	PaymentsEnabled bool
	// DunningSchedule is how long after past_due_since each retry of a
	// past-due subscription's failed invoices is made; after the last one
	// fails the subscription is canceled. Default 1, 3 and 7 days.
	DunningSchedule []time.Duration
	// Now is the clock (tests move it). Default time.Now.
	Now func() time.Time
	// Logger is required.
	Logger *slog.Logger
}

// Service runs billing for GraphQL, REST and the billing jobs alike.
type Service struct {
	pool     *pgxpool.Pool
	clients  *db.Clients
	charger  Charger
	notifier Notifier
	payments bool
	dunning  []time.Duration
	now      func() time.Time
	logger   *slog.Logger
	plans    planCache
}

// NewService returns a Service. It panics without a Pool, Clients or a
// Logger: that is a wiring mistake, not a runtime condition.
func NewService(cfg Config) *Service {
	if cfg.Pool == nil || cfg.Clients == nil || cfg.Logger == nil {
		panic("billing: Config.Pool, Config.Clients and Config.Logger are required")
	}
	s := &Service{
		pool: cfg.Pool, clients: cfg.Clients, charger: cfg.Charger, notifier: cfg.Notifier,
		payments: cfg.PaymentsEnabled, dunning: cfg.DunningSchedule, now: cfg.Now, logger: cfg.Logger,
	}
	if len(s.dunning) == 0 {
		s.dunning = []time.Duration{24 * time.Hour, 3 * 24 * time.Hour, 7 * 24 * time.Hour}
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// charging reports whether charges are made at all.
func (s *Service) charging() bool { return s.payments && s.charger != nil }

// clock returns the current time at PostgreSQL's microsecond precision, so
// what is written reads back the same.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Errors shared by several methods.
var (
	errSubscriptionNotFound = apperr.New(apperr.CodeNotFound, "no such subscription")
	errInvoiceNotFound      = apperr.New(apperr.CodeNotFound, "no such invoice")
	errPlanNotFound         = apperr.New(apperr.CodeNotFound, "no such plan")
	errPaymentsDisabled     = apperr.New(apperr.CodeFeatureDisabled, "payments are not enabled on this server")
)

// inTx runs fn in a pgx transaction. Errors with a code pass through
// unchanged; anything else is wrapped with op.
func (s *Service) inTx(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, s.pool, fn)
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	return fmt.Errorf("%s: %w", op, db.Translate(err))
}
