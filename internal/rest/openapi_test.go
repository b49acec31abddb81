package rest_test

import (
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/rest"
)

// probeMethods are the methods the route checks try on every path.
var probeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// openapiDoc is the decoded OpenAPI document with a small JSON Schema
// validator over its components.
type openapiDoc struct{ root map[string]any }

func loadOpenAPI(t *testing.T) openapiDoc {
	t.Helper()
	var root map[string]any
	require.NoError(t, json.Unmarshal(rest.OpenAPI(), &root))
	return openapiDoc{root: root}
}

// pointer resolves a local "#/a/b" reference.
func (d openapiDoc) pointer(ref string) (any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("%s is not a local reference", ref)
	}
	var cur any = d.root
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: %q is not inside an object", ref, tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("%s: no %q", ref, tok)
		}
	}
	return cur, nil
}

// deref follows $ref until it reaches an object without one.
func (d openapiDoc) deref(t *testing.T, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	require.True(t, ok, "%v is an object", v)
	for range 10 {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		target, err := d.pointer(ref)
		require.NoError(t, err)
		m, ok = target.(map[string]any)
		require.True(t, ok, "%s resolves to an object", ref)
	}
	t.Fatalf("reference chain too long at %v", m)
	return nil
}

// paths is the document's paths object.
func (d openapiDoc) paths() map[string]any { return d.root["paths"].(map[string]any) }

// operations lists every documented "METHOD template".
func (d openapiDoc) operations() []string {
	var out []string
	for path, item := range d.paths() {
		for method := range item.(map[string]any) {
			if slices.Contains(probeMethods, strings.ToUpper(method)) {
				out = append(out, strings.ToUpper(method)+" "+path)
			}
		}
	}
	sort.Strings(out)
	return out
}

// response is the documented response of method template for status; for
// a method the path does not serve (405) any operation of the path answers.
func (d openapiDoc) response(t *testing.T, method, template string, status int) map[string]any {
	t.Helper()
	item, ok := d.paths()[template].(map[string]any)
	require.True(t, ok, "%s is documented", template)
	op, ok := item[strings.ToLower(method)].(map[string]any)
	if !ok && status == http.StatusMethodNotAllowed {
		for _, m := range probeMethods {
			if op, ok = item[strings.ToLower(m)].(map[string]any); ok {
				break
			}
		}
	}
	require.True(t, ok, "%s %s is documented", method, template)
	res, ok := op["responses"].(map[string]any)[fmt.Sprint(status)]
	require.True(t, ok, "%s %s documents status %d", method, template, status)
	return d.deref(t, res)
}

// jsonSchema is the application/json schema of a response or request body
// (nil when it has no content).
func jsonSchema(t *testing.T, obj map[string]any) map[string]any {
	t.Helper()
	content, ok := obj["content"].(map[string]any)
	if !ok {
		return nil
	}
	media, ok := content["application/json"].(map[string]any)
	require.True(t, ok, "content is application/json: %v", content)
	schema, ok := media["schema"].(map[string]any)
	require.True(t, ok, "application/json has a schema")
	return schema
}

// knownKeywords are the schema keywords the validator checks or may
// safely ignore; any other keyword fails, so the document cannot say
// something the tests do not verify.
var knownKeywords = map[string]bool{
	"$ref": true, "type": true, "properties": true, "required": true, "additionalProperties": true,
	"enum": true, "format": true, "anyOf": true, "oneOf": true, "items": true,
	"minLength": true, "maxLength": true, "minimum": true, "maximum": true,
	"description": true, "default": true,
}

