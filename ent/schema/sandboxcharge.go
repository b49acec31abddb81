package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	entgql "github.com/clientiq/clientiq/ent/schema/gqlannotation"
)

// SandboxCharge is the built-in sandbox payment provider's own ledger
// (public schema): what a real provider would hold on its side. It keeps
// one charge per idempotency key, as Stripe does, and counts the requests
// that replayed it; tests audit it for double and lost charges.
type SandboxCharge struct{ ent.Schema }

// Mixin of the SandboxCharge.
func (SandboxCharge) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

// Fields of the SandboxCharge.
func (SandboxCharge) Fields() []ent.Field {
	return []ent.Field{
		field.String("idempotency_key").NotEmpty().MaxLen(255).Immutable(),
		// reference is the caller's reference (ClientIQ's invoice id), so
		// two charges for one invoice under different keys show up.
		field.String("reference").Default("").MaxLen(255).Immutable(),
		field.Int64("amount").Immutable(),
		field.String("currency").MinLen(3).MaxLen(3).Immutable(),
		field.String("payment_method").MaxLen(255).Immutable(),
		field.Enum("outcome").Values("succeeded", "declined", "insufficient_funds").Immutable(),
		field.Int("requests").Default(1),
	}
}

// Indexes of the SandboxCharge.
func (SandboxCharge) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("idempotency_key").Unique(),
		index.Fields("reference"),
	}
}

// Annotations of the SandboxCharge.
func (SandboxCharge) Annotations() []schema.Annotation {
	return []schema.Annotation{ScopePublic, entgql.Skip(entgql.SkipAll)}
}
