// Command listpatch is run by `make generate` after gqlgen: it points the
// generated code's list marshalling at marshalSliceInOrder
// (graph/generated/marshal_slice.go), which marshals a list's elements in
// order instead of one goroutine per element. It fails when it finds
// nothing to change, so a gqlgen upgrade that renames the call is noticed
// rather than silently undoing the patch.
package main

import (
	"bytes"
	"fmt"
	"os"
)

const (
	from = "graphql.MarshalSliceConcurrently("
	to   = "marshalSliceInOrder("
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "listpatch:", err)
		os.Exit(1)
	}
}

func run(files []string) error {
	if len(files) == 0 {
		return fmt.Errorf("usage: listpatch FILE...")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		n := bytes.Count(b, []byte(from))
		if n == 0 {
			return fmt.Errorf("%s: no %s to replace (did gqlgen change?)", f, from)
		}
		if err := os.WriteFile(f, bytes.ReplaceAll(b, []byte(from), []byte(to)), 0o644); err != nil {
			return err
		}
	}
	return nil
}
