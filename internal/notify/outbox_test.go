package notify_test

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/mail"
	"github.com/clientiq/clientiq/internal/mailtest"
	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/notify"
)

var olga = auth.Recipient{UserID: uuid.New(), Email: "olga@acme.test", Name: "Olga", Locale: "de-AT"}

func TestOutboxDeliversThroughRiverAndSMTP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("a committed password reset is mailed once with its link", func(t *testing.T) {
		t.Parallel()
		db, mp := dbtest.New(t), mailtest.Start(t)
		outbox := newOutbox(t, db.Pool, worker(t, db.Pool, mp.SMTPURL()), nil)
		token := "tok_" + uuid.NewString()

		require.NoError(t, pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
			return outbox.PasswordReset(ctx, tx, olga, token)
		}))

		mp.WaitForMessages(1, 20*time.Second)
		msgs := mp.MessagesTo(olga.Email)
		require.Len(t, msgs, 1)
		m := mp.Message(msgs[0].ID)
		require.Equal(t, "Reset your ClientIQ password", m.Subject)
		require.Contains(t, m.Text, "https://clientiq.test/reset-password?token="+token)
		require.Contains(t, m.HTML, "/reset-password?token="+token)
		require.Len(t, mp.Messages(), 1)
		var args string
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT args::text FROM public.river_job`).Scan(&args))
		require.NotContains(t, args, token, "the job's args never held the token")
		require.Eventually(t, func() bool {
			var n int
			require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM public.email_secrets`).Scan(&n))
			return n == 0
		}, 10*time.Second, 20*time.Millisecond, "the stored link is deleted once the email is sent")
	})

	t.Run("a rolled-back password reset leaves no job and sends nothing", func(t *testing.T) {
		t.Parallel()
		db, mp := dbtest.New(t), mailtest.Start(t)
		outbox := newOutbox(t, db.Pool, worker(t, db.Pool, mp.SMTPURL()), nil)

		errRollback := errors.New("signup failed later")
		err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
			require.NoError(t, outbox.PasswordReset(ctx, tx, olga, "rolled-back-token"))
			return errRollback
		})
		require.ErrorIs(t, err, errRollback)
		require.Zero(t, jobCount(t, db.Pool), "no row in public.river_job")
		var secrets int
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM public.email_secrets`).Scan(&secrets))
		require.Zero(t, secrets, "nor in public.email_secrets")

		// A later email is delivered; had the rolled-back one existed, it
		// would have been worked first or alongside.
		marker := auth.Recipient{UserID: uuid.New(), Email: "marker@acme.test"}
		require.NoError(t, outbox.EmailVerification(ctx, nil, marker, "marker-token"))
		mp.WaitForMessages(1, 20*time.Second)
		time.Sleep(500 * time.Millisecond)
		list := mp.Messages()
		require.Len(t, list, 1)
		require.Equal(t, "marker@acme.test", list[0].To[0].Address)
		require.Empty(t, mp.MessagesTo(olga.Email))
	})

	t.Run("a hundred reset requests in the window make one job and one email", func(t *testing.T) {
		t.Parallel()
		db, mp := dbtest.New(t), mailtest.Start(t)
		outbox := newOutbox(t, db.Pool, worker(t, db.Pool, mp.SMTPURL()), nil)
		avoidWindowEdge(t)

		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for g := range 10 {
			wg.Go(func() {
				for i := range 10 {
					errs <- pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
						return outbox.PasswordReset(ctx, tx, olga, "token-"+string(rune('a'+g))+string(rune('a'+i)))
					})
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}

		require.Equal(t, 1, jobCount(t, db.Pool))
		mp.WaitForMessages(1, 20*time.Second)
		time.Sleep(500 * time.Millisecond)
		require.Len(t, mp.Messages(), 1)
		require.Len(t, mp.MessagesTo(olga.Email), 1)
		require.Eventually(t, func() bool {
			var n int
			require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM public.email_secrets`).Scan(&n))
			return n == 0
		}, 10*time.Second, 20*time.Millisecond, "the duplicates River skipped stored no link, and the sent one's is gone")
	})
}

// avoidWindowEdge waits out the last seconds of a ResetEmailWindow bucket:
// River's ByPeriod buckets are aligned to the clock, so requests straddling
// a boundary would rightly make two jobs.
func avoidWindowEdge(t *testing.T) {
	t.Helper()
	now := time.Now()
	if left := now.Truncate(notify.ResetEmailWindow).Add(notify.ResetEmailWindow).Sub(now); left < 5*time.Second {
		time.Sleep(left + 100*time.Millisecond)
	}
}

