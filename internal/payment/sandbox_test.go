package payment_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/payment"
)

func TestSandbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	sb, err := payment.NewSandbox(payment.SandboxConfig{Pool: d.Pool})
	require.NoError(t, err)
	req := func(method string) payment.ChargeRequest {
		return payment.ChargeRequest{IdempotencyKey: "k_" + uuid.NewString(), Amount: 1000, Currency: "EUR",
			PaymentMethod: method, Reference: uuid.NewString()}
	}

	t.Run("ReplayReturnsTheFirstResultAndCountsTheRequest", func(t *testing.T) {
		t.Parallel()
		r := req(payment.CardSuccess)
		first, err := sb.Charge(ctx, r)
		require.NoError(t, err)
		require.Equal(t, payment.OutcomeSucceeded, first.Outcome)
		again, err := sb.Charge(ctx, r)
		require.NoError(t, err)
		require.Equal(t, first, again)
		require.Equal(t, 2, count(t, d.Pool, `SELECT requests FROM public.sandbox_charges WHERE idempotency_key = $1`, r.IdempotencyKey))
	})

	t.Run("EmptyPaymentMethodSucceeds", func(t *testing.T) {
		t.Parallel()
		res, err := sb.Charge(ctx, req(""))
		require.NoError(t, err)
		require.Equal(t, payment.OutcomeSucceeded, res.Outcome)
	})

	t.Run("ReplayWithAnotherAmountIsAnError", func(t *testing.T) {
		t.Parallel()
		r := req(payment.CardSuccess)
		_, err := sb.Charge(ctx, r)
		require.NoError(t, err)
		r.Amount++
		_, err = sb.Charge(ctx, r)
		require.ErrorIs(t, err, payment.ErrIdempotencyMismatch)
		require.Equal(t, 1, count(t, d.Pool, `SELECT requests FROM public.sandbox_charges WHERE idempotency_key = $1`, r.IdempotencyKey))
	})

	t.Run("DeclinesAreRecordedAndReplayed", func(t *testing.T) {
		t.Parallel()
		for method, code := range map[string]string{payment.CardDeclined: "card_declined", payment.CardInsufficientFunds: "insufficient_funds"} {
			r := req(method)
			for range 2 {
				res, err := sb.Charge(ctx, r)
				require.NoError(t, err)
				require.Equal(t, payment.OutcomeDeclined, res.Outcome)
				require.Equal(t, code, res.DeclineCode)
			}
		}
	})

	t.Run("ProcessingErrorFailsTwiceThenSucceeds", func(t *testing.T) {
		t.Parallel()
		r := req(payment.CardProcessingError)
		for range payment.SandboxProcessingFailures {
			_, err := sb.Charge(ctx, r)
			require.Error(t, err)
		}
		res, err := sb.Charge(ctx, r)
		require.NoError(t, err)
		require.Equal(t, payment.OutcomeSucceeded, res.Outcome)
		require.Equal(t, 1, count(t, d.Pool, `SELECT count(*) FROM public.sandbox_charges WHERE idempotency_key = $1`, r.IdempotencyKey))
	})

	t.Run("TimeoutBlocksUntilTheContextEndsAndChargesNothing", func(t *testing.T) {
		t.Parallel()
		r := req(payment.CardTimeout)
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := sb.Charge(cctx, r)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Zero(t, count(t, d.Pool, `SELECT count(*) FROM public.sandbox_charges WHERE idempotency_key = $1`, r.IdempotencyKey))
	})

	t.Run("UnknownCardIsDeclinedWithoutACharge", func(t *testing.T) {
		t.Parallel()
		r := req("pm_card_nope")
		res, err := sb.Charge(ctx, r)
		require.NoError(t, err)
		require.Equal(t, payment.OutcomeDeclined, res.Outcome)
		require.Zero(t, count(t, d.Pool, `SELECT count(*) FROM public.sandbox_charges WHERE idempotency_key = $1`, r.IdempotencyKey))
	})
}
