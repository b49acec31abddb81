package billing

import (
	"context"
	"fmt"
	"sync"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/ent/invitation"
	"github.com/clientiq/clientiq/ent/member"
	"github.com/clientiq/clientiq/ent/plan"
	"github.com/clientiq/clientiq/ent/predicate"
	"github.com/clientiq/clientiq/ent/subscription"
	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// Limits enforces the plan limits of the tenant in a context. Domains that
// add members, projects or data items call it through an interface they
// declare (member.Config.Limits, project.Config.Limits).
//
// A check reads usage and then the write happens in another transaction,
// so two concurrent additions at the limit may both pass: limits are a
// commercial boundary, not an invariant, and one extra seat is preferred
// to a lock on every invitation.
type Limits struct{ svc *Service }

// Limits returns the plan limit checks of s.
func (s *Service) Limits() *Limits { return &Limits{svc: s} }

// Usage is what a tenant uses of the plan-limited resources.
type Usage struct {
	// Seats are members not disabled plus pending invitations.
	Seats     int
	Projects  int
	DataItems int
}

// Names of the limited resources, as they appear in PLAN_LIMIT_EXCEEDED's
// per-field details.
const (
	LimitSeats     = "seats"
	LimitProjects  = "projects"
	LimitDataItems = "data_items"
)

// CheckSeats refuses with PLAN_LIMIT_EXCEEDED when adding seats would take
// the tenant in ctx over its plan's seat limit.
func (l *Limits) CheckSeats(ctx context.Context, adding int) error {
	return l.check(ctx, LimitSeats, adding)
}

// CheckProjects is CheckSeats for projects.
func (l *Limits) CheckProjects(ctx context.Context, adding int) error {
	return l.check(ctx, LimitProjects, adding)
}

// CheckDataItems is CheckSeats for data items.
func (l *Limits) CheckDataItems(ctx context.Context, adding int) error {
	return l.check(ctx, LimitDataItems, adding)
}

func (l *Limits) check(ctx context.Context, what string, adding int) error {
	t, err := tenancy.Require(ctx)
	if err != nil {
		return err
	}
	p, err := l.svc.effectivePlan(ctx, t)
	if err != nil {
		return err
	}
	max := limitOf(p, what)
	if max == nil {
		return nil
	}
	c, err := l.svc.clients.Tenant(ctx)
	if err != nil {
		return err
	}
	used, err := count(ctx, c, what, l.svc.clock())
	if err != nil {
		return err
	}
	if used+adding > *max {
		return limitError(p, map[string]usage{what: {used + adding, *max}})
	}
	return nil
}

// usage is one resource's count against its limit.
type usage struct{ used, limit int }

// limitError is PLAN_LIMIT_EXCEEDED naming each limit exceeded with its
// usage and limit, e.g. {"seats": ["4 in use, the Free plan allows 3"]}.
func limitError(p *ent.Plan, over map[string]usage) error {
	fields := map[string][]string{}
	first := ""
	for _, what := range []string{LimitSeats, LimitProjects, LimitDataItems} {
		u, ok := over[what]
		if !ok {
			continue
		}
		if first == "" {
			first = what
		}
		fields[what] = []string{fmt.Sprintf("%d in use, the %s plan allows %d", u.used, p.Name, u.limit)}
	}
	return &apperr.Error{Code: apperr.CodePlanLimit, Fields: fields,
		Message: fmt.Sprintf("the %s plan's %s limit is exceeded", p.Name, first)}
}

// exceeded returns the limits of p that usage u exceeds.
func exceeded(p *ent.Plan, u Usage) map[string]usage {
	over := map[string]usage{}
	for what, used := range map[string]int{LimitSeats: u.Seats, LimitProjects: u.Projects, LimitDataItems: u.DataItems} {
		if max := limitOf(p, what); max != nil && used > *max {
			over[what] = usage{used, *max}
		}
	}
	return over
}

func limitOf(p *ent.Plan, what string) *int {
	switch what {
	case LimitSeats:
		return p.MaxSeats
	case LimitProjects:
		return p.MaxProjects
	case LimitDataItems:
		return p.MaxDataItems
	}
	return nil
}

// usageOf counts the tenant in ctx's usage of every limited resource.
func (s *Service) usageOf(ctx context.Context) (Usage, error) {
	c, err := s.clients.Tenant(ctx)
	if err != nil {
		return Usage{}, err
	}
	var u Usage
	now := s.clock()
	for what, dst := range map[string]*int{LimitSeats: &u.Seats, LimitProjects: &u.Projects, LimitDataItems: &u.DataItems} {
		if *dst, err = count(ctx, c, what, now); err != nil {
			return Usage{}, err
		}
	}
	return u, nil
}

// count counts one limited resource in the tenant client's schema.
func count(ctx context.Context, c *ent.Client, what string, now time.Time) (int, error) {
	var n int
	var err error
	switch what {
	case LimitSeats:
		var members, pending int
		members, err = c.Member.Query().Where(member.StatusNEQ(member.StatusDisabled)).Count(ctx)
		if err == nil {
			pending, err = c.Invitation.Query().Where(invitation.AcceptedAtIsNil(), invitation.RevokedAtIsNil(),
				invitation.ExpiresAtGT(now)).Count(ctx)
		}
		n = members + pending
	case LimitProjects:
		n, err = c.Project.Query().Count(ctx)
	case LimitDataItems:
		n, err = c.DataItem.Query().Count(ctx)
	}
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", what, err)
	}
	return n, nil
}

