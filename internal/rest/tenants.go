package rest

import (
	"net/http"
	"time"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
)

// The tenant handlers are for platform staff on the platform host. The
// tenant service is shared with the CLI and checks no viewer, so every
// handler calls tenancy.RequireStaff first (what the GraphQL @staff
// directive does), then the service method the GraphQL resolver calls.

func tenantResource(t *tenant.Tenant) Resource {
	domains := make([]map[string]any, 0, len(t.Domains))
	for _, d := range t.Domains {
		domains = append(domains, map[string]any{"domain": d.Domain, "is_primary": d.IsPrimary})
	}
	return Resource{ID: t.ID.String(), Type: "tenant", Attributes: map[string]any{
		"slug": t.Slug, "name": t.Name, "status": t.Status, "domains": domains,
		"deletion_requested_at": optTimestamp(t.DeletionRequestedAt), "created_at": timestamp(t.CreatedAt),
	}, Relationships: map[string]any{}}
}

// requires runs next only for a viewer holding p in the request's tenant,
// before next reads the body.
func (h *handlers) requires(p rbac.Permission, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := tenancy.RequirePermission(r.Context(), p); err != nil {
			WriteError(w, r, h.logger, err)
			return
		}
		next(w, r)
	}
}

// staffOnly runs next only for platform staff on the platform host.
func (h *handlers) staffOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := tenancy.RequireStaff(r.Context()); err != nil {
			WriteError(w, r, h.logger, err)
			return
		}
		next(w, r)
	}
}

func (h *handlers) listTenants(w http.ResponseWriter, r *http.Request) {
	ts, err := h.tenants.List(r.Context())
	writeAll(h, w, r, ts, err, tenantResource)
}

type tenantCreateBody struct {
	Slug   string `json:"slug"`
	Name   string `json:"name"`
	Domain string `json:"domain"`
}

func (h *handlers) createTenant(w http.ResponseWriter, r *http.Request) {
	var b tenantCreateBody
	if err := decode(r, &b); err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	t, err := h.tenants.Create(r.Context(), tenant.CreateInput{Slug: b.Slug, Name: b.Name, Domain: b.Domain})
	respond(h, w, r, http.StatusCreated, t, err, tenantResource)
}

func (h *handlers) getTenant(w http.ResponseWriter, r *http.Request) {
	t, err := h.tenants.Get(r.Context(), r.PathValue("slug"))
	respond(h, w, r, http.StatusOK, t, err, tenantResource)
}

type tenantUpdateBody struct {
	Status *string `json:"status"`
}

// updateTenant suspends or reactivates a tenant (suspendTenant and
// reactivateTenant in GraphQL); deletion has its own route.
func (h *handlers) updateTenant(w http.ResponseWriter, r *http.Request) {
	var b tenantUpdateBody
	if err := decode(r, &b); err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	slug := r.PathValue("slug")
	var t *tenant.Tenant
	var err error
	switch deref(b.Status) {
	case tenancy.StatusSuspended:
		t, err = h.tenants.Suspend(r.Context(), slug)
	case tenancy.StatusActive:
		t, err = h.tenants.Reactivate(r.Context(), slug)
	default:
		err = apperr.Validation("invalid input: check status", map[string][]string{"status": {"must be active or suspended"}})
	}
	respond(h, w, r, http.StatusOK, t, err, tenantResource)
}

// deleteTenant marks the tenant pending deletion and answers 202: the
// schema is purged by a job once the grace period has passed (purge_at),
// and POST /tenants/{slug}/restore undoes it until then.
func (h *handlers) deleteTenant(w http.ResponseWriter, r *http.Request) {
	t, purgeAt, err := h.tenants.Delete(r.Context(), r.PathValue("slug"))
	respond(h, w, r, http.StatusAccepted, t, err, func(t *tenant.Tenant) Resource {
		res := tenantResource(t)
		res.Attributes["purge_at"] = purgeAt.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
		return res
	})
}

func (h *handlers) restoreTenant(w http.ResponseWriter, r *http.Request) {
	t, err := h.tenants.Restore(r.Context(), r.PathValue("slug"))
	respond(h, w, r, http.StatusOK, t, err, tenantResource)
}
