//go:build ignore

// entc.go generates the ent client and the GraphQL schema (graph/ent.graphql)
// from ent/schema. Run it from the module root: `make generate`.
package main

import (
	"log"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"
)

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("graph/ent.graphql"),
		entgql.WithConfigPath("gqlgen.yml"),
		entgql.WithWhereInputs(true),
		// node and nodes need a signed-in caller; what each may see is
		// decided per type in the resolver (deny by default).
		entgql.WithSchemaHook(func(_ *gen.Graph, s *ast.Schema) error {
			for _, f := range s.Types["Query"].Fields {
				if f.Name == "node" || f.Name == "nodes" {
					f.Directives = append(f.Directives, &ast.Directive{Name: "authenticated"})
				}
			}
			return nil
		}),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Features: []gen.Feature{
			gen.FeatureSchemaConfig,
			gen.FeatureVersionedMigration,
			gen.FeatureUpsert,
			gen.FeatureExecQuery,
			gen.FeatureLock,
			gen.FeatureIntercept,
		},
	},
		// The schema's entgql annotations are real only with this tag
		// (ent/schema/gqlannotation).
		entc.BuildTags("entgqlcodegen"),
		entc.Extensions(ex), entc.TemplateFiles("ent/template/scope.tmpl", "ent/template/schemaconfig.tmpl"))
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}
