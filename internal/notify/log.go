// Package notify owns how ClientIQ tells people things by email. Until SMTP
// delivery lands, the development notifier writes each email to the log
// (local and test profiles only: the log then holds the link's token).
package notify

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/member"
)

// Log is the development notifier: it logs what would be sent.
type Log struct {
	Logger *slog.Logger
}

// PasswordReset implements auth.Notifier.
func (l Log) PasswordReset(ctx context.Context, _ pgx.Tx, to auth.Recipient, token string) error {
	l.Logger.InfoContext(ctx, "email_outbox", slog.String("template", "password_reset"),
		slog.String("user_id", to.UserID.String()), slog.String("token", token))
	return nil
}

// EmailVerification implements auth.Notifier.
func (l Log) EmailVerification(ctx context.Context, _ pgx.Tx, to auth.Recipient, token string) error {
	l.Logger.InfoContext(ctx, "email_outbox", slog.String("template", "email_verification"),
		slog.String("user_id", to.UserID.String()), slog.String("token", token))
	return nil
}

// Invitation implements member.InviteNotifier.
func (l Log) Invitation(ctx context.Context, _ pgx.Tx, inv member.InvitationEmail) error {
	l.Logger.InfoContext(ctx, "email_outbox", slog.String("template", "invitation"),
		slog.String("invitation_id", inv.InvitationID.String()), slog.String("tenant", inv.TenantSlug),
		slog.String("role", inv.Role), slog.String("token", inv.Token))
	return nil
}
