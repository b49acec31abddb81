package payment_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/clientiq/clientiq/internal/payment"
)

const whSecret = "whsec_test_current"

// sign returns a Stripe-Signature header for body at time at.
func sign(body []byte, secret string, at time.Time) string {
	return fmt.Sprintf("t=%d,v1=%s", at.Unix(), hex.EncodeToString(webhook.ComputeSignature(at, body, secret)))
}

// stripeEvent builds an event body around object.
func stripeEvent(id, typ string, created time.Time, object map[string]any) []byte {
	return mustJSON(map[string]any{
		"id": id, "object": "event", "type": typ, "created": created.Unix(), "api_version": "2020-08-27",
		"data": map[string]any{"object": object},
	})
}

func intentObject(piID, status string, paymentID uuid.UUID) map[string]any {
	o := map[string]any{"id": piID, "object": "payment_intent", "status": status, "amount": 4900, "currency": "eur",
		"metadata": map[string]string{"payment_id": paymentID.String()}}
	if status == "requires_payment_method" {
		o["last_payment_error"] = map[string]any{"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
			"message": "Your card has insufficient funds."}
	}
	return o
}

// post delivers body to h with a signature header (none when empty).
func post(h http.Handler, body []byte, header string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/api/v1/webhooks/stripe", bytes.NewReader(body))
	if header != "" {
		req.Header.Set("Stripe-Signature", header)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func (e *env) webhook(secrets ...string) http.Handler {
	if len(secrets) == 0 {
		secrets = []string{whSecret}
	}
	return payment.NewStripeWebhook(payment.WebhookConfig{Pool: e.db.Pool, Inserter: e.ins, Secrets: secrets, Logger: discardLogger()})
}

// stripePayment inserts a pending Stripe payment for a new invoice (as if
// its job had charged and crashed before recording: no charge id).
func (e *env) stripePayment(t *testing.T) (paymentID, invoiceID uuid.UUID) {
	t.Helper()
	tenantID, invoiceID := seedInvoice(t, e.db.Pool, nil)
	paymentID = uuid.New()
	_, err := e.db.Pool.Exec(context.Background(), `INSERT INTO public.payments
		(id, created_at, updated_at, tenant_id, invoice_id, amount, currency, status, idempotency_key, provider)
		VALUES ($1, now(), now(), $2, $3, 4900, 'EUR', 'pending', $4, 'stripe')`,
		paymentID, tenantID, invoiceID, payment.IdempotencyKey(paymentID))
	require.NoError(t, err)
	return paymentID, invoiceID
}

// waitEventsProcessed waits until every recorded event is processed.
func waitEventsProcessed(t *testing.T, e *env) {
	t.Helper()
	require.Eventually(t, func() bool {
		return count(t, e.db.Pool, `SELECT count(*) FROM public.webhook_events WHERE processed_at IS NULL`) == 0 &&
			count(t, e.db.Pool, `SELECT count(*) FROM public.river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded')`) == 0
	}, 20*time.Second, 20*time.Millisecond)
}

func requireErrorEnvelope(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	var body struct {
		Success bool `json:"success"`
		Error   struct{ Code, Message string }
		Meta    struct{ Timestamp time.Time }
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	require.False(t, body.Success)
	require.Equal(t, code, body.Error.Code)
	require.NotEmpty(t, body.Error.Message)
	require.WithinDuration(t, time.Now(), body.Meta.Timestamp, time.Minute)
}

func TestStripeWebhookEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	h := e.webhook()
	body := func() []byte {
		return stripeEvent("evt_"+uuid.NewString(), payment.EventPaymentSucceeded, time.Now(), intentObject("pi_x", "succeeded", uuid.New()))
	}
	events := func(t *testing.T, b []byte) int {
		var ev struct{ ID string }
		require.NoError(t, json.Unmarshal(b, &ev))
		return count(t, e.db.Pool, `SELECT count(*) FROM public.webhook_events WHERE event_id = $1`, ev.ID)
	}

	t.Run("ValidSignatureRecordsTheEventAndEnqueuesItsJob", func(t *testing.T) {
		t.Parallel()
		b := body()
		rec := post(h, b, sign(b, whSecret, time.Now()))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Equal(t, 1, events(t, b))
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.river_job j JOIN public.webhook_events w
			ON j.args->>'event_id' = w.id::text WHERE j.kind = 'process_webhook_event' AND w.payload = $1`, b))
	})
	t.Run("InvalidSignatureIs400", func(t *testing.T) {
		t.Parallel()
		b := body()
		requireErrorEnvelope(t, post(h, b, sign(b, "whsec_wrong", time.Now())), http.StatusBadRequest, "VALIDATION_ERROR")
		require.Zero(t, events(t, b))
	})
	t.Run("SignatureOlderThan300sIsRefusedAsAReplay", func(t *testing.T) {
		t.Parallel()
		b := body()
		requireErrorEnvelope(t, post(h, b, sign(b, whSecret, time.Now().Add(-301*time.Second))), http.StatusBadRequest, "VALIDATION_ERROR")
		require.Zero(t, events(t, b))
	})
	t.Run("MissingSignatureIs400", func(t *testing.T) {
		t.Parallel()
		b := body()
		requireErrorEnvelope(t, post(h, b, ""), http.StatusBadRequest, "VALIDATION_ERROR")
		require.Zero(t, events(t, b))
	})
	t.Run("ReserializedBodyIs400", func(t *testing.T) {
		t.Parallel()
		b := body()
		var pretty bytes.Buffer
		require.NoError(t, json.Indent(&pretty, b, "", "  "))
		requireErrorEnvelope(t, post(h, pretty.Bytes(), sign(b, whSecret, time.Now())), http.StatusBadRequest, "VALIDATION_ERROR")
	})
	t.Run("OldSecretIsAcceptedDuringRotation", func(t *testing.T) {
		t.Parallel()
		b := body()
		rec := post(e.webhook(whSecret, "whsec_old"), b, sign(b, "whsec_old", time.Now()))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	})
	t.Run("BodyOver1MiBIs413", func(t *testing.T) {
		t.Parallel()
		b := bytes.Repeat([]byte(" "), payment.MaxWebhookBody+1)
		requireErrorEnvelope(t, post(h, b, sign(b, whSecret, time.Now())), http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE")
	})
	t.Run("GetIs405", func(t *testing.T) {
		t.Parallel()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/webhooks/stripe", nil))
		requireErrorEnvelope(t, rec, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
	})
	t.Run("UnhandledTypeIsRecordedProcessedWithoutAJob", func(t *testing.T) {
		t.Parallel()
		b := stripeEvent("evt_"+uuid.NewString(), "customer.created", time.Now(), map[string]any{"id": "cus_1", "object": "customer"})
		require.Equal(t, http.StatusOK, post(h, b, sign(b, whSecret, time.Now())).Code)
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.webhook_events WHERE payload = $1 AND processed_at IS NOT NULL`, b))
	})
	t.Run("UnconfiguredSecretIsFeatureDisabled", func(t *testing.T) {
		t.Parallel()
		b := body()
		h := payment.NewStripeWebhook(payment.WebhookConfig{Pool: e.db.Pool, Inserter: e.ins})
		requireErrorEnvelope(t, post(h, b, sign(b, whSecret, time.Now())), http.StatusForbidden, "FEATURE_DISABLED")
	})
}

