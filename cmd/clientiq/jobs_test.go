package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/dbtest"
)

// TestServeMountsRiverUIForStaffAndTheStripeWebhook checks the two job
// surfaces of the binary: River UI answers platform staff only (everyone
// else sees a route that does not exist), and the Stripe webhook refuses an
// unsigned event with the error envelope.
func TestServeMountsRiverUIForStaffAndTheStripeWebhook(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	env := newEnv(t, db.URL).with("JWT_SECRET", "k3J9x!Qp2Lw8Zr5Tv7Ym4Nb6Hc1Fd0Gs-_AaBbCcDdEe",
		"STRIPE_WEBHOOK_SECRET", "whsec_k3J9xQp2Lw8Zr5Tv7Ym4Nb6Hc1Fd0Gs", "TRUSTED_PROXIES", "127.0.0.1/32")
	password := createStaff(t, env, "ops@clientiq.example")
	s := startServer(t, env)
	s.clientIP = randomClientIP()
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path, token string) int {
		req, err := http.NewRequest(http.MethodGet, s.url(path), nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}

	require.Equal(t, http.StatusNotFound, get("/riverui/", ""), "anonymous")
	staff := login(t, s, "ops@clientiq.example", password)
	require.Equal(t, http.StatusOK, get("/riverui/", staff), "staff")
	require.Equal(t, http.StatusOK, get("/riverui/api/jobs?state=available", staff), "staff, the UI's API")

	resp, err := client.Post(s.url("/api/v1/webhooks/stripe"), "application/json",
		strings.NewReader(`{"id":"evt_1","type":"payment_intent.succeeded"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.Equal(t, false, body["success"], "%v", body)
}
