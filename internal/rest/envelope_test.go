package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/reqinfo"
	"github.com/clientiq/clientiq/internal/rest"
)

// logBuffer is a mutex-guarded log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogger() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewJSONHandler(buf, nil)), buf
}

// decode checks the JSON headers of rec and decodes its body.
func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "body: %s", rec.Body)
	return body
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// requireMeta checks meta holds a fresh UTC RFC 3339 timestamp plus extra keys.
func requireMeta(t *testing.T, body map[string]any, extra ...string) map[string]any {
	t.Helper()
	meta, ok := body["meta"].(map[string]any)
	require.True(t, ok, "meta is an object: %v", body)
	require.ElementsMatch(t, append([]string{"timestamp"}, extra...), keys(meta))
	s, ok := meta["timestamp"].(string)
	require.True(t, ok)
	ts, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	require.Equal(t, time.UTC, ts.Location(), "timestamp %s is UTC", s)
	require.WithinDuration(t, time.Now(), ts, 5*time.Second)
	return meta
}

// requireError checks body is the error envelope and returns its error object.
func requireError(t *testing.T, rec *httptest.ResponseRecorder, status int, code apperr.Code) map[string]any {
	t.Helper()
	require.Equal(t, status, rec.Code, "body: %s", rec.Body)
	body := decode(t, rec)
	require.ElementsMatch(t, []string{"success", "error", "meta"}, keys(body))
	require.Equal(t, false, body["success"])
	requireMeta(t, body)
	e, ok := body["error"].(map[string]any)
	require.True(t, ok, "error is an object: %v", body)
	require.ElementsMatch(t, []string{"code", "message", "details"}, keys(e))
	require.Equal(t, string(code), e["code"])
	require.IsType(t, "", e["message"])
	require.IsType(t, map[string]any{}, e["details"])
	return e
}

func TestWriteData(t *testing.T) {
	t.Parallel()

	t.Run("WritesSuccessEnvelope", func(t *testing.T) {
		t.Parallel()
		rec := httptest.NewRecorder()
		rest.WriteData(rec, httptest.NewRequest(http.MethodGet, "/api/v1/things", nil), http.StatusCreated,
			map[string]any{"id": "t1", "n": 3}, nil)
		require.Equal(t, http.StatusCreated, rec.Code)
		body := decode(t, rec)
		require.ElementsMatch(t, []string{"success", "data", "meta"}, keys(body))
		require.Equal(t, true, body["success"])
		require.Equal(t, map[string]any{"id": "t1", "n": 3.0}, body["data"])
		requireMeta(t, body)
	})

	t.Run("NilDataIsNull", func(t *testing.T) {
		t.Parallel()
		rec := httptest.NewRecorder()
		rest.WriteData(rec, httptest.NewRequest(http.MethodGet, "/", nil), http.StatusOK, nil, nil)
		body := decode(t, rec)
		require.Contains(t, body, "data")
		require.Nil(t, body["data"])
	})

	t.Run("PaginationIsInMeta", func(t *testing.T) {
		t.Parallel()
		next := "cursor-2"
		for _, tc := range []struct {
			name string
			page rest.Pagination
			want map[string]any
		}{
			{"MorePages", rest.Pagination{NextCursor: &next, HasMore: true, Limit: 20},
				map[string]any{"next_cursor": "cursor-2", "has_more": true, "limit": 20.0}},
			{"LastPageHasNullCursor", rest.Pagination{Limit: 20},
				map[string]any{"next_cursor": nil, "has_more": false, "limit": 20.0}},
		} {
			rec := httptest.NewRecorder()
			rest.WriteData(rec, httptest.NewRequest(http.MethodGet, "/", nil), http.StatusOK, []string{"a"}, &tc.page)
			body := decode(t, rec)
			meta := requireMeta(t, body, "pagination")
			require.Equal(t, tc.want, meta["pagination"], tc.name)
		}
	})
}

