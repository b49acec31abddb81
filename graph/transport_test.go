package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

const listData = `{"projects":{"edges":[{"node":{"id":"7f0e","name":"Alpha"}}],"pageInfo":{"hasNextPage":true,"endCursor":"gqFpxBA"}}}`

// dataSamples are GraphQL data documents, some of which json.Marshal
// rewrites (escapes, whitespace) and so must take its path.
var dataSamples = []string{
	``,
	`null`,
	`{}`,
	listData,
	`{"a":"<script>alert(1)</script>"}`,
	`{"a":"Tom & Jerry"}`,
	`{"a":"x > y"}`,
	`{"a":"x < y"}`,
	`{"a":"line\u2028separator"}`,
	"{\"a\":\"line\u2028raw\"}",
	"{\"a\":\"para\u2029raw\"}",
	"{\"a\":\"ellipsis… and ’quotes’ — fine\"}",
	`{"a":"escaped \" quote and \\ backslash"}`,
	`{"a":"\\"}`,
	"{\"a\": 1}",
	"{\"a\":[1,\n2]}",
	"{\"a\":\"tab\\tinside\",\"b\":\t3}",
	`{"a":"space inside a string"}`,
	`{"a":1.5e10,"b":-0,"c":true,"d":false,"e":null}`,
	`{"ünïcödé":"日本語"}`,
	"{\"invalid utf8\":\"\xff\xfe\"}",
	`{"a":"\u003c already escaped"}`,
	"{\"a\":\"\xe2\x80\"}",
}

func TestWriteResponseWritesWhatJSONMarshalWrites(t *testing.T) {
	t.Parallel()
	for _, d := range dataSamples {
		var data json.RawMessage
		if d != "" {
			data = json.RawMessage(d)
		}
		for _, resp := range []*graphql.Response{
			{Data: data},
			{Data: data, Errors: gqlerror.List{{Message: "boom <b>", Path: ast.Path{ast.PathName("a")}}}},
			{Data: data, Extensions: map[string]any{"k": "v"}},
			{Data: data, Label: "l", Path: ast.Path{ast.PathIndex(1)}, HasNext: new(bool)},
		} {
			want, err := json.Marshal(resp)
			require.NoError(t, err, d)
			var got bytes.Buffer
			writeResponse(&got, resp)
			require.Equal(t, string(want), got.String(), "data %q", d)
		}
	}
}

func FuzzWriteResponseWritesWhatJSONMarshalWrites(f *testing.F) {
	for _, d := range dataSamples {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, d []byte) {
		if !json.Valid(d) {
			return
		}
		resp := &graphql.Response{Data: d}
		want, err := json.Marshal(resp)
		if err != nil {
			t.Skip()
		}
		var got bytes.Buffer
		writeResponse(&got, resp)
		if got.String() != string(want) {
			t.Fatalf("data %q: wrote %q, json.Marshal %q", d, got.String(), want)
		}
	})
}

func TestMarshalsAsIsTakesTheFastPathForGqlgensOutput(t *testing.T) {
	t.Parallel()
	// The case the transport exists for must not fall back.
	require.True(t, marshalsAsIs([]byte(listData)))
	require.True(t, marshalsAsIs([]byte("{\"a\":\"ellipsis… and ’quotes’ — fine\"}")))
	require.False(t, marshalsAsIs([]byte(`{"a":"<"}`)))
	require.False(t, marshalsAsIs([]byte("{\"a\": 1}")))
}

// fakeExecutor answers as a schema would, without one: what the transport
// does around the executor is what is compared.
type fakeExecutor struct {
	opErr gqlerror.List
	resp  *graphql.Response
}

func (e fakeExecutor) CreateOperationContext(_ context.Context, p *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	if e.opErr != nil {
		return &graphql.OperationContext{RawQuery: p.Query}, e.opErr
	}
	return &graphql.OperationContext{RawQuery: p.Query, Variables: p.Variables, OperationName: p.OperationName}, nil
}

