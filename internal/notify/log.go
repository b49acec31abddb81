package notify

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/mail"
	"github.com/clientiq/clientiq/internal/member"
)

// Log is the notifier from before SMTP delivery: it logs what would be
// sent, token included (local and test profiles only).
//
// Deprecated: use Outbox with a mail.SendEmailWorker running mail.LogSender
// (SMTP_URL empty), which logs the link the same way but goes through the
// job queue like production. Log goes once cmd/clientiq is rewired.
type Log struct {
	Logger *slog.Logger
}

// PasswordReset implements auth.Notifier.
func (l Log) PasswordReset(ctx context.Context, _ pgx.Tx, to auth.Recipient, token string) error {
	l.Logger.InfoContext(ctx, "email_outbox", slog.String("template", mail.TemplatePasswordReset),
		slog.String("user_id", to.UserID.String()), slog.String("token", token))
	return nil
}

// EmailVerification implements auth.Notifier.
func (l Log) EmailVerification(ctx context.Context, _ pgx.Tx, to auth.Recipient, token string) error {
	l.Logger.InfoContext(ctx, "email_outbox", slog.String("template", mail.TemplateEmailVerification),
		slog.String("user_id", to.UserID.String()), slog.String("token", token))
	return nil
}

// Invitation implements member.InviteNotifier.
func (l Log) Invitation(ctx context.Context, _ pgx.Tx, inv member.InvitationEmail) error {
	l.Logger.InfoContext(ctx, "email_outbox", slog.String("template", mail.TemplateInvitation),
		slog.String("invitation_id", inv.InvitationID.String()), slog.String("tenant", inv.TenantSlug),
		slog.String("role", inv.Role), slog.String("token", inv.Token))
	return nil
}