func TestWriteError(t *testing.T) {
	t.Parallel()

	t.Run("ValidationCarriesFieldDetails", func(t *testing.T) {
		t.Parallel()
		logger, logs := newLogger()
		fe := apperr.FieldErrors{}
		fe.Add("email", "is required")
		fe.Add("email", "must be an address")
		fe.Add("name", "is too long")
		rec := httptest.NewRecorder()
		rest.WriteError(rec, httptest.NewRequest(http.MethodPost, "/", nil), logger, fe.Err())
		e := requireError(t, rec, http.StatusBadRequest, apperr.CodeValidation)
		require.Equal(t, "invalid input: check email", e["message"])
		require.Equal(t, map[string]any{
			"email": []any{"is required", "must be an address"},
			"name":  []any{"is too long"},
		}, e["details"])
		require.Empty(t, logs.String(), "client errors are not logged")
	})

	t.Run("ErrorWithoutFieldsHasEmptyDetailsObject", func(t *testing.T) {
		t.Parallel()
		logger, _ := newLogger()
		rec := httptest.NewRecorder()
		err := fmt.Errorf("load invoice: %w", apperr.New(apperr.CodeNotFound, "invoice not found"))
		rest.WriteError(rec, httptest.NewRequest(http.MethodGet, "/", nil), logger, err)
		e := requireError(t, rec, http.StatusNotFound, apperr.CodeNotFound)
		require.Equal(t, "invoice not found", e["message"])
		require.Equal(t, map[string]any{}, e["details"])
		require.Contains(t, rec.Body.String(), `"details":{}`)
	})

	t.Run("InternalErrorHidesItsCauseAndIsLogged", func(t *testing.T) {
		t.Parallel()
		const detail = "pq: syntax error at or near SELECT"
		for name, err := range map[string]error{
			"Plain":          errors.New(detail),
			"Wrapped":        fmt.Errorf("list clients: %w", errors.New(detail)),
			"AppErrCause":    apperr.Wrap(apperr.CodeInternal, "query failed", errors.New(detail)),
			"AppErrMessage":  apperr.New(apperr.CodeInternal, "query failed: "+detail),
			"WrappedAppErr":  fmt.Errorf("list clients: %w", apperr.Wrap(apperr.CodeInternal, detail, errors.New(detail))),
			"UnknownAppCode": apperr.Wrap(apperr.Code("SOMETHING_NEW"), "odd", errors.New(detail)),
		} {
			logger, logs := newLogger()
			ctx, _ := reqinfo.New(t.Context(), "req-"+name)
			req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
			rec := httptest.NewRecorder()
			rest.WriteError(rec, req, logger, err)

			if name == "UnknownAppCode" {
				// An unmapped code still answers 500, but keeps its own code
				// and message: only INTERNAL is treated as a leak risk.
				require.Equal(t, http.StatusInternalServerError, rec.Code, name)
				require.NotContains(t, rec.Body.String(), "pq:", name)
				continue
			}
			e := requireError(t, rec, http.StatusInternalServerError, apperr.CodeInternal)
			require.Equal(t, "internal error", e["message"], name)
			require.NotContains(t, rec.Body.String(), "pq:", name)
			require.NotContains(t, rec.Body.String(), "SELECT", name)

			var line map[string]any
			require.NoError(t, json.Unmarshal(bytes.TrimSpace([]byte(logs.String())), &line), "one log line for %s: %s", name, logs)
			require.Equal(t, "request_failed", line["msg"], name)
			require.Equal(t, "ERROR", line["level"], name)
			require.Equal(t, "req-"+name, line["request_id"], name)
			require.Contains(t, line["error"], detail, name)
		}
	})
}

func TestWriteErrorLogsAnAbandonedRequestAtInfo(t *testing.T) {
	t.Parallel()
	logger, logs := newLogger()
	base, _ := reqinfo.New(t.Context(), "req-gone")
	ctx, cancel := context.WithCancel(base)
	cancel() // the client closed the connection
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	rec := httptest.NewRecorder()
	rest.WriteError(rec, req, logger, fmt.Errorf("list projects: %w", context.Canceled))
	requireError(t, rec, http.StatusInternalServerError, apperr.CodeInternal)
	var line map[string]any
	require.NoError(t, json.Unmarshal(bytes.TrimSpace([]byte(logs.String())), &line), "one log line: %s", logs)
	require.Equal(t, "request_abandoned", line["msg"])
	require.Equal(t, "INFO", line["level"])

	// Cancelled while the client still waits: ours, an error.
	logger, logs = newLogger()
	req = httptest.NewRequestWithContext(base, http.MethodGet, "/", nil)
	rest.WriteError(httptest.NewRecorder(), req, logger, fmt.Errorf("list projects: %w", context.Canceled))
	require.Contains(t, logs.String(), `"msg":"request_failed"`)
}

