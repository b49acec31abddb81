// Package graph is ClientIQ's GraphQL transport: the handwritten SDL
// (*.graphqls), thin resolvers, and the gqlgen server set-up.
package graph

import (
	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/billing"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/demorequest"
	"github.com/clientiq/clientiq/internal/events"
	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/project"
	"github.com/clientiq/clientiq/internal/tenant"
)

// Resolver is the root resolver; it holds the services resolvers call.
type Resolver struct {
	// Clients hands out the public and tenant-scoped ent clients.
	Clients *db.Clients
	// Auth runs the identity flows.
	Auth *auth.Service
	// Tenants runs the tenant lifecycle.
	Tenants *tenant.Service
	// Projects writes projects and data items.
	ProjectSvc *project.Service
	// Events is the live change feed of subscriptions.
	Events *events.Bus
	// Members runs memberships, roles and invitations.
	Membership *member.Service
	// BillingSvc runs plans, subscriptions and invoices; nil answers the
	// billing fields with FEATURE_DISABLED.
	BillingSvc *billing.Service
	// DemoRequestSvc runs demo requests; nil answers their fields with
	// FEATURE_DISABLED.
	DemoRequestSvc *demorequest.Service
	// Version is reported by the version query.
	Version string
}

var errBillingOff = apperr.New(apperr.CodeFeatureDisabled, "billing is not configured on this server")

// billing returns the billing service, or FEATURE_DISABLED without one.
func (r *Resolver) billing() (*billing.Service, error) {
	if r.BillingSvc == nil {
		return nil, errBillingOff
	}
	return r.BillingSvc, nil
}
