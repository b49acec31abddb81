package generated

// This file is not generated: `make generate` points the generated code's
// list marshalling here (see generate.go).

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// marshalSliceInOrder marshals a list's elements one after another in the
// calling goroutine, where gqlgen's MarshalSliceConcurrently starts one
// goroutine per element. Every field of a list element that does I/O here
// is either loaded eagerly with its list (entgql's field collection) or
// through a per-request loader the list announced its ids to, so the
// goroutines bought no overlap, while costing a goroutine, its stack
// growth and scheduling per element (about a tenth of a list request's
// CPU). The semantics are gqlgen's: a panicking element becomes null with
// an error, and a nil workerLimit/omitPanicHandler mean what they mean
// there.
func marshalSliceInOrder(ctx context.Context, length int, _ int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler,
) graphql.Array {
	ret := make(graphql.Array, length)
	// The elements' field contexts and indexes in one allocation each
	// rather than two per element.
	fcs, indexes := make([]graphql.FieldContext, length), make([]int, length)
	for i := range length {
		indexes[i] = i
		fc := &fcs[i]
		fc.Index = &indexes[i]
		childCtx := graphql.WithFieldContext(ctx, fc)
		if omitPanicHandler {
			ret[i] = marshalElement(childCtx, i)
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(childCtx, graphql.Recover(childCtx, r))
					ret[i] = graphql.Null
				}
			}()
			ret[i] = marshalElement(childCtx, i)
		}()
	}
	return ret
}
