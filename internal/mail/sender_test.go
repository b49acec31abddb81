package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/mail"
	"github.com/clientiq/clientiq/internal/mailtest"
)

func newSender(t *testing.T, url string) *mail.SMTPSender {
	t.Helper()
	s, err := mail.NewSMTPSender(mail.SMTPConfig{URL: url, From: "ClientIQ <no-reply@clientiq.test>", Timeout: 5 * time.Second})
	require.NoError(t, err)
	return s
}

func TestSMTPSender(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("delivers subject, text, html and message id to the recipient", func(t *testing.T) {
		t.Parallel()
		mp := mailtest.Start(t)
		err := newSender(t, mp.SMTPURL()).Send(ctx, mail.Message{
			To: "olga@acme.test", ToName: "Olga", Subject: "Héllo", Text: "plain body", HTML: "<p>html body</p>", ID: "job-42",
		})
		require.NoError(t, err)

		list := mp.WaitForMessages(1, 10*time.Second)
		require.Len(t, list, 1)
		m := mp.Message(list[0].ID)
		require.Equal(t, "Héllo", m.Subject)
		require.Equal(t, []mailtest.Address{{Name: "Olga", Address: "olga@acme.test"}}, m.To)
		require.Equal(t, "no-reply@clientiq.test", m.From.Address)
		require.Equal(t, "plain body", strings.TrimSpace(m.Text))
		require.Contains(t, m.HTML, "<p>html body</p>")
		require.Equal(t, "job-42@clientiq.test", m.MessageID)
	})

	t.Run("a refused recipient is a permanent rejection with the address masked", func(t *testing.T) {
		t.Parallel()
		mp := mailtest.StartWith(t, &mailtest.Options{AllowedRecipients: `@allowed\.test$`})
		err := newSender(t, mp.SMTPURL()).Send(ctx, mail.Message{To: "nobody@refused.test", Subject: "s", Text: "t"})
		require.ErrorIs(t, err, mail.ErrRejected)
		require.NotContains(t, err.Error(), "nobody@refused.test")
		require.Contains(t, err.Error(), "n***@refused.test")
		require.Empty(t, mp.Messages())
	})

	t.Run("an unparsable recipient is a permanent rejection", func(t *testing.T) {
		t.Parallel()
		err := newSender(t, "smtp://127.0.0.1:1?tls=none").Send(ctx, mail.Message{To: "not an address", Subject: "s", Text: "t"})
		require.ErrorIs(t, err, mail.ErrRejected)
	})

	t.Run("a server that is down is a retryable error", func(t *testing.T) {
		t.Parallel()
		mp := mailtest.Start(t)
		mp.Stop()
		err := newSender(t, mp.SMTPURL()).Send(ctx, mail.Message{To: "olga@acme.test", Subject: "s", Text: "t"})
		require.Error(t, err)
		require.NotErrorIs(t, err, mail.ErrRejected)
		require.Contains(t, err.Error(), "127.0.0.1:"+strconv.Itoa(mp.SMTPPort()))
	})

	t.Run("mandatory starttls fails against a server without tls", func(t *testing.T) {
		t.Parallel()
		mp := mailtest.Start(t)
		url := strings.Replace(mp.SMTPURL(), "tls=none", "tls=starttls", 1)
		err := newSender(t, url).Send(ctx, mail.Message{To: "olga@acme.test", Subject: "s", Text: "t"})
		require.Error(t, err)
		require.NotErrorIs(t, err, mail.ErrRejected)
		require.Empty(t, mp.Messages())
	})
}

func TestNewSMTPSender(t *testing.T) {
	t.Parallel()

	t.Run("refuses a bad url without echoing the password", func(t *testing.T) {
		t.Parallel()
		_, err := mail.NewSMTPSender(mail.SMTPConfig{URL: "http://u:secret@x", From: "a@b.test"})
		require.ErrorContains(t, err, "scheme")
		require.NotContains(t, err.Error(), "secret")
	})

	t.Run("refuses a bad from address", func(t *testing.T) {
		t.Parallel()
		_, err := mail.NewSMTPSender(mail.SMTPConfig{URL: "smtp://x", From: "ClientIQ <nope"})
		require.ErrorContains(t, err, "from")
	})

	t.Run("refuses a timeout over ten seconds", func(t *testing.T) {
		t.Parallel()
		_, err := mail.NewSMTPSender(mail.SMTPConfig{URL: "smtp://x", From: "a@b.test", Timeout: time.Minute})
		require.ErrorContains(t, err, "timeout")
	})

	t.Run("defaults the timeout to ten seconds", func(t *testing.T) {
		t.Parallel()
		s, err := mail.NewSMTPSender(mail.SMTPConfig{URL: "smtp://x", From: "a@b.test"})
		require.NoError(t, err)
		require.Equal(t, 10*time.Second, s.Timeout())
	})
}

func TestLogSenderLogsTheLinkWithTheRecipientMasked(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	s := mail.LogSender{Logger: slog.New(slog.NewTextHandler(&buf, nil))}

	err := s.Send(context.Background(), mail.Message{
		To: "olga@acme.localhost", Subject: "Reset", Template: mail.TemplatePasswordReset,
		Link: "http://localhost:8080/reset-password?token=abc",
	})

	require.NoError(t, err)
	line := buf.String()
	require.Contains(t, line, "template=password_reset")
	require.Contains(t, line, "to=o***@acme.localhost")
	require.Contains(t, line, "reset-password?token=abc")
	require.NotContains(t, line, "olga@")
}
