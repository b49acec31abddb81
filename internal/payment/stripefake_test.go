package payment_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/payment"
)

// Payment methods the fake Stripe knows.
const (
	fakeCardOK       = "pm_card_visa"
	fakeCardDeclined = "pm_card_chargeDeclined"
	fakeCardSlow     = "pm_fake_slow"
)

// fakeStripe is a minimal Stripe API: PaymentIntents create (confirmed at
// once) and retrieve, with Stripe's idempotency semantics (the first
// response to a key is replayed; other parameters under the same key are an
// idempotency_error). It counts requests per key and charges.
type fakeStripe struct {
	*httptest.Server
	t *testing.T

	mu       sync.Mutex
	keys     []string                  // Idempotency-Key of every create, in order
	replies  map[string]fakeReply      // by idempotency key
	intents  map[string]map[string]any // by PaymentIntent id
	charges  int                       // PaymentIntents created (money moved or declined)
	fail5xx  int                       // answer the next n creates with 500 (not stored)
	lastForm map[string]string
}

type fakeReply struct {
	amount string
	status int
	body   []byte
}

func newFakeStripe(t *testing.T) *fakeStripe {
	f := &fakeStripe{t: t, replies: map[string]fakeReply{}, intents: map[string]map[string]any{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// provider returns a Stripe provider talking to the fake.
func (f *fakeStripe) provider(t *testing.T) *payment.Stripe {
	s, err := payment.NewStripe(payment.StripeConfig{SecretKey: "sk_test_fake", BackendURL: f.URL})
	require.NoError(t, err)
	return s
}

func (f *fakeStripe) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer sk_test_fake" {
		f.reply(w, http.StatusUnauthorized, stripeErr("invalid_request_error", "", "", "bad key", nil))
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/payment_intents":
		f.create(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/payment_intents/"):
		f.mu.Lock()
		pi, ok := f.intents[strings.TrimPrefix(r.URL.Path, "/v1/payment_intents/")]
		f.mu.Unlock()
		if !ok {
			f.reply(w, http.StatusNotFound, stripeErr("invalid_request_error", "resource_missing", "", "No such payment_intent", nil))
			return
		}
		f.reply(w, http.StatusOK, pi)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeStripe) create(w http.ResponseWriter, r *http.Request) {
	require.NoError(f.t, r.ParseForm())
	key := r.Header.Get("Idempotency-Key")
	form := map[string]string{}
	for k := range r.PostForm {
		form[k] = r.PostForm.Get(k)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, key)
	f.lastForm = form
	if prev, ok := f.replies[key]; ok && key != "" {
		if prev.amount != form["amount"] {
			f.writeRaw(w, http.StatusBadRequest, mustJSON(stripeErr("idempotency_error", "", "", "Keys for idempotent requests can only be used with the same parameters", nil)))
			return
		}
		f.writeRaw(w, prev.status, prev.body)
		return
	}
	if f.fail5xx > 0 {
		f.fail5xx--
		f.writeRaw(w, http.StatusInternalServerError, mustJSON(stripeErr("api_error", "", "", "internal error", nil)))
		return
	}
	if form["payment_method"] == fakeCardSlow {
		f.mu.Unlock()
		time.Sleep(2 * time.Second)
		f.mu.Lock()
	}
	amount, _ := strconv.ParseInt(form["amount"], 10, 64)
	pi := map[string]any{
		"id": "pi_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:24], "object": "payment_intent",
		"amount": amount, "currency": form["currency"], "created": time.Now().Unix(),
		"metadata": map[string]string{"payment_id": form["metadata[payment_id]"], "invoice_id": form["metadata[invoice_id]"]},
		"status":   "succeeded",
	}
	f.charges++
	status, body := http.StatusOK, any(pi)
	if form["payment_method"] == fakeCardDeclined {
		pi["status"] = "requires_payment_method"
		lastErr := stripeErr("card_error", "card_declined", "generic_decline", "Your card was declined.", nil)["error"]
		pi["last_payment_error"] = lastErr
		status, body = http.StatusPaymentRequired, stripeErr("card_error", "card_declined", "generic_decline", "Your card was declined.", pi)
	}
	f.intents[pi["id"].(string)] = pi
	raw := mustJSON(body)
	if key != "" {
		f.replies[key] = fakeReply{amount: form["amount"], status: status, body: raw}
	}
	f.writeRaw(w, status, raw)
}

// setIntent changes a PaymentIntent as if Stripe had moved it on.
func (f *fakeStripe) setIntent(id string, fields map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pi, ok := f.intents[id]
	if !ok {
		pi = map[string]any{"id": id, "object": "payment_intent", "metadata": map[string]string{}}
		f.intents[id] = pi
	}
	for k, v := range fields {
		pi[k] = v
	}
}

func (f *fakeStripe) stats() (keys []string, charges int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.keys...), f.charges
}

func (f *fakeStripe) reply(w http.ResponseWriter, status int, v any) {
	f.writeRaw(w, status, mustJSON(v))
}

func (f *fakeStripe) writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_fake")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func stripeErr(typ, code, declineCode, msg string, pi map[string]any) map[string]any {
	e := map[string]any{"type": typ, "message": msg}
	if code != "" {
		e["code"] = code
	}
	if declineCode != "" {
		e["decline_code"] = declineCode
	}
	if pi != nil {
		e["payment_intent"] = pi
	}
	return map[string]any{"error": e}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode %T: %v", v, err))
	}
	return b
}
