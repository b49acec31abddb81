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

// RefreshToken is one opaque refresh token (public schema), stored as its
// SHA-256. Tokens of one login form a family: each refresh consumes the
// token and issues the next; presenting a consumed token again revokes the
// whole family.
type RefreshToken struct{ ent.Schema }

// Fields of the RefreshToken.
func (RefreshToken) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
		field.Bytes("token_hash").NotEmpty().Immutable().Sensitive(),
		field.UUID("family_id", uuid.UUID{}).Immutable(),
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		// tenant_id is the tenant the session belongs to; nil on the platform.
		field.UUID("tenant_id", uuid.UUID{}).Optional().Nillable().Immutable(),
		field.UUID("actor_id", uuid.UUID{}).Optional().Nillable().Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("expires_at").Immutable(),
		field.Time("consumed_at").Optional().Nillable(),
		field.UUID("replaced_by", uuid.UUID{}).Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
		field.String("user_agent").Default("").MaxLen(512),
		field.String("ip").Default("").MaxLen(64),
	}
}

// Indexes of the RefreshToken.
func (RefreshToken) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("token_hash").Unique(),
		index.Fields("family_id"),
		index.Fields("user_id"),
		index.Fields("expires_at"),
	}
}

// Annotations of the RefreshToken.
func (RefreshToken) Annotations() []schema.Annotation {
	return []schema.Annotation{ScopePublic, entgql.Skip(entgql.SkipAll)}
}
