package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	entgql "github.com/clientiq/clientiq/ent/schema/gqlannotation"
	"github.com/google/uuid"
)

// Subscription is a tenant's one subscription to a plan (public schema):
// trialing → active → past_due → canceled. There is no foreign key to
// tenants: billing records outlive a purged tenant (bookkeeping), and
// tenant rows stay free to move (see docs/scaling.md).
type Subscription struct{ ent.Schema }

// Mixin of the Subscription.
func (Subscription) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

// Fields of the Subscription.
func (Subscription) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("tenant_id", uuid.UUID{}).Immutable(),
		field.UUID("plan_id", uuid.UUID{}),
		field.Enum("interval").Values("month", "year").Default("month"),
		field.Enum("status").Values("trialing", "active", "past_due", "canceled"),
		field.Time("trial_ends_at").Optional().Nillable(),
		field.Time("current_period_start"),
		field.Time("current_period_end"),
		// cancel_at_period_end: canceled by the customer, ends at
		// current_period_end unless resumed.
		field.Bool("cancel_at_period_end").Default(false),
		field.Time("canceled_at").Optional().Nillable(),
		// scheduled_plan_id is a downgrade that takes effect at period end.
		field.UUID("scheduled_plan_id", uuid.UUID{}).Optional().Nillable(),
		field.Time("past_due_since").Optional().Nillable(),
		// provider names the PaymentProvider (sandbox, stripe).
		field.String("provider").Default("sandbox").MaxLen(32),
		field.String("provider_customer_id").Default("").MaxLen(255).
			Annotations(entgql.Skip(entgql.SkipAll)),
		// payment_method is the provider's token for the card on file
		// (never a card number).
		field.String("payment_method").Default("").MaxLen(255).
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the Subscription.
func (Subscription) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("plan", Plan.Type).Field("plan_id").Unique().Required(),
		edge.To("scheduled_plan", Plan.Type).Field("scheduled_plan_id").Unique(),
	}
}

// Indexes of the Subscription.
func (Subscription) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id").Unique(),
		index.Fields("status", "current_period_end"),
	}
}

// Annotations of the Subscription.
func (Subscription) Annotations() []schema.Annotation {
	return []schema.Annotation{
		ScopePublic,
		// "Subscription" is GraphQL's root subscription type.
		entgql.Type("TenantSubscription"),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField),
	}
}
