package generated

// This file is not generated: `make generate` points the generated code's
// object results here (see graph/internal/genpatch).

import (
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// object is a resolved object's result: its collected fields and their
// values, written as a JSON object. gqlgen's FieldSet writes the same
// bytes, but its MarshalGQL copies every field to the heap (an iterator
// yielding &field) and builds a map of the aliases written, per object: a
// fifth of a list request's allocations. Here the fields are read in place
// and a repeated alias, which CollectFields already merges, is looked up
// among the fields before it.
type object struct {
	fields []graphql.CollectedField
	values []graphql.Marshaler
}

// marshalObject is what the generated object functions return once their
// FieldSet is dispatched (every value is in place).
func marshalObject(fields []graphql.CollectedField, out *graphql.FieldSet) graphql.Marshaler {
	return object{fields: fields, values: out.Values}
}

// MarshalGQL writes {"alias":value,…} in field order, each alias once.
func (o object) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, "{")
	first := true
	for i := range o.fields {
		alias := o.fields[i].Alias
		if o.written(i, alias) {
			continue
		}
		if first {
			first = false
			_, _ = io.WriteString(w, `"`)
		} else {
			_, _ = io.WriteString(w, `,"`)
		}
		// An alias is a GraphQL name ([_A-Za-z][_0-9A-Za-z]*): nothing to
		// escape.
		_, _ = io.WriteString(w, alias)
		_, _ = io.WriteString(w, `":`)
		o.values[i].MarshalGQL(w)
	}
	_, _ = io.WriteString(w, "}")
}

// written reports whether a field before i has the same alias.
func (o object) written(i int, alias string) bool {
	for j := range i {
		if o.fields[j].Alias == alias {
			return true
		}
	}
	return false
}
