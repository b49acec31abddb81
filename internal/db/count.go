package db

import (
	"context"
	"slices"

	entgo "entgo.io/ent"

	"github.com/clientiq/clientiq/ent"
)

type withoutCountKey struct{}

// WithoutCount marks ctx so that counting entities of the given types (ent
// type names: ent.TypeProject) answers 0 without a query. entgql's
// Paginate counts the whole list whenever pageInfo is selected, and always
// outside GraphQL, although it needs the count only for totalCount: a list
// whose caller did not ask for a total passes a ctx marked here and saves a
// COUNT over the tenant's rows on every page. Only the named types are
// affected, so nested connections keep their totals.
func WithoutCount(ctx context.Context, types ...string) context.Context {
	return context.WithValue(ctx, withoutCountKey{}, types)
}

// elideCounts is the interceptor that honours WithoutCount.
var elideCounts = ent.InterceptFunc(func(next ent.Querier) ent.Querier {
	return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
		if types, ok := ctx.Value(withoutCountKey{}).([]string); ok {
			if qc := entgo.QueryFromContext(ctx); qc != nil && qc.Op == entgo.OpQueryCount && slices.Contains(types, qc.Type) {
				return 0, nil
			}
		}
		return next.Query(ctx, q)
	})
})
