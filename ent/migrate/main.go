//go:build ignore

// main.go writes new versioned migrations from the ent schemas:
//
//	go run ./ent/migrate/main.go NAME   (or: make migration NAME=…)
//
// It creates a throw-away database on the PostgreSQL named by DATABASE_URL
// (default: the local one), replays migrations/public and migrations/tenant
// there and writes what the ent schemas add as migrations/<group>/<ts>_NAME.sql.
package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/internal/migrationgen"
)

func main() {
	if len(os.Args) != 2 || os.Args[1] == "" {
		log.Fatal("usage: go run ./ent/migrate/main.go NAME")
	}
	name := os.Args[1]
	ctx := context.Background()

	base := cmp.Or(os.Getenv("DATABASE_URL"), "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		log.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	devDB := "clientiq_migrationgen_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{devDB}.Sanitize()); err != nil {
		log.Fatalf("create development database: %v", err)
	}
	defer admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{devDB}.Sanitize()+" WITH (FORCE)")

	u, _ := url.Parse(base)
	u.Path = "/" + devDB
	groups, err := migrationgen.TablesByGroup("./ent/schema")
	if err != nil {
		log.Fatal(err)
	}
	for _, g := range migrationgen.Groups {
		path := filepath.Join("migrations", g)
		if err := os.MkdirAll(path, 0o755); err != nil {
			log.Fatal(err)
		}
		dir, err := atlasmigrate.NewLocalDir(path)
		if err != nil {
			log.Fatalf("open %s: %v", path, err)
		}
		written, err := migrationgen.Diff(ctx, u.String(), dir, name, groups[g])
		if err != nil {
			log.Fatalf("%s: %v", g, err)
		}
		if len(written) == 0 {
			fmt.Printf("%s: no changes\n", path)
		}
		for _, f := range written {
			fmt.Printf("%s: wrote %s\n", path, f)
		}
	}
}
