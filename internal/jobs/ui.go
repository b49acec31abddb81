package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	"github.com/clientiq/clientiq/internal/tenancy"
)

// NewUI returns River UI (jobs, queues, retries, cancels) for client,
// served under prefix (e.g. "/riverui"; mount it at prefix+"/"), and starts
// its background caches, which stop when ctx ends. The single-page app is
// embedded in the riverui module, so nothing loads from a CDN.
//
// River UI has no authentication of its own and can cancel, retry and
// delete the jobs of every tenant: mount it only behind StaffOnly. An
// insert-only client (NewInserter) is enough, so a process without
// workers can serve it.
func NewUI(ctx context.Context, client *river.Client[pgx.Tx], logger *slog.Logger, prefix string) (http.Handler, error) {
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(client, nil),
		Logger:    logger,
		Prefix:    prefix,
		// Args can hold personal data (email addresses): shown on request.
		JobListHideArgsByDefault: true,
	})
	if err != nil {
		return nil, fmt.Errorf("create river ui: %w", err)
	}
	if err := h.Start(ctx); err != nil {
		return nil, fmt.Errorf("start river ui: %w", err)
	}
	return h, nil
}

// StaffOnly serves h (River UI) to platform staff on the platform host, the
// rule of tenancy.RequireStaff that the GraphQL @staff directive and the
// REST tenants handler apply, and answers 404 to everyone else (anonymous,
// members, staff inside a tenant or impersonating), so the console's
// existence is not disclosed. It reads the viewer from the request context:
// mount it after the authentication middleware.
func StaffOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := tenancy.RequireStaff(r.Context()); err != nil {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}
