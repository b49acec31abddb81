//go:build !entgqlcodegen

package gqlannotation

import "github.com/vektah/gqlparser/v2/ast"

// Annotation stands for entgql.Annotation outside the code generator.
type Annotation struct{}

// Name implements schema.Annotation with entgql's name.
func (Annotation) Name() string { return "EntGQL" }

// Directive stands for entgql.Directive.
type Directive struct{}

// SkipMode stands for entgql.SkipMode.
type SkipMode int

// The skip modes the schema uses (their values do not matter here).
const (
	SkipOrderField SkipMode = 1 << iota
	SkipWhereInput
	SkipAll = SkipOrderField | SkipWhereInput
)

// Directives stands for entgql.Directives.
func Directives(...Directive) Annotation { return Annotation{} }

// NewDirective stands for entgql.NewDirective.
func NewDirective(string, ...*ast.Argument) Directive { return Directive{} }

// OrderField stands for entgql.OrderField.
func OrderField(string) Annotation { return Annotation{} }

// RelayConnection stands for entgql.RelayConnection.
func RelayConnection() Annotation { return Annotation{} }

// Skip stands for entgql.Skip.
func Skip(...SkipMode) Annotation { return Annotation{} }

// Type stands for entgql.Type.
func Type(string) Annotation { return Annotation{} }