func TestStatus(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		code apperr.Code
		want int
	}{
		{apperr.CodeValidation, http.StatusBadRequest},
		{apperr.CodeUnauthenticated, http.StatusUnauthorized},
		{apperr.CodeForbidden, http.StatusForbidden},
		{apperr.CodeNotFound, http.StatusNotFound},
		{apperr.CodeConflict, http.StatusConflict},
		{apperr.CodeTenantNotFound, http.StatusNotFound},
		{apperr.CodeTenantSuspended, http.StatusForbidden},
		{apperr.CodeRateLimited, http.StatusTooManyRequests},
		{apperr.CodePlanLimit, http.StatusUnprocessableEntity},
		{apperr.CodeFeatureDisabled, http.StatusForbidden},
		{apperr.CodeMethodNotAllowed, http.StatusMethodNotAllowed},
		{apperr.CodePayloadTooLarge, http.StatusRequestEntityTooLarge},
		{apperr.CodeUnsupportedMedia, http.StatusUnsupportedMediaType},
		{apperr.CodeUnavailable, http.StatusServiceUnavailable},
		{apperr.CodeInternal, http.StatusInternalServerError},
		{apperr.Code("NOT_A_CODE"), http.StatusInternalServerError},
		{apperr.Code(""), http.StatusInternalServerError},
	} {
		t.Run("Maps"+string(tc.code)+"To"+fmt.Sprint(tc.want), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, rest.Status(tc.code))

			// WriteError answers the same status with the code in the body.
			logger, _ := newLogger()
			rec := httptest.NewRecorder()
			rest.WriteError(rec, httptest.NewRequest(http.MethodGet, "/", nil), logger, apperr.New(tc.code, "m"))
			require.Equal(t, tc.want, rec.Code)
			e := decode(t, rec)["error"].(map[string]any)
			require.Equal(t, string(tc.code), e["code"])
		})
	}
}

// requireData checks rec is the success envelope with status and nothing
// else at the top level, and returns its data.
func requireData(t *testing.T, rec *httptest.ResponseRecorder, status int) any {
	t.Helper()
	require.Equal(t, status, rec.Code, "body: %s", rec.Body)
	body := decode(t, rec)
	require.ElementsMatch(t, []string{"success", "data", "meta"}, keys(body), "body: %s", rec.Body)
	require.Equal(t, true, body["success"])
	if _, isList := body["data"].([]any); isList {
		requireMeta(t, body, "pagination")
	} else {
		requireMeta(t, body)
	}
	return body["data"]
}

// requireList checks rec is a 200 list envelope and returns its resources
// and pagination block.
func requireList(t *testing.T, rec *httptest.ResponseRecorder, typ string) ([]map[string]any, map[string]any) {
	t.Helper()
	data := requireData(t, rec, http.StatusOK)
	items, ok := data.([]any)
	require.True(t, ok, "data is an array: %s", rec.Body)
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		out = append(out, requireResource(t, it, typ))
	}
	page := decode(t, rec)["meta"].(map[string]any)["pagination"].(map[string]any)
	require.ElementsMatch(t, []string{"next_cursor", "has_more", "limit"}, keys(page))
	require.IsType(t, true, page["has_more"])
	require.IsType(t, 0.0, page["limit"])
	if page["next_cursor"] != nil {
		require.IsType(t, "", page["next_cursor"])
	}
	return out, page
}

// requireResource checks v is a resource object of typ.
func requireResource(t *testing.T, v any, typ string) map[string]any {
	t.Helper()
	res, ok := v.(map[string]any)
	require.True(t, ok, "resource is an object: %v", v)
	require.ElementsMatch(t, []string{"id", "type", "attributes", "relationships"}, keys(res))
	require.Equal(t, typ, res["type"])
	require.IsType(t, "", res["id"])
	require.IsType(t, map[string]any{}, res["attributes"])
	require.IsType(t, map[string]any{}, res["relationships"])
	return res
}

// attrs is a resource's attributes.
func attrs(res map[string]any) map[string]any { return res["attributes"].(map[string]any) }

// details is an error's details.
func details(e map[string]any) map[string]any { return e["details"].(map[string]any) }
