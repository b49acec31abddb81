package jobs_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/jobs"
	"github.com/clientiq/clientiq/internal/tenancy"
)

func TestRiverUIIsServedToStaffOnly(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	d := dbtest.New(t)
	client, err := jobs.NewInserter(d.Pool, discard)
	require.NoError(t, err)
	_, err = client.Insert(ctx, jobs.NoopArgs{}, nil)
	require.NoError(t, err)
	ui, err := jobs.NewUI(ctx, client, discard, "/riverui")
	require.NoError(t, err)
	guarded := jobs.StaffOnly(ui)

	staff := &tenancy.Viewer{UserID: uuid.New(), IsStaff: true}
	tn := &tenancy.Tenant{ID: uuid.New(), Slug: "acme", Schema: "tenant_acme", Status: tenancy.StatusActive}
	serve := func(ctx context.Context, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		guarded.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil))
		return rec
	}

	for name, ctx := range map[string]context.Context{
		"anonymous":           context.Background(),
		"a member":            tenancy.WithViewer(context.Background(), &tenancy.Viewer{UserID: uuid.New()}),
		"staff in a tenant":   tenancy.WithTenant(tenancy.WithViewer(context.Background(), staff), tn),
		"staff impersonating": tenancy.WithViewer(context.Background(), &tenancy.Viewer{UserID: uuid.New(), IsStaff: true, ImpersonatorID: uuid.New()}),
	} {
		t.Run(name+" gets 404", func(t *testing.T) {
			t.Parallel()
			for _, path := range []string{"/riverui/", "/riverui/api/jobs?state=available"} {
				rec := serve(ctx, path)
				require.Equal(t, http.StatusNotFound, rec.Code, path)
				require.NotContains(t, rec.Body.String(), "River", path)
			}
		})
	}

	t.Run("staff on the platform get the app and the API", func(t *testing.T) {
		t.Parallel()
		ctx := tenancy.WithViewer(context.Background(), staff)

		rec := serve(ctx, "/riverui/")
		require.Equal(t, http.StatusOK, rec.Code)
		require.Contains(t, rec.Body.String(), "<html")
		require.NotContains(t, rec.Body.String(), "https://cdn", "the app is embedded, not loaded from a CDN")

		rec = serve(ctx, "/riverui/api/jobs?state=available")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Contains(t, rec.Body.String(), `"kind":"noop"`)
	})
}
