package graph

import (
	"github.com/99designs/gqlgen/graphql"

	"github.com/clientiq/clientiq/graph/model"
	"github.com/clientiq/clientiq/internal/billing"
)

// planUpdate converts updatePlan's input for the billing service.
func planUpdate(in model.UpdatePlanInput) billing.PlanUpdate {
	price := func(p *int) *int64 {
		if p == nil {
			return nil
		}
		v := int64(*p)
		return &v
	}
	return billing.PlanUpdate{
		Name: in.Name, Description: in.Description, PriceMonthly: price(in.PriceMonthly), PriceYearly: price(in.PriceYearly),
		TrialDays: in.TrialDays, MaxSeats: limit(in.MaxSeats), MaxProjects: limit(in.MaxProjects),
		MaxDataItems: limit(in.MaxDataItems), Features: in.Features, Active: in.Active,
	}
}

// limit maps an omittable limit: omitted stays, null is unlimited.
func limit(o graphql.Omittable[*int]) *billing.Limit {
	if !o.IsSet() {
		return nil
	}
	return &billing.Limit{Value: o.Value()}
}
