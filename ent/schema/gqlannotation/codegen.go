//go:build entgqlcodegen

package gqlannotation

import "entgo.io/contrib/entgql"

// The annotations the schema uses, as entgql's.
type (
	Annotation = entgql.Annotation
	Directive  = entgql.Directive
	SkipMode   = entgql.SkipMode
)

// The skip modes the schema uses.
const (
	SkipAll        = entgql.SkipAll
	SkipOrderField = entgql.SkipOrderField
	SkipWhereInput = entgql.SkipWhereInput
)

// The annotation builders the schema uses.
var (
	Directives      = entgql.Directives
	NewDirective    = entgql.NewDirective
	OrderField      = entgql.OrderField
	RelayConnection = entgql.RelayConnection
	Skip            = entgql.Skip
	Type            = entgql.Type
)
