package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	entgql "github.com/clientiq/clientiq/ent/schema/gqlannotation"
	"github.com/google/uuid"
)

// InvoiceLine is one line of an invoice (public schema). A proration
// credit has a negative amount.
type InvoiceLine struct{ ent.Schema }

// Mixin of the InvoiceLine.
func (InvoiceLine) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}} }

// Fields of the InvoiceLine.
func (InvoiceLine) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("invoice_id", uuid.UUID{}).Immutable(),
		field.Enum("kind").Values("subscription", "proration", "credit").Immutable(),
		field.String("description").NotEmpty().MaxLen(500).Immutable(),
		field.Int("quantity").Default(1).Immutable(),
		field.Int64("unit_amount").Immutable(),
		field.Int64("amount").Immutable(),
		field.Int("position").Default(0).Immutable(),
	}
}

// Edges of the InvoiceLine.
func (InvoiceLine) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("invoice", Invoice.Type).Ref("lines").Field("invoice_id").Unique().Required().Immutable(),
	}
}

// Annotations of the InvoiceLine.
func (InvoiceLine) Annotations() []schema.Annotation {
	return []schema.Annotation{ScopePublic, entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField)}
}
