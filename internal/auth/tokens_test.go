package auth_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/auth"
)

// validClaims are the claims of a good access token issued at now.
func validClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": testIssuer,
		"aud": []string{testAudience},
		"sub": uuid.NewString(),
		"tid": uuid.NewString(),
		"sid": uuid.NewString(),
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
		"jti": uuid.NewString(),
		"typ": auth.TypeAccess,
	}
}

// with returns a copy of c with changes applied; a nil value deletes.
func with(c jwt.MapClaims, changes map[string]any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// sign builds a token with the library, as an attacker holding key would:
// header typ at+jwt and kid unless header overrides them (a nil value
// deletes the header).
func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, header map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["typ"] = auth.HeaderTypeAccess
	tok.Header["kid"] = kid
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// segment base64url-encodes v as JSON, like a JWT segment.
func segment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestKeyRingVerify(t *testing.T) {
	t.Parallel()

	secret := randomSecret()
	hs := newHSRing(t, secret)
	hsKID := ringKID(t, hs)
	ed, edPriv := newEdRing(t)
	edKID := ringKID(t, ed)
	edPub := edPriv.Public().(ed25519.PublicKey)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, attackerEd, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)

	hsToken := func(t *testing.T, header map[string]any, claims jwt.MapClaims) string {
		return sign(t, jwt.SigningMethodHS256, []byte(secret), hsKID, header, claims)
	}
	edToken := func(t *testing.T, header map[string]any, claims jwt.MapClaims) string {
		return sign(t, jwt.SigningMethodEdDSA, edPriv, edKID, header, claims)
	}

	t.Run("tokens signed with the ring's key and valid claims are accepted", func(t *testing.T) {
		t.Parallel()
		now := time.Now()
		for _, c := range []struct {
			ring  *auth.KeyRing
			token string
		}{
			{hs, hsToken(t, nil, validClaims(now))},
			{ed, edToken(t, nil, validClaims(now))},
			{hs, issue(t, hs)},
			{ed, issue(t, ed)},
		} {
			claims, err := c.ring.Verify(c.token)
			require.NoError(t, err)
			require.Equal(t, auth.TypeAccess, claims.Type)
		}
	})

	t.Run("expiry and not-before within the leeway are accepted", func(t *testing.T) {
		t.Parallel()
		now := time.Now()
		skew := auth.Leeway - 10*time.Second
		for _, claims := range []jwt.MapClaims{
			with(validClaims(now.Add(-time.Hour)), map[string]any{"exp": now.Add(-skew).Unix()}),
			with(validClaims(now), map[string]any{"nbf": now.Add(skew).Unix(), "iat": now.Add(skew).Unix()}),
		} {
			_, err := hs.Verify(hsToken(t, nil, claims))
			require.NoError(t, err)
		}
	})

	// Each case is a token an attacker or a confused client could present;
	// every one must get ErrInvalidToken, nothing else and no panic.
	cases := []struct {
		name  string
		ring  *auth.KeyRing
		token func(t *testing.T) string
	}{
		{"alg none without a signature", hs, func(t *testing.T) string {
			return sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, hsKID, nil, validClaims(time.Now()))
		}},
		{"alg none on an EdDSA ring", ed, func(t *testing.T) string {
			return sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, edKID, nil, validClaims(time.Now()))
		}},
		{"alg none keeping a valid signature", hs, func(t *testing.T) string {
			parts := strings.Split(hsToken(t, nil, validClaims(time.Now())), ".")
			parts[0] = segment(t, map[string]any{"alg": "none", "typ": auth.HeaderTypeAccess, "kid": hsKID})
			return strings.Join(parts, ".")
		}},
		{"HS256 signed with the EdDSA public key as secret", ed, func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, []byte(edPub), edKID, nil, validClaims(time.Now()))
		}},
		{"HS256 signed with the EdDSA private key bytes as secret", ed, func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, []byte(edPriv), edKID, nil, validClaims(time.Now()))
		}},
		{"RS256 with a generated key under the ring's kid", hs, func(t *testing.T) string {
			return sign(t, jwt.SigningMethodRS256, rsaKey, hsKID, nil, validClaims(time.Now()))
		}},
		{"RS256 on an EdDSA ring", ed, func(t *testing.T) string {
			return sign(t, jwt.SigningMethodRS256, rsaKey, edKID, nil, validClaims(time.Now()))
		}},
		{"HS512 signed with the ring's own secret", hs, func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS512, []byte(secret), hsKID, nil, validClaims(time.Now()))
		}},
		{"HS384 signed with the ring's own secret", hs, func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS384, []byte(secret), hsKID, nil, validClaims(time.Now()))
		}},
		{"EdDSA on an HS256 ring", hs, func(t *testing.T) string {
			return sign(t, jwt.SigningMethodEdDSA, attackerEd, hsKID, nil, validClaims(time.Now()))
		}},
		{"EdDSA signed by another key under the ring's kid", ed, func(t *testing.T) string {
			return sign(t, jwt.SigningMethodEdDSA, attackerEd, edKID, nil, validClaims(time.Now()))
		}},
		{"HS256 signed with another secret under the ring's kid", hs, func(t *testing.T) string {
			return sign(t, jwt.SigningMethodHS256, []byte(randomSecret()), hsKID, nil, validClaims(time.Now()))
		}},
		{"a claim flipped after signing", hs, func(t *testing.T) string {
			parts := strings.Split(hsToken(t, nil, validClaims(time.Now())), ".")
			_, claims := unverified(t, strings.Join(parts, "."))
			claims["sub"] = uuid.NewString()
			claims["role"] = "owner"
			parts[1] = segment(t, claims)
			return strings.Join(parts, ".")
		}},
		{"the tenant swapped after signing on an EdDSA ring", ed, func(t *testing.T) string {
			parts := strings.Split(edToken(t, nil, validClaims(time.Now())), ".")
			_, claims := unverified(t, strings.Join(parts, "."))
			claims["tid"] = uuid.NewString()
			parts[1] = segment(t, claims)
			return strings.Join(parts, ".")
		}},
		{"no exp", hs, func(t *testing.T) string {
			return hsToken(t, nil, with(validClaims(time.Now()), map[string]any{"exp": nil}))
		}},
		{"exp past beyond the leeway", hs, func(t *testing.T) string {
			now := time.Now()
			return hsToken(t, nil, with(validClaims(now.Add(-time.Hour)), map[string]any{"exp": now.Add(-auth.Leeway - 30*time.Second).Unix()}))
		}},
		{"exp as a string", hs, func(t *testing.T) string {
			return hsToken(t, nil, with(validClaims(time.Now()), map[string]any{"exp": "tomorrow"}))
		}},
		{"nbf in the future beyond the leeway", hs, func(t *testing.T) string {
			now := time.Now()
			return hsToken(t, nil, with(validClaims(now), map[string]any{"nbf": now.Add(auth.Leeway + time.Minute).Unix()}))
		}},
		{"iat in the future beyond the leeway", hs, func(t *testing.T) string {
			now := time.Now()
			return hsToken(t, nil, with(validClaims(now), map[string]any{"iat": now.Add(auth.Leeway + time.Minute).Unix()}))
		}},
		{"expired and badly signed at once (CVE-2024-51744)", hs, func(t *testing.T) string {
			now := time.Now()
			claims := with(validClaims(now.Add(-time.Hour)), map[string]any{"exp": now.Add(-10 * time.Minute).Unix()})
			return sign(t, jwt.SigningMethodHS256, []byte(randomSecret()), hsKID, nil, claims)
		}},
		{"expired and badly signed at once on an EdDSA ring", ed, func(t *testing.T) string {
			now := time.Now()
			claims := with(validClaims(now.Add(-time.Hour)), map[string]any{"exp": now.Add(-10 * time.Minute).Unix()})
			return sign(t, jwt.SigningMethodEdDSA, attackerEd, edKID, nil, claims)
		}},
		{"wrong iss", hs, func(t *testing.T) string {
			return hsToken(t, nil, with(validClaims(time.Now()), map[string]any{"iss": "https://evil.test"}))
		}},
		{"no iss", hs, func(t *testing.T) string {
			return hsToken(t, nil, with(validClaims(time.Now()), map[string]any{"iss": nil}))
		}},
		{"wrong aud", hs, func(t *testing.T) string {
			return hsToken(t, nil, with(validClaims(time.Now()), map[string]any{"aud": []string{"another-api"}}))
		}},
		{"no aud", hs, func(t *testing.T) string {
			return hsToken(t, nil, with(validClaims(time.Now()), map[string]any{"aud": nil}))
		}},
		{"no typ header", hs, func(t *testing.T) string {
			return hsToken(t, map[string]any{"typ": nil}, validClaims(time.Now()))
		}},
		{"typ header JWT", hs, func(t *testing.T) string {
			return hsToken(t, map[string]any{"typ": "JWT"}, validClaims(time.Now()))
		}},
		{"typ claim refresh", hs, func(t *testing.T) string {
			return hsToken(t, nil, with(validClaims(time.Now()), map[string]any{"typ": "refresh"}))
		}},
		{"typ claim reset", ed, func(t *testing.T) string {
			return edToken(t, nil, with(validClaims(time.Now()), map[string]any{"typ": "reset"}))
		}},
		{"no typ claim", hs, func(t *testing.T) string {
			return hsToken(t, nil, with(validClaims(time.Now()), map[string]any{"typ": nil}))
		}},
		{"a subject that is not a user id", hs, func(t *testing.T) string {
			return hsToken(t, nil, with(validClaims(time.Now()), map[string]any{"sub": "admin"}))
		}},
		{"a tenant that is not a tenant id", hs, func(t *testing.T) string {
			return hsToken(t, nil, with(validClaims(time.Now()), map[string]any{"tid": "' OR 1=1--"}))
		}},
		{"no jti", hs, func(t *testing.T) string {
			return hsToken(t, nil, with(validClaims(time.Now()), map[string]any{"jti": nil}))
		}},
		{"no iat", hs, func(t *testing.T) string {
			return hsToken(t, nil, with(validClaims(time.Now()), map[string]any{"iat": nil}))
		}},
		{"unknown kid", hs, func(t *testing.T) string {
			return hsToken(t, map[string]any{"kid": "0123456789abcdef"}, validClaims(time.Now()))
		}},
		{"the other ring's kid", hs, func(t *testing.T) string {
			return hsToken(t, map[string]any{"kid": edKID}, validClaims(time.Now()))
		}},
		{"kid with a path", hs, func(t *testing.T) string {
			return hsToken(t, map[string]any{"kid": "../../etc/passwd"}, validClaims(time.Now()))
		}},
		{"kid with a path of a plausible length", hs, func(t *testing.T) string {
			return hsToken(t, map[string]any{"kid": "../../../dev/nul"}, validClaims(time.Now()))
		}},
		{"kid with SQL", hs, func(t *testing.T) string {
			return hsToken(t, map[string]any{"kid": "' OR 1=1--"}, validClaims(time.Now()))
		}},
		{"kid with SQL of a plausible length", hs, func(t *testing.T) string {
			return hsToken(t, map[string]any{"kid": "' OR '1'='1' -- "}, validClaims(time.Now()))
		}},
		{"no kid", hs, func(t *testing.T) string {
			return hsToken(t, map[string]any{"kid": nil}, validClaims(time.Now()))
		}},
		{"a numeric kid", hs, func(t *testing.T) string {
			return hsToken(t, map[string]any{"kid": 1234567890123456}, validClaims(time.Now()))
		}},
		{"longer than MaxTokenBytes though well signed", hs, func(t *testing.T) string {
			tok := hsToken(t, nil, with(validClaims(time.Now()), map[string]any{"pad": strings.Repeat("a", auth.MaxTokenBytes)}))
			require.Greater(t, len(tok), auth.MaxTokenBytes)
			return tok
		}},
	}
	for _, c := range cases {
		t.Run("rejects "+c.name, func(t *testing.T) {
			t.Parallel()
			claims, err := c.ring.Verify(c.token(t))
			requireInvalidToken(t, err)
			require.Nil(t, claims)
		})
	}

	t.Run("rejects garbage without panicking", func(t *testing.T) {
		t.Parallel()
		valid := hsToken(t, nil, validClaims(time.Now()))
		for _, raw := range []string{
			"", " ", "garbage", ".", "..", "...", "a.b", "a.b.c", "a.b.c.d",
			strings.Repeat(".", 1<<20), strings.Repeat("a.", 1<<12),
			"Bearer " + valid, valid + ".", valid + "x", " " + valid,
			"eyJhbGciOiJIUzI1NiJ9..", "null.null.null", "e30.e30.", "e30.e30.e30",
			segment(t, "x") + "." + segment(t, 1) + ".sig",
			segment(t, map[string]any{"alg": "HS256", "typ": auth.HeaderTypeAccess, "kid": hsKID}) + ".!!!.###",
			"\x00.\x00.\x00", "\xff\xfe.\xff.\xff",
		} {
			claims, err := hs.Verify(raw)
			requireInvalidToken(t, err)
			require.Nil(t, claims)
			_, err = ed.Verify(raw)
			requireInvalidToken(t, err)
		}
	})

	t.Run("ignores jku and jwk headers and fetches nothing", func(t *testing.T) {
		t.Parallel()
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.WriteHeader(http.StatusNotFound)
		}))
		t.Cleanup(srv.Close)
		attackerPub := attackerEd.Public().(ed25519.PublicKey)
		header := map[string]any{
			"jku": srv.URL + "/jwks.json",
			"x5u": srv.URL + "/cert.pem",
			"jwk": map[string]string{"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(attackerPub)},
		}
		_, err := ed.Verify(sign(t, jwt.SigningMethodEdDSA, attackerEd, edKID, header, validClaims(time.Now())))
		requireInvalidToken(t, err)
		require.Zero(t, hits.Load())
	})
}
