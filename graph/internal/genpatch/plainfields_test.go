package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// field is a generated field function as gqlgen writes it.
func field(obj, name, goType, value, vType, marshal string) string {
	return `func (ec *executionContext) _` + obj + `_` + name + `(ctx context.Context, field graphql.CollectedField, obj *` + goType + `) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_` + obj + `_` + name + `(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return ` + value + `, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v ` + vType + `) graphql.Marshaler {
			return ec.` + marshal + `(ctx, selections, v)
		},
		true,
		true,
	)
}
`
}

// marshaler is a generated non-null marshaler around scalarFn, or one
// that returns v itself when scalarFn is "".
func marshaler(name, vType, scalarFn string) string {
	body := "\treturn v\n"
	if scalarFn != "" {
		body = "\t_ = sel\n\tres := " + scalarFn + "(v)\n\tif res == graphql.Null {\n\t\tgraphql.AddInvalidNullFromMarshaler(ctx, \"X!\")\n\t}\n\treturn res\n"
	}
	return "func (ec *executionContext) " + name + "(ctx context.Context, sel ast.SelectionSet, v " + vType + ") graphql.Marshaler {\n" + body + "}\n\n"
}

func TestPlainFieldsMarshalStructFieldsDirectly(t *testing.T) {
	t.Parallel()
	src := field("Project", "name", "ent.Project", "obj.Name", "string", "marshalNString2string") +
		field("Project", "id", "ent.Project", "obj.ID", "uuid.UUID", "marshalNID2githubᚗcomᚋgoogleᚋuuidᚐUUID") +
		field("Project", "createdAt", "ent.Project", "obj.CreatedAt", "time.Time", "marshalNTime2timeᚐTime") +
		field("ProjectEdge", "cursor", "ent.ProjectEdge", "obj.Cursor", "entgql.Cursor[uuid.UUID]", "marshalNCursor2entgoᚗioᚋcontribᚋentgqlᚐCursor") +
		field("PageInfo", "hasNextPage", "entgql.PageInfo[uuid.UUID]", "obj.HasNextPage", "bool", "marshalNBoolean2bool") +
		// Left alone: a method call, a pointer (may be nil), an unknown scalar.
		field("Project", "owner", "ent.Project", "obj.Owner()", "string", "marshalNString2string") +
		field("Project", "edges", "ent.Project", "obj.Edges", "*ent.Edges", "marshalNEdges2ᚖentᚐEdges") +
		field("Project", "money", "ent.Project", "obj.Money", "decimal.Decimal", "marshalNDecimal2decimalᚐDecimal") +
		marshaler("marshalNString2string", "string", "graphql.MarshalString") +
		marshaler("marshalNID2githubᚗcomᚋgoogleᚋuuidᚐUUID", "uuid.UUID", "scalar.MarshalUUID") +
		marshaler("marshalNTime2timeᚐTime", "time.Time", "graphql.MarshalTime") +
		marshaler("marshalNCursor2entgoᚗioᚋcontribᚋentgqlᚐCursor", "entgql.Cursor[uuid.UUID]", "") +
		marshaler("marshalNBoolean2bool", "bool", "graphql.MarshalBoolean") +
		marshaler("marshalNEdges2ᚖentᚐEdges", "*ent.Edges", "ec._Edges") +
		marshaler("marshalNDecimal2decimalᚐDecimal", "decimal.Decimal", "decimal.Marshal")

	got, n, err := plainFields(src)
	require.NoError(t, err)
	require.Equal(t, 5, n)
	require.Contains(t, got, "obj *ent.Project) (ret graphql.Marshaler) {\n\treturn ec.marshalNString2string(ctx, field.Selections, obj.Name) // genpatch: plain field\n}\n")
	require.Contains(t, got, "\treturn ec.marshalNCursor2entgoᚗioᚋcontribᚋentgqlᚐCursor(ctx, field.Selections, obj.Cursor) // genpatch: plain field\n")
	require.Contains(t, got, "\treturn ec.marshalNBoolean2bool(ctx, field.Selections, obj.HasNextPage) // genpatch: plain field\n")
	// Values that marshal to null keep gqlgen's path, which reports them.
	require.Contains(t, got, "\tif obj.ID != uuid.Nil { // genpatch: plain field, not null\n\t\treturn ec.marshalNID2githubᚗcomᚋgoogleᚋuuidᚐUUID(ctx, field.Selections, obj.ID)\n\t}\n\treturn graphql.ResolveField(")
	require.Contains(t, got, "\tif !obj.CreatedAt.IsZero() { // genpatch: plain field, not null\n")
	for _, untouched := range []string{
		field("Project", "owner", "ent.Project", "obj.Owner()", "string", "marshalNString2string"),
		field("Project", "edges", "ent.Project", "obj.Edges", "*ent.Edges", "marshalNEdges2ᚖentᚐEdges"),
		field("Project", "money", "ent.Project", "obj.Money", "decimal.Decimal", "marshalNDecimal2decimalᚐDecimal"),
	} {
		require.Contains(t, got, untouched)
	}
	require.Equal(t, 5, strings.Count(got, "graphql.ResolveField("), "owner, edges, money, and the guarded slow paths of id and createdAt")
}

