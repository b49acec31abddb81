package httpserver

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	trusted, err := ParseTrustedProxies([]string{"10.0.0.0/8", "192.0.2.7"})
	require.NoError(t, err)
	for _, tc := range []struct {
		name, remote, xff string
		trusted           bool
		want              string
	}{
		{"without trusted proxies the header is ignored", "203.0.113.9:5000", "1.2.3.4", false, "203.0.113.9"},
		{"an untrusted peer cannot forge the header", "203.0.113.9:5000", "1.2.3.4", true, "203.0.113.9"},
		{"a trusted proxy names the client", "10.1.2.3:5000", "198.51.100.4", true, "198.51.100.4"},
		{"trusted hops are skipped from the right", "10.1.2.3:5000", "198.51.100.4, 192.0.2.7, 10.9.9.9", true, "198.51.100.4"},
		{"a spoofed left entry does not win", "10.1.2.3:5000", "6.6.6.6, 198.51.100.4", true, "198.51.100.4"},
		{"a malformed chain falls back to the peer", "10.1.2.3:5000", "not-an-ip", true, "10.1.2.3"},
		{"only trusted hops falls back to the peer", "10.1.2.3:5000", "10.2.2.2", true, "10.1.2.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			tp := trusted
			if !tc.trusted {
				tp = nil
			}
			require.Equal(t, tc.want, clientIP(r, tp))
		})
	}
	_, err = ParseTrustedProxies([]string{"nope"})
	require.Error(t, err)
}
