package main

import (
	"fmt"
	"regexp"
	"strings"
)

// plainField matches a generated field function whose value is a struct
// field of its object (no resolver, no error, no field middleware of its
// own) marshalled by a non-null marshaler:
//
//	func (ec *executionContext) _Project_name(ctx context.Context, field graphql.CollectedField, obj *ent.Project) (ret graphql.Marshaler) {
//		return graphql.ResolveField(
//			…
//			func(ctx context.Context) (any, error) {
//				return obj.Name, nil
//			},
//			nil,
//			func(ctx context.Context, selections ast.SelectionSet, v string) graphql.Marshaler {
//				return ec.marshalNString2string(ctx, selections, v)
//			},
//			…
//		)
//	}
var plainField = regexp.MustCompile(fmt.Sprintf(structFieldFunc, "N", "true"))

// structFieldFunc is the generated field function of a struct field: %s
// is the kind of marshaler (N, non-null; O, nullable), %s the nonNull
// argument. Groups: object, field, field context function, Go field,
// value type, marshaler.
const structFieldFunc = `(?m)^func \(ec \*executionContext\) _(\w+)_(\w+)\(ctx context\.Context, field graphql\.CollectedField, obj \*[^)\s]+\) \(ret graphql\.Marshaler\) \{
	return graphql\.ResolveField\(
		ctx,
		ec\.OperationContext,
		field,
		func\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{
			return (ec\.fieldContext_\w+)\(ctx, field\)
		\},
		func\(ctx context\.Context\) \(any, error\) \{
			return obj\.(\w+), nil
		\},
		nil,
		func\(ctx context\.Context, selections ast\.SelectionSet, v ([^)\n]+)\) graphql\.Marshaler \{
			return ec\.(marshal%s[^(\s]+)\(ctx, selections, v\)
		\},
		true,
		%s,
	\)
\}
`

// marshalerBody finds a generated marshaler's body.
func marshalerBody(src, name string) (string, bool) {
	head := "func (ec *executionContext) " + name + "(ctx context.Context, sel ast.SelectionSet, v "
	i := strings.Index(src, head)
	if i < 0 {
		return "", false
	}
	open := strings.Index(src[i:], "{\n")
	end := strings.Index(src[i:], "\n}\n")
	if open < 0 || end < open {
		return "", false
	}
	return strings.TrimSpace(src[i+open+2 : i+end]), true
}

// neverNull is the body of a generated non-null marshaler whose scalar
// function is named by %s.
const neverNull = "_ = sel\n\tres := %s(v)\n\tif res == graphql.Null {"

// nullWhen maps the scalar marshal functions whose result can be
// graphql.Null to the condition (on the value, %s) under which it is not;
// "" for the ones that never return it.
var nullWhen = map[string]string{
	"graphql.MarshalString":  "",
	"graphql.MarshalBoolean": "",
	"graphql.MarshalInt":     "",
	"graphql.MarshalInt64":   "",
	"graphql.MarshalUUID":    "%s != uuid.Nil",
	"scalar.MarshalUUID":     "%s != uuid.Nil",
	"scalar.MarshalCursor":   "",
	"graphql.MarshalTime":    "!%s.IsZero()",
}

// plainFields gives plain scalar fields a direct path: the value is
// marshalled at once, without the field context, context value, resolver
// closures and boxing gqlgen's ResolveField spends on every field (a
// fifth of a list request's allocations). It applies only where skipping
// ResolveField changes nothing a client sees:
//
//   - the value is a struct field: nothing to resolve, no error, no panic;
//   - it is a scalar or enum whose non-null marshaler is known, so it
//     cannot yield null (the only thing a marshaler reports through the
//     field context); a UUID or time that could be null (uuid.Nil, the
//     zero time) still goes through ResolveField;
//   - the server registers no field interceptor (graph/server.go), which
//     ResolveField would call.
//
// It returns the source and how many fields it patched.
func plainFields(src string) (string, int, error) {
	n := 0
	var failed error
	out := plainField.ReplaceAllStringFunc(src, func(fn string) string {
		m := plainField.FindStringSubmatch(fn)
		goField, marshal := m[4], m[6]
		body, ok := marshalerBody(src, marshal)
		if !ok {
			failed = fmt.Errorf("marshaler %s of %s.%s not found", marshal, m[1], m[2])
			return fn
		}
		guard, known := "", body == "return v" // enums, cursors: the value marshals itself
		for f, cond := range nullWhen {
			if strings.HasPrefix(body, fmt.Sprintf(neverNull, f)) {
				guard, known = cond, true
				break
			}
		}
		if !known {
			return fn // a marshaler this patch does not know: left as gqlgen wrote it
		}
		direct := "ec." + marshal + "(ctx, field.Selections, obj." + goField + ")"
		head, rest, _ := strings.Cut(fn, "\n")
		n++
		if guard == "" {
			return head + "\n\treturn " + direct + " // genpatch: plain field\n}\n"
		}
		return head + "\n\tif " + fmt.Sprintf(guard, "obj."+goField) + " { // genpatch: plain field, not null\n\t\treturn " + direct + "\n\t}\n" + rest
	})
	return out, n, failed
}

// plainObjectField matches a generated field function whose value is a
// struct field of its object holding an object or a list (a node, a
// connection's edges, its pageInfo), nullable or not.
var plainObjectField = regexp.MustCompile(fmt.Sprintf(structFieldFunc, "[NO]", "(?:true|false)"))

// plainObjectFields gives struct fields holding an object or a list (whose
// field context has a Child) a direct path too: the field context is made
// and put in the context as ResolveField would (the children's paths and
// errors need it), and the value marshalled at once, without the three
// closures, the resolver middleware and the boxing ResolveField spends (a
// page of 20 projects has 20 such node fields). A nil pointer or slice
// still goes through ResolveField, which reports a null where none may be.
// The conditions of plainFields hold: a struct field has nothing to
// resolve and cannot fail, and no field interceptor is registered.
//
// It returns the source and how many fields it patched.
func plainObjectFields(src string) (string, int) {
	n := 0
	out := plainObjectField.ReplaceAllStringFunc(src, func(fn string) string {
		m := plainObjectField.FindStringSubmatch(fn)
		fieldContext, goField, vType, marshal := m[3], m[4], m[5], m[6]
		body := fieldContextBody(src, strings.TrimPrefix(fieldContext, "ec."))
		if !strings.Contains(body, "\t\tChild: func(") || strings.Contains(body, "fc.Args") {
			return fn // a scalar (plainFields' business), or arguments to parse: ResolveField reports their errors
		}
		head, rest, _ := strings.Cut(fn, "\n")
		cond := "v := obj." + goField + "; v != nil"
		if !strings.HasPrefix(vType, "*") && !strings.HasPrefix(vType, "[]") {
			cond = "v := obj." + goField + "; true"
		}
		n++
		return head + "\n\tif " + cond + " { // genpatch: plain object field\n" +
			"\t\tif fc, err := " + fieldContext + "(ctx, field); err == nil {\n" +
			"\t\t\tfc.Result = v\n" +
			"\t\t\treturn ec." + marshal + "(graphql.WithFieldContext(ctx, fc), field.Selections, v)\n" +
			"\t\t}\n\t}\n" + rest
	})
	return out, n
}

// fieldContextBody finds a generated field context function's body.
func fieldContextBody(src, name string) string {
	i := strings.Index(src, "func (ec *executionContext) "+name+"(")
	if i < 0 {
		return ""
	}
	end := strings.Index(src[i:], "\n}\n")
	if end < 0 {
		return ""
	}
	return src[i : i+end]
}
