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

// EmailSecret holds the secret part of a queued email (public schema): the
// link with a password reset, verification or invitation token. The
// SendEmail job's args name the row instead of carrying it, so the token
// is not kept with the job (River keeps finished jobs, and its UI shows
// their args); the worker deletes the row once the email is sent, and a
// periodic purge deletes rows whose token has expired.
type EmailSecret struct{ ent.Schema }

// Fields of the EmailSecret.
func (EmailSecret) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Immutable(),
		field.JSON("data", map[string]string{}).Immutable().Sensitive(),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("expires_at").Immutable(),
	}
}

// Indexes of the EmailSecret.
func (EmailSecret) Indexes() []ent.Index {
	return []ent.Index{index.Fields("expires_at")}
}

// Annotations of the EmailSecret.
func (EmailSecret) Annotations() []schema.Annotation {
	return []schema.Annotation{ScopePublic, entgql.Skip(entgql.SkipAll)}
}
