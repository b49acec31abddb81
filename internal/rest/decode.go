package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode"

	"github.com/clientiq/clientiq/ent/entgql"
	"github.com/google/uuid"

	"github.com/clientiq/clientiq/internal/apperr"
)

// decode reads a JSON object body into dst strictly: the Content-Type must
// be JSON (415), unknown fields are refused (no mass assignment), trailing
// data, malformed JSON and NUL characters are VALIDATION_ERROR, an
// oversized body is 413.
func decode(r *http.Request, dst any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return apperr.New(apperr.CodeUnsupportedMedia, "send the body as application/json")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return apperr.Validation("the body must hold exactly one JSON object", map[string][]string{"body": {"has trailing data"}})
	}
	return refuseNUL(dst)
}

// refuseNUL rejects a decoded body holding U+0000 in any string, map key
// included: PostgreSQL cannot store it in text or jsonb, and its error
// would otherwise surface as a 500. The field named is the top-level one.
func refuseNUL(dst any) error {
	v := reflect.Indirect(reflect.ValueOf(dst))
	if v.Kind() != reflect.Struct {
		if hasNUL(v) {
			return apperr.Validation("invalid input: check body", map[string][]string{"body": {"must not contain NUL characters"}})
		}
		return nil
	}
	for i := range v.NumField() {
		if hasNUL(v.Field(i)) {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
			return apperr.Validation("invalid input: check "+name, map[string][]string{name: {"must not contain NUL characters"}})
		}
	}
	return nil
}

func hasNUL(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		return strings.ContainsRune(v.String(), 0)
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil() && hasNUL(v.Elem())
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if hasNUL(v.Index(i)) {
				return true
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if hasNUL(it.Key()) || hasNUL(it.Value()) {
				return true
			}
		}
	}
	return false
}

func decodeError(err error) error {
	var mbe *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return apperr.New(apperr.CodePayloadTooLarge, fmt.Sprintf("the body exceeds %d bytes", mbe.Limit))
	case errors.Is(err, io.EOF):
		return apperr.Validation("the body is empty", map[string][]string{"body": {"is required"}})
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.Validation("the body is not valid JSON", map[string][]string{"body": {"is not valid JSON"}})
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return apperr.Validation("invalid input: check "+field, map[string][]string{field: {"must be a " + typ.Type.String()}})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return apperr.Validation("unknown field "+field, map[string][]string{field: {"is not a known field"}})
	}
	return apperr.Validation("the body could not be read", map[string][]string{"body": {"is invalid"}})
}

// pathID parses the {id} path value.
func pathID(r *http.Request, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue(name))
	if err != nil {
		return uuid.Nil, apperr.New(apperr.CodeNotFound, "no such resource")
	}
	return id, nil
}

// DefaultLimit and MaxLimit bound list pages.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// pageParams reads ?limit= and ?cursor=.
func pageParams(r *http.Request) (int, *entgql.Cursor[uuid.UUID], error) {
	q := r.URL.Query()
	limit := DefaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			return 0, nil, apperr.Validation("invalid limit", map[string][]string{"limit": {fmt.Sprintf("must be an integer from 1 to %d", MaxLimit)}})
		}
		limit = n
	}
	var after *entgql.Cursor[uuid.UUID]
	if v := q.Get("cursor"); v != "" {
		c := &entgql.Cursor[uuid.UUID]{}
		if err := c.UnmarshalGQL(v); err != nil {
			return 0, nil, apperr.Validation("invalid cursor", map[string][]string{"cursor": {"is not a cursor this API returned"}})
		}
		after = c
	}
	return limit, after, nil
}

// nextCursor encodes a page's end cursor for meta.pagination.
func nextCursor(hasMore bool, end *entgql.Cursor[uuid.UUID]) *string {
	if !hasMore || end == nil {
		return nil
	}
	var b strings.Builder
	end.MarshalGQL(&b)
	s := strings.Trim(b.String(), `"`)
	return &s
}

// snakeFields renames the fields of a VALIDATION_ERROR from the service's
// names (jobTitle, companySize, paymentMethod: GraphQL's) to this API's
// snake_case body fields, message included. Other errors pass unchanged.
func snakeFields(err error) error {
	e := apperr.As(err)
	if err == nil || e.Code != apperr.CodeValidation || len(e.Fields) == 0 {
		return err
	}
	out := *e
	out.Fields = make(map[string][]string, len(e.Fields))
	for k, v := range e.Fields {
		s := snakeCase(k)
		out.Fields[s] = append(out.Fields[s], v...)
		if out.Message == "invalid input: check "+k {
			out.Message = "invalid input: check " + s
		}
	}
	return &out
}

// snakeCase turns a camelCase field name into snake_case ("jobTitle" →
// "job_title"); a snake_case name is left as it is.
func snakeCase(s string) string {
	var b strings.Builder
	for i, c := range s {
		if unicode.IsUpper(c) {
			if i > 0 {
				b.WriteByte('_')
			}
			c = unicode.ToLower(c)
		}
		b.WriteRune(c)
	}
	return b.String()
}
