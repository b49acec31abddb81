package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The server links entgql's run-time half only (ent/entgql): entgql's code
// generator, and what it pulls in, would run its initialisers in every
// server and keep their heap for the server's life (ent/schema/gqlannotation).
func TestServerDoesNotLinkTheCodeGenerators(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/clientiq/clientiq/ent/entgql", "the run-time copy is what the ent code uses")
	for _, dep := range deps {
		for _, banned := range []string{
			"entgo.io/contrib/entgql", "entgo.io/ent/entc", "github.com/99designs/gqlgen/codegen",
			"github.com/99designs/gqlgen/api", "golang.org/x/tools/",
		} {
			require.False(t, dep == banned || strings.HasPrefix(dep, banned+"/") || (strings.HasSuffix(banned, "/") && strings.HasPrefix(dep, banned)),
				"clientiq links %s", dep)
		}
	}
}
