package graph

import (
	"context"

	"github.com/clientiq/clientiq/graph/model"
	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/demorequest"
)

var errDemoRequestsOff = apperr.New(apperr.CodeFeatureDisabled, "demo requests are not configured on this server")

// demoRequests returns the demo request service, or FEATURE_DISABLED
// without one.
func (r *Resolver) demoRequests() (*demorequest.Service, error) {
	if r.DemoRequestSvc == nil {
		return nil, errDemoRequestsOff
	}
	return r.DemoRequestSvc, nil
}

// demoRequestInput converts requestDemo's input for the service.
func demoRequestInput(in model.RequestDemoInput) demorequest.Input {
	return demorequest.Input{
		Name: in.Name, Email: in.Email, Company: in.Company, JobTitle: deref(in.JobTitle), Phone: deref(in.Phone),
		CompanySize: deref(in.CompanySize), Message: deref(in.Message), Locale: deref(in.Locale),
	}
}

// demoRequestMeta is the client's address and user agent, for the
// throttles and abuse triage.
func demoRequestMeta(ctx context.Context) demorequest.Meta {
	m := auth.MetaFrom(ctx)
	return demorequest.Meta{IP: m.IP, UserAgent: m.UserAgent}
}

// demoRequestUpdate converts updateDemoRequest's input for the service.
func demoRequestUpdate(in model.UpdateDemoRequestInput) demorequest.Update {
	u := demorequest.Update{Notes: in.Notes}
	if in.Status != nil {
		s := in.Status.String()
		u.Status = &s
	}
	return u
}