// validate checks v against schema and returns the first mismatch with its
// JSON path.
func (d openapiDoc) validate(schema map[string]any, v any, path string) error {
	for k := range schema {
		if !knownKeywords[k] {
			return fmt.Errorf("%s: schema keyword %q is not supported by the validator", path, k)
		}
	}
	if ref, ok := schema["$ref"].(string); ok {
		target, err := d.pointer(ref)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		sub, ok := target.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %s is not a schema", path, ref)
		}
		return d.validate(sub, v, path)
	}
	if alts, ok := schema["anyOf"].([]any); ok {
		var errs []string
		for _, alt := range alts {
			err := d.validate(alt.(map[string]any), v, path)
			if err == nil {
				errs = nil
				break
			}
			errs = append(errs, err.Error())
		}
		if errs != nil {
			return fmt.Errorf("%s: matches no anyOf alternative: %s", path, strings.Join(errs, "; "))
		}
	}
	if alts, ok := schema["oneOf"].([]any); ok {
		n := 0
		for _, alt := range alts {
			if d.validate(alt.(map[string]any), v, path) == nil {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("%s: matches %d oneOf alternatives, want 1", path, n)
		}
	}
	if typ, ok := schema["type"]; ok {
		types, ok := typ.([]any)
		if !ok {
			types = []any{typ}
		}
		if !slices.ContainsFunc(types, func(t any) bool { return hasType(t.(string), v) }) {
			return fmt.Errorf("%s: %s is not of type %v", path, jsonText(v), typ)
		}
	}
	if enum, ok := schema["enum"].([]any); ok {
		if !slices.ContainsFunc(enum, func(e any) bool { return reflect.DeepEqual(e, v) }) {
			return fmt.Errorf("%s: %s is not one of %v", path, jsonText(v), enum)
		}
	}
	switch x := v.(type) {
	case string:
		if err := checkFormat(schema, x); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		n := float64(len([]rune(x)))
		if min, ok := schema["minLength"].(float64); ok && n < min {
			return fmt.Errorf("%s: %q is shorter than %v", path, x, min)
		}
		if max, ok := schema["maxLength"].(float64); ok && n > max {
			return fmt.Errorf("%s: %q is longer than %v", path, x, max)
		}
	case float64:
		if min, ok := schema["minimum"].(float64); ok && x < min {
			return fmt.Errorf("%s: %v is below %v", path, x, min)
		}
		if max, ok := schema["maximum"].(float64); ok && x > max {
			return fmt.Errorf("%s: %v is above %v", path, x, max)
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, it := range x {
				if err := d.validate(items, it, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		}
	case map[string]any:
		for _, r := range asSlice(schema["required"]) {
			if _, ok := x[r.(string)]; !ok {
				return fmt.Errorf("%s: required property %q is missing", path, r)
			}
		}
		props, _ := schema["properties"].(map[string]any)
		names := make([]string, 0, len(x))
		for k := range x {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			sub := path + "." + k
			if p, ok := props[k]; ok {
				if err := d.validate(p.(map[string]any), x[k], sub); err != nil {
					return err
				}
				continue
			}
			switch extra := schema["additionalProperties"].(type) {
			case bool:
				if !extra {
					return fmt.Errorf("%s: property is not allowed", sub)
				}
			case map[string]any:
				if err := d.validate(extra, x[k], sub); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func hasType(typ string, v any) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == math.Trunc(f)
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	}
	return false
}

func checkFormat(schema map[string]any, s string) error {
	switch schema["format"] {
	case "uuid":
		if _, err := uuid.Parse(s); err != nil || len(s) != 36 {
			return fmt.Errorf("%q is not a uuid", s)
		}
	case "date-time":
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return fmt.Errorf("%q is not a date-time", s)
		}
	case "email":
		if !strings.Contains(s, "@") {
			return fmt.Errorf("%q is not an email", s)
		}
	}
	return nil
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// collectRefs returns every $ref in v with the JSON path it sits at.
func collectRefs(v any, path string, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, sub := range x {
			if k == "$ref" {
				if s, ok := sub.(string); ok {
					out[path] = s
				}
				continue
			}
			collectRefs(sub, path+"/"+k, out)
		}
	case []any:
		for i, sub := range x {
			collectRefs(sub, fmt.Sprintf("%s/%d", path, i), out)
		}
	}
}

func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()

	t.Run("IsAnOpenAPI31JSONDocument", func(t *testing.T) {
		t.Parallel()
		require.True(t, json.Valid(rest.OpenAPI()))
		d := loadOpenAPI(t)
		require.Equal(t, "3.1.0", d.root["openapi"])
		info := d.root["info"].(map[string]any)
		require.NotEmpty(t, info["title"])
		require.NotEmpty(t, info["version"])
	})

	t.Run("EveryRefResolves", func(t *testing.T) {
		t.Parallel()
		d := loadOpenAPI(t)
		refs := map[string]string{}
		collectRefs(d.root, "#", refs)
		require.NotEmpty(t, refs)
		for at, ref := range refs {
			_, err := d.pointer(ref)
			require.NoError(t, err, "$ref at %s", at)
		}
	})

	t.Run("EveryOperationDocumentsItsAnswers", func(t *testing.T) {
		t.Parallel()
		d := loadOpenAPI(t)
		for _, op := range d.operations() {
			method, template, _ := strings.Cut(op, " ")
			o := d.paths()[template].(map[string]any)[strings.ToLower(method)].(map[string]any)
			require.NotEmpty(t, o["operationId"], op)
			codes := keys(o["responses"].(map[string]any))
			require.True(t, slices.ContainsFunc(codes, func(c string) bool { return strings.HasPrefix(c, "2") }), "%s has a success answer", op)
			_, elsewhere := mountedElsewhere[op]
			if !elsewhere {
				// Behind the REST middleware: every route can meet these.
				for _, c := range []string{"400", "401", "404", "405", "429", "500"} {
					require.Contains(t, codes, c, op)
				}
			}
			for _, c := range codes {
				res := d.response(t, method, template, atoi(t, c))
				if c[0] != '2' {
					require.Equal(t, map[string]any{"$ref": "#/components/schemas/ErrorEnvelope"}, jsonSchema(t, res), "%s %s", op, c)
				}
			}
			if rb, ok := o["requestBody"]; ok && !elsewhere {
				schema := d.deref(t, jsonSchema(t, d.deref(t, rb)))
				require.Equal(t, false, schema["additionalProperties"], "%s request body refuses unknown fields", op)
			}
		}
	})

	t.Run("ErrorCodesAreTheAppErrCodes", func(t *testing.T) {
		t.Parallel()
		d := loadOpenAPI(t)
		enum := d.deref(t, map[string]any{"$ref": "#/components/schemas/ErrorCode"})["enum"].([]any)
		for _, c := range enum {
			code := c.(string)
			// Every documented code maps to a status, and only INTERNAL to 500.
			status := rest.Status(apperr.Code(code))
			require.Equal(t, code == "INTERNAL", status == http.StatusInternalServerError, code)
		}
	})

	t.Run("ValidatorReportsMismatchesWithTheirPath", func(t *testing.T) {
		t.Parallel()
		d := loadOpenAPI(t)
		schema := map[string]any{"$ref": "#/components/schemas/ProjectEnvelope"}
		valid := func() map[string]any {
			return map[string]any{"success": true, "meta": map[string]any{"timestamp": "2026-01-02T03:04:05.123Z"},
				"data": map[string]any{"id": uuid.NewString(), "type": "project", "relationships": map[string]any{"owner": map[string]any{"data": nil}},
					"attributes": map[string]any{"name": "P", "description": "", "status": "active",
						"created_at": "2026-01-02T03:04:05.123456Z", "updated_at": "2026-01-02T03:04:05Z"}}}
		}
		require.NoError(t, d.validate(schema, valid(), "$"))
		for name, tc := range map[string]struct {
			mutate func(m map[string]any)
			path   string
		}{
			"extra property":   {func(m map[string]any) { m["data"].(map[string]any)["x"] = 1.0 }, "$.data.x"},
			"missing required": {func(m map[string]any) { delete(m["data"].(map[string]any)["attributes"].(map[string]any), "name") }, "$.data.attributes"},
			"wrong type":       {func(m map[string]any) { m["success"] = "true" }, "$.success"},
			"enum":             {func(m map[string]any) { m["data"].(map[string]any)["attributes"].(map[string]any)["status"] = "gone" }, "$.data.attributes.status"},
			"uuid":             {func(m map[string]any) { m["data"].(map[string]any)["id"] = "42" }, "$.data.id"},
			"date-time":        {func(m map[string]any) { m["meta"].(map[string]any)["timestamp"] = "yesterday" }, "$.meta.timestamp"},
			"nullable": {func(m map[string]any) {
				m["data"].(map[string]any)["relationships"] = map[string]any{"owner": map[string]any{"data": 1.0}}
			}, "$.data.relationships.owner.data"},
			"integer": {func(m map[string]any) {
				m["meta"] = map[string]any{"timestamp": "2026-01-02T03:04:05Z", "pagination": map[string]any{"next_cursor": nil, "has_more": false, "limit": 1.5}}
				m["data"] = []any{}
			}, "$.meta.pagination.limit"},
		} {
			v := valid()
			tc.mutate(v)
			if name == "integer" {
				schema = map[string]any{"$ref": "#/components/schemas/ProjectListEnvelope"}
				require.NoError(t, d.validate(schema, map[string]any{"success": true, "data": []any{},
					"meta": map[string]any{"timestamp": "2026-01-02T03:04:05Z", "pagination": map[string]any{"next_cursor": nil, "has_more": false, "limit": 1.0}}}, "$"))
			}
			err := d.validate(schema, v, "$")
			require.Error(t, err, name)
			require.True(t, strings.HasPrefix(err.Error(), tc.path+":"), "%s: %v", name, err)
			schema = map[string]any{"$ref": "#/components/schemas/ProjectEnvelope"}
		}
	})
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	_, err := fmt.Sscan(s, &n)
	require.NoError(t, err, s)
	return n
}

// liveCase is one real call checked against the document.
type liveCase struct {
	name     string
	method   string
	template string
	path     string // concrete path under /api/v1; template with {id} filled when empty
	host     string
	token    string
	body     any // JSON-marshalled unless a string; nil for none
	ctype    string
	status   int
}

func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.token(t, owner)
	for _, tc := range []struct{ name, host, token, path string }{
		{"AnonymousOnThePlatformHost", hostPlatform, "", "/openapi.json"},
		{"AnonymousOnATenantHost", hostA, "", "/openapi.json"},
		{"WithTrailingSlash", hostPlatform, "", "/openapi.json/"},
		{"SignedIn", hostA, tok, "/openapi.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := h.call(t, http.MethodGet, tc.host, tc.token, tc.path, nil)
			require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
			mt, _, err := mime.ParseMediaType(rec.Header().Get("Content-Type"))
			require.NoError(t, err)
			require.Equal(t, "application/json", mt)
			require.JSONEq(t, string(rest.OpenAPI()), rec.Body.String())
		})
	}
}