func TestPlainFieldsRefusesAFieldWhoseMarshalerIsMissing(t *testing.T) {
	t.Parallel()
	_, _, err := plainFields(field("Project", "name", "ent.Project", "obj.Name", "string", "marshalNString2string"))
	require.ErrorContains(t, err, "marshaler marshalNString2string of Project.name not found")
}

// fieldContext is a generated field context function; child says the
// field's type is an object (or a list of them).
func fieldContext(obj, name string, child bool) string {
	body := "\treturn graphql.NewScalarFieldContext(\"" + obj + "\", field, false, false, \"String\")\n"
	if child {
		body = "\tfc = &graphql.FieldContext{\n\t\tObject:     \"" + obj + "\",\n\t\tField:      field,\n\t\tChild: func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {\n\t\t\treturn ec.childFields_X(ctx, field)\n\t\t},\n\t}\n\treturn fc, nil\n"
	}
	return "func (ec *executionContext) fieldContext_" + obj + "_" + name + "(_ context.Context, field graphql.CollectedField) (fc *graphql.FieldContext, err error) {\n" + body + "}\n\n"
}

func TestPlainObjectFieldsKeepTheFieldContextAndSkipTheRest(t *testing.T) {
	t.Parallel()
	nullable := func(s string) string {
		return strings.Replace(s, "\t\ttrue,\n\t\ttrue,\n", "\t\ttrue,\n\t\tfalse,\n", 1)
	}
	node := nullable(field("ProjectEdge", "node", "ent.ProjectEdge", "obj.Node", "*ent.Project", "marshalOProject2ᚖentᚐProject"))
	edges := nullable(field("ProjectConnection", "edges", "ent.ProjectConnection", "obj.Edges", "[]*ent.ProjectEdge", "marshalOProjectEdge2ᚕᚖentᚐProjectEdge"))
	pageInfo := field("ProjectConnection", "pageInfo", "ent.ProjectConnection", "obj.PageInfo", "entgql.PageInfo[uuid.UUID]", "marshalNPageInfo2entgqlᚐPageInfo")
	// Left alone: a scalar (plainFields' business, or gqlgen's when its
	// marshaler is unknown) and a method.
	money := field("Project", "money", "ent.Project", "obj.Money", "decimal.Decimal", "marshalNDecimal2decimalᚐDecimal")
	owner := nullable(field("Project", "owner", "ent.Project", "obj.Owner()", "*ent.User", "marshalOUser2ᚖentᚐUser"))
	// And a field whose context parses arguments: ResolveField reports
	// their errors.
	withArgs := nullable(field("Project", "items", "ent.Project", "obj.Items", "*ent.ItemConnection", "marshalOItemConnection2ᚖentᚐItemConnection"))
	argsContext := strings.Replace(fieldContext("Project", "items", true), "\treturn fc, nil\n",
		"\tif fc.Args, err = ec.field_Project_items_args(ctx, field.ArgumentMap(ec.Variables)); err != nil {\n\t\treturn fc, err\n\t}\n\treturn fc, nil\n", 1)
	src := node + edges + pageInfo + money + owner + withArgs + argsContext +
		fieldContext("ProjectEdge", "node", true) + fieldContext("ProjectConnection", "edges", true) +
		fieldContext("ProjectConnection", "pageInfo", true) + fieldContext("Project", "money", false) +
		fieldContext("Project", "owner", true)

	got, n := plainObjectFields(src)
	require.Equal(t, 3, n)
	require.Contains(t, got, "obj *ent.ProjectEdge) (ret graphql.Marshaler) {\n"+
		"\tif v := obj.Node; v != nil { // genpatch: plain object field\n"+
		"\t\tif fc, err := ec.fieldContext_ProjectEdge_node(ctx, field); err == nil {\n"+
		"\t\t\tfc.Result = v\n"+
		"\t\t\treturn ec.marshalOProject2ᚖentᚐProject(graphql.WithFieldContext(ctx, fc), field.Selections, v)\n"+
		"\t\t}\n\t}\n\treturn graphql.ResolveField(\n", "a nil node still goes through ResolveField")
	require.Contains(t, got, "\tif v := obj.Edges; v != nil { // genpatch: plain object field\n")
	require.Contains(t, got, "\tif v := obj.PageInfo; true { // genpatch: plain object field\n", "a struct value is never nil")
	require.Contains(t, got, money)
	require.Contains(t, got, owner)
	require.Contains(t, got, withArgs)
	require.Equal(t, 6, strings.Count(got, "graphql.ResolveField("), "every patched field keeps gqlgen's path behind it")
}
