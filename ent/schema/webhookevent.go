package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	entgql "github.com/clientiq/clientiq/ent/schema/gqlannotation"
)

// WebhookEvent records a payment provider's webhook delivery (public
// schema), unique by provider and event id, so a redelivered event is
// processed once.
type WebhookEvent struct{ ent.Schema }

// Mixin of the WebhookEvent.
func (WebhookEvent) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

// Fields of the WebhookEvent.
func (WebhookEvent) Fields() []ent.Field {
	return []ent.Field{
		field.String("provider").NotEmpty().MaxLen(32).Immutable(),
		field.String("event_id").NotEmpty().MaxLen(255).Immutable(),
		field.String("type").NotEmpty().MaxLen(128).Immutable(),
		// created is the provider's event time: events arrive out of order.
		field.Time("event_created_at").Immutable(),
		field.Bytes("payload").Immutable(),
		field.Time("processed_at").Optional().Nillable(),
	}
}

// Indexes of the WebhookEvent.
func (WebhookEvent) Indexes() []ent.Index {
	return []ent.Index{index.Fields("provider", "event_id").Unique()}
}

// Annotations of the WebhookEvent.
func (WebhookEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{ScopePublic, entgql.Skip(entgql.SkipAll)}
}
