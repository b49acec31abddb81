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

// Domain is a host name that resolves to a tenant (public schema). Domains
// are stored lowercase without a trailing dot and are unique across tenants.
type Domain struct{ ent.Schema }

// Mixin of the Domain.
func (Domain) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{Ordered: true}} }

// Fields of the Domain.
func (Domain) Fields() []ent.Field {
	return []ent.Field{
		field.String("domain").NotEmpty().MaxLen(253).
			Annotations(entgql.OrderField("DOMAIN")),
		field.UUID("tenant_id", uuid.UUID{}),
		field.Bool("is_primary").Default(false),
	}
}

// Edges of the Domain.
func (Domain) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("tenant", Tenant.Type).Ref("domains").Field("tenant_id").Unique().Required(),
	}
}

// Indexes of the Domain.
func (Domain) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("domain").Unique(),
	}
}

// Annotations of the Domain.
func (Domain) Annotations() []schema.Annotation {
	return []schema.Annotation{ScopePublic, entgql.RelayConnection()}
}
