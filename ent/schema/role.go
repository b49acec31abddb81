package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	entgql "github.com/clientiq/clientiq/ent/schema/gqlannotation"
)

// Role is a named set of permissions in a tenant (tenant schema). The
// built-in roles (owner, admin, member, viewer) are seeded in every tenant
// and cannot be changed; custom roles can.
type Role struct{ ent.Schema }

// Mixin of the Role.
func (Role) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

// Fields of the Role.
func (Role) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(64).
			Annotations(entgql.OrderField("NAME")),
		field.String("description").Default("").MaxLen(500),
		field.Strings("permissions").Default([]string{}).
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Bool("builtin").Default(false),
	}
}

// Edges of the Role.
func (Role) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("members", Member.Type).Ref("roles"),
	}
}

// Indexes of the Role.
func (Role) Indexes() []ent.Index {
	return []ent.Index{index.Fields("name").Unique()}
}

// Annotations of the Role.
func (Role) Annotations() []schema.Annotation {
	return []schema.Annotation{ScopeTenant, entgql.Skip(entgql.SkipAll)}
}
