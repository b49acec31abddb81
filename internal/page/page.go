// Package page owns the one rule every list of ClientIQ follows: a cursor
// page (first/after or last/before) of at most Max items, one full page
// when no size is asked, never everything.
package page

import (
	"github.com/clientiq/clientiq/ent/entgql"
	"github.com/google/uuid"

	"github.com/clientiq/clientiq/internal/apperr"
)

// Max caps every page of a list.
const Max = 100

// Request is a cursor page request: First items after After (or Last
// before Before).
type Request struct {
	After  *entgql.Cursor[uuid.UUID]
	First  *int
	Before *entgql.Cursor[uuid.UUID]
	Last   *int
}

// Capped returns r with its size capped at Max, and one full page when it
// asks for no size.
func (r Request) Capped() Request {
	c := func(n *int) *int {
		if n == nil || *n <= Max {
			return n
		}
		m := Max
		return &m
	}
	r.First, r.Last = c(r.First), c(r.Last)
	if r.First == nil && r.Last == nil {
		n := Max
		r.First = &n
	}
	return r
}

// Check refuses what no page can be: first with last, negative sizes.
func (r Request) Check() error {
	if r.First != nil && r.Last != nil {
		return apperr.Validation("pass first or last, not both", map[string][]string{"first": {"cannot be combined with last"}})
	}
	if (r.First != nil && *r.First < 0) || (r.Last != nil && *r.Last < 0) {
		return apperr.Validation("page sizes cannot be negative", map[string][]string{"first": {"must be at least 0"}})
	}
	return nil
}
