package rest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/rest"
)

func TestAPIEnvelope(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.token(t, owner)

	t.Run("SuccessIsDataAndMetaOnly", func(t *testing.T) {
		t.Parallel()
		rec := h.call(t, http.MethodPost, hostA, tok, "/projects", map[string]any{"name": "Envelope", "description": "shape"})
		res := requireResource(t, requireData(t, rec, http.StatusCreated), "project")
		_, err := uuid.Parse(res["id"].(string))
		require.NoError(t, err)
		require.ElementsMatch(t, []string{"name", "description", "status", "created_at", "updated_at"}, keys(attrs(res)))
		require.Equal(t, "Envelope", attrs(res)["name"])
		require.Equal(t, "shape", attrs(res)["description"])
		require.Equal(t, "active", attrs(res)["status"])
		require.Equal(t, map[string]any{"owner": map[string]any{"data": map[string]any{
			"type": "user", "id": h.users[owner].ID.String(),
		}}}, res["relationships"])
	})

	t.Run("ListHasPaginationInMeta", func(t *testing.T) {
		t.Parallel()
		h.createProject(t, hostA, tok, "Listed")
		items, page := requireList(t, h.call(t, http.MethodGet, hostA, tok, "/projects?limit=1", nil), "project")
		require.Len(t, items, 1)
		require.Equal(t, 1.0, page["limit"])
	})

	t.Run("LastPageHasNullCursor", func(t *testing.T) {
		t.Parallel()
		host, tok := h.freshTenant(t)
		h.createProject(t, host, tok, "Only")
		rec := h.call(t, http.MethodGet, host, tok, "/projects", nil)
		items, page := requireList(t, rec, "project")
		require.Len(t, items, 1)
		require.Equal(t, map[string]any{"next_cursor": nil, "has_more": false, "limit": float64(rest.DefaultLimit)}, page)
		require.Contains(t, rec.Body.String(), `"next_cursor":null`)
	})

	t.Run("EmptyListIsAnEmptyArray", func(t *testing.T) {
		t.Parallel()
		host, tok := h.freshTenant(t)
		rec := h.call(t, http.MethodGet, host, tok, "/projects", nil)
		items, _ := requireList(t, rec, "project")
		require.Empty(t, items)
		require.Contains(t, rec.Body.String(), `"data":[]`)
	})

	t.Run("ErrorIsCodeMessageAndDetailsObject", func(t *testing.T) {
		t.Parallel()
		rec := h.call(t, http.MethodGet, hostA, tok, "/projects/"+uuid.NewString(), nil)
		e := requireError(t, rec, http.StatusNotFound, apperr.CodeNotFound)
		require.Equal(t, map[string]any{}, details(e))
		require.NotEmpty(t, e["message"])
	})

	t.Run("ValidationErrorDetailsAreFieldLists", func(t *testing.T) {
		t.Parallel()
		rec := h.call(t, http.MethodPost, hostA, tok, "/projects", map[string]any{"name": "  "})
		e := requireError(t, rec, http.StatusBadRequest, apperr.CodeValidation)
		require.Equal(t, []any{"must be 1 to 200 characters"}, details(e)["name"])
	})

	t.Run("EveryAnswerCarriesARequestID", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{"/projects", "/projects/" + uuid.NewString(), "/nope"} {
			rec := h.call(t, http.MethodGet, hostA, tok, path, nil)
			require.NotEmpty(t, rec.Header().Get("X-Request-ID"), path)
		}
	})
}

