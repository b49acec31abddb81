package payment_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/payment"
)

func TestStripeProvider(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	req := func(method string) payment.ChargeRequest {
		return payment.ChargeRequest{IdempotencyKey: payment.IdempotencyKey(uuid.New()), Amount: 4900, Currency: "EUR",
			PaymentMethod: method, Customer: "cus_123", Reference: uuid.NewString(), Description: "test",
			Metadata: map[string]string{"payment_id": uuid.NewString()}}
	}

	t.Run("ChargeSendsTheIdempotencyKeyAndAReplayChargesOnce", func(t *testing.T) {
		t.Parallel()
		f := newFakeStripe(t)
		s := f.provider(t)
		r := req(fakeCardOK)
		first, err := s.Charge(ctx, r)
		require.NoError(t, err)
		require.Equal(t, payment.OutcomeSucceeded, first.Outcome)
		require.True(t, strings.HasPrefix(first.ChargeID, "pi_"))
		again, err := s.Charge(ctx, r)
		require.NoError(t, err)
		require.Equal(t, first, again)
		keys, charges := f.stats()
		require.Equal(t, []string{r.IdempotencyKey, r.IdempotencyKey}, keys)
		require.Equal(t, 1, charges)
		f.mu.Lock()
		form := f.lastForm
		f.mu.Unlock()
		require.Equal(t, "4900", form["amount"])
		require.Equal(t, "eur", form["currency"])
		require.Equal(t, "true", form["confirm"])
		require.Equal(t, fakeCardOK, form["payment_method"])
		require.Equal(t, "cus_123", form["customer"])
		require.Equal(t, r.Metadata["payment_id"], form["metadata[payment_id]"])
	})

	t.Run("CardErrorIsAFinalDecline", func(t *testing.T) {
		t.Parallel()
		f := newFakeStripe(t)
		res, err := f.provider(t).Charge(ctx, req(fakeCardDeclined))
		require.NoError(t, err)
		require.Equal(t, payment.OutcomeDeclined, res.Outcome)
		require.Equal(t, "generic_decline", res.DeclineCode)
		require.Equal(t, "Your card was declined.", res.Message)
		require.True(t, strings.HasPrefix(res.ChargeID, "pi_"))
	})

	t.Run("ServerErrorIsTransientAndTheRetryWithTheSameKeySucceeds", func(t *testing.T) {
		t.Parallel()
		f := newFakeStripe(t)
		f.fail5xx = 1
		s := f.provider(t)
		r := req(fakeCardOK)
		_, err := s.Charge(ctx, r)
		require.Error(t, err)
		res, err := s.Charge(ctx, r)
		require.NoError(t, err)
		require.Equal(t, payment.OutcomeSucceeded, res.Outcome)
		keys, charges := f.stats()
		require.Equal(t, []string{r.IdempotencyKey, r.IdempotencyKey}, keys)
		require.Equal(t, 1, charges)
	})

	t.Run("TimeoutIsTransient", func(t *testing.T) {
		t.Parallel()
		f := newFakeStripe(t)
		cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, err := f.provider(t).Charge(cctx, req(fakeCardSlow))
		require.Error(t, err)
	})

	t.Run("SameKeyWithAnotherAmountIsAnIdempotencyMismatch", func(t *testing.T) {
		t.Parallel()
		f := newFakeStripe(t)
		s := f.provider(t)
		r := req(fakeCardOK)
		_, err := s.Charge(ctx, r)
		require.NoError(t, err)
		r.Amount = 100
		_, err = s.Charge(ctx, r)
		require.ErrorIs(t, err, payment.ErrIdempotencyMismatch)
	})

	t.Run("AuthenticationErrorIsTransient", func(t *testing.T) {
		t.Parallel()
		f := newFakeStripe(t)
		s, err := payment.NewStripe(payment.StripeConfig{SecretKey: "sk_test_wrong", BackendURL: f.URL})
		require.NoError(t, err)
		_, err = s.Charge(ctx, req(fakeCardOK))
		require.Error(t, err)
	})

	t.Run("WorkerChargesThroughStripeWithThePaymentsKey", func(t *testing.T) {
		t.Parallel()
		f := newFakeStripe(t)
		e := newEnv(t, &envOpts{providers: func(sb *payment.Sandbox) []payment.Provider {
			return []payment.Provider{sb, f.provider(t)}
		}})
		tenantID, invoiceID := seedInvoice(t, e.db.Pool, nil)
		id := e.enqueueWith(t, payment.EnqueueInput{TenantID: tenantID, InvoiceID: invoiceID, Amount: 4900, Currency: "EUR",
			Provider: payment.ProviderStripe, PaymentMethod: fakeCardOK})
		e.start(t)
		p := waitSettled(t, e.db.Pool, id)
		require.Equal(t, "succeeded", p.Status)
		require.True(t, strings.HasPrefix(p.ChargeID, "pi_"))
		keys, charges := f.stats()
		require.Equal(t, []string{payment.IdempotencyKey(id)}, keys)
		require.Equal(t, 1, charges)
	})
}
