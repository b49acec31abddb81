package clientiq

// Code generation for the whole module; `make generate` runs it and
// `make test` fails when the committed output differs.
//go:generate go run ./ent/entc.go
//go:generate go tool gqlgen generate
