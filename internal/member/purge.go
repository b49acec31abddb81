package member

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/clientiq/clientiq/ent/invitation"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// DefaultInvitationRetention is how long an expired invitation stays
// listed (as expired) before PurgeInvitationsWorker deletes it.
const DefaultInvitationRetention = 30 * 24 * time.Hour

// PurgeInvitationsArgs asks to delete one tenant's invitations that expired
// unaccepted more than the retention ago. It is a tenant job: the tenant
// comes from the job's metadata (jobs.TenantMiddleware), and a periodic
// fan-out enqueues one per tenant.
type PurgeInvitationsArgs struct{}

// Kind implements river.JobArgs.
func (PurgeInvitationsArgs) Kind() string { return "member_purge_invitations" }

// InsertOpts puts the purge on the maintenance queue.
func (PurgeInvitationsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: "maintenance"}
}

// PurgeInvitationsConfig configures the PurgeInvitationsWorker.
type PurgeInvitationsConfig struct {
	// Clients gives the worker the tenant-scoped ent client of its job's
	// tenant. Required.
	Clients *db.Clients
	// Logger receives a summary of each run. Required.
	Logger *slog.Logger
	// Retention is how long an expired invitation is kept. Default
	// DefaultInvitationRetention.
	Retention time.Duration
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
}

// PurgeInvitationsWorker works PurgeInvitationsArgs in the job's tenant
// schema, through db.Clients.Tenant: without a tenant in its context it
// touches nothing.
type PurgeInvitationsWorker struct {
	river.WorkerDefaults[PurgeInvitationsArgs]
	cfg PurgeInvitationsConfig
}

// NewPurgeInvitationsWorker returns the worker for PurgeInvitationsArgs.
func NewPurgeInvitationsWorker(cfg PurgeInvitationsConfig) *PurgeInvitationsWorker {
	cfg.Retention = cmp.Or(cfg.Retention, DefaultInvitationRetention)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &PurgeInvitationsWorker{cfg: cfg}
}

// Work implements river.Worker. Accepted invitations are kept: they record
// how a member joined.
func (w *PurgeInvitationsWorker) Work(ctx context.Context, _ *river.Job[PurgeInvitationsArgs]) error {
	t, err := tenancy.Require(ctx)
	if err != nil {
		return river.JobCancel(err)
	}
	client, err := w.cfg.Clients.Tenant(ctx)
	if err != nil {
		return river.JobCancel(err)
	}
	n, err := client.Invitation.Delete().
		Where(invitation.AcceptedAtIsNil(), invitation.ExpiresAtLT(w.cfg.Now().Add(-w.cfg.Retention))).
		Exec(ctx)
	if err != nil {
		return err
	}
	w.cfg.Logger.InfoContext(ctx, "invitations_purged", slog.String("tenant", t.Slug), slog.Int("invitations", n))
	return nil
}
