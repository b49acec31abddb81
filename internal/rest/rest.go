package rest

import (
	"log/slog"
	"net/http"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/billing"
	"github.com/clientiq/clientiq/internal/buildinfo"
	"github.com/clientiq/clientiq/internal/demorequest"
	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/project"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenant"
)

// Prefix is where the compatibility layer is mounted.
const Prefix = "/api/v1"

// StripeWebhookPath is where the app mounts payment.NewStripeWebhook
// (POST, with and without a trailing slash). It is under Prefix and
// documented in openapi.json, but Register does not mount it: the webhook
// has no tenant and no bearer token (the signature over the raw body is the
// authentication), so it must not sit behind Config.Middleware.
const StripeWebhookPath = Prefix + "/webhooks/stripe"

// Route is one operation Register mounts: an HTTP method and the path
// template, Prefix included, as openapi.json names it ("/api/v1/plans/{id}").
// Each is mounted with and without its trailing slash.
type Route struct {
	Method string
	Path   string
}

// String is the route as "METHOD /path".
func (r Route) String() string { return r.Method + " " + r.Path }

// Config holds what the REST handlers need.
type Config struct {
	// Logger receives internal errors. Required.
	Logger *slog.Logger
	// Middleware wraps every route (tenant resolution); nil for none.
	Middleware func(http.Handler) http.Handler
	// Auth runs sign-in and sessions. Without it the auth and user routes
	// are not mounted.
	Auth *auth.Service
	// Projects serves projects and data items; without it those routes are
	// not mounted.
	Projects *project.Service
	// Members serves the tenant's members (/users), roles and invitations;
	// without it those routes are not mounted.
	Members *member.Service
	// Tenants serves the platform staff's /tenants routes; without it they
	// are not mounted.
	Tenants *tenant.Service
	// Billing serves /plans, /subscriptions and /invoices; without it those
	// routes are not mounted.
	Billing *billing.Service
	// DemoRequests serves /demo-requests: the public request-a-demo form
	// and the platform staff's inbox. Without it those routes are not
	// mounted.
	DemoRequests *demorequest.Service
}

