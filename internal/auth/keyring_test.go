package auth_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/auth"
)

func TestKeyRingIssue(t *testing.T) {
	t.Parallel()

	t.Run("access tokens carry every claim verification needs and live at most 15 minutes", func(t *testing.T) {
		t.Parallel()
		k, _, err := auth.NewKeyRing(auth.KeyRingConfig{Secret: randomSecret(), Issuer: testIssuer, Audience: testAudience,
			AccessTTL: time.Hour})
		require.NoError(t, err)
		require.Equal(t, 15*time.Minute, k.TTL())
		in := auth.AccessInput{UserID: uuid.New(), TenantID: uuid.New(), SessionID: uuid.New()}
		before := time.Now().Truncate(time.Second)
		raw, exp, err := k.Issue(in)
		require.NoError(t, err)

		header, claims := unverified(t, raw)
		require.Equal(t, "HS256", header["alg"])
		require.Equal(t, auth.HeaderTypeAccess, header["typ"])
		require.Regexp(t, `^[0-9a-f]{16}$`, header["kid"])

		require.Equal(t, testIssuer, claims["iss"])
		require.Equal(t, []any{testAudience}, claims["aud"])
		require.Equal(t, in.UserID.String(), claims["sub"])
		require.Equal(t, in.TenantID.String(), claims["tid"])
		require.Equal(t, in.SessionID.String(), claims["sid"])
		require.Equal(t, auth.TypeAccess, claims["typ"])
		jti, _ := claims["jti"].(string)
		_, err = uuid.Parse(jti)
		require.NoError(t, err, "jti is a unique id")
		require.NotContains(t, claims, "act")

		iat, err := claims.GetIssuedAt()
		require.NoError(t, err)
		require.NotNil(t, iat)
		require.WithinRange(t, iat.Time, before, time.Now())
		expClaim, err := claims.GetExpirationTime()
		require.NoError(t, err)
		require.Equal(t, exp.Unix(), expClaim.Unix())
		require.Equal(t, 15*time.Minute, expClaim.Sub(iat.Time))

		got, err := k.Verify(raw)
		require.NoError(t, err)
		require.Equal(t, in.UserID.String(), got.Subject)
		require.Equal(t, in.TenantID.String(), got.TenantID)
		require.Equal(t, in.SessionID.String(), got.SessionID)
	})

	t.Run("platform tokens carry no tenant", func(t *testing.T) {
		t.Parallel()
		k := newHSRing(t, randomSecret())
		raw, _, err := k.Issue(auth.AccessInput{UserID: uuid.New(), SessionID: uuid.New()})
		require.NoError(t, err)
		_, claims := unverified(t, raw)
		require.NotContains(t, claims, "tid")
		got, err := k.Verify(raw)
		require.NoError(t, err)
		require.Empty(t, got.TenantID)
	})

	t.Run("a shorter TTL shortens the token and a longer one does not lengthen it", func(t *testing.T) {
		t.Parallel()
		k := newHSRing(t, randomSecret())
		for ttl, want := range map[time.Duration]time.Duration{5 * time.Minute: 5 * time.Minute, 2 * time.Hour: k.TTL()} {
			raw, _, err := k.Issue(auth.AccessInput{UserID: uuid.New(), TTL: ttl})
			require.NoError(t, err)
			_, claims := unverified(t, raw)
			iat, _ := claims.GetIssuedAt()
			exp, _ := claims.GetExpirationTime()
			require.Equal(t, want, exp.Sub(iat.Time))
		}
	})

	t.Run("every token has its own jti", func(t *testing.T) {
		t.Parallel()
		k := newHSRing(t, randomSecret())
		seen := map[any]bool{}
		for range 20 {
			_, claims := unverified(t, issue(t, k))
			require.False(t, seen[claims["jti"]])
			seen[claims["jti"]] = true
		}
	})
}

