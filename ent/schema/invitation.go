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

// Invitation invites an email into the tenant with a role (tenant schema).
// Its token is single-use, expiring and revocable; only its hash is stored.
type Invitation struct{ ent.Schema }

// Fields of the Invitation.
func (Invitation) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
		field.String("email").NotEmpty().MaxLen(254),
		field.String("role").NotEmpty().MaxLen(64),
		field.Bytes("token_hash").NotEmpty().Immutable().Sensitive().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.UUID("invited_by", uuid.UUID{}).Optional().Nillable().Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("expires_at"),
		field.Time("accepted_at").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

// Indexes of the Invitation.
func (Invitation) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("token_hash").Unique(),
		index.Fields("email"),
	}
}

// Annotations of the Invitation.
func (Invitation) Annotations() []schema.Annotation {
	return []schema.Annotation{ScopeTenant, entgql.Skip(entgql.SkipAll)}
}
