package demorequest

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/clientiq/clientiq/ent/entgql"
	"github.com/google/uuid"

	"github.com/clientiq/clientiq/ent"
	entdemo "github.com/clientiq/clientiq/ent/demorequest"
	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/page"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// MaxPage caps every page of the list.
const MaxPage = page.Max

// MaxNotes bounds staff notes, in characters.
const MaxNotes = 10_000

// Page is a cursor page request (see internal/page).
type Page = page.Request

// newestFirst is the list's order when the caller gives none: the inbox.
var newestFirst = &ent.DemoRequestOrder{Direction: entgql.OrderDirectionDesc, Field: ent.DemoRequestOrderFieldCreatedAt}

// List returns a page of demo requests (platform staff), newest first
// unless order says otherwise, narrowed by where.
func (s *Service) List(ctx context.Context, pg Page, order *ent.DemoRequestOrder, where *ent.DemoRequestWhereInput) (*ent.DemoRequestConnection, error) {
	if _, err := tenancy.RequireStaff(ctx); err != nil {
		return nil, err
	}
	if err := pg.Check(); err != nil {
		return nil, err
	}
	pg = pg.Capped()
	if order == nil {
		order = newestFirst
	}
	conn, err := s.clients.Public().DemoRequest.Query().
		Paginate(ctx, pg.After, pg.First, pg.Before, pg.Last,
			ent.WithDemoRequestOrder(order), ent.WithDemoRequestFilter(where.Filter))
	if err != nil {
		return nil, translate("list demo requests", err)
	}
	return conn, nil
}

// Get returns one demo request (platform staff); NOT_FOUND when there is
// none with id.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (*ent.DemoRequest, error) {
	if _, err := tenancy.RequireStaff(ctx); err != nil {
		return nil, err
	}
	d, err := s.clients.Public().DemoRequest.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, translate("get demo request", err)
	}
	return d, nil
}

// Update is a staff change of a demo request; nil fields stay.
type Update struct {
	// Status is new, contacted, qualified or closed.
	Status *string
	Notes  *string
}

// Update changes a demo request (platform staff) and records the caller as
// the one who handled it. NOT_FOUND when there is none with id.
func (s *Service) Update(ctx context.Context, id uuid.UUID, in Update) (*ent.DemoRequest, error) {
	v, err := tenancy.RequireStaff(ctx)
	if err != nil {
		return nil, err
	}
	fe := apperr.FieldErrors{}
	if in.Status != nil && entdemo.StatusValidator(entdemo.Status(*in.Status)) != nil {
		fe.Add("status", "must be one of new, contacted, qualified, closed")
	}
	if in.Notes != nil {
		notes := *in.Notes
		if !utf8.ValidString(notes) || strings.ContainsRune(notes, 0) {
			fe.Add("notes", "contains invalid characters")
		} else if utf8.RuneCountInString(notes) > MaxNotes {
			fe.Add("notes", fmt.Sprintf("must be at most %d characters", MaxNotes))
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	u := s.clients.Public().DemoRequest.UpdateOneID(id).SetHandledBy(v.UserID).SetUpdatedAt(s.clock())
	if in.Status != nil {
		u.SetStatus(entdemo.Status(*in.Status))
	}
	if in.Notes != nil {
		u.SetNotes(*in.Notes)
	}
	d, err := u.Save(ctx)
	if ent.IsNotFound(err) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, translate("update demo request", err)
	}
	return d, nil
}
