package project

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/ent/dataitem"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/page"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// MaxPage caps every page of a list.
const MaxPage = page.Max

// Page is a cursor page request (see internal/page).
type Page = page.Request

// List returns a page of the tenant's projects (projects.read).
func (s *Service) List(ctx context.Context, pg Page, order *ent.ProjectOrder, where *ent.ProjectWhereInput) (*ent.ProjectConnection, error) {
	if _, err := tenancy.RequirePermission(ctx, rbac.ProjectsRead); err != nil {
		return nil, err
	}
	c, err := s.clients.Tenant(ctx)
	if err != nil {
		return nil, err
	}
	pg = pg.Capped()
	if !wantsTotalCount(ctx) {
		ctx = db.WithoutCount(ctx, ent.TypeProject)
	}
	return c.Project.Query().Paginate(ctx, pg.After, pg.First, pg.Before, pg.Last,
		ent.WithProjectOrder(order), ent.WithProjectFilter(where.Filter))
}

// wantsTotalCount reports whether the GraphQL selection of the list being
// resolved asks for totalCount. REST pages carry no total, so outside
// GraphQL nobody wants one.
func wantsTotalCount(ctx context.Context) bool {
	if graphql.GetFieldContext(ctx) == nil {
		return false
	}
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == "totalCount" {
			return true
		}
	}
	return false
}

// Get returns one project (projects.read), NOT_FOUND when this tenant has
// no such project.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (*ent.Project, error) {
	if _, err := tenancy.RequirePermission(ctx, rbac.ProjectsRead); err != nil {
		return nil, err
	}
	c, err := s.clients.Tenant(ctx)
	if err != nil {
		return nil, err
	}
	p, err := c.Project.Get(ctx, id)
	return p, translate(err)
}

// ListItems returns a page of a project's data items (data.read).
func (s *Service) ListItems(ctx context.Context, projectID uuid.UUID, pg Page) (*ent.DataItemConnection, error) {
	if _, err := tenancy.RequirePermission(ctx, rbac.DataRead); err != nil {
		return nil, err
	}
	if _, err := s.Get(ctx, projectID); err != nil {
		return nil, err
	}
	c, err := s.clients.Tenant(ctx)
	if err != nil {
		return nil, err
	}
	pg = pg.Capped()
	if !wantsTotalCount(ctx) {
		ctx = db.WithoutCount(ctx, ent.TypeDataItem)
	}
	return c.DataItem.Query().Where(dataitem.ProjectID(projectID)).
		Paginate(ctx, pg.After, pg.First, pg.Before, pg.Last)
}
