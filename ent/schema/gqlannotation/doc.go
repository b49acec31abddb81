// Package gqlannotation is what ent/schema uses of entgql's annotations,
// real only when the code generator loads the schema.
//
// ent/runtime.go imports ent/schema for its defaults and hooks, so every
// import of ent/schema ends up in the server. entgql keeps its annotations
// and its code generator in one package, whose initialisers parse entgql's
// and gqlgen's templates and build golang.org/x/tools' tables: about 2.5 MB
// of heap that lives as long as the server and that the garbage collector
// marks on every cycle, and some 20 MB of executable. The schema files
// import this package under the name entgql: built with the entgqlcodegen
// tag (ent/entc.go loads the schema so) it forwards to entgql; otherwise
// its annotations are empty values that nothing reads, since annotations
// only matter to the code generator.
package gqlannotation
