package main

import (
	"encoding/json"
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

// TestServeDeliversEmailsThroughRiverAndSMTP runs the real binary against a
// real SMTP server (Mailpit): a signup's verification email and a password
// reset arrive with working links, and a refused signup sends nothing.
func TestServeDeliversEmailsThroughRiverAndSMTP(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	mp := mailtest.Start(t)
	env := newEnv(t, db.URL).with("SMTP_URL", mp.SMTPURL(), "MAIL_FROM", "ClientIQ <no-reply@mail.test>",
		"BASE_DOMAIN", "email.test")
	s := startServer(t, env)

	const signup = `mutation($in: SignupInput!) { signup(input: $in) { user { id } } }`
	out := postGraphQL(t, s, signup, map[string]any{"in": map[string]any{
		"email": "founder@email.test", "password": "correct horse battery staple 42",
		"name": "Founder", "tenantName": "Mailers", "tenantSlug": "mailers"}})
	require.Nil(t, out["errors"], "%v", out)

	require.Eventually(t, func() bool { return len(mp.Messages()) == 1 }, 30*time.Second, 100*time.Millisecond,
		"no verification email; server log:\n%s", s.stderr)
	msgs := mp.Messages()
	m := mp.Message(msgs[0].ID)
	require.Equal(t, "founder@email.test", m.To[0].Address)
	require.Contains(t, m.Text, "http://email.test:")
	require.Contains(t, m.Text, "/verify-email?token=")

	t.Run("a refused signup sends nothing", func(t *testing.T) {
		out := postGraphQL(t, s, signup, map[string]any{"in": map[string]any{
			"email": "second@email.test", "password": "correct horse battery staple 42",
			"tenantName": "Mailers again", "tenantSlug": "mailers"}})
		require.NotNil(t, out["errors"], "the slug is taken: %v", out)
		time.Sleep(2 * time.Second) // time for a wrongly enqueued job to be worked
		require.Empty(t, mp.MessagesTo("second@email.test"))
	})

	t.Run("a password reset arrives with its link", func(t *testing.T) {
		out := postGraphQL(t, s, `mutation { requestPasswordReset(input: {email: "founder@email.test"}) }`, nil)
		require.Nil(t, out["errors"], "%v", out)
		require.Eventually(t, func() bool { return len(mp.MessagesTo("founder@email.test")) == 2 }, 30*time.Second, 100*time.Millisecond)
		var reset *mailtest.Message
		for _, sum := range mp.MessagesTo("founder@email.test") {
			if msg := mp.Message(sum.ID); strings.Contains(msg.Text, "/reset-password?token=") {
				reset = &msg
			}
		}
		require.NotNil(t, reset, "one of the two emails is the reset")
	})
}
