package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	entgql "github.com/clientiq/clientiq/ent/schema/gqlannotation"
)

// Plan is a price list entry tenants subscribe to (public schema): prices in
// minor units, a trial, limits and features. Free, Starter, Pro and
// Enterprise are seeded by migration; staff edit them.
type Plan struct{ ent.Schema }

// Mixin of the Plan.
func (Plan) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

// Fields of the Plan.
func (Plan) Fields() []ent.Field {
	return []ent.Field{
		// code is the stable machine name (free, starter, pro, enterprise).
		field.String("code").NotEmpty().MaxLen(32).Immutable(),
		field.String("name").NotEmpty().MaxLen(100),
		field.String("description").Default("").MaxLen(1000),
		// currency is an ISO 4217 code, upper case.
		field.String("currency").Default("USD").MinLen(3).MaxLen(3),
		// Prices are in the currency's minor units (cents).
		field.Int64("price_monthly").NonNegative(),
		field.Int64("price_yearly").NonNegative(),
		field.Int("trial_days").NonNegative().Default(0),
		// Limits: nil means unlimited.
		field.Int("max_seats").Optional().Nillable().NonNegative(),
		field.Int("max_projects").Optional().Nillable().NonNegative(),
		field.Int("max_data_items").Optional().Nillable().NonNegative(),
		field.Strings("features").Optional(),
		// active plans can be subscribed to; inactive ones stay for existing
		// subscriptions.
		field.Bool("active").Default(true),
		field.Int("sort_order").Default(0),
	}
}

// Indexes of the Plan.
func (Plan) Indexes() []ent.Index {
	return []ent.Index{index.Fields("code").Unique()}
}

// Annotations of the Plan.
func (Plan) Annotations() []schema.Annotation {
	return []schema.Annotation{ScopePublic, entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField)}
}
