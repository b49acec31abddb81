package mail

import (
	"context"
	"log/slog"
)

// LogSender stands in for SMTP when SMTP_URL is empty (the local and test
// profiles; config refuses an empty SMTP_URL in production). It logs the
// template, the masked recipient and the link: the log is how a developer
// follows a reset or invitation link locally.
type LogSender struct {
	// Logger receives one line per email. Required.
	Logger *slog.Logger
}

// Send implements Sender.
func (l LogSender) Send(ctx context.Context, m Message) error {
	l.Logger.InfoContext(ctx, "email_logged",
		slog.String("template", m.Template),
		slog.String("to", MaskEmail(m.To)),
		slog.String("subject", m.Subject),
		slog.String("link", m.Link))
	return nil
}
