package migrationgen_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect/sql/schema"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/migrationgen"
)

const (
	schemaDir     = "../../ent/schema"
	migrationsDir = "../../migrations"
)

// tablesByGroup loads the ent schema graph once for every test: loading
// compiles ent/schema, which takes seconds.
var tablesByGroup = sync.OnceValues(func() (map[string][]*schema.Table, error) {
	return migrationgen.TablesByGroup(schemaDir)
})

// copyMigrations copies migrations/<group> (its .sql files and atlas.sum)
// into a temporary directory, so a diff never writes into the repository.
func copyMigrations(t *testing.T, group string) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join(migrationsDir, group)
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".sql") || e.Name() == "atlas.sum") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644))
	}
	return dst
}

func TestCommittedMigrationsMatchEntSchemas(t *testing.T) {
	t.Parallel()
	tables, err := tablesByGroup()
	require.NoError(t, err)

	for _, group := range migrationgen.Groups {
		t.Run(group, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			path := copyMigrations(t, group)
			dir, err := atlasmigrate.NewLocalDir(path)
			require.NoError(t, err)
			dev := dbtest.NewWith(t, &dbtest.Options{Empty: true})

			written, err := migrationgen.Diff(ctx, dev.URL, dir, "drift", tables[group])

			require.NoError(t, err, "replay migrations/%s (is atlas.sum up to date?)", group)
			var missing strings.Builder
			for _, name := range written {
				b, err := os.ReadFile(filepath.Join(path, name))
				require.NoError(t, err)
				missing.WriteString("-- " + name + "\n" + string(b) + "\n")
			}
			require.Empty(t, written,
				"migrations/%s does not match the ent schemas: run `make migration NAME=<short_name>` "+
					"and commit the new file. The missing migration is:\n%s", group, missing.String())
		})
	}
}

func TestTablesByGroup(t *testing.T) {
	t.Parallel()

	tables, err := tablesByGroup()
	require.NoError(t, err)
	names := map[string][]string{}
	for group, ts := range tables {
		require.Contains(t, migrationgen.Groups, group)
		for _, tbl := range ts {
			names[group] = append(names[group], tbl.Name)
		}
	}

	t.Run("tenants and domains are public", func(t *testing.T) {
		t.Parallel()

		require.Contains(t, names["public"], "tenants")
		require.Contains(t, names["public"], "domains")
		require.NotContains(t, names["tenant"], "tenants")
		require.NotContains(t, names["tenant"], "domains")
	})

	t.Run("every table is in exactly one group", func(t *testing.T) {
		t.Parallel()

		seen := map[string]string{}
		for group, ns := range names {
			for _, n := range ns {
				other, dup := seen[n]
				require.False(t, dup, "table %s is in both %s and %s", n, other, group)
				seen[n] = group
			}
		}
	})
}

func TestDiffWritesTheMigrationADirectoryIsMissing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tables, err := tablesByGroup()
	require.NoError(t, err)
	path := t.TempDir()
	dir, err := atlasmigrate.NewLocalDir(path)
	require.NoError(t, err)
	dev := dbtest.NewWith(t, &dbtest.Options{Empty: true})

	written, err := migrationgen.Diff(ctx, dev.URL, dir, "init", tables["public"])

	require.NoError(t, err)
	require.Len(t, written, 1, "an empty directory is behind the ent schemas: the drift test must be able to fail")
	require.True(t, strings.HasSuffix(written[0], "_init.sql"), written[0])
	b, err := os.ReadFile(filepath.Join(path, written[0]))
	require.NoError(t, err)
	require.Contains(t, string(b), `CREATE TABLE "tenants"`)
	require.Contains(t, string(b), `CREATE TABLE "domains"`)
	_, err = os.Stat(filepath.Join(path, "atlas.sum"))
	require.NoError(t, err, "the new file is recorded in atlas.sum")
}