func (e fakeExecutor) DispatchOperation(ctx context.Context, oc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	return func(context.Context) *graphql.Response {
		if e.resp != nil {
			return e.resp
		}
		// Echo what was decoded, so a decoding difference shows.
		b, _ := json.Marshal(map[string]any{"query": oc.RawQuery, "variables": oc.Variables, "operationName": oc.OperationName})
		return &graphql.Response{Data: b}
	}, ctx
}

func (e fakeExecutor) DispatchError(_ context.Context, list gqlerror.List) *graphql.Response {
	return &graphql.Response{Errors: list}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestPostTransportAnswersAsGqlgensPOST(t *testing.T) {
	t.Parallel()
	protocolErr := gqlerror.List{{Message: "Unexpected Name \"quer\""}}
	errcode.Set(protocolErr[0], errcode.ParseFailed)
	userErr := gqlerror.List{{Message: "not allowed", Extensions: map[string]any{"code": "FORBIDDEN"}}}
	body := `{"query":"query Q($n: Int) { projects(first: $n) { edges { node { id } } } }","variables":{"n":20,"big":12345678901234567890},"operationName":"Q"}`
	cases := []struct {
		name   string
		exec   fakeExecutor
		body   string
		accept string
		reader io.Reader
	}{
		{name: "data", exec: fakeExecutor{resp: &graphql.Response{Data: json.RawMessage(listData)}}, body: body},
		{name: "echo of the decoded request", body: body},
		{name: "data with HTML characters", exec: fakeExecutor{resp: &graphql.Response{Data: json.RawMessage(`{"a":"<script>alert(1)</script>"}`)}}, body: body},
		{name: "data and errors", exec: fakeExecutor{resp: &graphql.Response{Data: json.RawMessage(`{"a":null}`), Errors: userErr}}, body: body},
		{name: "no data", exec: fakeExecutor{resp: &graphql.Response{}}, body: body},
		{name: "undecodable body", body: `{"query":`},
		{name: "body not an object", body: `[1,2]`},
		{name: "unreadable body", reader: failingReader{}},
		{name: "parse error", exec: fakeExecutor{opErr: protocolErr}, body: body},
		{name: "parse error, graphql-response+json", exec: fakeExecutor{opErr: protocolErr}, body: body, accept: "application/graphql-response+json"},
		{name: "user error before execution", exec: fakeExecutor{opErr: userErr}, body: body, accept: "application/graphql-response+json"},
		{name: "accept any", body: body, accept: "*/*"},
		{name: "accept application/*", body: body, accept: "application/*"},
		{name: "accept json among others", body: body, accept: "text/html, application/json;q=0.9"},
		{name: "accept graphql-response+json", body: body, accept: "application/graphql-response+json"},
		{name: "accept nothing known", body: body, accept: "text/html"},
		{name: "accept malformed", body: body, accept: ";;;, application/json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			do := func(tr graphql.Transport) *httptest.ResponseRecorder {
				var r io.Reader = strings.NewReader(c.body)
				if c.reader != nil {
					r = c.reader
				}
				req := httptest.NewRequest(http.MethodPost, "/graphql", r)
				req.Header.Set("Content-Type", "application/json")
				if c.accept != "" {
					req.Header.Set("Accept", c.accept)
				}
				require.True(t, tr.Supports(req))
				rec := httptest.NewRecorder()
				tr.Do(rec, req, c.exec)
				return rec
			}
			want, got := do(transport.POST{}), do(postTransport{})
			require.Equal(t, want.Code, got.Code)
			require.Equal(t, want.Header(), got.Header())
			require.Equal(t, want.Body.String(), got.Body.String())
		})
	}
}

func BenchmarkMarshalsAsIs(b *testing.B) {
	data := []byte(strings.Repeat(`{"node":{"id":"7f0e8a0c-5d9e-4d43-9a2b-1c0d2e3f4a5b","name":"Project 0042"}},`, 20))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if !marshalsAsIs(data) {
			b.Fatal("fallback")
		}
	}
}
