package rest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/demorequest"
)

// demoForm is a valid POST /demo-requests body with the required fields.
func demoForm(email, company string) map[string]any {
	return map[string]any{"name": "Dana Scully", "email": email, "company": company}
}

// fullDemoForm is demoForm with every optional field too.
func fullDemoForm(email, company string) map[string]any {
	f := demoForm(email, company)
	f["job_title"], f["phone"], f["company_size"] = "CTO", "+1 (555) 010-9999", "51-200"
	f["message"], f["locale"] = "We would like a demo.", "de-ch"
	return f
}

// createDemoRequest stores a demo request through the service (no client
// address, so no per-address count) and returns its id.
func (h *harness) createDemoRequest(t *testing.T, company string) string {
	t.Helper()
	rc, err := h.demos.Create(context.Background(), demorequest.Input{Name: "Fixture", Company: company,
		Email: fmt.Sprintf("fixture%d@prospect.test", h.next())}, demorequest.Meta{})
	require.NoError(t, err)
	return rc.ID.String()
}

// demoRequestRow is what staff may change of a demo request, as text.
func (h *harness) demoRequestRow(t *testing.T, id string) string {
	t.Helper()
	return h.scalar(t, `SELECT concat_ws('|', status, notes, coalesce(handled_by::text, '-'), updated_at)
		FROM public.demo_requests WHERE id = $1::uuid`, id)
}

// storedDemoRequest is everything stored of a demo request but its id and
// times, as text ("" when there is none).
func (h *harness) storedDemoRequest(t *testing.T, id string) string {
	t.Helper()
	return h.scalar(t, `SELECT coalesce((SELECT concat_ws('|', name, email, company, job_title, phone, company_size,
			message, locale, status, notes, coalesce(handled_by::text, '-'), source_ip, user_agent)
		FROM public.demo_requests WHERE id = $1::uuid), '')`, id)
}

// countDemoRequests counts the demo requests of company.
func (h *harness) countDemoRequests(t *testing.T, company string) string {
	t.Helper()
	return h.scalar(t, `SELECT count(*) FROM public.demo_requests WHERE company = $1`, company)
}

// demoRequestFields are the attributes staff see, and nothing else.
var demoRequestFields = []string{"name", "email", "company", "job_title", "phone", "company_size", "message",
	"locale", "status", "notes", "created_at", "updated_at"}

func TestAPIDemoRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	staffTok := h.token(t, staff)

	t.Run("CreateAnswersOnlyTheReceiptOnAnyHost", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct {
			host, token, path string
		}{
			{hostPlatform, "", "/demo-requests"}, {hostA, "", "/demo-requests/"}, {hostA, h.token(t, viewer), "/demo-requests"},
			{hostB, h.token(t, ownerB), "/demo-requests"}, {hostPlatform, staffTok, "/demo-requests"},
		} {
			email := fmt.Sprintf("Receipt%d@Prospect.test", h.next())
			rec := h.call(t, http.MethodPost, c.host, c.token, c.path, fullDemoForm(email, "Receipt Inc"))
			res := requireResource(t, requireData(t, rec, http.StatusCreated), "demo_request")
			require.ElementsMatch(t, []string{"status", "created_at"}, keys(attrs(res)), "on %s", c.host)
			require.Equal(t, "new", attrs(res)["status"])
			created, err := time.Parse(time.RFC3339Nano, attrs(res)["created_at"].(string))
			require.NoError(t, err)
			require.WithinDuration(t, time.Now(), created, time.Minute)
			require.Equal(t, map[string]any{}, res["relationships"])
			require.NotContains(t, strings.ToLower(rec.Body.String()), strings.ToLower(email), "nothing the prospect typed is echoed")
			require.NotContains(t, rec.Body.String(), "127.0.0.1")
			require.NotEmpty(t, h.storedDemoRequest(t, res["id"].(string)))
		}
		require.Equal(t, "5", h.countDemoRequests(t, "Receipt Inc"))
	})

	t.Run("StoresTheFormNormalizedWithTheClientAddress", func(t *testing.T) {
		t.Parallel()
		email := fmt.Sprintf("Stored%d@Prospect.test", h.next())
		form := fullDemoForm(email, "  Stored Inc ")
		rec := h.call(t, http.MethodPost, hostA, "", "/demo-requests", form)
		id := requireResource(t, requireData(t, rec, http.StatusCreated), "demo_request")["id"].(string)
		require.Equal(t, strings.Join([]string{"Dana Scully", strings.ToLower(email), "Stored Inc", "CTO", "+1 (555) 010-9999",
			"51-200", "We would like a demo.", "de-CH", "new", "", "-", "127.0.0.1", "Go-http-client/1.1"}, "|"),
			h.storedDemoRequest(t, id), "the client address is the one httpserver records")
	})

	t.Run("ValidationDetailsUseTheBodysFieldNames", func(t *testing.T) {
		t.Parallel()
		rec := h.call(t, http.MethodPost, hostPlatform, "", "/demo-requests", map[string]any{
			"name": " ", "email": "nope", "company": strings.Repeat("c", 201), "job_title": "a\nb", "phone": "call me",
			"company_size": "lots", "message": strings.Repeat("m", demorequest.MaxMessage+1), "locale": "not a tag!",
		})
		e := requireError(t, rec, http.StatusBadRequest, apperr.CodeValidation)
		require.ElementsMatch(t, []string{"name", "email", "company", "job_title", "phone", "company_size", "message", "locale"},
			keys(details(e)), "every field at fault, by the body's names")
		for field, value := range map[string]string{"job_title": "a\tb", "company_size": "2-3", "phone": "12", "locale": "!!"} {
			form := demoForm(fmt.Sprintf("one%d@prospect.test", h.next()), "Invalid Inc")
			form[field] = value
			e := requireError(t, h.call(t, http.MethodPost, hostA, "", "/demo-requests", form), http.StatusBadRequest, apperr.CodeValidation)
			require.Equal(t, []string{field}, keys(details(e)))
			require.Equal(t, "invalid input: check "+field, e["message"])
		}
		require.Equal(t, "0", h.countDemoRequests(t, "Invalid Inc"))
	})

	t.Run("RefusesUnknownFieldsWrongTypesAndOtherMediaTypes", func(t *testing.T) {
		t.Parallel()
		for body, field := range map[string]string{
			`{"name":"A","email":"a@b.test","company":"Refused Inc","status":"qualified"}`:   "status",
			`{"name":"A","email":"a@b.test","company":"Refused Inc","notes":"VIP"}`:          "notes",
			`{"name":"A","email":"a@b.test","company":"Refused Inc","source_ip":"10.0.0.1"}`: "source_ip",
			`{"name":"A","email":"a@b.test","company":"Refused Inc","jobTitle":"CTO"}`:       "jobTitle",
			`{"name":5,"email":"a@b.test","company":"Refused Inc"}`:                          "name",
			`{"name":"A","email":"a@b.test","company":"Refused Inc","message":"x\u0000y"}`:   "message",
			`{"name":"A","email":"a@b.test","company":"Refused Inc"}{"name":"B"}`:            "body",
			`{"name":"A","email":"a@b.test","company":`:                                      "body",
			`["name"]`: "body",
			`{"name":"A","email":"a@b.test","company":"Refused Inc","handled_by":"` + uuid.NewString() + `"}`: "handled_by",
		} {
			e := requireError(t, h.call(t, http.MethodPost, hostA, "", "/demo-requests", body), http.StatusBadRequest, apperr.CodeValidation)
			require.Contains(t, details(e), field, body)
		}
		rec := h.send(t, request{method: http.MethodPost, host: hostA, path: "/api/v1/demo-requests", contentType: "text/plain",
			body: strings.NewReader(`{"name":"A","email":"a@b.test","company":"Refused Inc"}`)})
		requireError(t, rec, http.StatusUnsupportedMediaType, apperr.CodeUnsupportedMedia)
		require.Equal(t, "0", h.countDemoRequests(t, "Refused Inc"))
	})

	t.Run("TheInboxIsForStaffOnThePlatformHost", func(t *testing.T) {
		t.Parallel()
		id := h.createDemoRequest(t, "Private Inc")
		before := h.demoRequestRow(t, id)
		patch := map[string]any{"status": "closed"}
		calls := []struct {
			method, path string
			body         any
		}{
			{http.MethodGet, "/demo-requests", nil}, {http.MethodGet, "/demo-requests/" + id, nil},
			{http.MethodPatch, "/demo-requests/" + id, patch},
			// Neither a malformed id nor a malformed body tells others more.
			{http.MethodGet, "/demo-requests/nope", nil}, {http.MethodPatch, "/demo-requests/" + uuid.NewString(), patch},
			{http.MethodPatch, "/demo-requests/" + id, `{"status":`}, {http.MethodGet, "/demo-requests?status=won&limit=0", nil},
		}
		for _, c := range calls {
			requireError(t, h.call(t, c.method, hostA, "", c.path, c.body), http.StatusUnauthorized, apperr.CodeUnauthenticated)
			requireError(t, h.call(t, c.method, hostPlatform, "", c.path, c.body), http.StatusUnauthorized, apperr.CodeUnauthenticated)
			for _, r := range []role{viewer, memberR, admin, owner} {
				requireError(t, h.call(t, c.method, hostA, h.token(t, r), c.path, c.body), http.StatusForbidden, apperr.CodeForbidden)
			}
			requireError(t, h.call(t, c.method, hostB, h.token(t, ownerB), c.path, c.body), http.StatusForbidden, apperr.CodeForbidden)
			requireError(t, h.call(t, c.method, hostA, staffTok, c.path, c.body), http.StatusUnauthorized, apperr.CodeUnauthenticated)
		}
		require.Equal(t, before, h.demoRequestRow(t, id))
	})

	t.Run("StaffReadAndTriageARequest", func(t *testing.T) {
		t.Parallel()
		rec := h.call(t, http.MethodPost, hostA, "", "/demo-requests", fullDemoForm(fmt.Sprintf("triage%d@prospect.test", h.next()), "Triage Inc"))
		id := requireResource(t, requireData(t, rec, http.StatusCreated), "demo_request")["id"].(string)

		got := requireResource(t, requireData(t, h.call(t, http.MethodGet, hostPlatform, staffTok, "/demo-requests/"+id+"/", nil), http.StatusOK), "demo_request")
		require.Equal(t, id, got["id"])
		require.ElementsMatch(t, demoRequestFields, keys(attrs(got)), "never the client address or user agent")
		require.Equal(t, "Triage Inc", attrs(got)["company"])
		require.Equal(t, "de-CH", attrs(got)["locale"])
		require.Equal(t, map[string]any{"handled_by": map[string]any{"data": nil}}, got["relationships"])

		rec = h.call(t, http.MethodPatch, hostPlatform, staffTok, "/demo-requests/"+id, map[string]any{"status": "qualified", "notes": "Budget confirmed"})
		updated := requireResource(t, requireData(t, rec, http.StatusOK), "demo_request")
		require.Equal(t, "qualified", attrs(updated)["status"])
		require.Equal(t, "Budget confirmed", attrs(updated)["notes"])
		require.Equal(t, map[string]any{"handled_by": map[string]any{"data": map[string]any{"type": "user", "id": h.users[staff].ID.String()}}},
			updated["relationships"])
		again := requireResource(t, requireData(t, h.call(t, http.MethodGet, hostPlatform, staffTok, "/demo-requests/"+id, nil), http.StatusOK), "demo_request")
		require.Equal(t, updated, again, "the answer of PATCH is what GET reads")

		rec = h.call(t, http.MethodPatch, hostPlatform, staffTok, "/demo-requests/"+id+"/", map[string]any{"notes": ""})
		a := attrs(requireResource(t, requireData(t, rec, http.StatusOK), "demo_request"))
		require.Equal(t, "qualified", a["status"], "an omitted field stays")
		require.Equal(t, "", a["notes"])
	})

	t.Run("UpdateValidatesAndChangesNothingOnError", func(t *testing.T) {
		t.Parallel()
		id := h.createDemoRequest(t, "Strict Inc")
		before := h.demoRequestRow(t, id)
		for body, field := range map[string]string{
			`{}`: "body", `{"status":null}`: "body", `{"status":"won"}`: "status", `{"status":3}`: "status",
			`{"notes":"` + strings.Repeat("n", demorequest.MaxNotes+1) + `"}`: "notes",
			`{"email":"x@y.test"}`: "email", `{"handled_by":"` + uuid.NewString() + `"}`: "handled_by", `{"notes":`: "body",
		} {
			e := requireError(t, h.call(t, http.MethodPatch, hostPlatform, staffTok, "/demo-requests/"+id, body), http.StatusBadRequest, apperr.CodeValidation)
			require.Contains(t, details(e), field, body)
		}
		require.Equal(t, before, h.demoRequestRow(t, id))
		for _, path := range []string{"/demo-requests/" + uuid.NewString(), "/demo-requests/nope"} {
			requireError(t, h.call(t, http.MethodGet, hostPlatform, staffTok, path, nil), http.StatusNotFound, apperr.CodeNotFound)
			requireError(t, h.call(t, http.MethodPatch, hostPlatform, staffTok, path, map[string]any{"status": "closed"}), http.StatusNotFound, apperr.CodeNotFound)
		}
	})
}