func TestAPIAuth(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	login := func(t *testing.T, path string, u *account, pw string) *httptest.ResponseRecorder {
		t.Helper()
		return h.call(t, http.MethodPost, h.home(roleOf(h, u)), "", path, map[string]any{"email": u.Email, "password": pw})
	}
	tokens := func(t *testing.T, rec *httptest.ResponseRecorder) (string, string) {
		t.Helper()
		res := requireResource(t, requireData(t, rec, http.StatusOK), "token")
		a := attrs(res)
		require.ElementsMatch(t, []string{"access_token", "refresh_token", "expires_at", "refresh_expires_at", "token_type"}, keys(a))
		require.Equal(t, "Bearer", a["token_type"])
		require.NotEmpty(t, a["access_token"])
		require.NotEmpty(t, a["refresh_token"])
		return a["access_token"].(string), a["refresh_token"].(string)
	}
	me := func(t *testing.T, host, access string) *httptest.ResponseRecorder {
		t.Helper()
		return h.call(t, http.MethodGet, host, access, "/users/me", nil)
	}

	t.Run("LoginAnswersTokensWithOrWithoutTrailingSlash", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{"/auth/login", "/auth/login/"} {
			access, _ := tokens(t, login(t, path, h.users[memberR], password))
			res := requireResource(t, requireData(t, me(t, hostA, access), http.StatusOK), "user")
			require.Equal(t, h.users[memberR].ID.String(), res["id"], path)
			require.Equal(t, []any{"member"}, attrs(res)["roles"], path)
		}
	})

	t.Run("WrongPasswordIsUnauthenticated", func(t *testing.T) {
		t.Parallel()
		rec := login(t, "/auth/login", h.users[viewer], "not-the-password")
		e := requireError(t, rec, http.StatusUnauthorized, apperr.CodeUnauthenticated)
		require.NotContains(t, rec.Body.String(), "token")
		require.Equal(t, map[string]any{}, details(e))
	})

	t.Run("LoginOnAnotherTenantsHostIsUnauthenticated", func(t *testing.T) {
		t.Parallel()
		rec := h.call(t, http.MethodPost, hostB, "", "/auth/login", map[string]any{"email": h.users[admin].Email, "password": password})
		requireError(t, rec, http.StatusUnauthorized, apperr.CodeUnauthenticated)
	})

	t.Run("RefreshAnswersANewPair", func(t *testing.T) {
		t.Parallel()
		access, refresh := tokens(t, login(t, "/auth/login", h.users[admin], password))
		access2, refresh2 := tokens(t, h.call(t, http.MethodPost, hostA, "", "/auth/refresh/", map[string]any{"refresh_token": refresh}))
		require.NotEqual(t, access, access2)
		require.NotEqual(t, refresh, refresh2)
		requireData(t, me(t, hostA, access2), http.StatusOK)
	})

	t.Run("RefreshOnAnotherTenantsHostIsUnauthenticated", func(t *testing.T) {
		t.Parallel()
		_, refresh := tokens(t, login(t, "/auth/login", h.users[owner], password))
		rec := h.call(t, http.MethodPost, hostB, "", "/auth/refresh", map[string]any{"refresh_token": refresh})
		requireError(t, rec, http.StatusUnauthorized, apperr.CodeUnauthenticated)
	})

	t.Run("LogoutEndsTheSession", func(t *testing.T) {
		t.Parallel()
		access, refresh := tokens(t, login(t, "/auth/login", h.users[owner], password))
		rec := h.call(t, http.MethodPost, hostA, access, "/auth/logout", map[string]any{"refresh_token": refresh})
		require.Equal(t, http.StatusNoContent, rec.Code, "body: %s", rec.Body)
		require.Empty(t, rec.Body.String())

		rec = h.call(t, http.MethodPost, hostA, "", "/auth/refresh", map[string]any{"refresh_token": refresh})
		requireError(t, rec, http.StatusUnauthorized, apperr.CodeUnauthenticated)
		requireError(t, me(t, hostA, access), http.StatusUnauthorized, apperr.CodeUnauthenticated)
	})

	t.Run("LogoutWithoutBodyEndsTheAccessTokensSession", func(t *testing.T) {
		t.Parallel()
		access, refresh := tokens(t, login(t, "/auth/login/", h.users[viewer], password))
		rec := h.call(t, http.MethodPost, hostA, access, "/auth/logout/", nil)
		require.Equal(t, http.StatusNoContent, rec.Code, "body: %s", rec.Body)
		rec = h.call(t, http.MethodPost, hostA, "", "/auth/refresh", map[string]any{"refresh_token": refresh})
		requireError(t, rec, http.StatusUnauthorized, apperr.CodeUnauthenticated)
	})

	t.Run("AnonymousLogoutIsUnauthenticated", func(t *testing.T) {
		t.Parallel()
		requireError(t, h.call(t, http.MethodPost, hostA, "", "/auth/logout", nil), http.StatusUnauthorized, apperr.CodeUnauthenticated)
	})

	t.Run("BadRefreshTokenIsUnauthenticated", func(t *testing.T) {
		t.Parallel()
		for _, body := range []any{map[string]any{"refresh_token": "nope"}, map[string]any{"refresh_token": ""}, map[string]any{}} {
			rec := h.call(t, http.MethodPost, hostA, "", "/auth/refresh", body)
			requireError(t, rec, http.StatusUnauthorized, apperr.CodeUnauthenticated)
		}
	})

	t.Run("StaffSignsInOnThePlatformHost", func(t *testing.T) {
		t.Parallel()
		access, _ := tokens(t, login(t, "/auth/login", h.users[staff], password))
		res := requireResource(t, requireData(t, me(t, hostPlatform, access), http.StatusOK), "user")
		require.Equal(t, true, attrs(res)["is_staff"])
	})
}

// roleOf finds the role of u in the harness.
func roleOf(h *harness, u *account) role {
	for r, v := range h.users {
		if v == u {
			return r
		}
	}
	return anonymous
}

