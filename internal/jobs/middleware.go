package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/clientiq/clientiq/internal/tenancy"
)

// Metadata keys the tenant middleware writes on every job. River keeps
// metadata beside the args, so the tenant travels with the job without any
// args type having to remember a field.
const (
	// MetaTenantID is the id of the tenant a tenant job runs for.
	MetaTenantID = "tenant_id"
	// MetaTenantSlug is that tenant's slug, for people reading River UI;
	// the worker trusts only the id.
	MetaTenantSlug = "tenant_slug"
	// MetaGlobal is true on a job that runs for no tenant.
	MetaGlobal = "global"
	// MetaOriginTenantID and MetaOriginTenantSlug name the tenant a global
	// job was enqueued from, for visibility only: a global job never runs in
	// that tenant.
	MetaOriginTenantID   = "origin_tenant_id"
	MetaOriginTenantSlug = "origin_tenant_slug"
)

// GlobalArgs is implemented by the args of jobs that belong to no tenant
// (platform maintenance, fan-outs). Every other job is a tenant job and can
// only be enqueued with a tenant: deny by default.
type GlobalArgs interface {
	river.JobArgs
	// Global reports true for a job that runs with no tenant in its context.
	Global() bool
}

// ErrTenantRequired refuses the insert of a tenant job when neither the
// context nor the job's metadata names a tenant. It wraps
// tenancy.ErrNoTenant, so transports answer it like any other missing tenant.
var ErrTenantRequired = fmt.Errorf("jobs: a tenant job needs a tenant in its context (or args with Global() true): %w", tenancy.ErrNoTenant)

// Reasons a tenant job is cancelled before its worker runs. They are
// permanent, so the job is cancelled (river.JobCancel) rather than retried.
var (
	// ErrNoTenantMetadata: the job names no tenant and is not global.
	ErrNoTenantMetadata = errors.New("jobs: job has no tenant metadata and is not global")
	// ErrUnknownTenant: the tenant named in the metadata does not exist.
	ErrUnknownTenant = errors.New("jobs: job's tenant does not exist")
	// ErrTenantNotRunnable: the tenant is pending deletion (or in a status
	// this version does not know), so its jobs no longer run.
	ErrTenantNotRunnable = errors.New("jobs: job's tenant is not active or suspended")
)

// TenantMiddleware carries the tenant from the context that enqueues a job
// to the context that works it.
//
// On insert it writes the tenant of the context into each job's metadata,
// and refuses a tenant job when there is none. On work it reads the tenant id
// back, loads the tenant from public.tenants and puts it in the context
// exactly as the HTTP resolver does (tenancy.WithTenant), so a worker reaches
// tenant data only through db.Clients.Tenant(ctx), in that tenant's schema. A
// job whose tenant is missing, unknown or pending deletion is cancelled
// before its worker is called: it never runs in the public schema.
type TenantMiddleware struct {
	river.MiddlewareDefaults
	pool *pgxpool.Pool
}

// NewTenantMiddleware returns the middleware, looking tenants up in pool.
// NewClient and NewInserter install it; a River client built elsewhere on
// ClientIQ's tables must install it too.
func NewTenantMiddleware(pool *pgxpool.Pool) *TenantMiddleware {
	return &TenantMiddleware{pool: pool}
}

var (
	_ rivertype.JobInsertMiddleware = (*TenantMiddleware)(nil)
	_ rivertype.WorkerMiddleware    = (*TenantMiddleware)(nil)
)

// InsertMany implements rivertype.JobInsertMiddleware. One context serves
// the whole batch, so a batch spanning several tenants (FanOut) names each
// job's tenant in its metadata instead, which is accepted only from a system
// context and never contradicts a tenant in the context.
func (m *TenantMiddleware) InsertMany(ctx context.Context, params []*rivertype.JobInsertParams, doInner func(context.Context) ([]*rivertype.JobInsertResult, error)) ([]*rivertype.JobInsertResult, error) {
	t, inTenant := tenancy.FromContext(ctx)
	system := tenancy.SystemReason(ctx) != ""
	for _, p := range params {
		if err := stampTenant(p, t, inTenant, system); err != nil {
			return nil, err
		}
	}
	return doInner(ctx)
}

