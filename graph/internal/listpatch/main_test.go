package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestListpatchRewritesTheCallAndRefusesAFileWithoutIt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := filepath.Join(dir, "generated.go")
	src := "a := graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, fn)\nb := graphql.MarshalSliceConcurrently(ctx, 1, 0, false, fn)\n"
	require.NoError(t, os.WriteFile(f, []byte(src), 0o644))
	require.NoError(t, run([]string{f}))
	got, err := os.ReadFile(f)
	require.NoError(t, err)
	require.Equal(t, 2, strings.Count(string(got), "marshalSliceInOrder("))
	require.NotContains(t, string(got), "MarshalSliceConcurrently")

	err = run([]string{f})
	require.ErrorContains(t, err, "did gqlgen change?", "run again, there is nothing left to patch: an upgrade that renames the call is noticed")
	require.Error(t, run(nil))
}
