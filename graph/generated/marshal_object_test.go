package generated

import (
	"bytes"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
)

func collected(aliases ...string) []graphql.CollectedField {
	fs := make([]graphql.CollectedField, len(aliases))
	for i, a := range aliases {
		fs[i] = graphql.CollectedField{Field: &ast.Field{Alias: a, Name: a}}
	}
	return fs
}

func TestMarshalObjectWritesWhatFieldSetWrites(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		aliases []string
		values  []graphql.Marshaler
	}{
		{"empty", nil, nil},
		{"one", []string{"id"}, []graphql.Marshaler{graphql.MarshalString("a1")}},
		{"several with null", []string{"id", "name", "owner"},
			[]graphql.Marshaler{graphql.MarshalString("a1"), graphql.MarshalString(`quo"te`), graphql.Null}},
		{"repeated alias written once", []string{"id", "x", "id"},
			[]graphql.Marshaler{graphql.MarshalInt(1), graphql.MarshalBoolean(true), graphql.MarshalInt(2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fields := collected(tc.aliases...)
			fs := graphql.NewFieldSet(fields)
			copy(fs.Values, tc.values)
			var want, got bytes.Buffer
			fs.MarshalGQL(&want)
			marshalObject(fields, fs).MarshalGQL(&got)
			require.Equal(t, want.String(), got.String())
		})
	}
}