// stampTenant writes the tenant metadata of one job, or says why it cannot.
func stampTenant(p *rivertype.JobInsertParams, t *tenancy.Tenant, inTenant, system bool) error {
	// RawMessage keeps other metadata byte for byte (no float64 detour).
	meta := map[string]json.RawMessage{}
	if len(p.Metadata) > 0 {
		if err := json.Unmarshal(p.Metadata, &meta); err != nil {
			return fmt.Errorf("jobs: insert %s: decode metadata: %w", p.Kind, err)
		}
	}
	var preset string
	if raw, has := meta[MetaTenantID]; has {
		if err := json.Unmarshal(raw, &preset); err != nil || preset == "" {
			return fmt.Errorf("jobs: insert %s: %q must be a tenant id", p.Kind, MetaTenantID)
		}
	}
	if g, ok := p.Args.(GlobalArgs); ok && g.Global() {
		if _, has := meta[MetaTenantID]; has {
			return fmt.Errorf("jobs: insert %s: a global job cannot name a tenant in %q", p.Kind, MetaTenantID)
		}
		meta[MetaGlobal] = jsonValue(true)
		if inTenant {
			meta[MetaOriginTenantID] = jsonValue(t.ID.String())
			meta[MetaOriginTenantSlug] = jsonValue(t.Slug)
		}
		return encodeMeta(p, meta)
	}
	if _, has := meta[MetaGlobal]; has {
		return fmt.Errorf("jobs: insert %s: only args with Global() true can be global", p.Kind)
	}
	switch {
	case inTenant && preset != "" && preset != t.ID.String():
		return fmt.Errorf("jobs: insert %s: metadata names tenant %s inside tenant %s's context", p.Kind, preset, t.Slug)
	case inTenant:
		meta[MetaTenantID] = jsonValue(t.ID.String())
		meta[MetaTenantSlug] = jsonValue(t.Slug)
	case preset != "" && system:
		if _, err := uuid.Parse(preset); err != nil {
			return fmt.Errorf("jobs: insert %s: tenant id %q: %w", p.Kind, preset, err)
		}
	default:
		return fmt.Errorf("jobs: insert %s: %w", p.Kind, ErrTenantRequired)
	}
	return encodeMeta(p, meta)
}

func jsonValue(v any) json.RawMessage {
	b, _ := json.Marshal(v) // strings and bools always encode
	return b
}

func encodeMeta(p *rivertype.JobInsertParams, meta map[string]json.RawMessage) error {
	b, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("jobs: insert %s: encode metadata: %w", p.Kind, err)
	}
	p.Metadata = b
	return nil
}

// jobMeta is the part of a job's metadata the worker side reads.
type jobMeta struct {
	TenantID string `json:"tenant_id"`
	Global   bool   `json:"global"`
}

// lookupTimeout bounds the tenant lookup, which runs before the job's own
// timeout starts.
const lookupTimeout = 10 * time.Second

// Work implements rivertype.WorkerMiddleware.
func (m *TenantMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	var meta jobMeta
	if len(job.Metadata) > 0 {
		if err := json.Unmarshal(job.Metadata, &meta); err != nil {
			return river.JobCancel(fmt.Errorf("job %d (%s): decode metadata: %w", job.ID, job.Kind, err))
		}
	}
	ctx = tenancy.AsSystem(ctx, "river job "+job.Kind)
	switch {
	case meta.Global && meta.TenantID == "":
		return doInner(ctx)
	case meta.Global || meta.TenantID == "":
		return river.JobCancel(fmt.Errorf("job %d (%s): %w", job.ID, job.Kind, ErrNoTenantMetadata))
	}
	id, err := uuid.Parse(meta.TenantID)
	if err != nil {
		return river.JobCancel(fmt.Errorf("job %d (%s): tenant id %q: %w", job.ID, job.Kind, meta.TenantID, ErrUnknownTenant))
	}
	t, err := m.tenant(ctx, id)
	if err != nil {
		if errors.Is(err, ErrUnknownTenant) || errors.Is(err, ErrTenantNotRunnable) {
			return river.JobCancel(fmt.Errorf("job %d (%s): %w", job.ID, job.Kind, err))
		}
		return fmt.Errorf("job %d (%s): %w", job.ID, job.Kind, err) // retried
	}
	return doInner(tenancy.WithTenant(ctx, t))
}

// tenant loads the tenant a job runs for. Suspended tenants' jobs still run
// (billing and dunning must reach them); pending deletion ends them.
func (m *TenantMiddleware) tenant(ctx context.Context, id uuid.UUID) (*tenancy.Tenant, error) {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	var t tenancy.Tenant
	err := m.pool.QueryRow(ctx, `SELECT id, slug, name, schema_name, status FROM public.tenants WHERE id = $1`, id).
		Scan(&t.ID, &t.Slug, &t.Name, &t.Schema, &t.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("tenant %s: %w", id, ErrUnknownTenant)
	}
	if err != nil {
		return nil, fmt.Errorf("load tenant %s: %w", id, err)
	}
	if !runnable(t.Status) {
		return nil, fmt.Errorf("tenant %s is %s: %w", t.Slug, t.Status, ErrTenantNotRunnable)
	}
	if err := tenancy.CheckSchema(t.Schema); err != nil {
		return nil, fmt.Errorf("tenant %s: %w: %w", t.Slug, ErrUnknownTenant, err)
	}
	return &t, nil
}

// runnable reports whether a tenant in status may run jobs; anything not
// listed (pending deletion, or a status added later) may not.
func runnable(status string) bool {
	return status == tenancy.StatusActive || status == tenancy.StatusSuspended
}

// tenantMetadata is the metadata naming t on a job enqueued outside t's
// context (FanOut).
func tenantMetadata(t *tenancy.Tenant) []byte {
	b, _ := json.Marshal(map[string]string{MetaTenantID: t.ID.String(), MetaTenantSlug: t.Slug})
	return b
}
