package generated

// This file is not generated: `make generate` points the generated code's
// CollectFields calls here (see graph/internal/genpatch).

import (
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// fieldsCache holds an operation's collected fields per selection set and
// object type. gqlgen caches them per operation too, but builds its key on
// every call (the selection set boxed through reflect, a new FNV hasher
// over the type's names): two allocations and a hash per object written,
// a twentieth of a list request's allocations. Here the key is two
// addresses, both fixed for the operation: the selection set's array (in
// the parsed document, or built once when fields are merged) and
// the type's implementors slice (one package variable per type).
type fieldsCache struct {
	mu sync.Mutex
	m  map[fieldsKey][]graphql.CollectedField
}

type fieldsKey struct {
	// sel is the selection set's backing array, as in gqlgen's key: fields
	// merged from several selections get a new array, which this key keeps
	// alive, so no other set can take its address.
	sel       *ast.Selection
	n         int
	satisfies *string
}

// collectFields is graphql.CollectFields(oc, sel, satisfies), remembered
// in c, the operation's cache (the generated code passes its
// executionContext's). The result depends on the operation's document and
// variables (@skip, @include), which do not change while the cache lives.
func collectFields(c *fieldsCache, oc *graphql.OperationContext, sel ast.SelectionSet, satisfies []string) []graphql.CollectedField {
	if len(sel) == 0 || len(satisfies) == 0 {
		return graphql.CollectFields(oc, sel, satisfies)
	}
	k := fieldsKey{sel: &sel[0], n: len(sel), satisfies: &satisfies[0]}
	c.mu.Lock()
	f, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return f
	}
	f = graphql.CollectFields(oc, sel, satisfies)
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[fieldsKey][]graphql.CollectedField, 8)
	}
	c.m[k] = f
	c.mu.Unlock()
	return f
}
