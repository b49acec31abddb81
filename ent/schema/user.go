package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	entgql "github.com/clientiq/clientiq/ent/schema/gqlannotation"
)

// User is a person who can sign in (public schema). One user may be a
// member of several tenants; platform staff have is_staff.
type User struct{ ent.Schema }

// Mixin of the User.
func (User) Mixin() []ent.Mixin { return []ent.Mixin{IDMixin{}, TimeMixin{}} }

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		// email is stored lowercase, so the unique index is case-insensitive.
		field.String("email").NotEmpty().MaxLen(254),
		field.String("password_hash").Sensitive().Optional().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("name").Default("").MaxLen(200),
		field.String("locale").Default("en").MaxLen(35),
		field.Bool("is_staff").Default(false).
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Time("email_verified_at").Optional().Nillable(),
		field.Time("disabled_at").Optional().Nillable(),
	}
}

// Indexes of the User.
func (User) Indexes() []ent.Index {
	return []ent.Index{index.Fields("email").Unique()}
}

// Annotations of the User.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{ScopePublic, entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField)}
}
