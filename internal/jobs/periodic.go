package jobs

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/mail"
	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
)

// Maintenance is ClientIQ's built-in housekeeping, each part a periodic
// job enqueued by River's leader every Interval and once when a client
// becomes leader (all are idempotent, so the extra run is harmless):
//   - auth.PurgeTokensArgs (global): delete refresh and one-time tokens
//     expired, revoked or used more than TokenRetention ago;
//   - mail.PurgeSecretsArgs (global): delete the links of emails never sent
//     once their token has expired;
//   - a fan-out of member.PurgeInvitationsArgs (one tenant job per tenant):
//     delete invitations expired more than InvitationRetention ago;
//   - tenant.PurgeSweepArgs (global): enqueue tenant.PurgeArgs for every
//     tenant whose deletion grace has passed.
//
// The tenant.PurgeWorker that works the swept purges stays the caller's to
// register (serve and worker already do).
type Maintenance struct {
	// Tenants runs the purge sweep with its grace period. Required.
	Tenants *tenant.Service
	// Clients gives the invitation purge its tenant-scoped ent client.
	// Required.
	Clients *db.Clients
	// Logger receives the workers' summaries. Required.
	Logger *slog.Logger
	// Interval between runs of each job. Default 1 hour.
	Interval time.Duration
	// TokenRetention: see auth.PurgeTokensConfig.Retention.
	TokenRetention time.Duration
	// InvitationRetention: see member.PurgeInvitationsConfig.Retention.
	InvitationRetention time.Duration
}

// Periodic job IDs of the built-ins, stable across releases.
const (
	PeriodicPurgeTokens      = "auth_purge_tokens"
	PeriodicPurgeMailSecrets = "mail_purge_secrets"
	PeriodicPurgeInvitations = "member_purge_invitations"
	PeriodicTenantPurgeSweep = "tenant_purge_sweep"
)

// validate reports a missing dependency.
func (m *Maintenance) validate() error {
	if m.Tenants == nil || m.Clients == nil || m.Logger == nil {
		return errors.New("jobs: Maintenance needs Tenants, Clients and Logger")
	}
	return nil
}

// addBuiltins registers the fan-out worker and the Maintenance workers in
// workers, and returns the periodic jobs of cfg's FanOuts and Maintenance.
func addBuiltins(pool *pgxpool.Pool, workers *river.Workers, cfg Config) ([]*river.PeriodicJob, error) {
	fanOuts := append([]PeriodicFanOut(nil), cfg.FanOuts...)
	var periodic []*river.PeriodicJob
	if m := cfg.Maintenance; m != nil {
		if err := m.validate(); err != nil {
			return nil, err
		}
		every := interval(m.Interval)
		errs := []error{
			river.AddWorkerSafely(workers, auth.NewPurgeTokensWorker(auth.PurgeTokensConfig{
				Pool: pool, Logger: m.Logger, Retention: m.TokenRetention,
			})),
			river.AddWorkerSafely(workers, mail.NewPurgeSecretsWorker(pool, m.Logger, nil)),
			river.AddWorkerSafely(workers, member.NewPurgeInvitationsWorker(member.PurgeInvitationsConfig{
				Clients: m.Clients, Logger: m.Logger, Retention: m.InvitationRetention,
			})),
			river.AddWorkerSafely(workers, tenant.NewPurgeSweepWorker(m.Tenants)),
		}
		if err := errors.Join(errs...); err != nil {
			return nil, fmt.Errorf("register maintenance workers: %w", err)
		}
		periodic = append(periodic,
			river.NewPeriodicJob(river.PeriodicInterval(every),
				func() (river.JobArgs, *river.InsertOpts) { return auth.PurgeTokensArgs{}, nil },
				&river.PeriodicJobOpts{ID: PeriodicPurgeTokens, RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(every),
				func() (river.JobArgs, *river.InsertOpts) { return mail.PurgeSecretsArgs{}, nil },
				&river.PeriodicJobOpts{ID: PeriodicPurgeMailSecrets, RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(every),
				func() (river.JobArgs, *river.InsertOpts) { return tenant.PurgeSweepArgs{}, nil },
				&river.PeriodicJobOpts{ID: PeriodicTenantPurgeSweep, RunOnStart: true}),
		)
		fanOuts = append(fanOuts, PeriodicFanOut{
			ID: PeriodicPurgeInvitations, Interval: every, RunOnStart: true,
			Build: func(*tenancy.Tenant) river.JobArgs { return member.PurgeInvitationsArgs{} },
		})
	}
	if len(fanOuts) == 0 {
		return periodic, nil
	}
	builds := make(map[string]func(*tenancy.Tenant) river.JobArgs, len(fanOuts))
	for _, f := range fanOuts {
		if f.ID == "" || f.Build == nil {
			return nil, errors.New("jobs: a PeriodicFanOut needs an ID and a Build")
		}
		if builds[f.ID] != nil {
			return nil, fmt.Errorf("jobs: two fan-outs are called %q", f.ID)
		}
		builds[f.ID] = f.Build
		periodic = append(periodic, f.periodic())
	}
	if err := river.AddWorkerSafely(workers, &fanOutWorker{pool: pool, builds: builds}); err != nil {
		return nil, fmt.Errorf("register fan-out worker (give each client its own Workers): %w", err)
	}
	return periodic, nil
}
