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

// DataItem is one record of a tenant's data (tenant schema), inside a project.
type DataItem struct{ ent.Schema }

// Mixin of the DataItem.
func (DataItem) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

// Fields of the DataItem.
func (DataItem) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("project_id", uuid.UUID{}),
		field.String("title").NotEmpty().MaxLen(500).
			Annotations(entgql.OrderField("TITLE")),
		field.JSON("attributes", map[string]any{}).Optional().
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Strings("tags").Optional().
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
	}
}

// Edges of the DataItem.
func (DataItem) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("project", Project.Type).Ref("items").Field("project_id").Unique().Required(),
	}
}

// Indexes of the DataItem.
func (DataItem) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("project_id", "created_at"),
	}
}

// Annotations of the DataItem.
func (DataItem) Annotations() []schema.Annotation {
	return []schema.Annotation{
		ScopeTenant,
		entgql.RelayConnection(),
	}
}
