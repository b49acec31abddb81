package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	entgql "github.com/clientiq/clientiq/ent/schema/gqlannotation"
	"github.com/google/uuid"
)

// DemoRequest is a prospect's "request a demo" form from the marketing
// site (public schema: it belongs to no tenant). Anyone may create one;
// only platform staff read and triage them.
type DemoRequest struct{ ent.Schema }

// Mixin of the DemoRequest.
func (DemoRequest) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{Ordered: true}} }

// Fields of the DemoRequest.
func (DemoRequest) Fields() []ent.Field {
	// Lengths of what people type are bounded in characters by package
	// demorequest (the one writer), not here: ent's MaxLen counts bytes.
	return []ent.Field{
		field.String("name").NotEmpty(),
		// email is stored lowercase (normalized like account emails), so
		// staff find every request of one address with a single equality.
		field.String("email").NotEmpty().MaxLen(254),
		field.String("company").NotEmpty(),
		field.String("job_title").Default(""),
		field.String("phone").Default(""),
		// company_size is one of the marketing site's buckets (1-10, 11-50,
		// …) or empty; the list lives in package demorequest, so changing
		// the buckets needs no migration.
		field.String("company_size").Default("").MaxLen(16),
		field.Text("message").Default("").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		// locale is the language the prospect wrote in; their confirmation
		// email uses it.
		field.String("locale").Default("en").MaxLen(35),
		field.Enum("status").Values("new", "contacted", "qualified", "closed").Default("new").
			Annotations(entgql.OrderField("STATUS")),
		// handled_by is the staff user who last changed the request. No
		// foreign key: a departed staff member's account may be removed
		// without rewriting the sales history.
		field.UUID("handled_by", uuid.UUID{}).Optional().Nillable(),
		// notes are staff's own, never shown to the prospect.
		field.Text("notes").Default("").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		// source_ip and user_agent are kept for abuse triage only: they are
		// not part of the GraphQL type at all.
		field.String("source_ip").Default("").MaxLen(64).Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("user_agent").Default("").MaxLen(512).Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the DemoRequest.
func (DemoRequest) Indexes() []ent.Index {
	return []ent.Index{
		// The staff inbox: new requests, newest first.
		index.Fields("status", "created_at"),
		// Every request, newest first (the default order).
		index.Fields("created_at"),
		index.Fields("email"),
	}
}

// Annotations of the DemoRequest.
func (DemoRequest) Annotations() []schema.Annotation {
	return []schema.Annotation{ScopePublic, entgql.RelayConnection()}
}
