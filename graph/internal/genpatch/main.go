// Command genpatch is run by `make generate` after gqlgen: it takes two
// costs out of the generated code's hot paths, where gqlgen has no option
// for them.
//
//   - List marshalling goes through marshalSliceInOrder
//     (graph/generated/marshal_slice.go), which marshals a list's elements
//     in order instead of one goroutine per element.
//   - Plain scalar fields (a struct field marshalled by a marshaler that
//     cannot yield null) skip gqlgen's per-field machinery: see
//     plainFields. Struct fields holding an object or a list keep their
//     field context but skip the rest of that machinery: see
//     plainObjectFields.
//   - Objects are written by marshalObject
//     (graph/generated/marshal_object.go), not by FieldSet.MarshalGQL,
//     which copies each field to the heap and builds a map per object.
//   - Objects' fields are collected by collectFields
//     (graph/generated/collect_fields.go), which remembers them per
//     operation (a field the patch adds to executionContext) under a key
//     of two addresses; gqlgen's CollectFields
//     builds its key with two allocations and a hash on every call.
//   - Queries' and mutations' answers are written into a buffer recycled
//     from an answer already sent (graph/generated/answer_buffer.go), where
//     gqlgen grows a new one by doubling for each.
//   - Objects no longer build a DeferredGroup each (the path of the field,
//     a field set and a map: a tenth of a list request's allocations): the
//     schema has no @defer-able field, so nothing is ever added to it. The
//     patch refuses a file that handles deferrable fields.
//
// It fails when it finds nothing to change, so a gqlgen upgrade that
// renames a call is noticed rather than silently undoing the patch.
package main

import (
	"bytes"
	"fmt"
	"os"
)

// replacements are the patches, each required at least once.
var replacements = []struct{ from, to string }{
	{"graphql.MarshalSliceConcurrently(", "marshalSliceInOrder("},
	{"deferred := graphql.NewDeferredGroup(ctx)", "deferred := graphql.DeferredGroup{} // genpatch: no @defer-able field"},
	{"\n\treturn out\n}\n", "\n\treturn marshalObject(fields, out) // genpatch: no FieldSet.MarshalGQL\n}\n"},
	{"graphql.CollectFields(ec.OperationContext, sel, ", "collectFields(&ec.fields, ec.OperationContext, sel, "},
	{"\t\t\tvar buf bytes.Buffer\n\t\t\tdata.MarshalGQL(&buf)\n\t\t\tresponse.Data = buf.Bytes()",
		"\t\t\tbuf := answerBuffer() // genpatch: recycled by ReleaseAnswer\n\t\t\tdata.MarshalGQL(buf)\n\t\t\tresponse.Data = buf.Bytes()"},
	{"\t\t\tvar buf bytes.Buffer\n\t\t\tdata.MarshalGQL(&buf)\n\n\t\t\treturn &graphql.Response{",
		"\t\t\tbuf := answerBuffer() // genpatch: recycled by ReleaseAnswer\n\t\t\tdata.MarshalGQL(buf)\n\n\t\t\treturn &graphql.Response{"},
	{"type executionContext struct {\n\t*graphql.ExecutionContextState[ResolverRoot, DirectiveRoot, ComplexityRoot]\n}",
		"type executionContext struct {\n\t*graphql.ExecutionContextState[ResolverRoot, DirectiveRoot, ComplexityRoot]\n\tfields fieldsCache // genpatch: see collectFields\n}"},
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "genpatch:", err)
		os.Exit(1)
	}
}

func run(files []string) error {
	if len(files) == 0 {
		return fmt.Errorf("usage: genpatch FILE...")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte("Deferrable")) {
			return fmt.Errorf("%s handles deferrable fields: the DeferredGroup patch would drop them", f)
		}
		for _, r := range replacements {
			if !bytes.Contains(b, []byte(r.from)) {
				return fmt.Errorf("%s: no %s to replace (did gqlgen change?)", f, r.from)
			}
			b = bytes.ReplaceAll(b, []byte(r.from), []byte(r.to))
		}
		src, n, err := plainFields(string(b))
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if n == 0 {
			return fmt.Errorf("%s: no plain field to patch (did gqlgen change?)", f)
		}
		if src, n = plainObjectFields(src); n == 0 {
			return fmt.Errorf("%s: no plain object field to patch (did gqlgen change?)", f)
		}
		b = []byte(src)
		if err := os.WriteFile(f, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
