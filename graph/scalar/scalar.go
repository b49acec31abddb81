// Package scalar holds ClientIQ's GraphQL scalar bindings whose input
// errors are the client's fault, so they answer VALIDATION_ERROR rather
// than INTERNAL.
package scalar

import (
	"bytes"
	"encoding/hex"
	"io"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"github.com/clientiq/clientiq/ent/entgql"
	"github.com/clientiq/clientiq/internal/apperr"
)

// MarshalUUID writes a UUID as its canonical string; the nil UUID is
// null, as with gqlgen's graphql.MarshalUUID.
//
// gqlgen's formats the string (36 bytes on the heap) and wraps it in a
// closure: two allocations per id, and every object of a page has one.
// This one boxes the 16 bytes and formats them on the stack when written.
func MarshalUUID(u uuid.UUID) graphql.Marshaler {
	if u == uuid.Nil {
		return graphql.Null
	}
	return uuidString(u)
}

// uuidString writes a UUID as a quoted JSON string.
type uuidString uuid.UUID

func (u uuidString) MarshalGQL(w io.Writer) {
	var b [38]byte
	b[0], b[9], b[14], b[19], b[24], b[37] = '"', '-', '-', '-', '-', '"'
	hex.Encode(b[1:9], u[0:4])
	hex.Encode(b[10:14], u[4:6])
	hex.Encode(b[15:19], u[6:8])
	hex.Encode(b[20:24], u[8:10])
	hex.Encode(b[25:37], u[10:16])
	if buf, ok := w.(*bytes.Buffer); ok { // the answer buffer: b stays on the stack
		buf.Write(b[:])
		return
	}
	_, _ = w.Write(append([]byte(nil), b[:]...))
}

// UnmarshalUUID reads an ID or UUID argument; a malformed one is a
// VALIDATION_ERROR.
func UnmarshalUUID(v any) (uuid.UUID, error) {
	u, err := graphql.UnmarshalUUID(v)
	if err != nil {
		return uuid.Nil, apperr.Validation("invalid id: expected a UUID", map[string][]string{"id": {"must be a UUID"}})
	}
	return u, nil
}

// MarshalCursor writes a page cursor (entgql's encoding).
func MarshalCursor(c entgql.Cursor[uuid.UUID]) graphql.Marshaler { return c }

// UnmarshalCursor reads an after or before argument; one this API did not
// hand out (entgql cannot decode it) is a VALIDATION_ERROR, not INTERNAL.
func UnmarshalCursor(v any) (entgql.Cursor[uuid.UUID], error) {
	var c entgql.Cursor[uuid.UUID]
	if err := c.UnmarshalGQL(v); err != nil {
		return c, apperr.Validation("invalid cursor: pass a cursor from a page's pageInfo or edges",
			map[string][]string{"cursor": {"is not a cursor this API returned"}})
	}
	return c, nil
}
