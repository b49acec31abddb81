package tenant

import (
	"strings"
	"testing"
)

// FuzzHostOnly: any Host header parses without panicking into a lowercase
// name with no port and no trailing dot.
func FuzzHostOnly(f *testing.F) {
	for _, s := range []string{"acme.example.com", "ACME.Example.com.:8443", "[::1]:8080", "127.0.0.1", "", ":", "[", "a..b", "x:y:z", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		h := hostOnly(host)
		if h != strings.ToLower(h) {
			t.Fatalf("hostOnly(%q) = %q is not lowercase", host, h)
		}
		if strings.HasSuffix(h, ".") && !strings.HasSuffix(strings.TrimSpace(host), "..") {
			t.Fatalf("hostOnly(%q) = %q keeps a trailing dot", host, h)
		}
		_, _ = NormalizeDomain(host)
	})
}