func TestAPIProjects(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.token(t, owner)

	t.Run("CreateGetUpdateDelete", func(t *testing.T) {
		t.Parallel()
		rec := h.call(t, http.MethodPost, hostA, tok, "/projects", map[string]any{"name": " Apollo ", "description": "moon"})
		created := requireResource(t, requireData(t, rec, http.StatusCreated), "project")
		id := created["id"].(string)
		require.Equal(t, "Apollo", attrs(created)["name"], "the name is trimmed")

		got := requireResource(t, requireData(t, h.call(t, http.MethodGet, hostA, tok, "/projects/"+id, nil), http.StatusOK), "project")
		require.Equal(t, created, got)

		rec = h.call(t, http.MethodPatch, hostA, tok, "/projects/"+id, map[string]any{"name": "Artemis"})
		patched := requireResource(t, requireData(t, rec, http.StatusOK), "project")
		require.Equal(t, "Artemis", attrs(patched)["name"])
		require.Equal(t, "moon", attrs(patched)["description"], "PATCH keeps what it does not name")

		rec = h.call(t, http.MethodPut, hostA, tok, "/projects/"+id, map[string]any{"description": "no name"})
		e := requireError(t, rec, http.StatusBadRequest, apperr.CodeValidation)
		require.Contains(t, details(e), "name")
		require.Equal(t, "Artemis|moon", strings.Join(strings.Split(h.projectRow(t, h.a, id), "|")[:2], "|"), "a refused PUT changes nothing")

		rec = h.call(t, http.MethodPut, hostA, tok, "/projects/"+id+"/", map[string]any{"name": "Gemini"})
		put := requireResource(t, requireData(t, rec, http.StatusOK), "project")
		require.Equal(t, "Gemini", attrs(put)["name"])
		require.Equal(t, "", attrs(put)["description"], "PUT replaces the whole representation")

		rec = h.call(t, http.MethodPatch, hostA, tok, "/projects/"+id, map[string]any{"status": "archived"})
		require.Equal(t, "archived", attrs(requireResource(t, requireData(t, rec, http.StatusOK), "project"))["status"])

		rec = h.call(t, http.MethodDelete, hostA, tok, "/projects/"+id, nil)
		require.Equal(t, http.StatusNoContent, rec.Code, "body: %s", rec.Body)
		require.Empty(t, rec.Body.String())
		requireError(t, h.call(t, http.MethodGet, hostA, tok, "/projects/"+id, nil), http.StatusNotFound, apperr.CodeNotFound)
		requireError(t, h.call(t, http.MethodDelete, hostA, tok, "/projects/"+id, nil), http.StatusNotFound, apperr.CodeNotFound)
		require.Equal(t, "", h.projectRow(t, h.a, id))
	})

	t.Run("InvalidUpdatesAreValidationErrors", func(t *testing.T) {
		t.Parallel()
		id := h.createProject(t, hostA, tok, "Invalid updates")
		before := h.projectRow(t, h.a, id)
		for name, tc := range map[string]struct {
			method string
			body   map[string]any
			field  string
		}{
			"BlankName":     {http.MethodPatch, map[string]any{"name": " "}, "name"},
			"LongName":      {http.MethodPatch, map[string]any{"name": strings.Repeat("n", 201)}, "name"},
			"UnknownStatus": {http.MethodPatch, map[string]any{"status": "deleted"}, "status"},
			"LongDesc":      {http.MethodPut, map[string]any{"name": "ok", "description": strings.Repeat("d", 10_001)}, "description"},
		} {
			rec := h.call(t, tc.method, hostA, tok, "/projects/"+id, tc.body)
			e := requireError(t, rec, http.StatusBadRequest, apperr.CodeValidation)
			require.Contains(t, details(e), tc.field, name)
		}
		require.Equal(t, before, h.projectRow(t, h.a, id))
	})

	t.Run("StatusCannotBeSetOnCreate", func(t *testing.T) {
		t.Parallel()
		name := fmt.Sprintf("status-%d", h.next())
		rec := h.call(t, http.MethodPost, hostA, tok, "/projects", map[string]any{"name": name, "status": "archived"})
		e := requireError(t, rec, http.StatusBadRequest, apperr.CodeValidation)
		require.Contains(t, details(e), "status")
		require.Equal(t, "0", h.countProjects(t, h.a, name))
	})

	t.Run("ListPagesFollowNextCursor", func(t *testing.T) {
		t.Parallel()
		host, tok := h.freshTenant(t)
		want := map[string]bool{}
		for i := range 25 {
			want[h.createProject(t, host, tok, fmt.Sprintf("Page %02d", i))] = true
		}
		seen := map[string]bool{}
		path := "/projects?limit=10"
		var sizes []int
		for page := 0; ; page++ {
			require.Less(t, page, 5, "pagination ends")
			items, p := requireList(t, h.call(t, http.MethodGet, host, tok, path, nil), "project")
			sizes = append(sizes, len(items))
			require.Equal(t, 10.0, p["limit"])
			for _, it := range items {
				id := it["id"].(string)
				require.False(t, seen[id], "%s is on two pages", id)
				seen[id] = true
			}
			if !p["has_more"].(bool) {
				require.Nil(t, p["next_cursor"])
				break
			}
			cursor, ok := p["next_cursor"].(string)
			require.True(t, ok, "a page with more has a cursor")
			require.NotEmpty(t, cursor)
			path = "/projects/?limit=10&cursor=" + url.QueryEscape(cursor)
		}
		require.Equal(t, []int{10, 10, 5}, sizes)
		require.Equal(t, want, seen)
	})

	t.Run("LimitOutOfRangeIsValidationError", func(t *testing.T) {
		t.Parallel()
		for _, limit := range []string{"0", "101", "abc", "-1", "1.5", "99999999999999999999"} {
			for _, path := range []string{"/projects?limit=", "/projects/" + uuid.NewString() + "/items?limit="} {
				rec := h.call(t, http.MethodGet, hostA, tok, path+url.QueryEscape(limit), nil)
				e := requireError(t, rec, http.StatusBadRequest, apperr.CodeValidation)
				require.Contains(t, details(e), "limit", "%s%s", path, limit)
			}
		}
		for _, limit := range []string{"1", "100"} {
			_, p := requireList(t, h.call(t, http.MethodGet, hostA, tok, "/projects?limit="+limit, nil), "project")
			require.Equal(t, limit, fmt.Sprint(p["limit"]))
		}
	})

	t.Run("GarbageCursorIsValidationError", func(t *testing.T) {
		t.Parallel()
		for _, cursor := range []string{"garbage", "!!!", "eyJpZCI6MX0", strings.Repeat("A", 4000), "gqFp2SRub3QtYS11dWlk"} {
			rec := h.call(t, http.MethodGet, hostA, tok, "/projects?cursor="+url.QueryEscape(cursor), nil)
			e := requireError(t, rec, http.StatusBadRequest, apperr.CodeValidation)
			require.Contains(t, details(e), "cursor", cursor)
		}
	})

	t.Run("ItemsAreCreatedAndListed", func(t *testing.T) {
		t.Parallel()
		id := h.createProject(t, hostA, tok, "With items")
		rec := h.call(t, http.MethodPost, hostA, tok, "/projects/"+id+"/items", map[string]any{
			"title": "First", "tags": []string{"a", "b"}, "attributes": map[string]any{"k": "v", "n": 2},
		})
		item := requireResource(t, requireData(t, rec, http.StatusCreated), "data_item")
		require.Equal(t, "First", attrs(item)["title"])
		require.Equal(t, []any{"a", "b"}, attrs(item)["tags"])
		require.Equal(t, map[string]any{"k": "v", "n": 2.0}, attrs(item)["attributes"])
		require.Equal(t, map[string]any{"project": map[string]any{"data": map[string]any{"type": "project", "id": id}}}, item["relationships"])

		items, page := requireList(t, h.call(t, http.MethodGet, hostA, tok, "/projects/"+id+"/items/", nil), "data_item")
		require.Equal(t, []map[string]any{item}, items)
		require.Equal(t, false, page["has_more"])

		e := requireError(t, h.call(t, http.MethodPost, hostA, tok, "/projects/"+id+"/items", map[string]any{"tags": []string{}}),
			http.StatusBadRequest, apperr.CodeValidation)
		require.Contains(t, details(e), "title")
	})

	t.Run("UnknownProjectIsNotFound", func(t *testing.T) {
		t.Parallel()
		id := uuid.NewString()
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{http.MethodGet, "/projects/" + id, nil},
			{http.MethodPatch, "/projects/" + id, map[string]any{"name": "x"}},
			{http.MethodPut, "/projects/" + id, map[string]any{"name": "x"}},
			{http.MethodDelete, "/projects/" + id, nil},
			{http.MethodGet, "/projects/" + id + "/items", nil},
			{http.MethodPost, "/projects/" + id + "/items", map[string]any{"title": "x"}},
		} {
			rec := h.call(t, c.method, hostA, tok, c.path, c.body)
			requireError(t, rec, http.StatusNotFound, apperr.CodeNotFound)
		}
	})

	t.Run("MalformedIDIsNotFound", func(t *testing.T) {
		t.Parallel()
		for _, id := range []string{"not-a-uuid", "1", "00000000-0000-0000-0000-00000000000g", "%27%20OR%201%3D1"} {
			for _, c := range []struct {
				method, path string
				body         any
			}{
				{http.MethodGet, "/projects/" + id, nil},
				{http.MethodPatch, "/projects/" + id, map[string]any{"name": "x"}},
				{http.MethodPut, "/projects/" + id, map[string]any{"name": "x"}},
				{http.MethodDelete, "/projects/" + id, nil},
				{http.MethodGet, "/projects/" + id + "/items", nil},
				{http.MethodPost, "/projects/" + id + "/items", map[string]any{"title": "x"}},
			} {
				rec := h.call(t, c.method, hostA, tok, c.path, c.body)
				requireError(t, rec, http.StatusNotFound, apperr.CodeNotFound)
			}
		}
	})
}

func TestAPIBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.token(t, owner)

	// post sends raw to POST /projects with contentType and checks that
	// nothing called name was created.
	post := func(t *testing.T, name, contentType string, body io.Reader) *httptest.ResponseRecorder {
		t.Helper()
		rec := h.send(t, request{method: http.MethodPost, host: hostA, token: tok, path: rest.Prefix + "/projects",
			contentType: contentType, body: body})
		if name != "" {
			require.Equal(t, "0", h.countProjects(t, h.a, name), "nothing is created")
		}
		return rec
	}
	unique := func(prefix string) string { return fmt.Sprintf("%s-%d", prefix, h.next()) }

	t.Run("MalformedJSONIsValidationError", func(t *testing.T) {
		t.Parallel()
		for _, body := range []string{`{"name":`, `{"name" "x"}`, `{name: "x"}`, `'x'`, `{"name":"x",}`} {
			e := requireError(t, post(t, "", "application/json", strings.NewReader(body)), http.StatusBadRequest, apperr.CodeValidation)
			require.Contains(t, details(e), "body", body)
		}
	})

	t.Run("EmptyBodyIsValidationError", func(t *testing.T) {
		t.Parallel()
		e := requireError(t, post(t, "", "application/json", strings.NewReader("")), http.StatusBadRequest, apperr.CodeValidation)
		require.Contains(t, details(e), "body")
	})

	t.Run("TrailingDataIsValidationError", func(t *testing.T) {
		t.Parallel()
		name := unique("trailing")
		for _, tail := range []string{` {"name":"b"}`, ` x`, `]`, ` 1`} {
			e := requireError(t, post(t, name, "application/json", strings.NewReader(`{"name":"`+name+`"}`+tail)),
				http.StatusBadRequest, apperr.CodeValidation)
			require.Contains(t, details(e), "body", tail)
		}
	})

	t.Run("UnknownFieldIsRefusedAndNothingIsCreated", func(t *testing.T) {
		t.Parallel()
		name := unique("mass-assignment")
		body := fmt.Sprintf(`{"name":%q,"owner_id":%q}`, name, h.users[ownerB].ID)
		e := requireError(t, post(t, name, "application/json", strings.NewReader(body)), http.StatusBadRequest, apperr.CodeValidation)
		require.Contains(t, details(e), "owner_id")
		for _, field := range []string{"id", "created_at", "tenant_id"} {
			body := fmt.Sprintf(`{"name":%q,%q:"2020-01-01T00:00:00Z"}`, name, field)
			e := requireError(t, post(t, name, "application/json", strings.NewReader(body)), http.StatusBadRequest, apperr.CodeValidation)
			require.Contains(t, details(e), field)
		}
	})

	t.Run("WrongTypeIsValidationError", func(t *testing.T) {
		t.Parallel()
		for body, field := range map[string]string{
			`{"name":5}`:                    "name",
			`{"name":["x"]}`:                "name",
			`{"name":"x","description":{}}`: "description",
			`[{"name":"x"}]`:                "body",
			`"x"`:                           "body",
			`null`:                          "name",
		} {
			e := requireError(t, post(t, "x", "application/json", strings.NewReader(body)), http.StatusBadRequest, apperr.CodeValidation)
			require.Contains(t, details(e), field, body)
		}
	})

	t.Run("NULCharactersAreValidationErrors", func(t *testing.T) {
		t.Parallel()
		// PostgreSQL cannot store U+0000 in text or jsonb: the API refuses it
		// up front instead of failing in the database with a 500.
		id := h.createProject(t, hostA, tok, unique("nul-target"))
		for _, c := range []struct{ method, path, body, field string }{
			{http.MethodPost, "/projects", `{"name":"a\u0000b"}`, "name"},
			{http.MethodPatch, "/projects/" + id, `{"description":"\u0000"}`, "description"},
			{http.MethodPost, "/projects/" + id + "/items", `{"title":"t","attributes":{"k":["\u0000"]}}`, "attributes"},
			{http.MethodPost, "/projects/" + id + "/items", `{"title":"t","attributes":{"\u0000":1}}`, "attributes"},
			{http.MethodPost, "/projects/" + id + "/items", `{"title":"t","tags":["a\u0000"]}`, "tags"},
			{http.MethodPost, "/auth/login", `{"email":"a\u0000@b.c","password":"x"}`, "email"},
		} {
			rec := h.call(t, c.method, hostA, tok, c.path, c.body)
			e := requireError(t, rec, http.StatusBadRequest, apperr.CodeValidation)
			require.Equal(t, []any{"must not contain NUL characters"}, details(e)[c.field], "%s %s", c.path, c.body)
		}
		items, _ := requireList(t, h.call(t, http.MethodGet, hostA, tok, "/projects/"+id+"/items", nil), "data_item")
		require.Empty(t, items)
	})

	t.Run("FormEncodedIsUnsupportedMediaType", func(t *testing.T) {
		t.Parallel()
		name := unique("form")
		rec := post(t, name, "application/x-www-form-urlencoded", strings.NewReader("name="+name))
		requireError(t, rec, http.StatusUnsupportedMediaType, apperr.CodeUnsupportedMedia)
		rec = post(t, name, "text/plain", strings.NewReader(`{"name":"`+name+`"}`))
		requireError(t, rec, http.StatusUnsupportedMediaType, apperr.CodeUnsupportedMedia)
	})

	t.Run("MissingContentTypeIsUnsupportedMediaType", func(t *testing.T) {
		t.Parallel()
		name := unique("no-type")
		req, err := http.NewRequest(http.MethodPost, h.srv.URL+rest.Prefix+"/projects", strings.NewReader(`{"name":"`+name+`"}`))
		require.NoError(t, err)
		req.Host = hostA
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := h.srv.Client().Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		require.Equal(t, http.StatusUnsupportedMediaType, res.StatusCode)
		require.Equal(t, "0", h.countProjects(t, h.a, name))
	})

	t.Run("JSONWithCharsetOrSuffixIsAccepted", func(t *testing.T) {
		t.Parallel()
		for _, ct := range []string{"application/json; charset=utf-8", "application/vnd.api+json"} {
			rec := post(t, "", ct, strings.NewReader(`{"name":"`+unique("ct")+`"}`))
			requireData(t, rec, http.StatusCreated)
		}
	})

	t.Run("OversizedBodyIsPayloadTooLarge", func(t *testing.T) {
		t.Parallel()
		name := unique("huge")
		big := `{"name":"` + name + `","description":"` + strings.Repeat("x", 1<<20+10) + `"}`
		// With a Content-Length the server refuses before reading.
		rec := post(t, name, "application/json", strings.NewReader(big))
		requireError(t, rec, http.StatusRequestEntityTooLarge, apperr.CodePayloadTooLarge)
		// Chunked, the decoder meets the limit while reading.
		rec = post(t, name, "application/json", io.MultiReader(strings.NewReader(big)))
		requireError(t, rec, http.StatusRequestEntityTooLarge, apperr.CodePayloadTooLarge)
	})

	t.Run("UnknownRouteIsNotFoundEnvelope", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{"/api/v1/nope", "/api/v1/projects/" + uuid.NewString() + "/nope", "/api/v2/projects", "/nope"} {
			rec := h.send(t, request{method: http.MethodGet, host: hostA, token: tok, path: path})
			requireError(t, rec, http.StatusNotFound, apperr.CodeNotFound)
		}
	})

	t.Run("WrongMethodIsMethodNotAllowed", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct{ method, path, allow string }{
			{http.MethodDelete, "/projects", "GET POST"},
			{http.MethodPut, "/projects/", "GET POST"},
			{http.MethodPost, "/projects/" + uuid.NewString(), "DELETE GET PATCH PUT"},
			{http.MethodGet, "/auth/login", "POST"},
		} {
			rec := h.call(t, c.method, hostA, tok, c.path, nil)
			requireError(t, rec, http.StatusMethodNotAllowed, apperr.CodeMethodNotAllowed)
			require.ElementsMatch(t, strings.Fields(c.allow), rec.Header().Values("Allow"), "%s %s", c.method, c.path)
		}
	})

	t.Run("NothingAnswers500", func(t *testing.T) {
		t.Parallel()
		id := h.createProject(t, hostA, tok, unique("target"))
		bodies := []string{
			``, `{`, `null`, `[]`, `0`, `"s"`, `{}`, `{"name":null}`, `{"name":""}`, `{"name":"\u0000"}`,
			`{"name":"a\u0000b","description":"\u0000"}`, `{"name":"\ud800"}`, `{"name":"ok","description":null}`,
			`{"title":null}`, `{"title":"t","tags":"x"}`, `{"title":"t","tags":[1]}`, `{"title":"t","tags":[""]}`,
			`{"title":"t","attributes":[1]}`, `{"title":"t","attributes":{"k":"\u0000"}}`, `{"title":"\u0000"}`,
			`{"title":"t","attributes":{"deep":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}}`,
			`{"email":5}`, `{"email":"\u0000","password":"\u0000"}`, `{"email":"a@b.c","password":"` + strings.Repeat("p", 5000) + `"}`, `{"refresh_token":5}`,
			`{"refresh_token":"` + strings.Repeat("r", 500) + `"}`, `{"status":"` + strings.Repeat("s", 300) + `"}`,
			`{"name":1e999}`, `{"name":"x","name":"y"}`,
		}
		routes := []struct{ method, path string }{
			{http.MethodPost, "/projects"},
			{http.MethodPut, "/projects/" + id},
			{http.MethodPatch, "/projects/" + id},
			{http.MethodPost, "/projects/" + id + "/items"},
			{http.MethodPost, "/auth/login"},
			{http.MethodPost, "/auth/refresh"},
			{http.MethodPost, "/auth/logout"},
		}
		for _, r := range routes {
			for _, body := range bodies {
				callTok := tok
				if r.path == "/auth/logout" {
					callTok = h.token(t, owner) // a logout that works ends the session
				}
				rec := h.call(t, r.method, hostA, callTok, r.path, body)
				require.Less(t, rec.Code, 500, "%s %s %s: %s", r.method, r.path, body, rec.Body)
				if rec.Code >= 400 {
					requireError(t, rec, rec.Code, apperr.Code(decode(t, rec)["error"].(map[string]any)["code"].(string)))
				}
			}
		}
		require.NotContains(t, h.logs.String(), `"level":"ERROR"`)
	})
}

