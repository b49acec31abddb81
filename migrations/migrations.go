// Package migrations embeds ClientIQ's versioned SQL: public/ for the shared
// public schema and tenant/ for every tenant schema. The files are generated
// from the ent schemas by `make migration NAME=…` and reviewed like code.
package migrations

import "embed"

// FS holds public/*.sql, tenant/*.sql and their atlas.sum files.
//
//go:embed public tenant
var FS embed.FS
