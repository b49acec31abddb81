package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/clientiq/clientiq/graph/generated"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// directives enforce the access policy written on every Query and Mutation
// field. They call the same checks as the REST layer (package tenancy).
func directives() generated.DirectiveRoot {
	return generated.DirectiveRoot{
		Public: func(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
			return next(ctx)
		},
		Authenticated: func(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
			if _, err := tenancy.RequireViewer(ctx); err != nil {
				return nil, err
			}
			return next(ctx)
		},
		HasPermission: func(ctx context.Context, _ any, next graphql.Resolver, permission string) (any, error) {
			if _, err := tenancy.RequirePermission(ctx, rbac.Permission(permission)); err != nil {
				return nil, err
			}
			return next(ctx)
		},
		Staff: func(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
			if _, err := tenancy.RequireStaff(ctx); err != nil {
				return nil, err
			}
			return next(ctx)
		},
	}
}
