package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	entgql "github.com/clientiq/clientiq/ent/schema/gqlannotation"
	"github.com/google/uuid"
)

// AuditEvent is one entry of a tenant's audit log (tenant schema): who did
// what, from where, when. Rows are only ever inserted.
type AuditEvent struct{ ent.Schema }

// Fields of the AuditEvent.
func (AuditEvent) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
		field.String("action").NotEmpty().MaxLen(64).Immutable().
			Annotations(entgql.OrderField("ACTION")),
		field.UUID("actor_id", uuid.UUID{}).Optional().Nillable().Immutable(),
		// impersonator_id is the staff user acting as actor_id, if any.
		field.UUID("impersonator_id", uuid.UUID{}).Optional().Nillable().Immutable(),
		field.String("target_type").Default("").MaxLen(64).Immutable(),
		field.String("target_id").Default("").MaxLen(128).Immutable(),
		field.String("ip").Default("").MaxLen(64).Immutable(),
		field.String("user_agent").Default("").MaxLen(512).Immutable(),
		field.JSON("metadata", map[string]any{}).Optional().Immutable().
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Time("created_at").Default(time.Now).Immutable().
			Annotations(entgql.OrderField("CREATED_AT")),
	}
}

// Indexes of the AuditEvent.
func (AuditEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("created_at"),
		index.Fields("action", "created_at"),
	}
}

// Annotations of the AuditEvent.
func (AuditEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{ScopeTenant, entgql.RelayConnection()}
}
