// Package project owns a tenant's projects and their data items: the
// writes (validated, authorized, audited in the same transaction) that
// GraphQL and REST share. Reads go through the tenant-scoped ent client.
package project

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/ent/dataitem"
	entproject "github.com/clientiq/clientiq/ent/project"
	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/audit"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/events"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/reqinfo"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// Limits of the inputs.
const (
	MaxName        = 200
	MaxDescription = 10_000
	MaxTitle       = 500
	MaxTags        = 50
	MaxTagLen      = 64
)

// Limiter enforces the plan's project and data item limits;
// billing.Limits satisfies it. Declared here so project does not import
// billing.
type Limiter interface {
	// CheckProjects answers PLAN_LIMIT_EXCEEDED when adding projects would
	// take the tenant in ctx over its plan's limit.
	CheckProjects(ctx context.Context, adding int) error
	// CheckDataItems is CheckProjects for data items.
	CheckDataItems(ctx context.Context, adding int) error
}

// Config configures the Service.
type Config struct {
	// Clients hands out the tenant-scoped ent clients. Required.
	Clients *db.Clients
	// Events receives project changes after each commit; nil publishes
	// nothing.
	Events *events.Bus
	// Limits checks plan limits before a project or data item is created;
	// nil means no limits.
	Limits Limiter
}

// Service writes projects and data items.
type Service struct {
	clients *db.Clients
	events  *events.Bus
	limits  Limiter
}

// New returns a Service configured by cfg.
func New(cfg Config) *Service {
	return &Service{clients: cfg.Clients, events: cfg.Events, limits: cfg.Limits}
}

// NewService returns a Service over the scoped ent clients.
func NewService(clients *db.Clients) *Service { return &Service{clients: clients} }

// NewServiceWithEvents is NewService that also publishes project changes to
// bus after each commit (the subscription feed).
func NewServiceWithEvents(clients *db.Clients, bus *events.Bus) *Service {
	return &Service{clients: clients, events: bus}
}

// publish tells subscribers of the tenant in ctx about a committed change.
func (s *Service) publish(ctx context.Context, kind string, id uuid.UUID) {
	if s.events == nil {
		return
	}
	if t, ok := tenancy.FromContext(ctx); ok {
		s.events.Publish(ctx, events.Event{TenantID: t.ID, Kind: kind, ID: id})
	}
}

// CreateInput is a new project.
type CreateInput struct {
	Name        string
	Description string
}

// UpdateInput changes a project; nil fields stay as they are.
type UpdateInput struct {
	Name        *string
	Description *string
	Status      *string
}

var errNotFound = apperr.New(apperr.CodeNotFound, "no such project")

