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

// Invoice is what a tenant owes for a period (public schema): line items,
// totals in minor units, and the payments made against it.
type Invoice struct{ ent.Schema }

// Mixin of the Invoice.
func (Invoice) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{Ordered: true}} }

// Fields of the Invoice.
func (Invoice) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("tenant_id", uuid.UUID{}).Immutable(),
		field.UUID("subscription_id", uuid.UUID{}).Optional().Nillable().Immutable(),
		// number is human-facing and unique (INV-000123).
		field.String("number").NotEmpty().MaxLen(32).Immutable().
			Annotations(entgql.OrderField("NUMBER")),
		field.Enum("status").Values("draft", "open", "paid", "failed", "void").Default("open").
			Annotations(entgql.OrderField("STATUS")),
		field.String("currency").MinLen(3).MaxLen(3),
		field.Int64("subtotal"),
		field.Int64("total").
			Annotations(entgql.OrderField("TOTAL")),
		field.Time("period_start").Optional().Nillable(),
		field.Time("period_end").Optional().Nillable(),
		field.Time("due_at").Optional().Nillable(),
		field.Time("paid_at").Optional().Nillable(),
		field.String("failure_reason").Default("").MaxLen(500),
	}
}

// Edges of the Invoice.
func (Invoice) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("lines", InvoiceLine.Type),
		edge.To("payments", Payment.Type),
	}
}

// Indexes of the Invoice.
func (Invoice) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("number").Unique(),
		index.Fields("tenant_id", "created_at"),
		index.Fields("status"),
	}
}

// Annotations of the Invoice.
func (Invoice) Annotations() []schema.Annotation {
	return []schema.Annotation{ScopePublic, entgql.RelayConnection()}
}
