package notify

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/internal/demorequest"
)

// DemoRequestEmails sends a demo request's confirmation to the prospect and
// its notification to sales; it is demorequest.Notifier.
type DemoRequestEmails struct{ Outbox *Outbox }

var _ demorequest.Notifier = DemoRequestEmails{}

// DemoRequested implements demorequest.Notifier.
func (d DemoRequestEmails) DemoRequested(ctx context.Context, tx pgx.Tx, n demorequest.Notice) error {
	return d.Outbox.DemoRequest(ctx, tx, DemoRequestEmail{Name: n.Name, Email: n.Email, Locale: n.Locale,
		Company: n.Company, Message: n.Message, ReviewPath: "/staff/demo-requests/" + n.ID.String()})
}
