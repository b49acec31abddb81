// Package schema holds ClientIQ's handwritten ent schemas. Every entity is
// either public (shared by all tenants, in the public schema) or tenant-owned
// (one copy per tenant schema); the scope is recorded with Scope annotations.
package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"
	entgql "github.com/clientiq/clientiq/ent/schema/gqlannotation"
	"github.com/google/uuid"
)

// IDMixin gives an entity a random UUID primary key.
type IDMixin struct{ mixin.Schema }

// Fields of the IDMixin.
func (IDMixin) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
	}
}

// TimeMixin records creation and last update times.
type TimeMixin struct {
	mixin.Schema
	// Ordered makes both times GraphQL order fields (CREATED_AT,
	// UPDATED_AT) of an entity whose connection entgql orders; entities
	// ordered by hand-written enums leave it off.
	Ordered bool
}

// Fields of the TimeMixin.
func (m TimeMixin) Fields() []ent.Field {
	created := field.Time("created_at").Default(time.Now).Immutable()
	updated := field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now)
	if m.Ordered {
		created.Annotations(entgql.OrderField("CREATED_AT"))
		updated.Annotations(entgql.OrderField("UPDATED_AT"))
	}
	return []ent.Field{created, updated}
}
