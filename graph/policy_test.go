package graph

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/graph/generated"
)

// policyDirectives are the access policies a root field may carry.
var policyDirectives = map[string]bool{"public": true, "authenticated": true, "hasPermission": true, "staff": true}

// TestEveryRootFieldHasExactlyOnePolicy is the deny-by-default guard: a
// Query, Mutation or Subscription field without an access policy (or with
// two) fails here, so no operation ships unprotected by accident.
func TestEveryRootFieldHasExactlyOnePolicy(t *testing.T) {
	t.Parallel()
	schema := generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}, Directives: directives()}).Schema()
	for _, root := range []string{"Query", "Mutation", "Subscription"} {
		def := schema.Types[root]
		if def == nil {
			continue
		}
		for _, f := range def.Fields {
			if len(f.Name) > 1 && f.Name[:2] == "__" {
				continue
			}
			n := 0
			for _, d := range f.Directives {
				if policyDirectives[d.Name] {
					n++
				}
			}
			require.Equal(t, 1, n, "%s.%s must carry exactly one of @public, @authenticated, @hasPermission, @staff", root, f.Name)
		}
	}
}
