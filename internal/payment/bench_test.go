package payment_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/clientiq/clientiq/internal/dbmigrate"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/payment"
)

// BenchmarkPaymentPipeline measures the payment pipeline end to end on
// this machine: b.N open invoices are charged (EnqueueTx in its own
// transaction, then the ProcessPayment job: sandbox charge with its ledger
// write, then payment, invoice and subscription bookkeeping with the job's
// completion in one transaction) by 20 payment workers.
func BenchmarkPaymentPipeline(b *testing.B) {
	d := dbtest.New(b)
	ctx := context.Background()
	sb, err := payment.NewSandbox(payment.SandboxConfig{Pool: d.Pool})
	if err != nil {
		b.Fatal(err)
	}
	ins, err := river.NewClient(riverpgxv5.New(d.Pool), &river.Config{Schema: dbmigrate.RiverSchema, Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	proc, err := payment.New(payment.Config{Pool: d.Pool, Providers: []payment.Provider{sb}, Inserter: ins,
		Enabled: true, Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	type inv struct{ tenant, invoice uuid.UUID }
	invoices := make([]inv, b.N)
	for i := range invoices {
		invoices[i].tenant, invoices[i].invoice = seedInvoice(b, d.Pool, &invoiceOpts{amount: 4900, subStatus: "active"})
	}
	client, err := river.NewClient(riverpgxv5.New(d.Pool), &river.Config{
		Schema: dbmigrate.RiverSchema, Logger: discardLogger(),
		Queues:  map[string]river.QueueConfig{payment.Queue: {MaxWorkers: 20}},
		Workers: workers(proc), FetchCooldown: 10 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if err := client.Start(ctx); err != nil {
		b.Fatal(err)
	}
	for _, in := range invoices {
		err := pgx.BeginFunc(ctx, d.Pool, func(tx pgx.Tx) error {
			_, err := proc.EnqueueTx(ctx, tx, payment.EnqueueInput{TenantID: in.tenant, InvoiceID: in.invoice,
				Amount: 4900, Currency: "EUR", PaymentMethod: payment.CardSuccess})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		var paid int
		if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM public.invoices WHERE status = 'paid'`).Scan(&paid); err != nil {
			b.Fatal(err)
		}
		if paid >= b.N {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d invoices paid in 10 minutes", paid, b.N)
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "payments/s")
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_ = client.Stop(sctx)
}
