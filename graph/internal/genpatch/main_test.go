package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGenpatchRewritesBothCallsAndRefusesWhatItCannotPatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := filepath.Join(dir, "generated.go")
	src := "type executionContext struct {\n\t*graphql.ExecutionContextState[ResolverRoot, DirectiveRoot, ComplexityRoot]\n}\n" +
		"a := graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, fn)\n" +
		"\tdeferred := graphql.NewDeferredGroup(ctx)\n" +
		"b := graphql.MarshalSliceConcurrently(ctx, 1, 0, false, fn)\n" +
		"func (ec *executionContext) _Project(ctx context.Context, sel ast.SelectionSet, obj *ent.Project) graphql.Marshaler {\n" +
		"\tfields := graphql.CollectFields(ec.OperationContext, sel, projectImplementors)\n" +
		"\tout.Dispatch(ctx)\n\n\treturn out\n}\n" +
		"\t\t\tvar buf bytes.Buffer\n\t\t\tdata.MarshalGQL(&buf)\n\t\t\tresponse.Data = buf.Bytes()\n" +
		"\t\t\tvar buf bytes.Buffer\n\t\t\tdata.MarshalGQL(&buf)\n\n\t\t\treturn &graphql.Response{\n" +
		field("Project", "name", "ent.Project", "obj.Name", "string", "marshalNString2string") +
		marshaler("marshalNString2string", "string", "graphql.MarshalString") +
		field("ProjectEdge", "node", "ent.ProjectEdge", "obj.Node", "*ent.Project", "marshalNProject2ᚖentᚐProject") +
		fieldContext("ProjectEdge", "node", true) +
		marshaler("marshalNProject2ᚖentᚐProject", "*ent.Project", "ec._Project")
	require.NoError(t, os.WriteFile(f, []byte(src), 0o644))
	require.NoError(t, run([]string{f}))
	got, err := os.ReadFile(f)
	require.NoError(t, err)
	require.Equal(t, 2, strings.Count(string(got), "marshalSliceInOrder("))
	require.Contains(t, string(got), "deferred := graphql.DeferredGroup{}")
	require.NotContains(t, string(got), "MarshalSliceConcurrently")
	require.NotContains(t, string(got), "NewDeferredGroup")
	require.Contains(t, string(got), "// genpatch: plain field")
	require.Contains(t, string(got), "// genpatch: plain object field")
	require.Contains(t, string(got), "\treturn marshalObject(fields, out) // genpatch: no FieldSet.MarshalGQL\n}\n")
	require.Contains(t, string(got), "\tfields := collectFields(&ec.fields, ec.OperationContext, sel, projectImplementors)\n")
	require.Contains(t, string(got), "\tfields fieldsCache // genpatch: see collectFields\n}\n")
	require.NotContains(t, string(got), "graphql.CollectFields")
	require.Equal(t, 2, strings.Count(string(got), "\t\t\tbuf := answerBuffer() // genpatch: recycled by ReleaseAnswer\n\t\t\tdata.MarshalGQL(buf)\n"),
		"the query's and the mutation's answers")
	require.NotContains(t, string(got), "var buf bytes.Buffer")

	err = run([]string{f})
	require.ErrorContains(t, err, "did gqlgen change?", "run again, there is nothing left to patch: an upgrade that renames a call is noticed")

	require.NoError(t, os.WriteFile(f, []byte(src+"if field.Deferrable != nil {}\n"), 0o644))
	require.ErrorContains(t, run([]string{f}), "deferrable", "a schema with @defer-able fields is not patched")
	require.Error(t, run(nil))
}
