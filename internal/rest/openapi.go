package rest

import (
	_ "embed"
	"net/http"
)

// openapiJSON is the OpenAPI 3.1 document of the /api/v1 routes.
//
//go:embed openapi.json
var openapiJSON []byte

// OpenAPI returns a copy of the OpenAPI 3.1 document describing /api/v1.
func OpenAPI() []byte { return append([]byte(nil), openapiJSON...) }

// openapi answers GET /api/v1/openapi.json with the document. It needs no
// credentials and no tenant.
func (h *handlers) openapi(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openapiJSON)
}
