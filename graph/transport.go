package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/clientiq/clientiq/graph/generated"
)

// postTransport is gqlgen's POST transport (transport.POST: the same
// requests taken, the same statuses, headers and bytes answered) except in
// how an answer is written. gqlgen passes the whole response through
// json.Marshal, which re-reads the data it has just written (its
// json.RawMessage is validated and compacted byte by byte) and copies it:
// 5 % of the server's CPU on a list request. An answer with data and
// nothing else, whose bytes json.Marshal would leave as they are, is
// written as is; any other goes through json.Marshal as before.
type postTransport struct{}

// Supports is transport.POST's: a POST of application/json, no upgrade.
func (postTransport) Supports(r *http.Request) bool { return transport.POST{}.Supports(r) }

var rawParamsPool = sync.Pool{New: func() any { return &graphql.RawParams{} }}

const (
	contentTypeJSON            = "application/json"
	contentTypeGraphQLResponse = "application/graphql-response+json"
)

func (postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	contentType := responseContentType(r)
	w.Header().Set("Content-Type", contentType)
	params := rawParamsPool.Get().(*graphql.RawParams)
	defer func() {
		*params = graphql.RawParams{}
		rawParamsPool.Put(params)
	}()
	start := graphql.Now()

	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("could not read request body: %+v", err)}))
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{
			gqlerror.Errorf("json request body could not be decoded: %+v body:%s", err, string(body))}))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	rc, opErr := exec.CreateOperationContext(ctx, params)
	if opErr != nil {
		w.WriteHeader(errorStatus(contentType, opErr))
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(ctx, rc), opErr))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	resp := responses(ctx)
	writeResponse(w, resp)
	// Written out (w copies what it is given: net/http's buffer, or the
	// admission middleware's), so its data may carry the next answer.
	if resp != nil {
		generated.ReleaseAnswer(resp.Data)
	}
}

// responseContentType is gqlgen's choice from the Accept header (POST with
// no ResponseHeaders and UseGrapQLResponseJsonByDefault off).
func responseContentType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return contentTypeJSON
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", contentTypeJSON:
			return contentTypeJSON
		case contentTypeGraphQLResponse:
			return contentTypeGraphQLResponse
		}
	}
	return contentTypeGraphQLResponse
}

// errorStatus is gqlgen's status for errors found before execution.
func errorStatus(contentType string, errs gqlerror.List) int {
	if errcode.GetErrorKind(errs) != errcode.KindProtocol {
		return http.StatusOK
	}
	if contentType == contentTypeGraphQLResponse {
		return http.StatusBadRequest
	}
	return http.StatusUnprocessableEntity
}

var (
	dataPrefix = []byte(`{"data":`)
	dataSuffix = []byte(`}`)
	nullData   = []byte(`null`)
)

// writeResponse writes resp as json.Marshal would.
func writeResponse(w io.Writer, resp *graphql.Response) {
	if len(resp.Errors) == 0 && resp.Label == "" && resp.Path == nil && resp.HasNext == nil &&
		len(resp.Extensions) == 0 && marshalsAsIs(resp.Data) {
		data := resp.Data
		if data == nil {
			data = nullData
		}
		_, _ = w.Write(dataPrefix)
		_, _ = w.Write(data)
		_, _ = w.Write(dataSuffix)
		return
	}
	b, err := json.Marshal(resp)
	if err != nil {
		panic(fmt.Errorf("unable to marshal %s: %w", string(resp.Data), err))
	}
	_, _ = w.Write(b)
}

// marshalsAsIs reports whether json.Marshal would copy the JSON value b
// unchanged: no whitespace between tokens (it compacts), none of < > &
// U+2028 U+2029 (it escapes them) and no unterminated string. gqlgen writes
// compact JSON and escapes control characters in strings; a scalar
// marshaler that wrote otherwise takes the json.Marshal path. A false
// answer only costs time.
func marshalsAsIs(b []byte) bool {
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !jsonNotable[c] {
			continue
		}
		switch {
		case c == '<' || c == '>' || c == '&':
			return false
		case c == 0xE2:
			if i+2 < len(b) && b[i+1] == 0x80 && (b[i+2] == 0xA8 || b[i+2] == 0xA9) {
				return false
			}
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		default: // whitespace between tokens (or a stray backslash)
			return false
		}
	}
	return !inString
}

// jsonNotable are the bytes marshalsAsIs looks at; every other byte is
// passed over with one lookup.
var jsonNotable = [256]bool{'<': true, '>': true, '&': true, 0xE2: true, '"': true, '\\': true,
	' ': true, '\n': true, '\r': true, '\t': true}