func TestStripeWebhookProcessing(t *testing.T) {
	t.Parallel()

	t.Run("DuplicateEventDeliveredTenTimesMakesOneJobAndOneTransition", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		paymentID, invoiceID := e.stripePayment(t)
		b := stripeEvent("evt_dup", payment.EventPaymentSucceeded, time.Now(), intentObject("pi_dup", "succeeded", paymentID))
		h := e.webhook()
		var wg sync.WaitGroup
		codes := make([]int, 10)
		for i := range codes {
			wg.Go(func() { codes[i] = post(h, b, sign(b, whSecret, time.Now())).Code })
		}
		wg.Wait()
		require.Equal(t, []int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200}, codes)
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.webhook_events`))
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.river_job WHERE kind = 'process_webhook_event'`))
		e.start(t)
		waitEventsProcessed(t, e)
		p := loadPayment(t, e.db.Pool, paymentID)
		require.Equal(t, "succeeded", p.Status)
		require.Equal(t, "pi_dup", p.ChargeID)
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.test_payment_notices WHERE kind = 'receipt' AND invoice_id = $1`, invoiceID))
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.test_payment_notices`))
	})

	t.Run("LateFailureNeverUndoesASuccess", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		paymentID, invoiceID := e.stripePayment(t)
		h := e.webhook()
		t0 := time.Now().Add(-time.Minute)
		ok := stripeEvent("evt_ok", payment.EventPaymentSucceeded, t0.Add(30*time.Second), intentObject("pi_1", "succeeded", paymentID))
		failed := stripeEvent("evt_fail", payment.EventPaymentFailed, t0, intentObject("pi_1", "requires_payment_method", paymentID))
		require.Equal(t, http.StatusOK, post(h, ok, sign(ok, whSecret, time.Now())).Code)
		e.start(t)
		waitEventsProcessed(t, e)
		require.Equal(t, http.StatusOK, post(h, failed, sign(failed, whSecret, time.Now())).Code)
		waitEventsProcessed(t, e)

		require.Equal(t, "succeeded", loadPayment(t, e.db.Pool, paymentID).Status)
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.invoices WHERE id = $1 AND status = 'paid'`, invoiceID))
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.test_payment_notices WHERE kind = 'receipt'`))
		require.Zero(t, count(t, e.db.Pool, `SELECT count(*) FROM public.test_payment_notices WHERE kind = 'failure'`))
	})

	t.Run("FailureThenSuccessEndsSucceeded", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		paymentID, _ := e.stripePayment(t)
		h := e.webhook()
		e.start(t)
		failed := stripeEvent("evt_f", payment.EventPaymentFailed, time.Now(), intentObject("pi_2", "requires_payment_method", paymentID))
		require.Equal(t, http.StatusOK, post(h, failed, sign(failed, whSecret, time.Now())).Code)
		waitEventsProcessed(t, e)
		p := loadPayment(t, e.db.Pool, paymentID)
		require.Equal(t, "failed", p.Status)
		require.Equal(t, "insufficient_funds", p.FailureCode)

		ok := stripeEvent("evt_s", payment.EventPaymentSucceeded, time.Now(), intentObject("pi_2", "succeeded", paymentID))
		require.Equal(t, http.StatusOK, post(h, ok, sign(ok, whSecret, time.Now())).Code)
		waitEventsProcessed(t, e)
		require.Equal(t, "succeeded", loadPayment(t, e.db.Pool, paymentID).Status)
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.test_payment_notices WHERE kind = 'failure'`))
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.test_payment_notices WHERE kind = 'receipt'`))
	})

	t.Run("StaleEventIsOverriddenByTheRefetchedIntent", func(t *testing.T) {
		t.Parallel()
		f := newFakeStripe(t)
		e := newEnv(t, &envOpts{providers: func(sb *payment.Sandbox) []payment.Provider {
			return []payment.Provider{sb, f.provider(t)}
		}})
		paymentID, _ := e.stripePayment(t)
		f.setIntent("pi_3", map[string]any{"status": "succeeded", "metadata": map[string]string{"payment_id": paymentID.String()}})
		h := e.webhook()
		// Only the stale failure arrives (the success event is still on its
		// way): Stripe says succeeded now, and that is what is applied.
		failed := stripeEvent("evt_stale", payment.EventPaymentFailed, time.Now().Add(-time.Hour), intentObject("pi_3", "requires_payment_method", paymentID))
		require.Equal(t, http.StatusOK, post(h, failed, sign(failed, whSecret, time.Now())).Code)
		e.start(t)
		waitEventsProcessed(t, e)
		require.Equal(t, "succeeded", loadPayment(t, e.db.Pool, paymentID).Status)
		require.Zero(t, count(t, e.db.Pool, `SELECT count(*) FROM public.test_payment_notices WHERE kind = 'failure'`))
	})

	t.Run("RefundBeforeSuccessEndsSucceeded", func(t *testing.T) {
		t.Parallel()
		f := newFakeStripe(t)
		e := newEnv(t, &envOpts{providers: func(sb *payment.Sandbox) []payment.Provider {
			return []payment.Provider{sb, f.provider(t)}
		}})
		paymentID, invoiceID := e.stripePayment(t)
		f.setIntent("pi_4", map[string]any{"status": "succeeded", "metadata": map[string]string{"payment_id": paymentID.String()},
			"latest_charge": map[string]any{"id": "ch_4", "object": "charge", "amount_refunded": 4900, "refunded": true}})
		h := e.webhook()
		refunded := stripeEvent("evt_r", payment.EventChargeRefunded, time.Now(), map[string]any{
			"id": "ch_4", "object": "charge", "payment_intent": "pi_4", "amount_refunded": 4900, "refunded": true})
		ok := stripeEvent("evt_ok4", payment.EventPaymentSucceeded, time.Now().Add(-time.Minute), intentObject("pi_4", "succeeded", paymentID))
		require.Equal(t, http.StatusOK, post(h, refunded, sign(refunded, whSecret, time.Now())).Code)
		require.Equal(t, http.StatusOK, post(h, ok, sign(ok, whSecret, time.Now())).Code)
		e.start(t)
		waitEventsProcessed(t, e)
		require.Equal(t, "succeeded", loadPayment(t, e.db.Pool, paymentID).Status)
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.invoices WHERE id = $1 AND status = 'paid'`, invoiceID))
		require.Equal(t, 1, count(t, e.db.Pool, `SELECT count(*) FROM public.test_payment_notices`))
	})

	t.Run("EventForAnUnknownPaymentIsProcessedAndIgnored", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		b := stripeEvent("evt_other", payment.EventPaymentSucceeded, time.Now(), intentObject("pi_other", "succeeded", uuid.New()))
		require.Equal(t, http.StatusOK, post(e.webhook(), b, sign(b, whSecret, time.Now())).Code)
		e.start(t)
		waitEventsProcessed(t, e)
		require.Zero(t, count(t, e.db.Pool, `SELECT count(*) FROM public.test_payment_notices`))
	})
}