func TestOutboxEnqueues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("email verification links to the platform", func(t *testing.T) {
		t.Parallel()
		db := dbtest.New(t)
		outbox := newOutbox(t, db.Pool, inserter(t, db.Pool), nil)

		require.NoError(t, outbox.EmailVerification(ctx, nil, olga, "a b&c"))

		jobs := emailJobs(t, db.Pool)
		require.Len(t, jobs, 1)
		j := jobs[0]
		require.Equal(t, mail.TemplateEmailVerification, j.Template)
		require.Equal(t, olga.Email, j.To)
		require.Equal(t, "Olga", j.ToName)
		require.Equal(t, "de-AT", j.Locale)
		require.Equal(t, "https://clientiq.test/verify-email?token="+url.QueryEscape("a b&c"), j.Data["link"])
		require.Equal(t, "2030-01-03 03:04 UTC", j.Data["expires_at"], "now + auth.VerificationTokenTTL")
	})

	t.Run("password reset is unique per user and links to the platform", func(t *testing.T) {
		t.Parallel()
		db := dbtest.New(t)
		outbox := newOutbox(t, db.Pool, inserter(t, db.Pool), nil)
		avoidWindowEdge(t)
		other := auth.Recipient{UserID: uuid.New(), Email: "other@acme.test"}

		require.NoError(t, outbox.PasswordReset(ctx, nil, olga, "t1"))
		require.NoError(t, outbox.PasswordReset(ctx, nil, olga, "t2"))
		require.NoError(t, outbox.PasswordReset(ctx, nil, other, "t3"))

		jobs := emailJobs(t, db.Pool)
		require.Len(t, jobs, 2, "one per user")
		require.Equal(t, "https://clientiq.test/reset-password?token=t1", jobs[0].Data["link"])
		require.Equal(t, "user:"+olga.UserID.String(), jobs[0].DedupeKey)
		require.Equal(t, "2030-01-02 04:04 UTC", jobs[0].Data["expires_at"], "now + auth.ResetTokenTTL")
		require.Equal(t, "other@acme.test", jobs[1].To)
	})

	t.Run("invitation links to the tenant's host", func(t *testing.T) {
		t.Parallel()
		db := dbtest.New(t)
		outbox := newOutbox(t, db.Pool, inserter(t, db.Pool), func(c *notify.OutboxConfig) { c.BaseURL = "http://localhost:8080/" })

		require.NoError(t, pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
			return outbox.Invitation(ctx, tx, member.InvitationEmail{
				InvitationID: uuid.New(), To: "new@acme.test", TenantName: "Acme", TenantSlug: "acme",
				Role: "admin", InviterName: "Ben", Token: "inv-tok",
				ExpiresAt: time.Date(2030, 1, 9, 3, 4, 0, 0, time.FixedZone("CET", 3600)),
			})
		}))

		jobs := emailJobs(t, db.Pool)
		require.Len(t, jobs, 1)
		require.Equal(t, mail.TemplateInvitation, jobs[0].Template)
		require.Equal(t, map[string]string{
			"tenant_name": "Acme", "inviter_name": "Ben", "role": "admin",
			"link": "http://acme.localhost:8080/accept-invitation?token=inv-tok", "expires_at": "2030-01-09 02:04 UTC",
		}, jobs[0].Data)
	})

	t.Run("a custom tenant url is used for tenant links", func(t *testing.T) {
		t.Parallel()
		db := dbtest.New(t)
		outbox := newOutbox(t, db.Pool, inserter(t, db.Pool), func(c *notify.OutboxConfig) {
			c.TenantURL = func(slug string) string { return "https://" + slug + ".custom.test" }
		})

		require.NoError(t, outbox.Invitation(ctx, nil, member.InvitationEmail{To: "new@acme.test", TenantSlug: "acme", Token: "x"}))

		j := emailJobs(t, db.Pool)[0]
		require.Equal(t, "https://acme.custom.test/accept-invitation?token=x", j.Data["link"])
		require.Equal(t, "A colleague", j.Data["inviter_name"])
	})

	t.Run("every enqueued email renders", func(t *testing.T) {
		t.Parallel()
		db := dbtest.New(t)
		outbox := newOutbox(t, db.Pool, inserter(t, db.Pool), nil)
		bill := notify.BillingEmail{To: "billing@acme.test", TenantSlug: "acme", TenantName: "Acme", PlanName: "Pro",
			AmountMinor: 4900, Currency: "EUR", InvoiceNumber: "INV-1"}

		require.NoError(t, outbox.PasswordReset(ctx, nil, olga, "t"))
		require.NoError(t, outbox.EmailVerification(ctx, nil, olga, "t"))
		require.NoError(t, outbox.Invitation(ctx, nil, member.InvitationEmail{To: "n@acme.test", TenantSlug: "acme", Token: "t"}))
		require.NoError(t, outbox.DemoRequest(ctx, nil, notify.DemoRequestEmail{Name: "Dana", Email: "dana@initech.test", Company: "Initech"}))
		require.NoError(t, outbox.PaymentReceipt(ctx, nil, bill))
		require.NoError(t, outbox.PaymentFailed(ctx, nil, bill))
		require.NoError(t, outbox.SubscriptionChanged(ctx, nil, bill))

		r, err := mail.NewRenderer()
		require.NoError(t, err)
		seen := map[string]bool{}
		for _, j := range emailJobs(t, db.Pool) {
			out, err := r.Render(j.Template, j.Locale, j.Data)
			require.NoError(t, err, j.Template)
			require.Contains(t, out.Text, j.Data["link"], j.Template)
			seen[j.Template] = true
		}
		require.Len(t, seen, len(mail.Templates), "every template is enqueued by some method")
	})

	t.Run("billing emails carry the formatted amount and dedupe per invoice", func(t *testing.T) {
		t.Parallel()
		db := dbtest.New(t)
		outbox := newOutbox(t, db.Pool, inserter(t, db.Pool), nil)
		bill := notify.BillingEmail{To: "billing@acme.test", Locale: "de", TenantSlug: "acme", TenantName: "Acme",
			PlanName: "Pro", AmountMinor: 123450, Currency: "EUR", InvoiceNumber: "INV-7"}

		require.NoError(t, outbox.PaymentReceipt(ctx, nil, bill))
		require.NoError(t, outbox.PaymentReceipt(ctx, nil, bill)) // the webhook, delivered twice
		bill.InvoiceNumber = "INV-8"
		require.NoError(t, outbox.PaymentReceipt(ctx, nil, bill))

		jobs := emailJobs(t, db.Pool)
		require.Len(t, jobs, 2)
		require.Equal(t, "€ 1.234,50", jobs[0].Data["amount"])
		require.Equal(t, "https://acme.clientiq.test/settings/billing", jobs[0].Data["link"])
		require.Equal(t, "INV-8", jobs[1].Data["invoice_number"])

		bill.Currency = "EURO"
		require.ErrorContains(t, outbox.SubscriptionChanged(ctx, nil, bill), "currency")
	})

	t.Run("a demo request mails the prospect and sales", func(t *testing.T) {
		t.Parallel()
		db := dbtest.New(t)
		outbox := newOutbox(t, db.Pool, inserter(t, db.Pool), nil)

		require.NoError(t, outbox.DemoRequest(ctx, nil, notify.DemoRequestEmail{
			Name: "Dana", Email: "dana@initech.test", Company: "Initech", Message: "Hi", ReviewPath: "/staff/demo/1"}))

		jobs := emailJobs(t, db.Pool)
		require.Len(t, jobs, 2)
		require.Equal(t, "dana@initech.test", jobs[0].To)
		require.Equal(t, mail.TemplateDemoRequestSales, jobs[1].Template)
		require.Equal(t, "sales@clientiq.test", jobs[1].To)
		require.Equal(t, "https://clientiq.test/staff/demo/1", jobs[1].Data["link"])
	})
}

func TestNewOutbox(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ins := inserter(t, db.Pool)
	for _, base := range []string{"", "clientiq.test", "ftp://clientiq.test", "https://clientiq.test/app", "https://"} {
		_, err := notify.NewOutbox(notify.OutboxConfig{Inserter: ins, Pool: db.Pool, BaseURL: base})
		require.ErrorContains(t, err, "BaseURL", base)
	}
	_, err := notify.NewOutbox(notify.OutboxConfig{Pool: db.Pool, BaseURL: "https://clientiq.test"})
	require.ErrorContains(t, err, "Inserter")
	_, err = notify.NewOutbox(notify.OutboxConfig{Inserter: ins, BaseURL: "https://clientiq.test"})
	require.ErrorContains(t, err, "Pool")
}
