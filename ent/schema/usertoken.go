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

// UserToken is a single-use token sent by email (public schema): password
// reset or email verification. Only its SHA-256 is stored.
type UserToken struct{ ent.Schema }

// Fields of the UserToken.
func (UserToken) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.Enum("purpose").Values("password_reset", "email_verification").Immutable(),
		field.Bytes("token_hash").NotEmpty().Immutable().Sensitive(),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("expires_at").Immutable(),
		field.Time("used_at").Optional().Nillable(),
	}
}

// Indexes of the UserToken.
func (UserToken) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("token_hash").Unique(),
		index.Fields("user_id", "purpose"),
		index.Fields("expires_at"),
	}
}

// Annotations of the UserToken.
func (UserToken) Annotations() []schema.Annotation {
	return []schema.Annotation{ScopePublic, entgql.Skip(entgql.SkipAll)}
}
