// Package apperr owns ClientIQ's error kinds: the stable codes clients see in
// GraphQL's extensions.code and in the REST envelope's error.code. Adapters
// translate their errors into these once; transports map them to statuses.
package apperr

import (
	"errors"
	"fmt"
	"sort"
)

// Code is a stable, machine-readable error code.
type Code string

// The codes of the API contract. Never rename one: clients branch on them.
const (
	CodeValidation       Code = "VALIDATION_ERROR"
	CodeUnauthenticated  Code = "UNAUTHENTICATED"
	CodeForbidden        Code = "FORBIDDEN"
	CodeNotFound         Code = "NOT_FOUND"
	CodeConflict         Code = "CONFLICT"
	CodeTenantNotFound   Code = "TENANT_NOT_FOUND"
	CodeTenantSuspended  Code = "TENANT_SUSPENDED"
	CodeRateLimited      Code = "RATE_LIMITED"
	CodePlanLimit        Code = "PLAN_LIMIT_EXCEEDED"
	CodeFeatureDisabled  Code = "FEATURE_DISABLED"
	CodeMethodNotAllowed Code = "METHOD_NOT_ALLOWED"
	CodePayloadTooLarge  Code = "PAYLOAD_TOO_LARGE"
	CodeUnsupportedMedia Code = "UNSUPPORTED_MEDIA_TYPE"
	CodeUnavailable      Code = "SERVICE_UNAVAILABLE"
	CodeInternal         Code = "INTERNAL"
)

// Error is an error a client may see: a code, a human message safe to show,
// optional per-field details, and the internal cause (never shown).
type Error struct {
	Code    Code
	Message string
	// Fields maps an input field to what is wrong with it.
	Fields map[string][]string
	// Cause is logged, never sent.
	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return string(e.Code) + ": " + e.Message
}

// Unwrap exposes the cause to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Cause }

// New returns an error with a code and message.
func New(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

// Wrap returns an error with a code and message that keeps cause for the log.
func Wrap(code Code, msg string, cause error) *Error {
	return &Error{Code: code, Message: msg, Cause: cause}
}

// Validation returns a VALIDATION_ERROR carrying per-field problems.
func Validation(msg string, fields map[string][]string) *Error {
	return &Error{Code: CodeValidation, Message: msg, Fields: fields}
}

// FieldErrors collects per-field validation problems.
type FieldErrors map[string][]string

// Add records a problem with field.
func (f FieldErrors) Add(field, problem string) { f[field] = append(f[field], problem) }

// Err returns a VALIDATION_ERROR when any problem was added, else nil.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	names := make([]string, 0, len(f))
	for k := range f {
		names = append(names, k)
	}
	sort.Strings(names)
	return Validation("invalid input: check "+names[0], f)
}

// As returns the *Error inside err, or an INTERNAL error wrapping err when
// err carries no code. A nil err gives nil.
func As(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Message: "internal error", Cause: err}
}

// CodeOf returns err's code (INTERNAL when it carries none, "" for nil).
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	return As(err).Code
}
