package clientiq

// Code generation for the whole module; `make generate` runs it and
// `make test` fails when the committed output differs. genpatch makes the
// generated lists marshal in order (graph/generated/marshal_slice.go) and
// drops the unused per-object DeferredGroup; ent/entgql/gen.go points
// the ent code at entgql's run-time half only.
//go:generate go run ./ent/entc.go
//go:generate go run ./ent/entgql/gen.go
//go:generate go tool gqlgen generate
//go:generate go run ./graph/internal/genpatch graph/generated/generated.go