func TestAPIAuthorization(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ownerTok := h.token(t, owner)

	// Each role calls alpha's host with its own token: bravo's owner and
	// staff carry tokens that were not issued for alpha.
	type want struct{ list, get, create, patch, item, delete int }
	for _, tc := range []struct {
		role role
		want want
		code apperr.Code
	}{
		{anonymous, want{401, 401, 401, 401, 401, 401}, apperr.CodeUnauthenticated},
		{viewer, want{200, 200, 403, 403, 403, 403}, apperr.CodeForbidden},
		{memberR, want{200, 200, 201, 200, 201, 403}, apperr.CodeForbidden},
		{admin, want{200, 200, 201, 200, 201, 204}, ""},
		{owner, want{200, 200, 201, 200, 201, 204}, ""},
		{ownerB, want{401, 401, 401, 401, 401, 401}, apperr.CodeUnauthenticated},
		{staff, want{401, 401, 401, 401, 401, 401}, apperr.CodeUnauthenticated},
	} {
		t.Run("RoleOutcomesOnAlpha/"+string(tc.role), func(t *testing.T) {
			t.Parallel()
			tok := h.token(t, tc.role)
			id := h.createProject(t, hostA, ownerTok, fmt.Sprintf("authz-%s", tc.role))
			before := h.projectRow(t, h.a, id)
			check := func(name string, rec *httptest.ResponseRecorder, status int) {
				t.Helper()
				require.Equal(t, status, rec.Code, "%s: %s", name, rec.Body)
				if status >= 400 {
					code := tc.code
					if status == http.StatusUnauthorized {
						code = apperr.CodeUnauthenticated
					}
					requireError(t, rec, status, code)
				}
			}
			check("list", h.call(t, http.MethodGet, hostA, tok, "/projects", nil), tc.want.list)
			check("get", h.call(t, http.MethodGet, hostA, tok, "/projects/"+id, nil), tc.want.get)
			name := fmt.Sprintf("created-by-%s", tc.role)
			check("create", h.call(t, http.MethodPost, hostA, tok, "/projects", map[string]any{"name": name}), tc.want.create)
			if tc.want.create != http.StatusCreated {
				require.Equal(t, "0", h.countProjects(t, h.a, name))
			}
			check("patch", h.call(t, http.MethodPatch, hostA, tok, "/projects/"+id, map[string]any{"description": "by " + string(tc.role)}), tc.want.patch)
			if tc.want.patch != http.StatusOK {
				require.Equal(t, before, h.projectRow(t, h.a, id))
			}
			check("item", h.call(t, http.MethodPost, hostA, tok, "/projects/"+id+"/items", map[string]any{"title": "t"}), tc.want.item)
			check("delete", h.call(t, http.MethodDelete, hostA, tok, "/projects/"+id, nil), tc.want.delete)
			if tc.want.delete != http.StatusNoContent {
				require.NotEmpty(t, h.projectRow(t, h.a, id), "the project survives")
			} else {
				require.Empty(t, h.projectRow(t, h.a, id))
			}
		})
	}

	t.Run("TokenOfAnotherTenantIsUnauthenticatedEvenWithItsOwnIDs", func(t *testing.T) {
		t.Parallel()
		bTok := h.token(t, ownerB)
		bID := h.createProject(t, hostB, bTok, "bravo's")
		rec := h.call(t, http.MethodGet, hostA, bTok, "/projects/"+bID, nil)
		requireError(t, rec, http.StatusUnauthorized, apperr.CodeUnauthenticated)
		require.Contains(t, rec.Header().Get("WWW-Authenticate"), "invalid_token")
	})

	t.Run("PlatformHostHasNoTenant", func(t *testing.T) {
		t.Parallel()
		staffTok := h.token(t, staff)
		requireError(t, h.call(t, http.MethodGet, hostPlatform, staffTok, "/projects", nil), http.StatusNotFound, apperr.CodeTenantNotFound)
		requireError(t, h.call(t, http.MethodPost, hostPlatform, staffTok, "/projects", map[string]any{"name": "x"}),
			http.StatusNotFound, apperr.CodeTenantNotFound)
		requireError(t, h.call(t, http.MethodGet, hostPlatform, "", "/projects", nil), http.StatusUnauthorized, apperr.CodeUnauthenticated)
		// A tenant token on the platform host is refused by the middleware.
		requireError(t, h.call(t, http.MethodGet, hostPlatform, ownerTok, "/projects", nil), http.StatusUnauthorized, apperr.CodeUnauthenticated)
	})

	t.Run("UnknownHostIsTenantNotFound", func(t *testing.T) {
		t.Parallel()
		for _, tok := range []string{"", ownerTok} {
			rec := h.call(t, http.MethodGet, "nobody."+baseDomain, tok, "/projects", nil)
			requireError(t, rec, http.StatusNotFound, apperr.CodeTenantNotFound)
		}
		rec := h.call(t, http.MethodPost, "nobody."+baseDomain, "", "/auth/login", map[string]any{"email": h.users[owner].Email, "password": password})
		requireError(t, rec, http.StatusNotFound, apperr.CodeTenantNotFound)
	})

	t.Run("CrossTenantIDsAreNotFoundAndUntouched", func(t *testing.T) {
		t.Parallel()
		id := h.createProject(t, hostA, ownerTok, "alpha's secret")
		rec := h.call(t, http.MethodPost, hostA, ownerTok, "/projects/"+id+"/items", map[string]any{"title": "alpha's item"})
		requireData(t, rec, http.StatusCreated)
		before := h.projectRow(t, h.a, id)
		items := h.scalar(t, `SELECT count(*) FROM `+db.QuoteIdent(h.a.Schema)+`.data_items WHERE project_id = $1`, id)
		bTok := h.token(t, ownerB)
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{http.MethodGet, "/projects/" + id, nil},
			{http.MethodPatch, "/projects/" + id, map[string]any{"name": "taken"}},
			{http.MethodPut, "/projects/" + id, map[string]any{"name": "taken"}},
			{http.MethodPatch, "/projects/" + id, map[string]any{"status": "archived"}},
			{http.MethodDelete, "/projects/" + id, nil},
			{http.MethodGet, "/projects/" + id + "/items", nil},
			{http.MethodPost, "/projects/" + id + "/items", map[string]any{"title": "planted"}},
		} {
			rec := h.call(t, c.method, hostB, bTok, c.path, c.body)
			e := requireError(t, rec, http.StatusNotFound, apperr.CodeNotFound)
			require.NotContains(t, e["message"], id, "%s %s", c.method, c.path)
			require.Equal(t, before, h.projectRow(t, h.a, id), "%s %s", c.method, c.path)
		}
		require.Equal(t, items, h.scalar(t, `SELECT count(*) FROM `+db.QuoteIdent(h.a.Schema)+`.data_items WHERE project_id = $1`, id))
		require.Equal(t, "0", h.scalar(t, `SELECT count(*) FROM `+db.QuoteIdent(h.b.Schema)+`.data_items WHERE project_id = $1`, id))

		list, _ := requireList(t, h.call(t, http.MethodGet, hostB, bTok, "/projects?limit=100", nil), "project")
		for _, p := range list {
			require.NotEqual(t, id, p["id"])
		}
		// And alpha still reads it.
		requireData(t, h.call(t, http.MethodGet, hostA, ownerTok, "/projects/"+id, nil), http.StatusOK)
	})
}