// Register mounts the /api/v1 routes on mux, each with and without its
// trailing slash, and returns them in the order they were mounted. Every
// route is mounted through the one helper that records it, so the table is
// exactly what mux serves: the OpenAPI and authorization tests compare
// it with the document and with their expectations.
func Register(mux *http.ServeMux, cfg Config) []Route {
	h := &handlers{logger: cfg.Logger, auth: cfg.Auth, projects: cfg.Projects, members: cfg.Members,
		tenants: cfg.Tenants, billing: cfg.Billing, demos: cfg.DemoRequests}
	wrap := cfg.Middleware
	if wrap == nil {
		wrap = func(h http.Handler) http.Handler { return h }
	}
	var routes []Route
	handle := func(method, path string, fn http.HandlerFunc) {
		mux.Handle(method+" "+Prefix+path+"/{$}", wrap(fn))
		mux.Handle(method+" "+Prefix+path, wrap(fn))
		routes = append(routes, Route{Method: method, Path: Prefix + path})
	}
	handle("GET", "", h.index)
	handle("GET", "/openapi.json", h.openapi)
	if h.auth != nil {
		handle("POST", "/auth/login", h.login)
		handle("POST", "/auth/refresh", h.refresh)
		handle("POST", "/auth/logout", h.logout)
		handle("GET", "/users/me", h.me)
	}
	// A write's body is read only once its viewer may make the write: a
	// viewer without the permission is answered FORBIDDEN (or
	// UNAUTHENTICATED), whatever the body holds. The services check again.
	if h.projects != nil {
		handle("GET", "/projects", h.listProjects)
		handle("POST", "/projects", h.requires(rbac.ProjectsWrite, h.createProject))
		handle("GET", "/projects/{id}", h.getProject)
		handle("PUT", "/projects/{id}", h.requires(rbac.ProjectsWrite, h.updateProject))
		handle("PATCH", "/projects/{id}", h.requires(rbac.ProjectsWrite, h.updateProject))
		handle("DELETE", "/projects/{id}", h.deleteProject)
		handle("GET", "/projects/{id}/items", h.listItems)
		handle("POST", "/projects/{id}/items", h.requires(rbac.DataWrite, h.createItem))
	}
	if h.members != nil {
		// GET /users/me (above) is the more specific pattern, so /users/{id}
		// never captures it.
		handle("GET", "/users", h.listMembers)
		handle("GET", "/users/{id}", h.getMember)
		handle("PATCH", "/users/{id}", h.requires(rbac.MembersManage, h.updateMember))
		handle("DELETE", "/users/{id}", h.removeMember)
		handle("GET", "/roles", h.listRoles)
		handle("POST", "/roles", h.requires(rbac.RolesManage, h.createRole))
		handle("GET", "/roles/{id}", h.getRole)
		handle("PUT", "/roles/{id}", h.requires(rbac.RolesManage, h.updateRole))
		handle("PATCH", "/roles/{id}", h.requires(rbac.RolesManage, h.updateRole))
		handle("DELETE", "/roles/{id}", h.deleteRole)
		handle("GET", "/invitations", h.listInvitations)
		handle("POST", "/invitations", h.requires(rbac.MembersInvite, h.invite))
		handle("DELETE", "/invitations/{id}", h.revokeInvitation)
	}
	if h.tenants != nil {
		handle("GET", "/tenants", h.staffOnly(h.listTenants))
		handle("POST", "/tenants", h.staffOnly(h.createTenant))
		handle("GET", "/tenants/{slug}", h.staffOnly(h.getTenant))
		handle("PATCH", "/tenants/{slug}", h.staffOnly(h.updateTenant))
		handle("DELETE", "/tenants/{slug}", h.staffOnly(h.deleteTenant))
		handle("POST", "/tenants/{slug}/restore", h.staffOnly(h.restoreTenant))
	}
	if h.billing != nil {
		// The price list is public; PATCH is for staff.
		handle("GET", "/plans", h.listPlans)
		handle("GET", "/plans/{id}", h.getPlan)
		handle("PATCH", "/plans/{id}", h.staffOnly(h.updatePlan))
		handle("GET", "/subscriptions", h.listSubscriptions)
		handle("GET", "/subscriptions/{id}", h.getSubscription)
		handle("PATCH", "/subscriptions/{id}", h.requires(rbac.BillingManage, h.updateSubscription))
		handle("GET", "/invoices", h.listInvoices)
		handle("GET", "/invoices/{id}", h.getInvoice)
		handle("POST", "/invoices/{id}/pay", h.payInvoice)
	}
	if h.demos != nil {
		// Anyone may ask for a demo, on any host (the service throttles);
		// the inbox is for platform staff on the platform host.
		handle("POST", "/demo-requests", h.createDemoRequest)
		handle("GET", "/demo-requests", h.staffOnly(h.listDemoRequests))
		handle("GET", "/demo-requests/{id}", h.staffOnly(h.getDemoRequest))
		handle("PATCH", "/demo-requests/{id}", h.staffOnly(h.updateDemoRequest))
	}
	return routes
}

type handlers struct {
	logger   *slog.Logger
	auth     *auth.Service
	projects *project.Service
	members  *member.Service
	tenants  *tenant.Service
	billing  *billing.Service
	demos    *demorequest.Service
}

// index answers GET /api/v1/ with what the API is.
func (h *handlers) index(w http.ResponseWriter, r *http.Request) {
	WriteData(w, r, http.StatusOK, map[string]any{
		"id":   "v1",
		"type": "api",
		"attributes": map[string]any{
			"name":    "ClientIQ REST API",
			"version": buildinfo.Version(),
		},
	}, nil)
}

// NotFound answers the error envelope with 404 NOT_FOUND.
func NotFound(logger *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, logger, apperr.New(apperr.CodeNotFound, "no route for "+r.Method+" "+r.URL.Path))
	}
}
