package graph

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/reqinfo"
)

// logBuffer is a mutex-guarded sink for JSON log lines.
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

// entries returns the decoded log lines whose msg is msg.
func (b *logBuffer) entries(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for sc.Scan() {
		var e map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), "log line: %s", sc.Text())
		if e["msg"] == msg {
			out = append(out, e)
		}
	}
	return out
}

func newLogger() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewJSONHandler(buf, nil)), buf
}

// gqlResponse is a GraphQL response body.
type gqlResponse struct {
	Data   map[string]any   `json:"data"`
	Errors []map[string]any `json:"errors"`
}

// testHandler is a GraphQL handler on a fresh database with its log.
type testHandler struct {
	h    http.Handler
	logs *logBuffer
}

func newTestHandler(t *testing.T, introspection bool) *testHandler {
	t.Helper()
	logger, logs := newLogger()
	h := NewHandler(Config{
		Clients:       db.NewClients(dbtest.New(t).Pool),
		Logger:        logger,
		Version:       "test-1",
		Introspection: introspection,
	})
	return &testHandler{h: h, logs: logs}
}

// post sends query as a JSON POST and decodes the answer.
func (th *testHandler) post(t *testing.T, query string) (int, string, gqlResponse) {
	t.Helper()
	payload, err := json.Marshal(map[string]any{"query": query})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	th.h.ServeHTTP(rec, req)
	var resp gqlResponse
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp), "body: %s", rec.Body)
	return rec.Code, rec.Body.String(), resp
}

// onlyError requires exactly one error in resp and returns it.
func onlyError(t *testing.T, body string, resp gqlResponse) map[string]any {
	t.Helper()
	require.Len(t, resp.Errors, 1, "body: %s", body)
	return resp.Errors[0]
}

func errorCode(e map[string]any) any {
	ext, _ := e["extensions"].(map[string]any)
	return ext["code"]
}

func TestHandler(t *testing.T) {
	t.Parallel()

	t.Run("VersionQueryAnswersConfiguredVersion", func(t *testing.T) {
		t.Parallel()
		th := newTestHandler(t, false)
		status, body, _ := th.post(t, `{ version }`)
		require.Equal(t, http.StatusOK, status)
		require.JSONEq(t, `{"data":{"version":"test-1"}}`, body)
	})

	t.Run("GetTransportServesQueries", func(t *testing.T) {
		t.Parallel()
		th := newTestHandler(t, false)
		rec := httptest.NewRecorder()
		th.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/graphql?query=%7Bversion%7D", nil))
		require.Equal(t, http.StatusOK, rec.Code)
		require.JSONEq(t, `{"data":{"version":"test-1"}}`, rec.Body.String())
	})

	t.Run("NodeLookupRequiresAuthentication", func(t *testing.T) {
		t.Parallel()
		th := newTestHandler(t, false)
		_, body, resp := th.post(t, `{ node(id:"00000000-0000-0000-0000-000000000000") { id } }`)
		e := onlyError(t, body, resp)
		require.Equal(t, "UNAUTHENTICATED", errorCode(e))
		require.Equal(t, "authentication required", e["message"])
		require.Equal(t, []any{"node"}, e["path"])
		require.Empty(t, th.logs.entries(t, "graphql_internal_error"), "client errors are not logged")
	})

	t.Run("ParseErrorKeepsGqlgenCode", func(t *testing.T) {
		t.Parallel()
		th := newTestHandler(t, false)
		_, body, resp := th.post(t, `{ version `)
		require.Equal(t, "GRAPHQL_PARSE_FAILED", errorCode(onlyError(t, body, resp)))
	})

	t.Run("TokenLimitRejectsHugeDocuments", func(t *testing.T) {
		t.Parallel()
		th := newTestHandler(t, false)
		_, body, resp := th.post(t, "{ "+strings.Repeat("version ", 10_001)+"}")
		require.NotEmpty(t, resp.Errors, "body: %.300s", body)
		require.Nil(t, resp.Data)
	})
}