// Create makes a project owned by the viewer (projects.write) and records
// it in the audit log in the same transaction.
func (s *Service) Create(ctx context.Context, in CreateInput) (*ent.Project, error) {
	v, err := tenancy.RequirePermission(ctx, rbac.ProjectsWrite)
	if err != nil {
		return nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	fe := apperr.FieldErrors{}
	checkName(fe, in.Name)
	if len(in.Description) > MaxDescription {
		fe.Add("description", fmt.Sprintf("must be at most %d characters", MaxDescription))
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	if s.limits != nil {
		if err := s.limits.CheckProjects(ctx, 1); err != nil {
			return nil, err
		}
	}
	client, err := s.clients.Tenant(ctx) // checks the schema name too
	if err != nil {
		return nil, err
	}
	t, _ := tenancy.FromContext(ctx)
	// The row and its audit entry go in one round trip, as one implicit
	// transaction (an ent transaction is four: BEGIN, two INSERTs,
	// COMMIT); the inputs were validated above as ent would. Every column
	// is written here, so the answer is built from these values rather
	// than read back: the time in PostgreSQL's precision (microseconds),
	// as a read would return it.
	owner := v.UserID
	p := &ent.Project{ID: db.NewID(), CreatedAt: time.Now().Truncate(time.Microsecond), Name: in.Name,
		Description: in.Description, Status: entproject.DefaultStatus, OwnerID: &owner}
	p.UpdatedAt = p.CreatedAt
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO `+db.QuoteIdent(t.Schema)+`.projects (id, created_at, updated_at, name, description, status, owner_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, p.ID, p.CreatedAt, p.UpdatedAt, p.Name, p.Description, string(p.Status), p.OwnerID)
	if err := audit.Queue(b, t.Schema, event(ctx, v, audit.ProjectCreated, p.ID)); err != nil {
		return nil, err
	}
	if err := s.clients.SendBatch(ctx, b); err != nil {
		return nil, translate(err)
	}
	s.publish(ctx, "project.created", p.ID)
	return client.Project.Bind(p), nil
}

// Update changes a project (projects.write).
func (s *Service) Update(ctx context.Context, id uuid.UUID, in UpdateInput) (*ent.Project, error) {
	v, err := tenancy.RequirePermission(ctx, rbac.ProjectsWrite)
	if err != nil {
		return nil, err
	}
	fe := apperr.FieldErrors{}
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		in.Name = &n
		checkName(fe, n)
	}
	if in.Description != nil && len(*in.Description) > MaxDescription {
		fe.Add("description", fmt.Sprintf("must be at most %d characters", MaxDescription))
	}
	if in.Status != nil && entproject.StatusValidator(entproject.Status(*in.Status)) != nil {
		fe.Add("status", "must be active or archived")
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	t, _ := tenancy.FromContext(ctx)
	var p *ent.Project
	err = s.clients.TenantTx(ctx, func(tx *ent.Tx) error {
		u := tx.Project.UpdateOneID(id)
		if in.Name != nil {
			u.SetName(*in.Name)
		}
		if in.Description != nil {
			u.SetDescription(*in.Description)
		}
		if in.Status != nil {
			u.SetStatus(entproject.Status(*in.Status))
		}
		var err error
		if p, err = u.Save(ctx); err != nil {
			return err
		}
		return audit.RecordSQL(ctx, tx, t.Schema, event(ctx, v, audit.ProjectUpdated, p.ID))
	})
	if err != nil {
		return nil, translate(err)
	}
	s.publish(ctx, "project.updated", p.ID)
	return p, nil
}

// Delete removes a project and its data items (projects.delete).
func (s *Service) Delete(ctx context.Context, id uuid.UUID) error {
	v, err := tenancy.RequirePermission(ctx, rbac.ProjectsDelete)
	if err != nil {
		return err
	}
	t, _ := tenancy.FromContext(ctx)
	err = s.clients.TenantTx(ctx, func(tx *ent.Tx) error {
		if err := tx.Project.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		return audit.RecordSQL(ctx, tx, t.Schema, event(ctx, v, audit.ProjectDeleted, id))
	})
	if err != nil {
		return translate(err)
	}
	s.publish(ctx, "project.deleted", id)
	return nil
}

// ItemInput is a data item's content.
type ItemInput struct {
	Title      *string
	Attributes map[string]any
	Tags       []string
}

// CreateItem adds a data item to a project (data.write).
func (s *Service) CreateItem(ctx context.Context, projectID uuid.UUID, in ItemInput) (*ent.DataItem, error) {
	if _, err := tenancy.RequirePermission(ctx, rbac.DataWrite); err != nil {
		return nil, err
	}
	if in.Title == nil {
		return nil, apperr.Validation("invalid input: check title", map[string][]string{"title": {"is required"}})
	}
	if err := checkItem(in); err != nil {
		return nil, err
	}
	c, err := s.clients.Tenant(ctx)
	if err != nil {
		return nil, err
	}
	if ok, err := c.Project.Query().Where(entproject.ID(projectID)).Exist(ctx); err != nil {
		return nil, translate(err)
	} else if !ok {
		return nil, errNotFound
	}
	if s.limits != nil {
		if err := s.limits.CheckDataItems(ctx, 1); err != nil {
			return nil, err
		}
	}
	it, err := c.DataItem.Create().SetID(db.NewID()).SetProjectID(projectID).SetTitle(strings.TrimSpace(*in.Title)).
		SetAttributes(in.Attributes).SetTags(in.Tags).Save(ctx)
	return it, translate(err)
}

// UpdateItem changes a data item (data.write); nil fields stay.
func (s *Service) UpdateItem(ctx context.Context, id uuid.UUID, in ItemInput) (*ent.DataItem, error) {
	if _, err := tenancy.RequirePermission(ctx, rbac.DataWrite); err != nil {
		return nil, err
	}
	if err := checkItem(in); err != nil {
		return nil, err
	}
	c, err := s.clients.Tenant(ctx)
	if err != nil {
		return nil, err
	}
	u := c.DataItem.UpdateOneID(id)
	if in.Title != nil {
		u.SetTitle(strings.TrimSpace(*in.Title))
	}
	if in.Attributes != nil {
		u.SetAttributes(in.Attributes)
	}
	if in.Tags != nil {
		u.SetTags(in.Tags)
	}
	it, err := u.Save(ctx)
	return it, translate(err)
}

// DeleteItem removes a data item (data.write).
func (s *Service) DeleteItem(ctx context.Context, id uuid.UUID) error {
	if _, err := tenancy.RequirePermission(ctx, rbac.DataWrite); err != nil {
		return err
	}
	c, err := s.clients.Tenant(ctx)
	if err != nil {
		return err
	}
	n, err := c.DataItem.Delete().Where(dataitem.ID(id)).Exec(ctx)
	if err != nil {
		return translate(err)
	}
	if n == 0 {
		return apperr.New(apperr.CodeNotFound, "no such data item")
	}
	return nil
}

func checkName(fe apperr.FieldErrors, name string) {
	if name == "" || len(name) > MaxName {
		fe.Add("name", fmt.Sprintf("must be 1 to %d characters", MaxName))
	}
}

func checkItem(in ItemInput) error {
	fe := apperr.FieldErrors{}
	if in.Title != nil {
		if t := strings.TrimSpace(*in.Title); t == "" || len(t) > MaxTitle {
			fe.Add("title", fmt.Sprintf("must be 1 to %d characters", MaxTitle))
		}
	}
	if len(in.Tags) > MaxTags {
		fe.Add("tags", fmt.Sprintf("at most %d tags", MaxTags))
	}
	for _, tag := range in.Tags {
		if tag == "" || len(tag) > MaxTagLen {
			fe.Add("tags", fmt.Sprintf("each tag must be 1 to %d characters", MaxTagLen))
			break
		}
	}
	return fe.Err()
}

func event(ctx context.Context, v *tenancy.Viewer, action string, id uuid.UUID) audit.Event {
	e := audit.Event{Action: action, ActorID: v.UserID, ImpersonatorID: v.ImpersonatorID,
		TargetType: "project", TargetID: id.String()}
	if i := reqinfo.From(ctx); i != nil {
		e.IP, e.UserAgent = i.RemoteIP(), i.UserAgent()
	}
	return e
}

// translate maps ent's errors to codes: a missing row in this tenant is
// NOT_FOUND (whether or not it exists elsewhere), constraint and validation
// failures are client errors.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case ent.IsNotFound(err):
		return errNotFound
	case ent.IsValidationError(err):
		var ve *ent.ValidationError
		errors.As(err, &ve)
		return apperr.Validation("invalid input", map[string][]string{ve.Name: {"is invalid"}})
	case ent.IsConstraintError(err):
		return db.Translate(errors.Unwrap(err))
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	return db.Translate(err)
}
