// Package graph is ClientIQ's GraphQL transport: the handwritten SDL
// (*.graphqls), thin resolvers, and the gqlgen server set-up.
package graph

import "github.com/clientiq/clientiq/ent"

// Resolver is the root resolver; it holds the services resolvers call.
type Resolver struct {
	// Client is the public-schema ent client.
	Client *ent.Client
	// Version is reported by the version query.
	Version string
}