// effectivePlan is the plan whose limits apply to t: its subscription's
// plan, or Free once the subscription is canceled. A tenant without a
// subscription row gets one (on Free) first.
//
// The answer is kept for planTTL (see planCache): every write of an
// added project or data item checks it.
func (s *Service) effectivePlan(ctx context.Context, t *tenancy.Tenant) (*ent.Plan, error) {
	if p, ok := s.plans.get(t.ID, s.clock()); ok {
		return p, nil
	}
	gen := s.plans.begin()
	// The common case in one statement: the plan of a subscription that is
	// not canceled. Anything else (no subscription yet, a canceled one)
	// takes the full path below.
	p, err := s.clients.Public().Plan.Query().Where(livePlanOf(t.ID)).Only(ctx)
	if err == nil {
		s.plans.put(t.ID, p, gen, s.clock())
		return p, nil
	}
	if !ent.IsNotFound(err) {
		return nil, fmt.Errorf("read the effective plan: %w", err)
	}
	sub, err := s.ensure(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	p = sub.Edges.Plan
	if sub.Status == StatusCanceled {
		if free, err := s.PlanByCode(ctx, FreePlan); err == nil {
			p = free
		}
	}
	if p == nil {
		if p, err = sub.QueryPlan().Only(ctx); err != nil {
			return nil, err
		}
	}
	s.plans.put(t.ID, p, gen, s.clock())
	return p, nil
}

// livePlanOf selects the plan of tenantID's subscription when that
// subscription is not canceled.
func livePlanOf(tenantID uuid.UUID) predicate.Plan {
	return func(sel *entsql.Selector) {
		subs := entsql.Table(subscription.Table).Schema("public")
		sel.Where(entsql.In(sel.C(plan.FieldID),
			entsql.Select(subs.C(subscription.FieldPlanID)).From(subs).Where(entsql.And(
				entsql.EQ(subs.C(subscription.FieldTenantID), tenantID),
				entsql.NEQ(subs.C(subscription.FieldStatus), StatusCanceled)))))
	}
}

// ForgetPlans drops every cached effective plan: for subscription or plan
// rows written outside this service (an operator's SQL, a test fixture).
func (s *Service) ForgetPlans() { s.plans.forget(uuid.Nil) }

// planTTL is how long a tenant's effective plan is reused by the limit
// checks. A change made in this process is seen at once (writeSub and
// UpdatePlan forget it); one made by another process within planTTL.
const planTTL = time.Second

// planCache holds tenants' effective plans for the limit checks.
type planCache struct {
	mu  sync.Mutex
	gen uint64 // counts forgets; an answer read across one is not kept
	m   map[uuid.UUID]cachedPlan
}

type cachedPlan struct {
	plan    *ent.Plan
	expires time.Time
}

func (c *planCache) get(tenantID uuid.UUID, now time.Time) (*ent.Plan, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[tenantID]
	if !ok || !now.Before(e.expires) {
		return nil, false
	}
	return e.plan, true
}

func (c *planCache) begin() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *planCache) put(tenantID uuid.UUID, p *ent.Plan, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return // something changed while it was read
	}
	if c.m == nil || len(c.m) >= 10_000 {
		c.m = map[uuid.UUID]cachedPlan{}
	}
	c.m[tenantID] = cachedPlan{plan: p, expires: now.Add(planTTL)}
}

// forget drops one tenant's plan (uuid.Nil: every tenant's).
func (c *planCache) forget(tenantID uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if tenantID == uuid.Nil {
		clear(c.m)
		return
	}
	delete(c.m, tenantID)
}
