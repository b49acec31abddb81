package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/clientiq/clientiq/internal/auth"
)

// session is a tenant owner's pair of tokens.
type session struct {
	tenant  tenantRef
	access  string
	refresh string // empty when minted
}

// tokenSet holds one session per benchmark tenant (and the single one).
type tokenSet struct {
	mu       sync.Mutex
	spread   []session
	single   session
	obtained time.Time
	minted   int
}

// clientIP gives each login its own client address, sent as
// X-Forwarded-For from the trusted loopback proxy: many users logging in
// from many places, not one address tripping the per-IP login limit.
var clientIPs atomic.Uint32

func nextClientIP() string {
	n := clientIPs.Add(1)
	return fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)
}

// apiClient talks to the server for set-up (not for measured load).
type apiClient struct {
	base string
	http *http.Client
}

// tokensBody is the data of a login or refresh answer.
type tokensBody struct {
	Success bool `json:"success"`
	Data    struct {
		Attributes struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		} `json:"attributes"`
	} `json:"data"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// parseTokens reads the tokens out of a login or refresh answer.
func parseTokens(body []byte) (access, refresh string, err error) {
	var b tokensBody
	if err := json.Unmarshal(body, &b); err != nil {
		return "", "", fmt.Errorf("decode tokens: %w", err)
	}
	if !b.Success || b.Data.Attributes.AccessToken == "" {
		if b.Error != nil {
			return "", "", fmt.Errorf("%s: %s", b.Error.Code, b.Error.Message)
		}
		return "", "", fmt.Errorf("no tokens in %.200s", body)
	}
	return b.Data.Attributes.AccessToken, b.Data.Attributes.RefreshToken, nil
}

func (c *apiClient) post(ctx context.Context, host, path string, body any) ([]byte, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Host = host
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", nextClientIP())
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

func (c *apiClient) login(ctx context.Context, t tenantRef) (session, error) {
	body, err := c.post(ctx, t.host(), "/api/v1/auth/login/", map[string]string{"email": t.email(), "password": benchPassword})
	if err != nil {
		return session{}, fmt.Errorf("log in to %s: %w", t.Slug, err)
	}
	access, refresh, err := parseTokens(body)
	if err != nil {
		return session{}, fmt.Errorf("log in to %s: %w", t.Slug, err)
	}
	return session{tenant: t, access: access, refresh: refresh}, nil
}

func (c *apiClient) refresh(ctx context.Context, s session) (session, error) {
	body, err := c.post(ctx, s.tenant.host(), "/api/v1/auth/refresh/", map[string]string{"refresh_token": s.refresh})
	if err != nil {
		return s, fmt.Errorf("refresh %s: %w", s.tenant.Slug, err)
	}
	access, refresh, err := parseTokens(body)
	if err != nil {
		return s, fmt.Errorf("refresh %s: %w", s.tenant.Slug, err)
	}
	return session{tenant: s.tenant, access: access, refresh: refresh}, nil
}

// obtainTokens logs in as the owner of the first maxLogins tenants and of
// the single tenant through the API; the rest (large tenant counts, where
// logging in 10,000 times would take minutes of argon2id) get tokens
// minted with the server's JWT secret, which the server cannot tell apart.
func obtainTokens(ctx context.Context, c *apiClient, ds *dataset, secret string, maxLogins int) (*tokenSet, float64, error) {
	ts := &tokenSet{spread: make([]session, len(ds.tenants)), obtained: time.Now()}
	keys, _, err := auth.NewKeyRing(auth.KeyRingConfig{Secret: secret, Issuer: "clientiq", Audience: "clientiq-api", AccessTTL: 15 * time.Minute})
	if err != nil {
		return nil, 0, err
	}
	start := time.Now()
	var loginErr error
	logins := min(maxLogins, len(ds.tenants))
	err = parallel(ctx, logins, 4, func(ctx context.Context, i int) error {
		s, err := c.login(ctx, ds.tenants[i])
		ts.spread[i] = s
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	if ts.single, loginErr = c.login(ctx, ds.single); loginErr != nil {
		return nil, 0, loginErr
	}
	elapsed := time.Since(start).Seconds()
	for i := logins; i < len(ds.tenants); i++ {
		t := ds.tenants[i]
		access, _, err := keys.Issue(auth.AccessInput{UserID: t.UserID, TenantID: t.ID, SessionID: uuid.New()})
		if err != nil {
			return nil, 0, err
		}
		ts.spread[i] = session{tenant: t, access: access}
		ts.minted++
	}
	return ts, elapsed, nil
}

// freshen renews the tokens when they are older than ten minutes (access
// tokens live fifteen): logged-in sessions through the refresh endpoint,
// minted ones by minting again.
func (ts *tokenSet) freshen(ctx context.Context, c *apiClient, secret string) error {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if time.Since(ts.obtained) < 10*time.Minute {
		return nil
	}
	keys, _, err := auth.NewKeyRing(auth.KeyRingConfig{Secret: secret, Issuer: "clientiq", Audience: "clientiq-api", AccessTTL: 15 * time.Minute})
	if err != nil {
		return err
	}
	err = parallel(ctx, len(ts.spread), 4, func(ctx context.Context, i int) error {
		s := ts.spread[i]
		if s.refresh == "" {
			access, _, err := keys.Issue(auth.AccessInput{UserID: s.tenant.UserID, TenantID: s.tenant.ID, SessionID: uuid.New()})
			ts.spread[i].access = access
			return err
		}
		ns, err := c.refresh(ctx, s)
		ts.spread[i] = ns
		return err
	})
	if err != nil {
		return err
	}
	if ts.single, err = c.refresh(ctx, ts.single); err != nil {
		return err
	}
	ts.obtained = time.Now()
	return nil
}
