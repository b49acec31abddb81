// Package rest is ClientIQ's /api/v1 compatibility layer for legacy clients:
// the JSON envelope of the original design, and handlers that call the same
// services as the GraphQL resolvers.
package rest

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/reqinfo"
)

// Meta is the envelope's meta object.
type Meta struct {
	Pagination *Pagination `json:"pagination,omitempty"`
	Timestamp  time.Time   `json:"timestamp"`
}

// Pagination is the cursor pagination block of list responses.
type Pagination struct {
	NextCursor *string `json:"next_cursor"`
	HasMore    bool    `json:"has_more"`
	Limit      int     `json:"limit"`
}

// ErrorBody is the envelope's error object.
type ErrorBody struct {
	Code    apperr.Code         `json:"code"`
	Message string              `json:"message"`
	Details map[string][]string `json:"details"`
}

type successEnvelope struct {
	Success bool `json:"success"`
	Data    any  `json:"data"`
	Meta    Meta `json:"meta"`
}

type errorEnvelope struct {
	Success bool      `json:"success"`
	Error   ErrorBody `json:"error"`
	Meta    Meta      `json:"meta"`
}

// WriteData writes {"success":true,"data":data,"meta":{…}} with status.
func WriteData(w http.ResponseWriter, r *http.Request, status int, data any, page *Pagination) {
	writeJSON(w, status, successEnvelope{Success: true, Data: data, Meta: meta(r, page)})
}

// WriteError writes the error envelope for err with the status its code
// maps to. INTERNAL errors are logged with their cause and answered with a
// generic message: no SQL, stack or Go error text reaches the client.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	e := apperr.As(err)
	msg := e.Message
	if e.Code == apperr.CodeInternal {
		level, what := slog.LevelError, "request_failed"
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			// The client closed the connection mid-request: nothing
			// failed here, and nobody reads the answer.
			level, what = slog.LevelInfo, "request_abandoned"
		}
		logger.Log(r.Context(), level, what,
			slog.String("request_id", reqinfo.RequestID(r.Context())), slog.Any("error", err))
		msg = "internal error"
	}
	details := e.Fields
	if details == nil {
		details = map[string][]string{}
	}
	// A throttled client is told when to come back in the standard header
	// too (RFC 9110 §10.2.3), not only in the body.
	if e.Code == apperr.CodeRateLimited {
		if v := details["retry_after_seconds"]; len(v) == 1 {
			if _, err := strconv.Atoi(v[0]); err == nil {
				w.Header().Set("Retry-After", v[0])
			}
		}
	}
	writeJSON(w, Status(e.Code), errorEnvelope{
		Error: ErrorBody{Code: e.Code, Message: msg, Details: details},
		Meta:  meta(r, nil),
	})
}

// Status maps an error code to its HTTP status.
func Status(c apperr.Code) int {
	switch c {
	case apperr.CodeValidation:
		return http.StatusBadRequest
	case apperr.CodeUnauthenticated:
		return http.StatusUnauthorized
	case apperr.CodeForbidden, apperr.CodeTenantSuspended, apperr.CodeFeatureDisabled:
		return http.StatusForbidden
	case apperr.CodeNotFound, apperr.CodeTenantNotFound:
		return http.StatusNotFound
	case apperr.CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case apperr.CodeConflict:
		return http.StatusConflict
	case apperr.CodePayloadTooLarge:
		return http.StatusRequestEntityTooLarge
	case apperr.CodeUnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case apperr.CodePlanLimit:
		return http.StatusUnprocessableEntity
	case apperr.CodeRateLimited:
		return http.StatusTooManyRequests
	case apperr.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func meta(_ *http.Request, page *Pagination) Meta {
	return Meta{Pagination: page, Timestamp: time.Now().UTC().Truncate(time.Millisecond)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
