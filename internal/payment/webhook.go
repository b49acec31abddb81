package payment

import (
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/clientiq/clientiq/internal/apperr"
)

// MaxWebhookBody is the largest webhook body accepted (Stripe's events are
// a few KiB).
const MaxWebhookBody = 1 << 20

// Stripe event types the webhook worker applies; others are recorded and
// marked processed.
const (
	EventPaymentSucceeded = "payment_intent.succeeded"
	EventPaymentFailed    = "payment_intent.payment_failed"
	EventChargeRefunded   = "charge.refunded"
)

// WebhookConfig configures the Stripe webhook endpoint.
type WebhookConfig struct {
	// Pool holds public.webhook_events. Required.
	Pool *pgxpool.Pool
	// Inserter enqueues ProcessWebhookEventArgs in the recording
	// transaction. Required.
	Inserter JobInserter
	// Secrets are the endpoint's signing secrets (STRIPE_WEBHOOK_SECRET,
	// whsec_…). A signature by any of them is accepted, so a secret can be
	// rotated by listing the new one beside the old until the old is
	// removed. Empty answers every request with FEATURE_DISABLED.
	Secrets []string
	// Tolerance is how old a signature's timestamp may be before the event
	// is refused as a replay. Default 300 s (stripe-go's DefaultTolerance).
	Tolerance time.Duration
	// Logger receives the endpoint's logs. Default: discard.
	Logger *slog.Logger
}

type stripeWebhook struct {
	cfg    WebhookConfig
	logger *slog.Logger
}

// NewStripeWebhook returns the handler for POST /api/v1/webhooks/stripe.
// It verifies the Stripe-Signature over the raw body, records the event
// once per event id and enqueues its processing in the same transaction,
// then answers 200 within milliseconds: nothing is applied inline.
func NewStripeWebhook(cfg WebhookConfig) http.Handler {
	cfg.Tolerance = cmp.Or(cfg.Tolerance, webhook.DefaultTolerance)
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &stripeWebhook{cfg: cfg, logger: logger}
}

func (h *stripeWebhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, apperr.New(apperr.CodeMethodNotAllowed, "use POST"))
		return
	}
	if len(h.cfg.Secrets) == 0 || h.cfg.Pool == nil || h.cfg.Inserter == nil {
		writeError(w, apperr.New(apperr.CodeFeatureDisabled, "Stripe webhooks are not configured"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, apperr.New(apperr.CodePayloadTooLarge, "the body exceeds 1 MiB"))
			return
		}
		writeError(w, apperr.New(apperr.CodeValidation, "unreadable body"))
		return
	}
	header := r.Header.Get("Stripe-Signature")
	if header == "" {
		writeError(w, apperr.New(apperr.CodeValidation, "missing Stripe-Signature header"))
		return
	}
	ev, err := h.verify(body, header)
	if err != nil {
		h.logger.WarnContext(ctx, "stripe_webhook_refused", slog.Any("error", err))
		msg := "invalid Stripe-Signature"
		if errors.Is(err, webhook.ErrTooOld) {
			msg = "Stripe-Signature timestamp outside the tolerance (replay refused)"
		}
		writeError(w, apperr.New(apperr.CodeValidation, msg))
		return
	}
	if ev.ID == "" || ev.Type == "" || len(ev.ID) > 255 || len(ev.Type) > 128 {
		writeError(w, apperr.New(apperr.CodeValidation, "event without a valid id or type"))
		return
	}
	duplicate, err := h.record(r, ev, body)
	if err != nil {
		// 5xx: Stripe delivers again later.
		h.logger.ErrorContext(ctx, "stripe_webhook_record_failed", slog.String("event_id", ev.ID), slog.Any("error", err))
		writeError(w, apperr.New(apperr.CodeInternal, "internal error"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"success": true, "data": map[string]any{"received": true, "duplicate": duplicate}, "meta": envelopeMeta(),
	})
}

// verify checks the signature with each configured secret.
func (h *stripeWebhook) verify(body []byte, header string) (stripe.Event, error) {
	var first error
	for _, secret := range h.cfg.Secrets {
		// The API version is not enforced: the fields read here (id, type,
		// created, the object's id, status, metadata) are stable across
		// versions, and an endpoint pinned to another version must work.
		ev, err := webhook.ConstructEventWithOptions(body, header, secret, webhook.ConstructEventOptions{
			Tolerance: h.cfg.Tolerance, IgnoreAPIVersionMismatch: true,
		})
		if err == nil {
			return ev, nil
		}
		first = cmp.Or(first, err)
	}
	return stripe.Event{}, first
}

// record inserts the event once per (provider, event id) and enqueues its
// processing in the same transaction; it reports a duplicate delivery.
func (h *stripeWebhook) record(r *http.Request, ev stripe.Event, body []byte) (bool, error) {
	ctx := r.Context()
	duplicate := false
	err := pgx.BeginFunc(ctx, h.cfg.Pool, func(tx pgx.Tx) error {
		var id uuid.UUID
		err := tx.QueryRow(ctx, `INSERT INTO public.webhook_events
				(id, created_at, updated_at, provider, event_id, type, event_created_at, payload)
			VALUES ($1, now(), now(), $2, $3, $4, $5, $6)
			ON CONFLICT (provider, event_id) DO NOTHING RETURNING id`,
			uuid.New(), ProviderStripe, ev.ID, string(ev.Type), time.Unix(ev.Created, 0).UTC(), body).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			duplicate = true
			return nil
		}
		if err != nil {
			return err
		}
		switch string(ev.Type) {
		case EventPaymentSucceeded, EventPaymentFailed, EventChargeRefunded:
			_, err = h.cfg.Inserter.InsertTx(ctx, tx, ProcessWebhookEventArgs{EventID: id}, nil)
		default:
			_, err = tx.Exec(ctx, `UPDATE public.webhook_events SET processed_at = now(), updated_at = now() WHERE id = $1`, id)
		}
		return err
	})
	return duplicate, err
}

// ProcessWebhookEventArgs asks to apply one recorded webhook event. Global:
// payments are public-schema rows.
type ProcessWebhookEventArgs struct {
	// EventID is the webhook_events row id (not the provider's event id).
	EventID uuid.UUID `json:"event_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (ProcessWebhookEventArgs) Kind() string { return "process_webhook_event" }

// Global marks the job as running for no tenant (jobs.GlobalArgs).
func (ProcessWebhookEventArgs) Global() bool { return true }

// InsertOpts puts webhook processing on the payments queue, once per event.
func (ProcessWebhookEventArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: MaxAttempts, UniqueOpts: uniqueWhileActive()}
}

// writeError writes the /api/v1 error envelope (the shape of
// internal/rest's, which this domain package cannot import).
func writeError(w http.ResponseWriter, e *apperr.Error) {
	status := http.StatusInternalServerError
	switch e.Code {
	case apperr.CodeValidation:
		status = http.StatusBadRequest
	case apperr.CodeFeatureDisabled:
		status = http.StatusForbidden
	case apperr.CodeMethodNotAllowed:
		status = http.StatusMethodNotAllowed
	case apperr.CodePayloadTooLarge:
		status = http.StatusRequestEntityTooLarge
	}
	writeJSON(w, status, map[string]any{
		"success": false,
		"error":   map[string]any{"code": e.Code, "message": e.Message, "details": map[string][]string{}},
		"meta":    envelopeMeta(),
	})
}

func envelopeMeta() map[string]any {
	return map[string]any{"timestamp": time.Now().UTC().Truncate(time.Millisecond)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
