package rest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
)

// restName is a GraphQL input field's name in a REST body (jobTitle →
// job_title).
func restName(gqlName string) string {
	var b strings.Builder
	for _, c := range gqlName {
		if c >= 'A' && c <= 'Z' {
			b.WriteByte('_')
			c += 'a' - 'A'
		}
		b.WriteRune(c)
	}
	return b.String()
}

// restBody is a GraphQL input as a REST body.
func restBody(in map[string]any) map[string]any {
	out := make(map[string]any, len(in))
	for k, v := range in {
		out[restName(k)] = v
	}
	return out
}

// gqlFields is the extensions.fields of a GraphQL error, by REST name.
func gqlFields(t *testing.T, res gqlResponse) map[string]any {
	t.Helper()
	require.NotEmpty(t, res.Errors, res.Body)
	fields, _ := res.Errors[0]["extensions"].(map[string]any)["fields"].(map[string]any)
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		out[restName(k)] = v
	}
	return out
}

// TestAPIDemoRequestGraphQLParity sends the same forms to POST
// /demo-requests and to requestDemo: the same outcome, the same problems
// per field, and the same stored row.
func TestAPIDemoRequestGraphQLParity(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const doc = `mutation($in: RequestDemoInput!) { requestDemo(input: $in) { id status } }`
	staffTok := h.token(t, staff)

	t.Run("TheSameBadInputIsRefusedWithTheSameProblems", func(t *testing.T) {
		t.Parallel()
		valid := func() map[string]any {
			return map[string]any{"name": "Dana", "email": fmt.Sprintf("bad%d@prospect.test", h.next()), "company": "Parity bad"}
		}
		for i, change := range []map[string]any{
			{"name": "", "email": "nope", "companySize": "lots"},
			{"jobTitle": "CTO\r\nBcc: x@y.test"},
			{"phone": "call me maybe"},
			{"name": strings.Repeat("n", 201), "company": " ", "message": strings.Repeat("m", 2001), "locale": "??"},
			{"companySize": "11-50 ", "phone": "+1 555", "locale": "en_US_POSIX_nonsense!!", "jobTitle": strings.Repeat("j", 201)},
			{"email": "dana@", "message": "fine"},
		} {
			in := valid()
			for k, v := range change {
				in[k] = v
			}
			rec := h.call(t, http.MethodPost, hostA, "", "/demo-requests", restBody(in))
			e := requireError(t, rec, http.StatusBadRequest, apperr.CodeValidation)
			res := h.gql(t, hostA, "", doc, map[string]any{"in": in})
			require.Equal(t, string(apperr.CodeValidation), res.outcome("requestDemo"), res.Body)
			require.Equal(t, gqlFields(t, res), details(e), "case %d: the same fields with the same problems", i)
		}
		require.Equal(t, "0", h.countDemoRequests(t, "Parity bad"))
	})

	t.Run("TheSameGoodInputStoresTheSameRow", func(t *testing.T) {
		t.Parallel()
		in := map[string]any{"name": "  Fox Mulder ", "email": fmt.Sprintf("Fox%d@FBI.test", h.next()), "company": "Parity good",
			"jobTitle": "Agent", "phone": "+1 202 555 0100", "companySize": "1001+", "message": " The truth ", "locale": "EN-gb"}
		rec := h.call(t, http.MethodPost, hostA, "", "/demo-requests", restBody(in))
		viaREST := requireResource(t, requireData(t, rec, http.StatusCreated), "demo_request")
		res := h.gql(t, hostA, "", doc, map[string]any{"in": in})
		require.Empty(t, res.Errors, res.Body)
		viaGQL := res.Data["requestDemo"].(map[string]any)
		require.Equal(t, viaGQL["status"], attrs(viaREST)["status"])
		require.NotEqual(t, viaGQL["id"], viaREST["id"])
		stored := h.storedDemoRequest(t, viaREST["id"].(string))
		require.NotEmpty(t, stored)
		require.Equal(t, stored, h.storedDemoRequest(t, viaGQL["id"].(string)))

		// Staff read the two the same way through either API.
		q := `query($id: ID!) { demoRequest(id: $id) { id name email company jobTitle phone companySize message locale status notes handledBy } }`
		for _, id := range []string{viaREST["id"].(string), viaGQL["id"].(string)} {
			one := h.gql(t, hostPlatform, staffTok, q, map[string]any{"id": id})
			require.Empty(t, one.Errors, one.Body)
			got := requireResource(t, requireData(t, h.call(t, http.MethodGet, hostPlatform, staffTok, "/demo-requests/"+id, nil), http.StatusOK), "demo_request")
			for k, v := range one.Data["demoRequest"].(map[string]any) {
				switch k {
				case "id":
					require.Equal(t, v, got["id"])
				case "handledBy":
					require.Nil(t, v)
					require.Nil(t, got["relationships"].(map[string]any)["handled_by"].(map[string]any)["data"])
				default:
					require.Equal(t, v, attrs(got)[restName(k)], k)
				}
			}
		}
	})

	t.Run("TriageAgreesPerRole", func(t *testing.T) {
		t.Parallel()
		viaREST, viaGQL := h.createDemoRequest(t, "Parity triage"), h.createDemoRequest(t, "Parity triage")
		const update = `mutation($id: ID!, $in: UpdateDemoRequestInput!) { updateDemoRequest(id: $id, input: $in) { id } }`
		for _, c := range []struct {
			r    role
			host string
		}{{anonymous, hostA}, {anonymous, hostPlatform}, {viewer, hostA}, {admin, hostA}, {owner, hostA}, {ownerB, hostB}, {staff, hostPlatform}} {
			tok := h.token(t, c.r)
			body := map[string]any{"status": "contacted", "notes": "Called by " + string(c.r)}
			got := restOutcome(t, h.call(t, http.MethodPatch, c.host, tok, "/demo-requests/"+viaREST, body))
			res := h.gql(t, c.host, tok, update, map[string]any{"id": viaGQL, "in": body})
			require.Equal(t, res.outcome("updateDemoRequest"), got, "%s on %s", c.r, c.host)
			require.Equal(t, strings.Split(h.demoRequestRow(t, viaGQL), "|")[:3], strings.Split(h.demoRequestRow(t, viaREST), "|")[:3],
				"%s on %s: status, notes and handled_by agree", c.r, c.host)
		}
		require.Equal(t, "contacted|Called by staff|"+h.users[staff].ID.String(), strings.Join(strings.Split(h.demoRequestRow(t, viaREST), "|")[:3], "|"))
	})
}
