package graph

import (
	"encoding/json"
	"net/http"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/rest"
)

// WriteHTTPError answers a request refused before GraphQL execution (the
// tenant is unknown or suspended, …) in GraphQL's response shape, with the
// error code in extensions.code and the matching HTTP status.
func WriteHTTPError(w http.ResponseWriter, _ *http.Request, err error) {
	e := apperr.As(err)
	msg := e.Message
	if e.Code == apperr.CodeInternal {
		msg = "internal error"
	}
	ext := map[string]any{"code": string(e.Code)}
	if len(e.Fields) > 0 {
		ext["fields"] = e.Fields
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(rest.Status(e.Code))
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": ext}},
		"data":   nil,
	})
}
