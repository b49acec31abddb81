package billing

import (
	"context"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/internal/apperr"
)

// paymentMethodPattern accepts a provider's payment-method token: Stripe's
// PaymentMethod ids and the sandbox's test cards are both pm_…. A card
// number never is, so one can never be stored by mistake.
var paymentMethodPattern = regexp.MustCompile(`^pm_[A-Za-z0-9_]{1,252}$`)

// SetPaymentMethod records the provider's token for the card the tenant in
// ctx pays with (billing.manage). The frontend obtains the token from the
// provider (Stripe Elements; in the sandbox, one of the test cards), so the
// card itself never reaches ClientIQ. A past-due subscription's failed
// invoices are retried with it by the next dunning run.
func (s *Service) SetPaymentMethod(ctx context.Context, method string) (*ent.Subscription, error) {
	t, err := s.manage(ctx)
	if err != nil {
		return nil, err
	}
	if !paymentMethodPattern.MatchString(method) {
		return nil, apperr.FieldErrors{"paymentMethod": {"must be a payment method token (pm_…) from the payment provider"}}.Err()
	}
	err = s.inTx(ctx, "set payment method", func(tx pgx.Tx) error {
		sub, err := lockSub(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE public.subscriptions SET payment_method = $2, updated_at = $3 WHERE id = $1`,
			sub.ID, method, s.clock()); err != nil {
			return fmt.Errorf("write payment method: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.ensure(ctx, t.ID)
}
