package rest

import (
	"net/http"
	"strings"

	"github.com/clientiq/clientiq/ent/entgql"

	"github.com/clientiq/clientiq/ent"
	entdemo "github.com/clientiq/clientiq/ent/demorequest"
	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/demorequest"
)

// The demo request handlers call the demorequest.Service methods the
// GraphQL resolvers call. Create is public and throttled by the service
// per client address (the one httpserver records, as for sign-in) and per
// email; the inbox routes are wrapped in staffOnly (GraphQL's @staff), so
// nobody else learns whether an id exists or a body is well formed.

// demoReceiptResource is all a prospect is told about the stored request,
// as GraphQL's RequestDemoPayload: no staff notes, no client address.
func demoReceiptResource(rc *demorequest.Receipt) Resource {
	return Resource{ID: rc.ID.String(), Type: "demo_request", Attributes: map[string]any{
		"status": string(rc.Status), "created_at": timestamp(rc.CreatedAt),
	}, Relationships: map[string]any{}}
}

// demoRequestResource is a stored request as staff see it: GraphQL's
// DemoRequest type, which leaves out the client address and user agent.
func demoRequestResource(d *ent.DemoRequest) Resource {
	return Resource{ID: d.ID.String(), Type: "demo_request", Attributes: map[string]any{
		"name": d.Name, "email": d.Email, "company": d.Company, "job_title": d.JobTitle, "phone": d.Phone,
		"company_size": d.CompanySize, "message": d.Message, "locale": d.Locale, "status": string(d.Status),
		"notes": d.Notes, "created_at": timestamp(d.CreatedAt), "updated_at": timestamp(d.UpdatedAt),
	}, Relationships: map[string]any{"handled_by": idRef("user", d.HandledBy)}}
}

// demoRequestBody is the request-a-demo form (GraphQL's RequestDemoInput).
// Only name, email and company are required; status, notes and anything
// else are refused as unknown fields.
type demoRequestBody struct {
	Name        string `json:"name"`
	Email       string `json:"email"`
	Company     string `json:"company"`
	JobTitle    string `json:"job_title"`
	Phone       string `json:"phone"`
	CompanySize string `json:"company_size"`
	Message     string `json:"message"`
	Locale      string `json:"locale"`
}

// createDemoRequest answers 201 with the receipt. A throttled request is
// RATE_LIMITED (429) with details.retry_after_seconds, as sign-in's
// throttle answers.
func (h *handlers) createDemoRequest(w http.ResponseWriter, r *http.Request) {
	var b demoRequestBody
	if err := decode(r, &b); err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	m := auth.MetaFrom(r.Context())
	rc, err := h.demos.Create(r.Context(), demorequest.Input{
		Name: b.Name, Email: b.Email, Company: b.Company, JobTitle: b.JobTitle, Phone: b.Phone,
		CompanySize: b.CompanySize, Message: b.Message, Locale: b.Locale,
	}, demorequest.Meta{IP: m.IP, UserAgent: m.UserAgent})
	respond(h, w, r, http.StatusCreated, rc, snakeFields(err), demoReceiptResource)
}

// newestDemoRequestsFirst is the inbox order (the service's default too,
// named here so the REST contract does not hang on it).
var newestDemoRequestsFirst = &ent.DemoRequestOrder{Direction: entgql.OrderDirectionDesc, Field: ent.DemoRequestOrderFieldCreatedAt}

// listDemoRequests pages through every demo request, newest first,
// narrowed by ?status= (one or more statuses, comma separated or repeated).
func (h *handlers) listDemoRequests(w http.ResponseWriter, r *http.Request) {
	limit, after, err := pageParams(r)
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	where, err := demoRequestFilter(r)
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	conn, err := h.demos.List(r.Context(), demorequest.Page{After: after, First: &limit}, newestDemoRequestsFirst, where)
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	data := make([]Resource, 0, len(conn.Edges))
	for _, e := range conn.Edges {
		data = append(data, demoRequestResource(e.Node))
	}
	WriteData(w, r, http.StatusOK, data, &Pagination{
		NextCursor: nextCursor(conn.PageInfo.HasNextPage, conn.PageInfo.EndCursor), HasMore: conn.PageInfo.HasNextPage, Limit: limit,
	})
}

// demoRequestFilter reads ?status=; nil when absent.
func demoRequestFilter(r *http.Request) (*ent.DemoRequestWhereInput, error) {
	var in []entdemo.Status
	for _, v := range r.URL.Query()["status"] {
		for _, s := range strings.Split(v, ",") {
			st := entdemo.Status(strings.TrimSpace(s))
			if entdemo.StatusValidator(st) != nil {
				return nil, apperr.Validation("invalid status filter", map[string][]string{
					"status": {"must be one or more of new, contacted, qualified, closed (comma separated)"}})
			}
			in = append(in, st)
		}
	}
	if len(in) == 0 {
		return nil, nil
	}
	return &ent.DemoRequestWhereInput{StatusIn: in}, nil
}

func (h *handlers) getDemoRequest(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	d, err := h.demos.Get(r.Context(), id)
	respond(h, w, r, http.StatusOK, d, err, demoRequestResource)
}

// demoRequestUpdateBody is what staff may change (GraphQL's
// UpdateDemoRequestInput); what the prospect typed is not editable.
type demoRequestUpdateBody struct {
	Status *string `json:"status"`
	Notes  *string `json:"notes"`
}

// updateDemoRequest triages a request; the caller becomes its handled_by.
func (h *handlers) updateDemoRequest(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	var b demoRequestUpdateBody
	if err := decode(r, &b); err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	if b.Status == nil && b.Notes == nil {
		WriteError(w, r, h.logger, apperr.Validation("nothing to update", map[string][]string{"body": {"must set status or notes"}}))
		return
	}
	d, err := h.demos.Update(r.Context(), id, demorequest.Update{Status: b.Status, Notes: b.Notes})
	respond(h, w, r, http.StatusOK, d, err, demoRequestResource)
}
