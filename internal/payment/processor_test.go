package payment_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/payment"
)

func TestEnqueueTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("RollbackLeavesNeitherPaymentNorJob", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		tenantID, invoiceID := seedInvoice(t, e.db.Pool, nil)
		errRollback := errors.New("billing changed its mind")
		err := pgx.BeginFunc(ctx, e.db.Pool, func(tx pgx.Tx) error {
			_, err := e.proc.EnqueueTx(ctx, tx, payment.EnqueueInput{TenantID: tenantID, InvoiceID: invoiceID, Amount: 4900, Currency: "EUR"})
			require.NoError(t, err)
			return errRollback
		})
		require.ErrorIs(t, err, errRollback)
		require.Zero(t, count(t, e.db.Pool, `SELECT count(*) FROM public.payments`))
		require.Zero(t, count(t, e.db.Pool, `SELECT count(*) FROM public.river_job`))
	})

	t.Run("CommitWritesPendingPaymentAndOneJob", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		tenantID, invoiceID := seedInvoice(t, e.db.Pool, nil)
		id := e.enqueue(t, tenantID, invoiceID, payment.CardSuccess)
		p := loadPayment(t, e.db.Pool, id)
		require.Equal(t, "pending", p.Status)
		require.Equal(t, payment.IdempotencyKey(id), p.Key)
		require.Equal(t, "clientiq_pay_"+id.String(), p.Key)
		state, attempt := jobState(t, e.db.Pool, id)
		require.Equal(t, "available", state)
		require.Zero(t, attempt)
		var queue string
		var maxAttempts int
		require.NoError(t, e.db.Pool.QueryRow(ctx, `SELECT queue, max_attempts FROM public.river_job`).Scan(&queue, &maxAttempts))
		require.Equal(t, payment.Queue, queue)
		require.LessOrEqual(t, maxAttempts, 10)
	})

	t.Run("SecondEnqueueOfAPendingInvoiceReturnsTheSamePayment", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		tenantID, invoiceID := seedInvoice(t, e.db.Pool, nil)
		first := e.enqueue(t, tenantID, invoiceID, "")
		second := e.enqueue(t, tenantID, invoiceID, "")
		require.Equal(t, first, second)
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.payments`))
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.river_job`))
	})

	t.Run("PaidInvoiceIsAConflict", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		tenantID, invoiceID := seedInvoice(t, e.db.Pool, nil)
		_, err := e.db.Pool.Exec(ctx, `UPDATE public.invoices SET status = 'paid' WHERE id = $1`, invoiceID)
		require.NoError(t, err)
		err = pgx.BeginFunc(ctx, e.db.Pool, func(tx pgx.Tx) error {
			_, err := e.proc.EnqueueTx(ctx, tx, payment.EnqueueInput{TenantID: tenantID, InvoiceID: invoiceID, Amount: 4900, Currency: "EUR"})
			return err
		})
		require.Equal(t, apperr.CodeConflict, apperr.CodeOf(err))
	})

	t.Run("AnotherTenantsInvoiceIsNotFound", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		_, invoiceID := seedInvoice(t, e.db.Pool, nil)
		err := pgx.BeginFunc(ctx, e.db.Pool, func(tx pgx.Tx) error {
			_, err := e.proc.EnqueueTx(ctx, tx, payment.EnqueueInput{TenantID: uuid.New(), InvoiceID: invoiceID, Amount: 4900, Currency: "EUR"})
			return err
		})
		require.Equal(t, apperr.CodeNotFound, apperr.CodeOf(err))
		require.Zero(t, count(t, e.db.Pool, `SELECT count(*) FROM public.payments`))
	})

	t.Run("InvalidInputIsAValidationError", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		tenantID, invoiceID := seedInvoice(t, e.db.Pool, nil)
		err := pgx.BeginFunc(ctx, e.db.Pool, func(tx pgx.Tx) error {
			_, err := e.proc.EnqueueTx(ctx, tx, payment.EnqueueInput{TenantID: tenantID, InvoiceID: invoiceID, Amount: 0, Currency: "EURO", Provider: "paypal"})
			return err
		})
		require.Equal(t, apperr.CodeValidation, apperr.CodeOf(err))
		require.ElementsMatch(t, []string{"amount", "currency", "provider"}, keys(apperr.As(err).Fields))
	})

	t.Run("DisabledPaymentsAreFeatureDisabled", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, &envOpts{disabled: true})
		tenantID, invoiceID := seedInvoice(t, e.db.Pool, nil)
		err := pgx.BeginFunc(ctx, e.db.Pool, func(tx pgx.Tx) error {
			_, err := e.proc.EnqueueTx(ctx, tx, payment.EnqueueInput{TenantID: tenantID, InvoiceID: invoiceID, Amount: 4900, Currency: "EUR"})
			return err
		})
		require.Equal(t, apperr.CodeFeatureDisabled, apperr.CodeOf(err))
		require.Zero(t, count(t, e.db.Pool, `SELECT count(*) FROM public.payments`))
		require.Zero(t, count(t, e.db.Pool, `SELECT count(*) FROM public.river_job`))
	})
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)

	t.Run("PoolIsRequired", func(t *testing.T) {
		t.Parallel()
		_, err := payment.New(payment.Config{})
		require.Error(t, err)
	})
	t.Run("ProviderTimeoutMustBeBelowJobTimeout", func(t *testing.T) {
		t.Parallel()
		cfg := e.cfg
		cfg.ProviderTimeout, cfg.JobTimeout = cfg.JobTimeout, cfg.ProviderTimeout
		_, err := payment.New(cfg)
		require.Error(t, err)
	})
	t.Run("MoreThanTenAttemptsIsRefused", func(t *testing.T) {
		t.Parallel()
		cfg := e.cfg
		cfg.MaxAttempts = 25
		_, err := payment.New(cfg)
		require.Error(t, err)
	})
	t.Run("UnknownDefaultProviderIsRefused", func(t *testing.T) {
		t.Parallel()
		cfg := e.cfg
		cfg.DefaultProvider = "stripe"
		_, err := payment.New(cfg)
		require.Error(t, err)
	})
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
