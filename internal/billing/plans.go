package billing

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/ent/plan"
	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// Bounds of a plan's editable values.
const (
	MaxPlanName        = 100
	MaxPlanDescription = 1000
	// MaxPrice bounds a price (minor units): a hundred million in major
	// units is no plan, and keeps proration arithmetic far from overflow.
	MaxPrice     = 10_000_000_000
	MaxTrialDays = 365
	MaxFeatures  = 50
	MaxFeature   = 64
)

// Plans returns the plans that can be subscribed to, in price-list order.
// Anyone may read them: it is the public price list.
func (s *Service) Plans(ctx context.Context) ([]*ent.Plan, error) {
	ps, err := s.clients.Public().Plan.Query().Where(plan.Active(true)).
		Order(ent.Asc(plan.FieldSortOrder), ent.Asc(plan.FieldCode)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list plans: %w", err)
	}
	return ps, nil
}

// Plan returns a plan by id, active or not (subscriptions keep inactive
// plans), NOT_FOUND when there is none.
func (s *Service) Plan(ctx context.Context, id uuid.UUID) (*ent.Plan, error) {
	p, err := s.clients.Public().Plan.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, errPlanNotFound
	}
	return p, err
}

// PlanByCode returns a plan by its code (free, starter, …), NOT_FOUND when
// there is none.
func (s *Service) PlanByCode(ctx context.Context, code string) (*ent.Plan, error) {
	p, err := s.clients.Public().Plan.Query().Where(plan.Code(code)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errPlanNotFound
	}
	return p, err
}

// Limit is a plan limit to set: nil Value is unlimited.
type Limit struct{ Value *int }

// PlanUpdate changes a plan; nil fields stay as they are.
type PlanUpdate struct {
	Name         *string
	Description  *string
	PriceMonthly *int64
	PriceYearly  *int64
	TrialDays    *int
	MaxSeats     *Limit
	MaxProjects  *Limit
	MaxDataItems *Limit
	Features     []string
	Active       *bool
}

// UpdatePlan changes a plan (platform staff). Existing subscriptions see
// new prices from their next invoice and new limits at once.
func (s *Service) UpdatePlan(ctx context.Context, id uuid.UUID, in PlanUpdate) (*ent.Plan, error) {
	if _, err := tenancy.RequireStaff(ctx); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	defer s.plans.forget(uuid.Nil)
	u := s.clients.Public().Plan.UpdateOneID(id)
	if in.Name != nil {
		u.SetName(strings.TrimSpace(*in.Name))
	}
	if in.Description != nil {
		u.SetDescription(*in.Description)
	}
	if in.PriceMonthly != nil {
		u.SetPriceMonthly(*in.PriceMonthly)
	}
	if in.PriceYearly != nil {
		u.SetPriceYearly(*in.PriceYearly)
	}
	if in.TrialDays != nil {
		u.SetTrialDays(*in.TrialDays)
	}
	if in.MaxSeats != nil {
		u.SetNillableMaxSeats(in.MaxSeats.Value)
		if in.MaxSeats.Value == nil {
			u.ClearMaxSeats()
		}
	}
	if in.MaxProjects != nil {
		u.SetNillableMaxProjects(in.MaxProjects.Value)
		if in.MaxProjects.Value == nil {
			u.ClearMaxProjects()
		}
	}
	if in.MaxDataItems != nil {
		u.SetNillableMaxDataItems(in.MaxDataItems.Value)
		if in.MaxDataItems.Value == nil {
			u.ClearMaxDataItems()
		}
	}
	if in.Features != nil {
		u.SetFeatures(in.Features)
	}
	if in.Active != nil {
		u.SetActive(*in.Active)
	}
	p, err := u.Save(ctx)
	if ent.IsNotFound(err) {
		return nil, errPlanNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("update plan %s: %w", id, err)
	}
	return p, nil
}

// UpdatePlanByCode is UpdatePlan addressing the plan by its code.
func (s *Service) UpdatePlanByCode(ctx context.Context, code string, in PlanUpdate) (*ent.Plan, error) {
	if _, err := tenancy.RequireStaff(ctx); err != nil {
		return nil, err
	}
	p, err := s.PlanByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	return s.UpdatePlan(ctx, p.ID, in)
}

// validate checks every field given and reports all problems at once.
func (in PlanUpdate) validate() error {
	fe := apperr.FieldErrors{}
	if in.Name != nil {
		if n := strings.TrimSpace(*in.Name); n == "" || len(n) > MaxPlanName {
			fe.Add("name", fmt.Sprintf("must be 1 to %d characters", MaxPlanName))
		}
	}
	if in.Description != nil && len(*in.Description) > MaxPlanDescription {
		fe.Add("description", fmt.Sprintf("must be at most %d characters", MaxPlanDescription))
	}
	price := func(field string, v *int64) {
		if v != nil && (*v < 0 || *v > MaxPrice) {
			fe.Add(field, fmt.Sprintf("must be 0 to %d (minor units)", int64(MaxPrice)))
		}
	}
	price("price_monthly", in.PriceMonthly)
	price("price_yearly", in.PriceYearly)
	if in.TrialDays != nil && (*in.TrialDays < 0 || *in.TrialDays > MaxTrialDays) {
		fe.Add("trial_days", fmt.Sprintf("must be 0 to %d", MaxTrialDays))
	}
	limit := func(field string, l *Limit) {
		if l != nil && l.Value != nil && *l.Value < 0 {
			fe.Add(field, "must be 0 or more (null is unlimited)")
		}
	}
	limit("max_seats", in.MaxSeats)
	limit("max_projects", in.MaxProjects)
	limit("max_data_items", in.MaxDataItems)
	if len(in.Features) > MaxFeatures {
		fe.Add("features", fmt.Sprintf("at most %d features", MaxFeatures))
	}
	for _, f := range in.Features {
		if f == "" || len(f) > MaxFeature {
			fe.Add("features", fmt.Sprintf("each feature must be 1 to %d characters", MaxFeature))
			break
		}
	}
	return fe.Err()
}

// priceOf is a plan's price at interval.
func priceOf(p *ent.Plan, interval string) int64 {
	if interval == IntervalYear {
		return p.PriceYearly
	}
	return p.PriceMonthly
}
