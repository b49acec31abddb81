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

// Member is a user's membership of the tenant (tenant schema; the design's
// per-tenant users table): the public user id, the roles, the status.
type Member struct{ ent.Schema }

// Mixin of the Member.
func (Member) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

// Fields of the Member.
func (Member) Fields() []ent.Field {
	return []ent.Field{
		// user_id is a public user id; no foreign key leaves the tenant schema.
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.Enum("status").Values("invited", "active", "disabled").Default("active").
			Annotations(entgql.OrderField("STATUS")),
		field.Time("joined_at").Optional().Nillable().
			Annotations(entgql.OrderField("JOINED_AT")),
	}
}

// Edges of the Member.
func (Member) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("roles", Role.Type),
	}
}

// Indexes of the Member.
func (Member) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id").Unique()}
}

// Annotations of the Member.
func (Member) Annotations() []schema.Annotation {
	return []schema.Annotation{ScopeTenant, entgql.Skip(entgql.SkipAll)}
}
