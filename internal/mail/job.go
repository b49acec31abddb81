package mail

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
)

// QueueEmail is the River queue email jobs run on (jobs.QueueEmail; this
// package does not import jobs, which wires workers and so imports us).
const QueueEmail = "email"

// KindSendEmail is SendEmailArgs' River kind.
const KindSendEmail = "send_email"

// SendEmailArgs asks for one email to be rendered and sent. Callers insert
// it in the transaction that decides the email (notify.Outbox), so a
// rolled-back signup or invitation sends nothing.
//
// For uniqueness, insert with UniqueOpts{ByArgs: true, ByPeriod: …}: only
// Template, To and DedupeKey (the fields tagged unique) are compared, so the
// changing token in Data does not defeat it.
type SendEmailArgs struct {
	// Template is one of the Template* names.
	Template string `json:"template" river:"unique"`
	// To is the recipient's address; ToName their display name.
	To     string `json:"to" river:"unique"`
	ToName string `json:"to_name,omitempty"`
	// Locale is the recipient's BCP 47 locale; empty means FallbackLocale.
	Locale string `json:"locale,omitempty"`
	// Data fills the template; every key it uses must be present.
	Data map[string]string `json:"data"`
	// DedupeKey scopes uniqueness further (a user id, an invoice number);
	// empty leaves it to Template and To.
	DedupeKey string `json:"dedupe_key,omitempty" river:"unique"`
	// SecretRef names the row of public.email_secrets holding the fields
	// that must not be kept with the job (a link with a token; see
	// StoreSecret); the worker adds them to Data when it renders. Zero:
	// none.
	SecretRef uuid.UUID `json:"secret_ref,omitzero"`
}

// Kind implements river.JobArgs.
func (SendEmailArgs) Kind() string { return KindSendEmail }

// Global says the job needs no tenant schema: the email is fully described
// by its args (the jobs middleware refuses tenant-less jobs otherwise).
func (SendEmailArgs) Global() bool { return true }

// InsertOpts puts emails on the email queue with room for a relay outage:
// ten attempts with River's backoff (attempt⁴ seconds) span about four
// hours.
func (SendEmailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueEmail, MaxAttempts: 10}
}

// WorkerConfig configures a SendEmailWorker.
type WorkerConfig struct {
	// Pool reads the secret part of emails that have one (SecretRef) and
	// deletes it once they are sent. Required.
	Pool *pgxpool.Pool
	// Logger receives what the worker cannot return (a secret it could
	// not delete after sending). Default: discarded.
	Logger *slog.Logger
	// Sender delivers the rendered email: an *SMTPSender, or LogSender when
	// SMTP_URL is empty. Required.
	Sender Sender
	// Renderer renders templates. Default: the embedded templates.
	Renderer *Renderer
	// Timeout bounds one job. Default the sender's timeout (DefaultTimeout
	// unless the sender says otherwise) plus 5 seconds, so go-mail's own
	// timeout fires first with a clearer error.
	Timeout time.Duration
}

// SendEmailWorker renders and sends SendEmailArgs. A failure River can
// retry returns an error; a permanent one (unknown template, missing data,
// a mailbox the server refuses) cancels the job.
type SendEmailWorker struct {
	river.WorkerDefaults[SendEmailArgs]
	pool     *pgxpool.Pool
	logger   *slog.Logger
	sender   Sender
	renderer *Renderer
	timeout  time.Duration
}

// NewSendEmailWorker returns the worker to register with river.AddWorker.
func NewSendEmailWorker(cfg WorkerConfig) (*SendEmailWorker, error) {
	if cfg.Sender == nil || cfg.Pool == nil {
		return nil, errors.New("new send email worker: Sender and Pool are required")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := cfg.Renderer
	if r == nil {
		var err error
		if r, err = NewRenderer(); err != nil {
			return nil, fmt.Errorf("new send email worker: %w", err)
		}
	}
	senderTimeout := DefaultTimeout
	if t, ok := cfg.Sender.(interface{ Timeout() time.Duration }); ok {
		senderTimeout = t.Timeout()
	}
	return &SendEmailWorker{pool: cfg.Pool, logger: logger, sender: cfg.Sender, renderer: r, timeout: cmp.Or(cfg.Timeout, senderTimeout+5*time.Second)}, nil
}

// Timeout implements river.Worker.
func (w *SendEmailWorker) Timeout(*river.Job[SendEmailArgs]) time.Duration { return w.timeout }

// Work implements river.Worker.
func (w *SendEmailWorker) Work(ctx context.Context, job *river.Job[SendEmailArgs]) error {
	a := job.Args
	data := a.Data
	if a.SecretRef != uuid.Nil {
		secret, err := openSecret(ctx, w.pool, a.SecretRef)
		if errors.Is(err, ErrSecretGone) {
			return river.JobCancel(fmt.Errorf("send email job %d: %w", job.ID, err))
		}
		if err != nil {
			return fmt.Errorf("send email job %d: %w", job.ID, err)
		}
		data = withSecret(data, secret)
	}
	out, err := w.renderer.Render(a.Template, a.Locale, data)
	if err != nil {
		return w.cancel(ctx, job, err)
	}
	err = w.sender.Send(ctx, Message{
		To: a.To, ToName: a.ToName, Subject: out.Subject, Text: out.Text, HTML: out.HTML,
		// The same id on every attempt: a duplicate after a crash carries
		// the Message-ID of the first copy.
		ID:       "send-email-" + strconv.FormatInt(job.ID, 10),
		Template: a.Template, Link: data["link"],
	})
	if errors.Is(err, ErrRejected) {
		return w.cancel(ctx, job, err)
	}
	if err != nil {
		if job.Attempt >= job.MaxAttempts {
			w.forget(ctx, job) // River discards the job after this attempt
		}
		return fmt.Errorf("send email job %d: %w", job.ID, err)
	}
	w.forget(ctx, job)
	return nil
}

// cancel ends a job that can never succeed, with its secret.
func (w *SendEmailWorker) cancel(ctx context.Context, job *river.Job[SendEmailArgs], err error) error {
	w.forget(ctx, job)
	return river.JobCancel(fmt.Errorf("send email job %d: %w", job.ID, err))
}

// forget deletes the job's secret once nothing will read it. A failure is
// logged, not returned: the email is settled, and PurgeSecrets deletes the
// row when its token expires.
func (w *SendEmailWorker) forget(ctx context.Context, job *river.Job[SendEmailArgs]) {
	if job.Args.SecretRef == uuid.Nil {
		return
	}
	if err := forgetSecret(ctx, w.pool, job.Args.SecretRef); err != nil {
		w.logger.WarnContext(ctx, "email_secret_not_deleted", slog.Int64("job_id", job.ID), slog.String("error", err.Error()))
	}
}
