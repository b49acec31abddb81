package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	entgql "github.com/clientiq/clientiq/ent/schema/gqlannotation"
)

// Tenant is a customer organisation (public schema). Its data lives in the
// PostgreSQL schema named by schema_name.
type Tenant struct{ ent.Schema }

// Mixin of the Tenant.
func (Tenant) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{Ordered: true}} }

// Fields of the Tenant.
func (Tenant) Fields() []ent.Field {
	return []ent.Field{
		field.String("slug").NotEmpty().MaxLen(63).Immutable().
			Annotations(entgql.OrderField("SLUG")),
		field.String("name").NotEmpty().MaxLen(200).
			Annotations(entgql.OrderField("NAME")),
		field.String("schema_name").NotEmpty().MaxLen(63).Immutable(),
		field.Enum("status").Values("active", "suspended", "pending_deletion").Default("active").
			Annotations(entgql.OrderField("STATUS")),
		field.Time("deletion_requested_at").Optional().Nillable(),
	}
}

// Edges of the Tenant.
func (Tenant) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("domains", Domain.Type).Annotations(entgql.RelayConnection()),
	}
}

// Indexes of the Tenant.
func (Tenant) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("slug").Unique(),
		index.Fields("schema_name").Unique(),
	}
}

// Annotations of the Tenant.
func (Tenant) Annotations() []schema.Annotation {
	return []schema.Annotation{
		ScopePublic,
		entgql.RelayConnection(),
	}
}