func TestOpenAPIResponsesMatchTheDocument(t *testing.T) {
	t.Parallel()
	// Payments on, so POST /invoices/{id}/pay can be seen succeeding.
	h := newHarnessWith(t, harnessOptions{charger: fakeCharger{}})
	d := loadOpenAPI(t)
	tok := h.token(t, owner)
	proj := h.createProject(t, hostA, tok, "OpenAPI")
	doomed := h.createProject(t, hostA, tok, "OpenAPI doomed")
	h.createProject(t, hostA, tok, "OpenAPI second")
	itemRec := h.call(t, http.MethodPost, hostA, tok, "/projects/"+proj+"/items",
		map[string]any{"title": "Item", "attributes": map[string]any{"k": "v"}, "tags": []string{"a"}})
	require.Equal(t, http.StatusCreated, itemRec.Code, "body: %s", itemRec.Body)
	h.call(t, http.MethodPost, hostA, tok, "/projects/"+proj+"/items", map[string]any{"title": "Bare"})
	missing := uuid.NewString()
	refreshTok := h.loginUser(t, h.users[memberR]).RefreshToken
	logoutPair := h.loginUser(t, h.users[memberR])
	logoutBare := h.loginUser(t, h.users[memberR]).AccessToken
	memberLogin := map[string]any{"email": h.users[memberR].Email, "password": password}
	bigBody := `{"name":"` + strings.Repeat("x", 1<<20) + `"}`

	const (
		index    = "/api/v1"
		doc      = "/api/v1/openapi.json"
		login    = "/api/v1/auth/login"
		refresh  = "/api/v1/auth/refresh"
		logout   = "/api/v1/auth/logout"
		me       = "/api/v1/users/me"
		projects = "/api/v1/projects"
		oneProj  = "/api/v1/projects/{id}"
		items    = "/api/v1/projects/{id}/items"
	)
	p := func(id string) string { return "/projects/" + id }
	cases := []liveCase{
		{"IndexAnonymous", "GET", index, "", hostPlatform, "", nil, "", 200},
		{"IndexSignedIn", "GET", index, "/", hostA, tok, nil, "", 200},
		{"IndexBadToken", "GET", index, "", hostA, "not-a-jwt", nil, "", 401},
		{"IndexUnknownTenant", "GET", index, "", "nope." + baseDomain, "", nil, "", 404},
		{"IndexWrongMethod", "POST", index, "", hostA, tok, nil, "", 405},
		{"OpenAPIAnonymous", "GET", doc, "/openapi.json", hostPlatform, "", nil, "", 200},
		{"LoginOK", "POST", login, "/auth/login", hostA, "", memberLogin, "", 200},
		{"LoginBadJSON", "POST", login, "/auth/login", hostA, "", `{"email":`, "", 400},
		{"LoginUnknownField", "POST", login, "/auth/login", hostA, "", `{"email":"a@b","password":"p","admin":true}`, "", 400},
		{"LoginWrongPassword", "POST", login, "/auth/login", hostA, "", map[string]any{"email": h.users[memberR].Email, "password": "wrong-password-1"}, "", 401},
		{"LoginNotJSON", "POST", login, "/auth/login", hostA, "", "email=a", "text/plain", 415},
		{"LoginWrongMethod", "GET", login, "/auth/login", hostA, "", nil, "", 405},
		{"RefreshOK", "POST", refresh, "/auth/refresh", hostA, "", map[string]any{"refresh_token": refreshTok}, "", 200},
		{"RefreshBadToken", "POST", refresh, "/auth/refresh", hostA, "", map[string]any{"refresh_token": "nope"}, "", 401},
		{"RefreshBadJSON", "POST", refresh, "/auth/refresh", hostA, "", `[`, "", 400},
		{"LogoutWithRefreshToken", "POST", logout, "/auth/logout", hostA, logoutPair.AccessToken, map[string]any{"refresh_token": logoutPair.RefreshToken}, "", 204},
		{"LogoutWithoutBody", "POST", logout, "/auth/logout/", hostA, logoutBare, nil, "", 204},
		{"LogoutAnonymous", "POST", logout, "/auth/logout", hostA, "", nil, "", 401},
		{"LogoutNotJSON", "POST", logout, "/auth/logout", hostA, tok, "x", "text/plain", 415},
		{"MeOwner", "GET", me, "/users/me", hostA, tok, nil, "", 200},
		{"MeStaff", "GET", me, "/users/me", hostPlatform, h.token(t, staff), nil, "", 200},
		{"MeAnonymous", "GET", me, "/users/me", hostA, "", nil, "", 401},
		{"ListProjects", "GET", projects, "/projects?limit=1", hostA, tok, nil, "", 200},
		{"ListProjectsLastPage", "GET", projects, "/projects?limit=100", hostA, tok, nil, "", 200},
		{"ListProjectsBadLimit", "GET", projects, "/projects?limit=0", hostA, tok, nil, "", 400},
		{"ListProjectsAnonymous", "GET", projects, "/projects", hostA, "", nil, "", 401},
		{"CreateProject", "POST", projects, "/projects", hostA, tok, map[string]any{"name": "Made", "description": "d"}, "", 201},
		{"CreateProjectBadJSON", "POST", projects, "/projects", hostA, tok, `{"name":`, "", 400},
		{"CreateProjectUnknownField", "POST", projects, "/projects", hostA, tok, `{"name":"n","owner_id":"x"}`, "", 400},
		{"CreateProjectNotJSON", "POST", projects, "/projects", hostA, tok, "name=n", "application/x-www-form-urlencoded", 415},
		{"CreateProjectTooLarge", "POST", projects, "/projects", hostA, tok, bigBody, "", 413},
		{"CreateProjectAnonymous", "POST", projects, "/projects", hostA, "", map[string]any{"name": "n"}, "", 401},
		{"CreateProjectViewer", "POST", projects, "/projects", hostA, h.token(t, viewer), map[string]any{"name": "n"}, "", 403},
		{"ProjectsWrongMethod", "DELETE", projects, "/projects", hostA, tok, nil, "", 405},
		{"GetProject", "GET", oneProj, p(proj), hostA, tok, nil, "", 200},
		{"GetProjectUnknown", "GET", oneProj, p(missing), hostA, tok, nil, "", 404},
		{"GetProjectNotAUUID", "GET", oneProj, p("nope"), hostA, tok, nil, "", 404},
		{"GetProjectOtherTenant", "GET", oneProj, p(proj), hostB, h.token(t, ownerB), nil, "", 404},
		{"ReplaceProject", "PUT", oneProj, p(proj) + "/", hostA, tok, map[string]any{"name": "OpenAPI", "description": "replaced"}, "", 200},
		{"ReplaceProjectWithoutName", "PUT", oneProj, p(proj), hostA, tok, map[string]any{"description": "x"}, "", 400},
		{"ReplaceProjectUnknown", "PUT", oneProj, p(missing), hostA, tok, map[string]any{"name": "x"}, "", 404},
		{"UpdateProject", "PATCH", oneProj, p(proj), hostA, tok, map[string]any{"description": "patched"}, "", 200},
		{"UpdateProjectBadStatus", "PATCH", oneProj, p(proj), hostA, tok, map[string]any{"status": "gone"}, "", 400},
		{"UpdateProjectNotJSON", "PATCH", oneProj, p(proj), hostA, tok, "x", "text/plain", 415},
		{"DeleteProject", "DELETE", oneProj, p(doomed), hostA, tok, nil, "", 204},
		{"DeleteProjectUnknown", "DELETE", oneProj, p(missing), hostA, tok, nil, "", 404},
		{"ProjectWrongMethod", "POST", oneProj, p(proj), hostA, tok, nil, "", 405},
		{"ListItems", "GET", items, p(proj) + "/items?limit=1", hostA, tok, nil, "", 200},
		{"ListItemsUnknownProject", "GET", items, p(missing) + "/items", hostA, tok, nil, "", 404},
		{"ListItemsBadCursor", "GET", items, p(proj) + "/items?cursor=zz", hostA, tok, nil, "", 400},
		{"CreateItem", "POST", items, p(proj) + "/items", hostA, tok, map[string]any{"title": "T", "tags": []string{"x", "y"}}, "", 201},
		{"CreateItemBadJSON", "POST", items, p(proj) + "/items", hostA, tok, `{`, "", 400},
		{"CreateItemNotJSON", "POST", items, p(proj) + "/items", hostA, tok, "t", "text/plain", 415},
		{"CreateItemUnknownProject", "POST", items, p(missing) + "/items", hostA, tok, map[string]any{"title": "T"}, "", 404},
	}
	cases = append(cases, resourceLiveCases(t, h)...)
	billingCases, headers := billingLiveCases(t, h)
	cases = append(cases, billingCases...)
	cases = append(cases, demoLiveCases(t, h)...)

	t.Run("EveryDocumentedOperationIsExercised", func(t *testing.T) {
		t.Parallel()
		seen := map[string]any{}
		for _, c := range cases {
			if c.status < 300 {
				seen[c.method+" "+c.template] = true
			}
		}
		require.ElementsMatch(t, d.operations(), keys(seen))
	})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path := c.path
			if path == "" && c.template != index {
				path = strings.TrimPrefix(c.template, rest.Prefix)
			}
			if c.status < 300 && c.body != nil {
				op := d.paths()[c.template].(map[string]any)[strings.ToLower(c.method)].(map[string]any)
				var sent any
				require.NoError(t, json.Unmarshal([]byte(jsonText(c.body)), &sent))
				require.NoError(t, d.validate(jsonSchema(t, d.deref(t, op["requestBody"])), sent, "request"), "the request body matches the document")
			}
			req := liveRequest(c, path)
			req.header = headers[c.name]
			rec := h.send(t, req)
			require.Equal(t, c.status, rec.Code, "body: %s", rec.Body)
			res := d.response(t, c.method, c.template, rec.Code)
			schema := jsonSchema(t, res)
			if schema == nil {
				require.Empty(t, rec.Body.String(), "a %d answer has no body", rec.Code)
				return
			}
			mt, _, err := mime.ParseMediaType(rec.Header().Get("Content-Type"))
			require.NoError(t, err)
			require.Equal(t, "application/json", mt)
			var body any
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "body: %s", rec.Body)
			require.NoError(t, d.validate(schema, body, "$"), "body: %s", rec.Body)
		})
	}
}

// liveRequest builds the harness request of c.
func liveRequest(c liveCase, path string) request {
	r := request{method: c.method, host: c.host, token: c.token, path: rest.Prefix + path, contentType: c.ctype}
	switch b := c.body.(type) {
	case nil:
	case string:
		r.body = strings.NewReader(b)
	default:
		r.body = strings.NewReader(jsonText(b))
	}
	return r
}
