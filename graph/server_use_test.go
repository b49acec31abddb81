package graph

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/graph/generated"
)

type fieldTracer struct{}

func (fieldTracer) ExtensionName() string                   { return "tracer" }
func (fieldTracer) Validate(graphql.ExecutableSchema) error { return nil }
func (fieldTracer) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	return next(ctx)
}

func TestUseRefusesFieldInterceptorsThatPlainFieldsWouldSkip(t *testing.T) {
	t.Parallel()
	srv := handler.New(generated.NewExecutableSchema(generated.Config{}))
	require.PanicsWithValue(t, "graph: graph.fieldTracer intercepts fields, which plain fields skip (see genpatch)",
		func() { use(srv, fieldTracer{}) })
	require.NotPanics(t, func() { use(srv, shapeLimit{}) })
}
