package schema

import (
	entgql "github.com/clientiq/clientiq/ent/schema/gqlannotation"
	"github.com/vektah/gqlparser/v2/ast"
)

// Scope says which PostgreSQL schema an entity's table lives in. It is read
// by the migration generator (which writes migrations/public and
// migrations/tenant) and by the tenant-scoped client.
type Scope struct {
	// Tenant is true for tables copied into every tenant schema.
	Tenant bool
}

// Name implements schema.Annotation.
func (Scope) Name() string { return "Scope" }

// The two scopes.
var (
	ScopePublic = Scope{Tenant: false}
	ScopeTenant = Scope{Tenant: true}
)

// HasPermission is the @hasPermission directive for ent-generated GraphQL
// fields (edges) that need a permission of their own.
func HasPermission(p string) entgql.Directive {
	return entgql.NewDirective("hasPermission", &ast.Argument{
		Name:  "permission",
		Value: &ast.Value{Raw: p, Kind: ast.StringValue},
	})
}
