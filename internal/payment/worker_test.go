package payment_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/payment"
)

// subscription returns the status and past_due_since of a tenant's
// subscription.
func subscription(t *testing.T, e *env, invoiceTenant string) (string, *time.Time) {
	t.Helper()
	var (
		status string
		since  *time.Time
	)
	require.NoError(t, e.db.Pool.QueryRow(context.Background(), `SELECT status, past_due_since FROM public.subscriptions
		WHERE tenant_id = $1`, invoiceTenant).Scan(&status, &since))
	return status, since
}

func TestProcessPaymentWorker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("SuccessPaysInvoiceReactivatesSubscriptionAndSendsOneReceipt", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		tenantID, invoiceID := seedInvoice(t, e.db.Pool, &invoiceOpts{subStatus: "past_due"})
		id := e.enqueue(t, tenantID, invoiceID, payment.CardSuccess)
		e.start(t)

		p := waitSettled(t, e.db.Pool, id)
		require.Equal(t, "succeeded", p.Status)
		require.True(t, strings.HasPrefix(p.ChargeID, "ch_sandbox_"), p.ChargeID)
		require.Equal(t, 1, p.Attempts)
		state, attempt := waitJobFinal(t, e.db.Pool, id)
		require.Equal(t, "completed", state)
		require.Equal(t, 1, attempt)

		var invStatus string
		var paidAt *time.Time
		require.NoError(t, e.db.Pool.QueryRow(ctx, `SELECT status, paid_at FROM public.invoices WHERE id = $1`, invoiceID).Scan(&invStatus, &paidAt))
		require.Equal(t, "paid", invStatus)
		require.NotNil(t, paidAt)
		status, since := subscription(t, e, tenantID.String())
		require.Equal(t, "active", status)
		require.Nil(t, since)
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.test_payment_notices WHERE kind = 'receipt' AND invoice_id = $1 AND reason = ''`, invoiceID))
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.test_payment_notices`))
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.sandbox_charges WHERE idempotency_key = $1 AND requests = 1 AND reference = $2`, p.Key, invoiceID.String()))
	})

	for _, tc := range []struct{ card, code string }{
		{payment.CardDeclined, "card_declined"},
		{payment.CardInsufficientFunds, "insufficient_funds"},
	} {
		t.Run("DeclineFailsOnceWithoutRetry/"+tc.code, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			tenantID, invoiceID := seedInvoice(t, e.db.Pool, &invoiceOpts{subStatus: "active"})
			id := e.enqueue(t, tenantID, invoiceID, tc.card)
			e.start(t)

			p := waitSettled(t, e.db.Pool, id)
			require.Equal(t, "failed", p.Status)
			require.Equal(t, tc.code, p.FailureCode)
			require.NotEmpty(t, p.FailureReason)
			// A decline is an outcome: the job is completed (by JobCompleteTx
			// with the bookkeeping) on its first attempt, not cancelled and
			// not retried.
			state, attempt := waitJobFinal(t, e.db.Pool, id)
			require.Equal(t, "completed", state)
			require.Equal(t, 1, attempt)
			require.Equal(t, 1, p.Attempts)

			var invStatus, reason string
			require.NoError(t, e.db.Pool.QueryRow(ctx, `SELECT status, failure_reason FROM public.invoices WHERE id = $1`, invoiceID).Scan(&invStatus, &reason))
			require.Equal(t, "failed", invStatus)
			require.Equal(t, p.FailureReason, reason)
			status, since := subscription(t, e, tenantID.String())
			require.Equal(t, "past_due", status)
			require.NotNil(t, since)
			require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.test_payment_notices WHERE kind = 'failure' AND reason <> ''`))
			require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.test_payment_notices`))
		})
	}

	t.Run("ProcessingErrorIsRetriedWithTheSameKeyAndChargedOnce", func(t *testing.T) {
		t.Parallel()
		var (
			mu   sync.Mutex
			keys []string
		)
		e := newEnv(t, &envOpts{sandbox: payment.SandboxConfig{BeforeCharge: func(_ context.Context, req payment.ChargeRequest) {
			mu.Lock()
			defer mu.Unlock()
			keys = append(keys, req.IdempotencyKey)
		}}})
		tenantID, invoiceID := seedInvoice(t, e.db.Pool, nil)
		id := e.enqueue(t, tenantID, invoiceID, payment.CardProcessingError)
		e.start(t)

		p := waitSettled(t, e.db.Pool, id)
		require.Equal(t, "succeeded", p.Status)
		require.Equal(t, payment.SandboxProcessingFailures+1, p.Attempts)
		state, attempt := waitJobFinal(t, e.db.Pool, id)
		require.Equal(t, "completed", state)
		require.Equal(t, payment.SandboxProcessingFailures+1, attempt)
		mu.Lock()
		require.Equal(t, []string{p.Key, p.Key, p.Key}, keys)
		mu.Unlock()
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.sandbox_charges WHERE reference = $1`, invoiceID.String()))
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.test_payment_notices`))
	})

	t.Run("FiveLostResponsesMakeFiveRequestsUnderOneKeyAndOneCharge", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, &envOpts{providers: func(sb *payment.Sandbox) []payment.Provider {
			return []payment.Provider{&lossyProvider{Provider: sb, lose: 4}}
		}})
		tenantID, invoiceID := seedInvoice(t, e.db.Pool, nil)
		id := e.enqueue(t, tenantID, invoiceID, payment.CardSuccess)
		e.start(t)

		p := waitSettled(t, e.db.Pool, id)
		require.Equal(t, "succeeded", p.Status)
		require.Equal(t, 5, p.Attempts)
		_, attempt := waitJobFinal(t, e.db.Pool, id)
		require.Equal(t, 5, attempt)
		var keys, charges, requests int
		require.NoError(t, e.db.Pool.QueryRow(ctx, `SELECT count(DISTINCT idempotency_key), count(*), coalesce(sum(requests), 0)
			FROM public.sandbox_charges WHERE reference = $1`, invoiceID.String()).Scan(&keys, &charges, &requests))
		require.Equal(t, 1, keys)
		require.Equal(t, 1, charges)
		require.Equal(t, 5, requests)
	})

	t.Run("LastAttemptFailsThePaymentAsProviderUnavailable", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, &envOpts{config: func(c *payment.Config) {
			c.MaxAttempts, c.ProviderTimeout = 2, 100*time.Millisecond
		}})
		tenantID, invoiceID := seedInvoice(t, e.db.Pool, &invoiceOpts{subStatus: "active"})
		id := e.enqueue(t, tenantID, invoiceID, payment.CardTimeout)
		e.start(t)

		p := waitSettled(t, e.db.Pool, id)
		require.Equal(t, "failed", p.Status)
		require.Equal(t, payment.CodeProviderUnavailable, p.FailureCode)
		require.Equal(t, "provider unavailable", p.FailureReason)
		state, attempt := waitJobFinal(t, e.db.Pool, id)
		require.Equal(t, "completed", state)
		require.Equal(t, 2, attempt)
		require.Zero(t, count(t, e.db.Pool, `SELECT count(*) FROM public.sandbox_charges`))
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.test_payment_notices WHERE kind = 'failure'`))
	})

	t.Run("JobForAnAlreadySettledPaymentChargesNothing", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		tenantID, invoiceID := seedInvoice(t, e.db.Pool, nil)
		id := e.enqueue(t, tenantID, invoiceID, payment.CardSuccess)
		e.start(t)
		waitSettled(t, e.db.Pool, id)
		waitJobFinal(t, e.db.Pool, id)

		// A duplicate delivery of the job (a rescue, a replayed insert).
		require.NoError(t, pgx.BeginFunc(ctx, e.db.Pool, func(tx pgx.Tx) error {
			_, err := e.ins.InsertTx(ctx, tx, payment.ProcessPaymentArgs{PaymentID: id}, nil)
			return err
		}))
		require.Eventually(t, func() bool {
			return count(t, e.db.Pool, `SELECT count(*) FROM public.river_job WHERE state = 'completed'`) == 2
		}, 10*time.Second, 20*time.Millisecond)
		require.Equal(t, 1, loadPayment(t, e.db.Pool, id).Attempts)
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT sum(requests) FROM public.sandbox_charges`))
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.test_payment_notices`))
	})
}

// lossyProvider forwards every charge and then "loses" the first lose
// responses, returning an error as a dropped connection would: the charge
// happened at the provider, the caller does not know.
type lossyProvider struct {
	payment.Provider
	lose  int32
	calls atomic.Int32
}

func (l *lossyProvider) Charge(ctx context.Context, req payment.ChargeRequest) (payment.ChargeResult, error) {
	res, err := l.Provider.Charge(ctx, req)
	if err == nil && l.calls.Add(1) <= l.lose {
		return payment.ChargeResult{}, errors.New("connection reset by peer")
	}
	return res, err
}
