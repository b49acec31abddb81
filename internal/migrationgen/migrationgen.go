// Package migrationgen writes versioned SQL migrations from the ent schemas:
// it replays migrations/<group> into an empty development database, diffs
// the result against the ent tables of that group (public or tenant), and
// writes the difference as a new file. It is a development tool: `make
// migration NAME=…` runs it, and a test uses it to prove that the committed
// files match the ent schemas.
package migrationgen

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/clientiq/clientiq/ent/migrate"
)

// Groups are the migration directories, by scope.
var Groups = []string{"public", "tenant"}

// TablesByGroup loads the ent schema graph from schemaDir and returns, per
// group, the ent tables that belong to it (by the Scope annotation).
func TablesByGroup(schemaDir string) (map[string][]*schema.Table, error) {
	graph, err := entc.LoadGraph(schemaDir, &gen.Config{})
	if err != nil {
		return nil, fmt.Errorf("load ent schema graph: %w", err)
	}
	tenantTables := map[string]bool{}
	known := map[string]bool{}
	for _, n := range graph.Nodes {
		known[n.Table()] = true
		if isTenant(n) {
			tenantTables[n.Table()] = true
			// Join tables of many-to-many edges follow their owner.
			for _, e := range n.Edges {
				if e.M2M() && !e.IsInverse() {
					tenantTables[e.Rel.Table] = true
				}
			}
		}
	}
	out := map[string][]*schema.Table{}
	for _, t := range migrate.Tables {
		g := "public"
		if tenantTables[t.Name] {
			g = "tenant"
		}
		out[g] = append(out[g], t)
	}
	return out, nil
}

func isTenant(n *gen.Type) bool {
	a, ok := n.Annotations["Scope"].(map[string]any)
	if !ok {
		return false
	}
	t, _ := a["Tenant"].(bool)
	return t
}

// Diff writes a migration named name into dir for the difference between
// what dir already holds and tables, using the empty database at devURL. It
// returns the names of the files it wrote (none when nothing changed).
func Diff(ctx context.Context, devURL string, dir atlasmigrate.Dir, name string, tables []*schema.Table) ([]string, error) {
	// ent's Atlas diff writes into the shared table definitions
	// (migrate.Tables): one diff at a time.
	diffMu.Lock()
	defer diffMu.Unlock()
	registerPostgres()
	before, err := dir.Files()
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	m, err := schema.NewMigrateURL(devURL,
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(dialect.Postgres),
		schema.WithFormatter(atlasmigrate.DefaultFormatter),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
	)
	if err != nil {
		return nil, fmt.Errorf("open development database: %w", err)
	}
	if err := m.NamedDiff(ctx, name, tables...); err != nil {
		return nil, fmt.Errorf("diff %s: %w", name, err)
	}
	after, err := dir.Files()
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var written []string
	for _, f := range after {
		if !slices.ContainsFunc(before, func(b atlasmigrate.File) bool { return b.Name() == f.Name() }) {
			written = append(written, f.Name())
		}
	}
	return written, nil
}

var diffMu sync.Mutex

// registerPostgres makes database/sql's "postgres" driver (which Atlas
// opens) the pgx one, unless something registered it already.
func registerPostgres() {
	if !slices.Contains(sql.Drivers(), "postgres") {
		sql.Register("postgres", stdlib.GetDefaultDriver())
	}
}
