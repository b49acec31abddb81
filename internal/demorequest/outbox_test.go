package demorequest_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/dbmigrate"
	"github.com/clientiq/clientiq/internal/demorequest"
	"github.com/clientiq/clientiq/internal/mail"
	"github.com/clientiq/clientiq/internal/notify"
)

// outboxNotifier is the adapter wiring uses: a stored demo request becomes
// notify.Outbox's confirmation and sales emails, in the same transaction.
type outboxNotifier struct {
	outbox *notify.Outbox
	// fail makes the adapter fail after the emails were enqueued, as a
	// later step of the transaction would.
	fail bool
}

func (o outboxNotifier) DemoRequested(ctx context.Context, tx pgx.Tx, n demorequest.Notice) error {
	err := o.outbox.DemoRequest(ctx, tx, notify.DemoRequestEmail{
		Name: n.Name, Email: n.Email, Locale: n.Locale, Company: n.Company, Message: n.Message,
		ReviewPath: "/staff/demo-requests/" + n.ID.String(),
	})
	if err == nil && o.fail {
		return errNotifier
	}
	return err
}

// emailJobs returns the args of every send_email job, oldest first.
func emailJobs(t *testing.T, pool *pgxpool.Pool) []mail.SendEmailArgs {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT args FROM public.river_job WHERE kind = 'send_email' ORDER BY id`)
	require.NoError(t, err)
	raw, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	require.NoError(t, err)
	out := make([]mail.SendEmailArgs, len(raw))
	for i, b := range raw {
		require.NoError(t, json.Unmarshal(b, &out[i]))
	}
	return out
}

func TestCreateWithTheOutbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// withOutbox is a fixture whose notifier is the real Outbox over a River
	// client that only inserts.
	withOutbox := func(t *testing.T, fail bool) *fixture {
		return newFixture(t, func(c *demorequest.Config) {
			ins, err := river.NewClient(riverpgxv5.New(c.Pool), &river.Config{Schema: dbmigrate.RiverSchema, Logger: discard})
			require.NoError(t, err)
			outbox, err := notify.NewOutbox(notify.OutboxConfig{Inserter: ins, Pool: c.Pool, BaseURL: "https://clientiq.test",
				SalesEmail: "sales@clientiq.test"})
			require.NoError(t, err)
			c.Notifier = outboxNotifier{outbox: outbox, fail: fail}
		})
	}

	t.Run("a stored request enqueues the confirmation and the sales notification", func(t *testing.T) {
		t.Parallel()
		f := withOutbox(t, false)
		in := valid()
		rc, err := f.svc.Create(ctx, in, demorequest.Meta{IP: "203.0.113.50"})
		require.NoError(t, err)

		jobs := emailJobs(t, f.db.Pool)
		require.Len(t, jobs, 2)
		confirmation, sales := jobs[0], jobs[1]
		require.Equal(t, mail.TemplateDemoRequestConfirmation, confirmation.Template)
		require.Equal(t, f.storedEmail(t, rc), confirmation.To)
		require.Equal(t, "de-CH", confirmation.Locale)
		require.Equal(t, "Initech", confirmation.Data["company"])
		require.Equal(t, mail.TemplateDemoRequestSales, sales.Template)
		require.Equal(t, "sales@clientiq.test", sales.To)
		require.Equal(t, "We would like a demo.", sales.Data["message"])
		require.Equal(t, "https://clientiq.test/staff/demo-requests/"+rc.ID.String(), sales.Data["link"])

		r, err := mail.NewRenderer()
		require.NoError(t, err)
		for _, j := range jobs {
			_, err := r.Render(j.Template, j.Locale, j.Data)
			require.NoError(t, err, j.Template)
		}
	})

	t.Run("a rolled-back request enqueues nothing", func(t *testing.T) {
		t.Parallel()
		f := withOutbox(t, true)
		_, err := f.svc.Create(ctx, valid(), demorequest.Meta{IP: "203.0.113.51"})
		require.ErrorIs(t, err, errNotifier)
		require.Zero(t, f.count(t))
		require.Empty(t, emailJobs(t, f.db.Pool))
	})

	t.Run("a refused request enqueues nothing", func(t *testing.T) {
		t.Parallel()
		f := withOutbox(t, false)
		_, err := f.svc.Create(ctx, demorequest.Input{Name: "Dana", Email: "not-an-email", Company: "Initech"}, demorequest.Meta{})
		require.Equal(t, apperr.CodeValidation, apperr.CodeOf(err))
		require.Empty(t, emailJobs(t, f.db.Pool))
	})
}

// storedEmail is the email stored for the request of rc.
func (f *fixture) storedEmail(t *testing.T, rc *demorequest.Receipt) string {
	t.Helper()
	var email string
	require.NoError(t, f.db.Pool.QueryRow(context.Background(), `SELECT email FROM public.demo_requests WHERE id = $1`, rc.ID).Scan(&email))
	return email
}
