// Package entgql is the run-time half of entgo.io/contrib/entgql
// (cursors, page info, order directions, the cursor predicates and the
// node-not-found error), copied from the module in go.mod by `make
// generate` (gen.go), for the generated ent code to import instead of
// entgql itself.
//
// entgql keeps these types and its code generator in one package, so
// importing it links the generator and runs its initialisers in the
// server: templates parsed and golang.org/x/tools' tables built, about
// 2.5 MB of heap the garbage collector marks on every cycle for as long as
// the server runs, and some 20 MB of executable. The copy is regenerated,
// never edited, so an upgrade of entgo.io/contrib shows in the diff that
// `make test` checks. It sits under ent/ (generated code) and not under
// internal/: gqlgen does not bind an alias (ent.Cursor) to a type in an
// internal package by its methods, so the Cursor scalar would lose its
// marshaller.
package entgql
