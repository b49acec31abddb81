package graph

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/tenancy"
)

type limResult struct {
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func limServer(t *testing.T) *httptest.Server {
	t.Helper()
	h := NewHandler(Config{
		Clients: db.NewClients(dbtest.New(t).Pool),
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Version: "test",
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func limPost(t *testing.T, srv *httptest.Server, body map[string]any) (int, limResult) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(srv.URL, "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer resp.Body.Close()
	var r limResult
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	return resp.StatusCode, r
}

func limCode(r limResult) string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

func TestOperationLimits(t *testing.T) {
	t.Parallel()
	srv := limServer(t)

	t.Run("a query deeper than 10 levels is refused before any resolver runs", func(t *testing.T) {
		t.Parallel()
		q := `{ projects { edges { node { items { edges { node { project { items { edges { node { project { id } } } } } } } } } } } }`
		_, r := limPost(t, srv, map[string]any{"query": q})
		// Executed, it would answer UNAUTHENTICATED (anonymous): refused
		// earlier, it answers VALIDATION_ERROR.
		require.Equal(t, "VALIDATION_ERROR", limCode(r), "%+v", r.Errors)
		require.Contains(t, r.Errors[0].Message, "levels deep")
	})

	t.Run("a query at the depth limit runs", func(t *testing.T) {
		t.Parallel()
		q := `{ projects(first: 5) { edges { node { items(first: 5) { edges { node { project { id } } } } } } } }`
		_, r := limPost(t, srv, map[string]any{"query": q})
		require.Equal(t, "UNAUTHENTICATED", limCode(r))
	})

	t.Run("a refused query is refused each time it comes, a passing one passes each time", func(t *testing.T) {
		t.Parallel()
		deep := `{ projects { edges { node { items { edges { node { project { items { edges { node { project { name } } } } } } } } } } } }`
		ok := `{ projects(first: 3) { edges { node { items(first: 3) { edges { node { project { name } } } } } } } }`
		for range 3 {
			_, r := limPost(t, srv, map[string]any{"query": deep})
			require.Equal(t, "VALIDATION_ERROR", limCode(r))
			_, r = limPost(t, srv, map[string]any{"query": ok})
			require.Equal(t, "UNAUTHENTICATED", limCode(r))
		}
	})

	t.Run("the sign-in mutations may appear once per operation", func(t *testing.T) {
		t.Parallel()
		q := `mutation { a: login(input:{email:"x@y.io", password:"p"}) { accessToken } b: login(input:{email:"x@y.io", password:"q"}) { accessToken } }`
		_, r := limPost(t, srv, map[string]any{"query": q})
		require.Equal(t, "VALIDATION_ERROR", limCode(r))
		require.Contains(t, r.Errors[0].Message, "only once")
	})

	t.Run("more than five aliases of a field are refused", func(t *testing.T) {
		t.Parallel()
		_, ok := limPost(t, srv, map[string]any{"query": `{ a: version b: version c: version d: version e: version }`})
		require.Empty(t, ok.Errors)
		_, r := limPost(t, srv, map[string]any{"query": `{ a: version b: version c: version d: version e: version f: version }`})
		require.Equal(t, "VALIDATION_ERROR", limCode(r))
	})

	t.Run("nested pages multiply the complexity", func(t *testing.T) {
		t.Parallel()
		q := `{ projects(first: 100) { edges { node { items(first: 100) { edges { node { id } } } } } } }`
		_, r := limPost(t, srv, map[string]any{"query": q})
		require.Equal(t, "COMPLEXITY_LIMIT_EXCEEDED", limCode(r))
		// first beyond the cap costs as the cap, not more and not less.
		_, r = limPost(t, srv, map[string]any{"query": `{ projects(first: 100000) { totalCount } }`})
		require.Equal(t, "UNAUTHENTICATED", limCode(r))
	})

	t.Run("cyclic fragments are a validation error", func(t *testing.T) {
		t.Parallel()
		q := `query { projects { ...A } } fragment A on ProjectConnection { ...B } fragment B on ProjectConnection { ...A }`
		code, r := limPost(t, srv, map[string]any{"query": q})
		require.NotEmpty(t, r.Errors)
		require.Less(t, code, 500)
	})

	t.Run("mutations over GET and form posts are refused", func(t *testing.T) {
		t.Parallel()
		resp, err := http.Get(srv.URL + "?query=" + url.QueryEscape(`mutation { logoutAll }`))
		require.NoError(t, err)
		resp.Body.Close()
		require.GreaterOrEqual(t, resp.StatusCode, 400)
		require.Less(t, resp.StatusCode, 500)

		resp, err = http.Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader(`query={version}`))
		require.NoError(t, err)
		resp.Body.Close()
		require.GreaterOrEqual(t, resp.StatusCode, 400)
		require.Less(t, resp.StatusCode, 500)

		resp, err = http.Get(srv.URL + "?query=" + url.QueryEscape(`{ version }`))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	})

	t.Run("automatic persisted queries register once and then run by hash", func(t *testing.T) {
		t.Parallel()
		q := `{ version apq: version }`
		sum := sha256.Sum256([]byte(q))
		ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
		_, r := limPost(t, srv, map[string]any{"extensions": ext})
		require.Equal(t, "PERSISTED_QUERY_NOT_FOUND", limCode(r))
		_, r = limPost(t, srv, map[string]any{"query": q, "extensions": ext})
		require.Empty(t, r.Errors)
		_, r = limPost(t, srv, map[string]any{"extensions": ext})
		require.Empty(t, r.Errors)
		require.Equal(t, "test", r.Data["apq"])
	})
}

// TestIntrospectionOffInProductionButForStaff: with introspection off,
// anonymous callers and members get no schema, platform staff (the
// playground's users in production) do.
func TestIntrospectionOffInProductionButForStaff(t *testing.T) {
	t.Parallel()
	h := NewHandler(Config{Clients: db.NewClients(dbtest.New(t).Pool), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Version: "test", Introspection: false})
	as := func(v *tenancy.Viewer) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if v != nil {
				r = r.WithContext(tenancy.WithViewer(r.Context(), v))
			}
			h.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	q := map[string]any{"query": `{ __schema { queryType { name } } }`}
	_, r := limPost(t, as(nil), q)
	require.NotEmpty(t, r.Errors, "anonymous callers get no schema")
	_, r = limPost(t, as(&tenancy.Viewer{UserID: uuid.New()}), q)
	require.NotEmpty(t, r.Errors, "members get no schema")
	_, r = limPost(t, as(&tenancy.Viewer{UserID: uuid.New(), IsStaff: true}), q)
	require.Empty(t, r.Errors, "staff get the schema")
}

func TestNestedConnectionsNeedAPageSize(t *testing.T) {
	t.Parallel()
	srv := limServer(t)
	_, r := limPost(t, srv, map[string]any{"query": `{ projects(first: 2) { edges { node { items { totalCount } } } } }`})
	require.Equal(t, "VALIDATION_ERROR", limCode(r))
	require.Contains(t, r.Errors[0].Message, "pass first or last")
	// With a page size it runs (and is refused later for being anonymous).
	_, r = limPost(t, srv, map[string]any{"query": `{ projects(first: 2) { edges { node { items(first: 3) { totalCount } } } } }`})
	require.Equal(t, "UNAUTHENTICATED", limCode(r))
	// Root connections default to one page.
	_, r = limPost(t, srv, map[string]any{"query": `{ projects { totalCount } }`})
	require.Equal(t, "UNAUTHENTICATED", limCode(r))
}

func TestShapeLimitRemembersOnlyOperationsThatPassed(t *testing.T) {
	t.Parallel()
	s := newShapeLimit(Limits{MaxDepth: 2, MaxAliases: 5})
	parse := func(q string) *ast.OperationDefinition {
		doc, err := parser.ParseQuery(&ast.Source{Input: q})
		require.NoError(t, err)
		return doc.Operations[0]
	}
	shallow, deep := parse(`{ a { b } }`), parse(`{ a { b { c } } }`)
	require.Nil(t, s.MutateOperationContext(t.Context(), &graphql.OperationContext{Operation: shallow}))
	require.True(t, s.passed.has(shallow))
	require.NotNil(t, s.MutateOperationContext(t.Context(), &graphql.OperationContext{Operation: deep}))
	require.False(t, s.passed.has(deep))
	// The same text parsed again is another operation: checked anew.
	require.False(t, s.passed.has(parse(`{ a { b } }`)))
	for i := range maxOpSet {
		s.passed.add(parse(fmt.Sprintf(`{ a%d }`, i)))
	}
	require.LessOrEqual(t, len(s.passed.ops), maxOpSet)
}