func TestIntrospection(t *testing.T) {
	t.Parallel()

	t.Run("DisabledRejectsSchemaQueries", func(t *testing.T) {
		t.Parallel()
		th := newTestHandler(t, false)
		for _, q := range []string{`{ __schema { types { name } } }`, `{ __type(name:"Query") { name } }`} {
			_, body, resp := th.post(t, q)
			require.NotEmpty(t, resp.Errors, "%s: %s", q, body)
			require.NotContains(t, body, `"types"`, q)
			require.NotContains(t, body, `"Query"`, q)
		}
	})

	t.Run("DisabledHidesFieldSuggestions", func(t *testing.T) {
		t.Parallel()
		th := newTestHandler(t, false)
		_, body, resp := th.post(t, `{ verson }`)
		e := onlyError(t, body, resp)
		require.Equal(t, "GRAPHQL_VALIDATION_FAILED", errorCode(e))
		require.Contains(t, e["message"], "verson")
		require.NotContains(t, body, "Did you mean")
		require.NotContains(t, body, `"version"`)
	})

	t.Run("EnabledAnswersSchemaQueries", func(t *testing.T) {
		t.Parallel()
		th := newTestHandler(t, true)
		_, body, resp := th.post(t, `{ __schema { types { name } } }`)
		require.Empty(t, resp.Errors, body)
		schema, ok := resp.Data["__schema"].(map[string]any)
		require.True(t, ok, body)
		require.NotEmpty(t, schema["types"])
		require.Contains(t, body, `"name":"Query"`)
	})

	t.Run("EnabledSuggestsFields", func(t *testing.T) {
		t.Parallel()
		th := newTestHandler(t, true)
		_, body, resp := th.post(t, `{ verson }`)
		e := onlyError(t, body, resp)
		require.Equal(t, "GRAPHQL_VALIDATION_FAILED", errorCode(e))
		require.Contains(t, e["message"], `Did you mean "version"`)
	})
}

func TestPresenter(t *testing.T) {
	t.Parallel()

	t.Run("ValidationErrorCarriesCodeAndFields", func(t *testing.T) {
		t.Parallel()
		logger, logs := newLogger()
		fields := map[string][]string{"name": {"is required"}}
		err := fmt.Errorf("create project: %w", apperr.Validation("invalid input: check name", fields))
		gerr := presenter(logger)(context.Background(), err)
		require.Equal(t, "invalid input: check name", gerr.Message)
		require.Equal(t, "VALIDATION_ERROR", gerr.Extensions["code"])
		require.Equal(t, fields, gerr.Extensions["fields"])
		require.Empty(t, logs.String())
	})

	t.Run("CodedErrorWithoutFieldsHasNoFieldsExtension", func(t *testing.T) {
		t.Parallel()
		logger, _ := newLogger()
		gerr := presenter(logger)(context.Background(), apperr.New(apperr.CodeForbidden, "not allowed"))
		require.Equal(t, "not allowed", gerr.Message)
		require.Equal(t, map[string]any{"code": "FORBIDDEN"}, gerr.Extensions)
	})

	t.Run("PlainErrorIsInternalAndLogged", func(t *testing.T) {
		t.Parallel()
		logger, logs := newLogger()
		ctx, info := reqinfo.New(context.Background(), "req-gql-1")
		info.SetTenant("acme")
		gerr := presenter(logger)(ctx, errors.New("pq: secret detail"))
		require.Equal(t, "internal error", gerr.Message)
		require.Equal(t, "INTERNAL", gerr.Extensions["code"])
		require.NotContains(t, gerr.Error(), "secret")

		lines := logs.entries(t, "graphql_internal_error")
		require.Len(t, lines, 1)
		require.Equal(t, "ERROR", lines[0]["level"])
		require.Contains(t, lines[0]["error"], "pq: secret detail")
		require.Equal(t, "req-gql-1", lines[0]["request_id"])
		require.Equal(t, "acme", lines[0]["tenant"])
	})

	t.Run("ClientLeavingIsNotAnInternalErrorInTheLog", func(t *testing.T) {
		t.Parallel()
		logger, logs := newLogger()
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // the client closed the connection
		gerr := presenter(logger)(ctx, fmt.Errorf("projects: %w", context.Canceled))
		require.Equal(t, "INTERNAL", gerr.Extensions["code"])
		require.Empty(t, logs.entries(t, "graphql_internal_error"))
		lines := logs.entries(t, "graphql_client_gone")
		require.Len(t, lines, 1)
		require.Equal(t, "INFO", lines[0]["level"])

		// A cancellation while the request still runs is ours: an error.
		logger, logs = newLogger()
		presenter(logger)(context.Background(), fmt.Errorf("projects: %w", context.Canceled))
		require.Len(t, logs.entries(t, "graphql_internal_error"), 1)
	})

	t.Run("InternalAppErrorHidesItsMessage", func(t *testing.T) {
		t.Parallel()
		logger, logs := newLogger()
		gerr := presenter(logger)(context.Background(),
			apperr.Wrap(apperr.CodeInternal, "insert failed: pq: secret detail", errors.New("pq: secret detail")))
		require.Equal(t, "internal error", gerr.Message)
		require.Equal(t, "INTERNAL", gerr.Extensions["code"])
		require.Contains(t, logs.String(), "pq: secret detail")
	})

	t.Run("GqlgenErrorWithCodePassesThrough", func(t *testing.T) {
		t.Parallel()
		logger, logs := newLogger()
		in := &gqlerror.Error{Message: "Cannot query field", Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}}
		gerr := presenter(logger)(context.Background(), in)
		require.Equal(t, "Cannot query field", gerr.Message)
		require.Equal(t, "GRAPHQL_VALIDATION_FAILED", gerr.Extensions["code"])
		require.Empty(t, logs.String())
	})
}
