package rest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clientiq/clientiq/internal/apperr"
)

// FuzzDecode: any body decodes or fails with a client error code, never a
// panic or INTERNAL.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"name":"x"}`, `{"name":`, ``, `[]`, `{"name":"x"} {}`, `{"role":"owner"}`, `{"name":5}`, "\x00", `{"name":"\u0000"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/projects", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var dst struct {
			Name        *string        `json:"name"`
			Description *string        `json:"description"`
			Attributes  map[string]any `json:"attributes"`
		}
		if err := decode(r, &dst); err != nil {
			switch apperr.CodeOf(err) {
			case apperr.CodeValidation, apperr.CodePayloadTooLarge, apperr.CodeUnsupportedMedia:
			default:
				t.Fatalf("decode(%q) gave %v", body, err)
			}
		}
	})
}

// FuzzCursor: any ?limit=&cursor= is accepted or a VALIDATION_ERROR.
func FuzzCursor(f *testing.F) {
	for _, s := range []string{"", "gaFpxBCrkfxo08BF4obZSeCYJpT0", "garbage", "%%%", "AAAA", "gqFp"} {
		f.Add(s, "10")
	}
	f.Fuzz(func(t *testing.T, cursor, limit string) {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/projects", nil)
		q := r.URL.Query()
		q.Set("cursor", cursor)
		q.Set("limit", limit)
		r.URL.RawQuery = q.Encode()
		if _, _, err := pageParams(r); err != nil && apperr.CodeOf(err) != apperr.CodeValidation {
			t.Fatalf("pageParams(%q, %q) gave %v", cursor, limit, err)
		}
	})
}
