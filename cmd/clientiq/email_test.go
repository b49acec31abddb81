package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/mailtest"
)

// postGraphQL sends one GraphQL operation to s and decodes the answer.
// headers are name, value pairs (Authorization, X-Tenant).
func postGraphQL(t *testing.T, s *server, query string, vars map[string]any, headers ...string) map[string]any {
	t.Helper()
	payload, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, s.url("/graphql"), strings.NewReader(string(payload)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if s.clientIP != "" {
		req.Header.Set("X-Forwarded-For", s.clientIP)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

// randomClientIP is an address of TEST-NET-2 for one test: servers that
// trust the loopback proxy count throttles per test, not across every test
// and run that share Redis.
func randomClientIP() string {
	n := rand.IntN(1 << 16)
	return fmt.Sprintf("198.51.%d.%d", n>>8, n&0xff)
}

// TestServeDeliversEmailsThroughRiverAndSMTP runs the real binary against a
// real SMTP server (Mailpit): a signup's verification email and a password
// reset arrive with working links, and a refused signup sends nothing.
func TestServeDeliversEmailsThroughRiverAndSMTP(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	mp := mailtest.Start(t)
	// A domain of its own per run: the throttles live in the shared Redis.
	base := "e" + dbtest.RandomSuffix() + ".test"
	founder := "founder@" + base
	env := newEnv(t, db.URL).with("SMTP_URL", mp.SMTPURL(), "MAIL_FROM", "ClientIQ <no-reply@mail.test>",
		"BASE_DOMAIN", base, "TRUSTED_PROXIES", "127.0.0.1/32", "SALES_EMAIL", "sales@"+base)
	s := startServer(t, env)
	s.clientIP = randomClientIP()

	const signup = `mutation($in: SignupInput!) { signup(input: $in) { user { id } } }`
	out := postGraphQL(t, s, signup, map[string]any{"in": map[string]any{
		"email": founder, "password": "correct horse battery staple 42",
		"name": "Founder", "tenantName": "Mailers", "tenantSlug": "mailers"}})
	require.Nil(t, out["errors"], "%v", out)

	require.Eventually(t, func() bool { return len(mp.Messages()) == 1 }, 30*time.Second, 100*time.Millisecond,
		"no verification email; server log:\n%s", s.stderr)
	msgs := mp.Messages()
	m := mp.Message(msgs[0].ID)
	require.Equal(t, founder, m.To[0].Address)
	require.Contains(t, m.Text, "http://"+base+":")
	require.Contains(t, m.Text, "/verify-email?token=")

	t.Run("a refused signup sends nothing", func(t *testing.T) {
		out := postGraphQL(t, s, signup, map[string]any{"in": map[string]any{
			"email": "second@" + base, "password": "correct horse battery staple 42",
			"tenantName": "Mailers again", "tenantSlug": "mailers"}})
		require.NotNil(t, out["errors"], "the slug is taken: %v", out)
		time.Sleep(2 * time.Second) // time for a wrongly enqueued job to be worked
		require.Empty(t, mp.MessagesTo("second@"+base))
	})

	t.Run("a password reset arrives with its link", func(t *testing.T) {
		out := postGraphQL(t, s, `mutation($e: String!) { requestPasswordReset(input: {email: $e}) }`, map[string]any{"e": founder})
		require.Nil(t, out["errors"], "%v", out)
		require.Eventually(t, func() bool { return len(mp.MessagesTo(founder)) == 2 }, 30*time.Second, 100*time.Millisecond)
		var reset *mailtest.Message
		for _, sum := range mp.MessagesTo(founder) {
			if msg := mp.Message(sum.ID); strings.Contains(msg.Text, "/reset-password?token=") {
				reset = &msg
			}
		}
		require.NotNil(t, reset, "one of the two emails is the reset")
	})

	t.Run("a demo request confirms to the prospect and tells sales", func(t *testing.T) {
		prospect := "prospect@" + base
		out := postGraphQL(t, s, `mutation($in: RequestDemoInput!) { requestDemo(input: $in) { id status } }`,
			map[string]any{"in": map[string]any{"name": "Pat Prospect", "email": prospect, "company": "Prospects Ltd",
				"message": "We would like a tour."}})
		require.Nil(t, out["errors"], "%v", out)
		require.Eventually(t, func() bool {
			return len(mp.MessagesTo(prospect)) == 1 && len(mp.MessagesTo("sales@"+base)) == 1
		}, 30*time.Second, 100*time.Millisecond)
		sales := mp.Message(mp.MessagesTo("sales@" + base)[0].ID)
		require.Contains(t, sales.Text, "Prospects Ltd")
	})
}
