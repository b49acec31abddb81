package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/dbtest"
)

// TestPlaygroundModes: PLAYGROUND=on serves the page to anyone (local,
// staging), off serves nothing, staff serves it only to a staff token (what
// production allows).
func TestPlaygroundModes(t *testing.T) {
	t.Parallel()
	get := func(t *testing.T, s *server, token string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, s.url("/playground"), nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}

	t.Run("on serves everyone, off no one", func(t *testing.T) {
		t.Parallel()
		db := dbtest.New(t)
		on := startServer(t, newEnv(t, db.URL).with("PLAYGROUND", "on"))
		require.Equal(t, http.StatusOK, get(t, on, ""))
		off := startServer(t, newEnv(t, db.URL).with("PLAYGROUND", "off"))
		require.Equal(t, http.StatusNotFound, get(t, off, ""))
	})

	t.Run("staff serves staff tokens only", func(t *testing.T) {
		t.Parallel()
		db := dbtest.New(t)
		env := newEnv(t, db.URL).with("PLAYGROUND", "staff", "JWT_SECRET", "k3J9x!Qp2Lw8Zr5Tv7Ym4Nb6Hc1Fd0Gs-_AaBbCcDdEe",
			"TRUSTED_PROXIES", "127.0.0.1/32")
		password := createStaff(t, env, "ops@clientiq.example")

		s := startServer(t, env)
		s.clientIP = randomClientIP()
		require.Equal(t, http.StatusNotFound, get(t, s, ""), "anonymous")
		require.Equal(t, http.StatusUnauthorized, get(t, s, "not-a-token"), "bad token")

		require.Equal(t, http.StatusOK, get(t, s, login(t, s, "ops@clientiq.example", password)), "staff")
	})
}