func TestAPIGraphQLParity(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ownerTok := h.token(t, owner)
	const createDoc = `mutation($in: CreateProjectInput!) { createProject(input: $in) { id name description status } }`

	t.Run("CreatedThroughGraphQLReadsTheSameThroughREST", func(t *testing.T) {
		t.Parallel()
		res := h.gql(t, hostA, ownerTok, createDoc, map[string]any{"in": map[string]any{"name": "From GraphQL", "description": "both ways"}})
		require.Empty(t, res.Errors, res.Body)
		p := res.Data["createProject"].(map[string]any)
		got := requireResource(t, requireData(t, h.call(t, http.MethodGet, hostA, ownerTok, "/projects/"+p["id"].(string), nil), http.StatusOK), "project")
		require.Equal(t, p["id"], got["id"])
		require.Equal(t, p["name"], attrs(got)["name"])
		require.Equal(t, p["description"], attrs(got)["description"])
		require.Equal(t, p["status"], attrs(got)["status"])
	})

	t.Run("CreatedThroughRESTReadsTheSameThroughGraphQL", func(t *testing.T) {
		t.Parallel()
		rec := h.call(t, http.MethodPost, hostA, ownerTok, "/projects", map[string]any{"name": "From REST", "description": "other way"})
		created := requireResource(t, requireData(t, rec, http.StatusCreated), "project")
		res := h.gql(t, hostA, ownerTok, `query($id: ID!) { project(id: $id) { id name description status ownerID } }`,
			map[string]any{"id": created["id"]})
		require.Empty(t, res.Errors, res.Body)
		p := res.Data["project"].(map[string]any)
		require.Equal(t, created["id"], p["id"])
		require.Equal(t, attrs(created)["name"], p["name"])
		require.Equal(t, attrs(created)["description"], p["description"])
		require.Equal(t, attrs(created)["status"], p["status"])
		require.Equal(t, h.users[owner].ID.String(), p["ownerID"])
	})

	t.Run("AuthorizationAgreesPerRole", func(t *testing.T) {
		t.Parallel()
		expected := map[role]map[string]string{
			anonymous: {"create": "UNAUTHENTICATED", "read": "UNAUTHENTICATED", "delete": "UNAUTHENTICATED"},
			viewer:    {"create": "FORBIDDEN", "read": allowed, "delete": "FORBIDDEN"},
			memberR:   {"create": allowed, "read": allowed, "delete": "FORBIDDEN"},
			admin:     {"create": allowed, "read": allowed, "delete": allowed},
			owner:     {"create": allowed, "read": allowed, "delete": allowed},
			ownerB:    {"create": "UNAUTHENTICATED", "read": "UNAUTHENTICATED", "delete": "UNAUTHENTICATED"},
			staff:     {"create": "UNAUTHENTICATED", "read": "UNAUTHENTICATED", "delete": "UNAUTHENTICATED"},
		}
		for _, r := range roles {
			tok := h.token(t, r)
			name := fmt.Sprintf("parity-%s-%d", r, h.next())
			restCreate := restOutcome(t, h.call(t, http.MethodPost, hostA, tok, "/projects", map[string]any{"name": name + "-rest"}))
			gqlCreate := h.gql(t, hostA, tok, createDoc, map[string]any{"in": map[string]any{"name": name + "-gql"}}).outcome("createProject")
			require.Equal(t, restCreate, gqlCreate, "create as %s", r)
			require.Equal(t, expected[r]["create"], restCreate, "create as %s", r)

			restID := h.createProject(t, hostA, ownerTok, name+"-target-rest")
			gqlID := h.createProject(t, hostA, ownerTok, name+"-target-gql")
			restRead := restOutcome(t, h.call(t, http.MethodGet, hostA, tok, "/projects/"+restID, nil))
			gqlRead := h.gql(t, hostA, tok, `query($id: ID!) { project(id: $id) { id } }`, map[string]any{"id": gqlID}).outcome("project")
			require.Equal(t, restRead, gqlRead, "read as %s", r)
			require.Equal(t, expected[r]["read"], restRead, "read as %s", r)

			restDelete := restOutcome(t, h.call(t, http.MethodDelete, hostA, tok, "/projects/"+restID, nil))
			gqlDelete := h.gql(t, hostA, tok, `mutation($id: ID!) { deleteProject(id: $id) }`, map[string]any{"id": gqlID}).outcome("deleteProject")
			require.Equal(t, restDelete, gqlDelete, "delete as %s", r)
			require.Equal(t, expected[r]["delete"], restDelete, "delete as %s", r)
			require.Equal(t, h.projectRow(t, h.a, restID) == "", h.projectRow(t, h.a, gqlID) == "", "delete as %s", r)
		}
	})

	t.Run("PlatformHostAgrees", func(t *testing.T) {
		t.Parallel()
		staffTok := h.token(t, staff)
		restCreate := restOutcome(t, h.call(t, http.MethodPost, hostPlatform, staffTok, "/projects", map[string]any{"name": "x"}))
		gqlCreate := h.gql(t, hostPlatform, staffTok, createDoc, map[string]any{"in": map[string]any{"name": "x"}}).outcome("createProject")
		require.Equal(t, string(apperr.CodeTenantNotFound), restCreate)
		require.Equal(t, restCreate, gqlCreate)
	})

	t.Run("ForeignIDAgreesAcrossTenants", func(t *testing.T) {
		t.Parallel()
		id := h.createProject(t, hostA, ownerTok, "foreign")
		bTok := h.token(t, ownerB)
		require.Equal(t, string(apperr.CodeNotFound), restOutcome(t, h.call(t, http.MethodGet, hostB, bTok, "/projects/"+id, nil)))
		res := h.gql(t, hostB, bTok, `query($id: ID!) { project(id: $id) { id } }`, map[string]any{"id": id})
		require.Empty(t, res.Errors, res.Body)
		require.Nil(t, res.Data["project"], "GraphQL answers null where REST answers 404")
		res = h.gql(t, hostB, bTok, `mutation($id: ID!) { deleteProject(id: $id) }`, map[string]any{"id": id})
		require.Equal(t, string(apperr.CodeNotFound), res.outcome("deleteProject"))
		require.Equal(t, restOutcome(t, h.call(t, http.MethodDelete, hostB, bTok, "/projects/"+id, nil)), res.outcome("deleteProject"))
		require.NotEmpty(t, h.projectRow(t, h.a, id))
	})

	t.Run("ListsHoldTheSameProjects", func(t *testing.T) {
		t.Parallel()
		host, tok := h.freshTenant(t)
		want := make([]string, 0, 12)
		for i := range 6 {
			want = append(want, h.createProject(t, host, tok, fmt.Sprintf("rest %d", i)))
			res := h.gql(t, host, tok, createDoc, map[string]any{"in": map[string]any{"name": fmt.Sprintf("gql %d", i)}})
			require.Empty(t, res.Errors, res.Body)
			want = append(want, res.Data["createProject"].(map[string]any)["id"].(string))
		}
		items, _ := requireList(t, h.call(t, http.MethodGet, host, tok, "/projects?limit=100", nil), "project")
		restIDs := make([]string, 0, len(items))
		for _, it := range items {
			restIDs = append(restIDs, it["id"].(string))
		}
		res := h.gql(t, host, tok, `query { projects(first: 50) { totalCount edges { node { id } } } }`, nil)
		require.Empty(t, res.Errors, res.Body)
		conn := res.Data["projects"].(map[string]any)
		require.Equal(t, 12.0, conn["totalCount"])
		gqlIDs := []string{}
		for _, e := range conn["edges"].([]any) {
			gqlIDs = append(gqlIDs, e.(map[string]any)["node"].(map[string]any)["id"].(string))
		}
		require.ElementsMatch(t, want, restIDs)
		require.Equal(t, restIDs, gqlIDs, "same order too")
	})
}
