package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	entgql "github.com/clientiq/clientiq/ent/schema/gqlannotation"
)

// SchemaVersion records the last tenant migration applied to each tenant
// schema (public schema), so `clientiq migrate` finds the schemas that are
// behind with one query.
type SchemaVersion struct{ ent.Schema }

// Fields of the SchemaVersion.
func (SchemaVersion) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").StorageKey("schema_name").NotEmpty().MaxLen(63).Immutable(),
		field.String("version").NotEmpty(),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now),
	}
}

// Annotations of the SchemaVersion.
func (SchemaVersion) Annotations() []schema.Annotation {
	return []schema.Annotation{ScopePublic, entgql.Skip(entgql.SkipAll)}
}
