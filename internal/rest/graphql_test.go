package rest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// The GraphQL side of the parity tests: the harness serves /graphql beside
// /api/v1, and outcomes of both are compared as allowed or an error code.

// gqlResponse is a GraphQL answer with its HTTP status and raw body.
type gqlResponse struct {
	Status int
	Body   string
	Data   map[string]any   `json:"data"`
	Errors []map[string]any `json:"errors"`
}

// gql sends a GraphQL request to host with an optional bearer token.
func (h *harness) gql(t *testing.T, host, token, doc string, vars map[string]any) gqlResponse {
	t.Helper()
	payload, err := json.Marshal(map[string]any{"query": doc, "variables": vars})
	require.NoError(t, err)
	rec := h.send(t, request{method: http.MethodPost, host: host, token: token, path: "/graphql", body: bytes.NewReader(payload)})
	out := gqlResponse{Status: rec.Code, Body: rec.Body.String()}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out), "body: %s", out.Body)
	return out
}

// allowed is the outcome of a call that succeeded.
const allowed = "allow"

// outcome is what happened to field: allowed, or the extensions.code of
// the error on that field or on the whole request.
func (r gqlResponse) outcome(field string) string {
	for _, e := range r.Errors {
		path, _ := e["path"].([]any)
		if len(path) == 0 || path[0] == field {
			ext, _ := e["extensions"].(map[string]any)
			if code, _ := ext["code"].(string); code != "" {
				return code
			}
			return "NO_CODE"
		}
	}
	if r.Data[field] == nil {
		return "NO_DATA"
	}
	return allowed
}

// restOutcome is allowed for a 2xx answer, else the envelope's error code.
func restOutcome(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	if rec.Code >= 200 && rec.Code < 300 {
		return allowed
	}
	e, ok := decode(t, rec)["error"].(map[string]any)
	require.True(t, ok, "error envelope: %s", rec.Body)
	return e["code"].(string)
}
