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

// Payment is one attempt to collect an invoice (public schema). The row and
// its idempotency key are written before the provider is called, and the
// same key is sent on every retry, so a retried or duplicated job never
// charges twice.
type Payment struct{ ent.Schema }

// Mixin of the Payment.
func (Payment) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

// Fields of the Payment.
func (Payment) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("tenant_id", uuid.UUID{}).Immutable(),
		field.UUID("invoice_id", uuid.UUID{}).Immutable(),
		field.Int64("amount").Positive().Immutable(),
		field.String("currency").MinLen(3).MaxLen(3).Immutable(),
		field.Enum("status").Values("pending", "succeeded", "failed").Default("pending"),
		field.String("idempotency_key").NotEmpty().MaxLen(255).Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("provider").NotEmpty().MaxLen(32).Immutable(),
		field.String("provider_charge_id").Default("").MaxLen(255),
		field.String("failure_code").Default("").MaxLen(64),
		field.String("failure_reason").Default("").MaxLen(500),
		// attempts counts provider calls (retries reuse the key).
		field.Int("attempts").Default(0),
		field.Time("processed_at").Optional().Nillable(),
	}
}

// Edges of the Payment.
func (Payment) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("invoice", Invoice.Type).Ref("payments").Field("invoice_id").Unique().Required().Immutable(),
	}
}

// Indexes of the Payment.
func (Payment) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("idempotency_key").Unique(),
		index.Fields("tenant_id", "created_at"),
	}
}

// Annotations of the Payment.
func (Payment) Annotations() []schema.Annotation {
	return []schema.Annotation{ScopePublic, entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField)}
}
