package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	entgql "github.com/clientiq/clientiq/ent/schema/gqlannotation"
	"github.com/google/uuid"
)

// Project is a tenant's project (tenant schema): the container of its data
// items.
type Project struct{ ent.Schema }

// Mixin of the Project.
func (Project) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{Ordered: true}} }

// Fields of the Project.
func (Project) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).
			Annotations(entgql.OrderField("NAME")),
		field.Text("description").Default("").MaxLen(10_000),
		field.Enum("status").Values("active", "archived").Default("active").
			Annotations(entgql.OrderField("STATUS")),
		// owner_id is a public user id. No foreign key crosses from a tenant
		// schema into public, so tenant schemas can move (Citus, replicas).
		field.UUID("owner_id", uuid.UUID{}).Optional().Nillable(),
	}
}

// Edges of the Project.
func (Project) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("items", DataItem.Type).
			Annotations(entgql.RelayConnection(), entsql.OnDelete(entsql.Cascade),
				// Reading a project's items needs data.read, as listing them does.
				entgql.Directives(HasPermission("data.read"))),
	}
}

// Indexes of the Project.
func (Project) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("created_at"),
		index.Fields("name"),
		index.Fields("owner_id"),
	}
}

// Annotations of the Project.
func (Project) Annotations() []schema.Annotation {
	return []schema.Annotation{
		ScopeTenant,
		entgql.RelayConnection(),
	}
}
