// Package scalar holds ClientIQ's GraphQL scalar bindings whose input
// errors are the client's fault, so they answer VALIDATION_ERROR rather
// than INTERNAL.
package scalar

import (
	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"github.com/clientiq/clientiq/internal/apperr"
)

// MarshalUUID writes a UUID as its canonical string.
func MarshalUUID(u uuid.UUID) graphql.Marshaler { return graphql.MarshalUUID(u) }

// UnmarshalUUID reads an ID or UUID argument; a malformed one is a
// VALIDATION_ERROR.
func UnmarshalUUID(v any) (uuid.UUID, error) {
	u, err := graphql.UnmarshalUUID(v)
	if err != nil {
		return uuid.Nil, apperr.Validation("invalid id: expected a UUID", map[string][]string{"id": {"must be a UUID"}})
	}
	return u, nil
}
