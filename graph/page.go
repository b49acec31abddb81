package graph

import (
	"slices"
	"strings"

	"github.com/clientiq/clientiq/ent/entgql"
	"github.com/google/uuid"

	"github.com/clientiq/clientiq/graph/model"
	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/member"
)

// page is one Relay page cut from a whole list (memberships, roles and
// invitations are bounded per tenant and come from their service whole).
type page[T any] struct {
	Nodes   []T
	Cursors []entgql.Cursor[uuid.UUID]
	Info    entgql.PageInfo[uuid.UUID]
	Total   int
}

// paginate cuts items (in their order) by after/first or before/last, with
// opaque cursors carrying the item's id; first/last are capped like every
// list and default to one full page.
func paginate[T any](items []T, id func(T) uuid.UUID, after *entgql.Cursor[uuid.UUID], first *int,
	before *entgql.Cursor[uuid.UUID], last *int) (*page[T], error) {
	if first != nil && last != nil {
		return nil, apperr.Validation("pass first or last, not both", map[string][]string{"first": {"cannot be combined with last"}})
	}
	if (first != nil && *first < 0) || (last != nil && *last < 0) {
		return nil, apperr.Validation("page sizes cannot be negative", map[string][]string{"first": {"must be at least 0"}})
	}
	first, last = pageArgs(first, last)
	lo, hi := 0, len(items)
	if after != nil {
		for i, it := range items {
			if id(it) == after.ID {
				lo = i + 1
				break
			}
		}
	}
	if before != nil {
		for i, it := range items {
			if id(it) == before.ID {
				hi = i
				break
			}
		}
	}
	if hi < lo {
		hi = lo
	}
	window := items[lo:hi]
	p := &page[T]{Total: len(items)}
	start, end := 0, len(window)
	if first != nil && *first < end {
		end = *first
		p.Info.HasNextPage = true
	}
	if last != nil && *last < end-start {
		start = end - *last
		p.Info.HasPreviousPage = true
	}
	p.Info.HasPreviousPage = p.Info.HasPreviousPage || lo > 0
	p.Info.HasNextPage = p.Info.HasNextPage || hi < len(items)
	p.Nodes = window[start:end]
	for _, n := range p.Nodes {
		p.Cursors = append(p.Cursors, entgql.Cursor[uuid.UUID]{ID: id(n)})
	}
	if len(p.Cursors) > 0 {
		sc, ec := p.Cursors[0], p.Cursors[len(p.Cursors)-1]
		p.Info.StartCursor, p.Info.EndCursor = &sc, &ec
	}
	return p, nil
}

// filterMembers keeps the members matching where.
func filterMembers(ms []member.Member, where *model.MemberWhereInput) []member.Member {
	if where == nil {
		return ms
	}
	return slices.DeleteFunc(ms, func(m member.Member) bool {
		switch {
		case where.Status != nil && m.Status != *where.Status:
			return true
		case where.Role != nil && !slices.Contains(m.Roles, *where.Role):
			return true
		case where.EmailContains != nil && !strings.Contains(strings.ToLower(m.Email), strings.ToLower(*where.EmailContains)):
			return true
		}
		return false
	})
}

// filterRoles keeps the roles matching where.
func filterRoles(rs []member.Role, where *model.RoleWhereInput) []member.Role {
	if where == nil {
		return rs
	}
	return slices.DeleteFunc(rs, func(r member.Role) bool {
		switch {
		case where.Builtin != nil && r.Builtin != *where.Builtin:
			return true
		case where.NameContains != nil && !strings.Contains(strings.ToLower(r.Name), strings.ToLower(*where.NameContains)):
			return true
		}
		return false
	})
}

// ordered sorts xs stably by key in direction dir (ASC unless DESC).
func ordered[T any](xs []T, dir entgql.OrderDirection, cmp func(a, b T) int) {
	slices.SortStableFunc(xs, func(a, b T) int {
		if dir == entgql.OrderDirectionDesc {
			return cmp(b, a)
		}
		return cmp(a, b)
	})
}

func sortMembers(ms []member.Member, o *model.MemberOrder) {
	if o == nil {
		return
	}
	ordered(ms, o.Direction, func(a, b member.Member) int {
		switch o.Field {
		case model.MemberOrderFieldEmail:
			return strings.Compare(a.Email, b.Email)
		case model.MemberOrderFieldStatus:
			return strings.Compare(a.Status, b.Status)
		}
		return a.CreatedAt.Compare(b.CreatedAt)
	})
}

func sortRoles(rs []member.Role, o *model.RoleOrder) {
	if o == nil {
		return
	}
	ordered(rs, o.Direction, func(a, b member.Role) int {
		if o.Field == model.RoleOrderFieldName {
			return strings.Compare(a.Name, b.Name)
		}
		return a.CreatedAt.Compare(b.CreatedAt)
	})
}

func sortInvitations(is []member.Invitation, o *model.InvitationOrder) {
	if o == nil {
		return
	}
	ordered(is, o.Direction, func(a, b member.Invitation) int {
		switch o.Field {
		case model.InvitationOrderFieldEmail:
			return strings.Compare(a.Email, b.Email)
		case model.InvitationOrderFieldExpiresAt:
			return a.ExpiresAt.Compare(b.ExpiresAt)
		}
		return a.CreatedAt.Compare(b.CreatedAt)
	})
}