func TestKeyRingRotation(t *testing.T) {
	t.Parallel()

	t.Run("a ring with the old secret as previous verifies old tokens and signs with the new key", func(t *testing.T) {
		t.Parallel()
		oldSecret, newSecret := randomSecret(), randomSecret()
		a := newHSRing(t, oldSecret)
		b := newHSRing(t, newSecret, oldSecret)
		old := issue(t, a)
		_, err := b.Verify(old)
		require.NoError(t, err)
		require.NotEqual(t, ringKID(t, a), ringKID(t, b))
		_, err = b.Verify(issue(t, b))
		require.NoError(t, err)
		_, err = a.Verify(issue(t, b))
		requireInvalidToken(t, err)
	})

	t.Run("a ring without the old secret refuses old tokens", func(t *testing.T) {
		t.Parallel()
		oldSecret := randomSecret()
		a := newHSRing(t, oldSecret)
		c := newHSRing(t, randomSecret())
		_, err := c.Verify(issue(t, a))
		requireInvalidToken(t, err)
	})

	t.Run("secrets shorter than 32 bytes are refused", func(t *testing.T) {
		t.Parallel()
		_, _, err := auth.NewKeyRing(auth.KeyRingConfig{Secret: strings.Repeat("s", 31), Issuer: testIssuer, Audience: testAudience})
		require.Error(t, err)
		_, _, err = auth.NewKeyRing(auth.KeyRingConfig{Issuer: testIssuer, Audience: testAudience})
		require.ErrorIs(t, err, auth.ErrNoKey)
	})

	t.Run("an old Ed25519 public key verifies during the overlap and is published", func(t *testing.T) {
		t.Parallel()
		_, oldPrivFile, oldPubFile := newEdKey(t)
		old, _, err := auth.NewKeyRing(auth.KeyRingConfig{PrivateKeyFile: oldPrivFile, Issuer: testIssuer, Audience: testAudience})
		require.NoError(t, err)
		next, _ := newEdRing(t, oldPubFile)
		_, err = next.Verify(issue(t, old))
		require.NoError(t, err)
		kids := jwksKIDs(t, next)
		require.ElementsMatch(t, []string{ringKID(t, old), ringKID(t, next)}, kids)

		after, _ := newEdRing(t)
		_, err = after.Verify(issue(t, old))
		requireInvalidToken(t, err)
	})
}

func TestKeyRingJWKS(t *testing.T) {
	t.Parallel()

	t.Run("an EdDSA ring publishes its signing key under its kid", func(t *testing.T) {
		t.Parallel()
		k, priv := newEdRing(t)
		jwks := k.JWKS()
		require.NotNil(t, jwks)
		keys, ok := jwks["keys"].([]map[string]string)
		require.True(t, ok)
		require.Len(t, keys, 1)
		require.Equal(t, map[string]string{
			"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": ringKID(t, k),
			"x": base64.RawURLEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)),
		}, keys[0])
		b, err := json.Marshal(jwks)
		require.NoError(t, err)
		require.NotContains(t, string(b), `"d"`, "no private part")
	})

	t.Run("a generated ring publishes its key", func(t *testing.T) {
		t.Parallel()
		k, generated, err := auth.NewKeyRing(auth.KeyRingConfig{Generate: true, Issuer: testIssuer, Audience: testAudience})
		require.NoError(t, err)
		require.True(t, generated)
		require.Equal(t, "EdDSA", k.Algorithm())
		require.Equal(t, []string{ringKID(t, k)}, jwksKIDs(t, k))
	})

	t.Run("an HS256 ring publishes nothing", func(t *testing.T) {
		t.Parallel()
		k := newHSRing(t, randomSecret(), randomSecret())
		require.Equal(t, "HS256", k.Algorithm())
		require.Nil(t, k.JWKS())
	})
}

func jwksKIDs(t *testing.T, k *auth.KeyRing) []string {
	t.Helper()
	keys, ok := k.JWKS()["keys"].([]map[string]string)
	require.True(t, ok)
	kids := make([]string, 0, len(keys))
	for _, key := range keys {
		kids = append(kids, key["kid"])
	}
	return kids
}

func TestAVerifiedTokenIsStillCheckedForExpiry(t *testing.T) {
	t.Parallel()
	k := newHSRing(t, randomSecret())
	now := time.Now()
	k.SetClock(func() time.Time { return now })
	tok, exp, err := k.Issue(auth.AccessInput{UserID: uuid.New(), SessionID: uuid.New()})
	require.NoError(t, err)
	for range 3 { // parsed once, then remembered
		c, err := k.Verify(tok)
		require.NoError(t, err)
		c.Subject = "tampered by a caller" // a copy: the remembered claims stay intact
	}
	c, err := k.Verify(tok)
	require.NoError(t, err)
	_, err = uuid.Parse(c.Subject)
	require.NoError(t, err)

	now = exp.Add(auth.Leeway + time.Second)
	_, err = k.Verify(tok)
	require.ErrorIs(t, err, auth.ErrInvalidToken, "expiry counts for a token verified before")

	tampered := tok[:len(tok)-2] + "xx"
	now = exp.Add(-time.Minute)
	_, err = k.Verify(tampered)
	require.ErrorIs(t, err, auth.ErrInvalidToken, "another string is parsed and its signature checked")
}
