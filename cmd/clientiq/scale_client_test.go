package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// scClient talks to the servers of the scaling test the way clients behind
// a load balancer do: every request carries X-Forwarded-For (the servers
// trust 127.0.0.1 as their proxy), so the per-address limits count the
// address the test chose, never 127.0.0.1, which other tests share in the
// one Redis of the machine.
type scClient struct {
	http *http.Client
	// ip is the client address the servers see.
	ip string
}

// scReply is one GraphQL answer.
type scReply struct {
	status int
	raw    []byte
	data   map[string]any
	// code is the first error's extensions.code ("" without errors).
	code   string
	errors []any
}

// scRandomIP returns an address in 10.0.0.0/8 that no other test run uses.
func scRandomIP() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("10.%d.%d.%d", b[0], b[1], b[2]|1)
}

// post sends one GraphQL operation to s. headers are name, value pairs.
// It does not fail the test, so load goroutines can call it.
func (c *scClient) post(ctx context.Context, s *server, query string, vars map[string]any, headers ...string) (scReply, error) {
	payload, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return scReply{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url("/graphql"), bytes.NewReader(payload))
	if err != nil {
		return scReply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", c.ip)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return scReply{}, err
	}
	defer resp.Body.Close()
	r := scReply{status: resp.StatusCode}
	if r.raw, err = io.ReadAll(resp.Body); err != nil {
		return r, err
	}
	var body struct {
		Data   map[string]any `json:"data"`
		Errors []any          `json:"errors"`
	}
	if err := json.Unmarshal(r.raw, &body); err != nil {
		return r, fmt.Errorf("status %d, not JSON: %s", r.status, r.raw)
	}
	r.data, r.errors = body.Data, body.Errors
	if len(body.Errors) > 0 {
		if e, ok := body.Errors[0].(map[string]any); ok {
			if ext, ok := e["extensions"].(map[string]any); ok {
				r.code, _ = ext["code"].(string)
			}
		}
	}
	return r, nil
}

// ok posts on the test's goroutine and requires an answer without errors.
func (c *scClient) ok(t testing.TB, s *server, query string, vars map[string]any, headers ...string) map[string]any {
	t.Helper()
	r, err := c.post(t.Context(), s, query, vars, headers...)
	require.NoError(t, err)
	require.Empty(t, r.errors, "%s on %s: %s", query, s.addr, r.raw)
	return r.data
}

// code posts on the test's goroutine and returns the error code ("" when
// the operation succeeded).
func (c *scClient) code(t *testing.T, s *server, query string, vars map[string]any, headers ...string) string {
	t.Helper()
	r, err := c.post(t.Context(), s, query, vars, headers...)
	require.NoError(t, err)
	return r.code
}

// scTenant is a tenant the test signed up, with its owner's token.
type scTenant struct {
	slug string
	// marker starts every name the test gives the tenant's rows.
	marker string
	token  string
	// projects are the ids of its projects.
	projects []string
}

func (tn *scTenant) headers() []string {
	return []string{"Authorization", "Bearer " + tn.token, "X-Tenant", tn.slug}
}

// scDig walks nested JSON objects by key; nil when a step is missing.
func scDig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// scNodes returns the nodes of a connection's edges.
func scNodes(conn any) []map[string]any {
	edges, _ := scDig(conn, "edges").([]any)
	out := make([]map[string]any, 0, len(edges))
	for _, e := range edges {
		if n, ok := scDig(e, "node").(map[string]any); ok {
			out = append(out, n)
		}
	}
	return out
}
