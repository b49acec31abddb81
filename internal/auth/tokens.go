package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/clientiq/clientiq/internal/apperr"
)

// TypeAccess is the typ of access tokens, in the header (RFC 9068) and in
// the claims. Nothing else ClientIQ issues is a JWT with this type, so no
// other token can pass as an access token.
const (
	TypeAccess       = "access"
	HeaderTypeAccess = "at+jwt"
)

// MaxTokenBytes caps the Authorization header's token before parsing.
const MaxTokenBytes = 4096

// Leeway is the clock skew allowed on exp, nbf and iat.
const Leeway = 30 * time.Second

// Claims are the access token's claims.
type Claims struct {
	jwt.RegisteredClaims
	// TenantID is the tenant the token was issued for; empty on platform tokens.
	TenantID string `json:"tid,omitempty"`
	// Type is always TypeAccess for access tokens.
	Type string `json:"typ"`
	// SessionID is the refresh-token family the token came from.
	SessionID string `json:"sid,omitempty"`
	// ActorID is the staff user impersonating Subject, when impersonating.
	ActorID string `json:"act,omitempty"`
}

// Validate implements jwt.ClaimsValidator: the checks golang-jwt does not do.
func (c *Claims) Validate() error {
	if c.Type != TypeAccess {
		return errors.New("not an access token")
	}
	if _, err := uuid.Parse(c.Subject); err != nil {
		return errors.New("bad subject")
	}
	if c.TenantID != "" {
		if _, err := uuid.Parse(c.TenantID); err != nil {
			return errors.New("bad tenant")
		}
	}
	if c.ID == "" || c.IssuedAt == nil {
		return errors.New("missing jti or iat")
	}
	return nil
}

// KeyRing signs with one key and verifies with it and the previous ones
// (rotation with an overlap window), all of one algorithm.
type KeyRing struct {
	method   jwt.SigningMethod
	signKID  string
	signKey  any
	verify   map[string]any // kid → verification key
	public   map[string]ed25519.PublicKey
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time

	// verified remembers tokens whose signature checked out, so a client
	// sending the same token again costs a map lookup and the time-based
	// checks instead of a parse and a signature. The ring's keys never
	// change while it lives (rotation is configuration), so a signature
	// once good stays good; expiry is checked on every use.
	verifiedMu sync.RWMutex
	verified   map[string]*Claims
	// timeValidator runs timeChecks on a remembered token.
	timeValidator *jwt.Validator
}

// maxVerified bounds KeyRing.verified (about 0.5 KB a token); when full it
// starts over.
const maxVerified = 4096

// KeyRingConfig configures a KeyRing.
type KeyRingConfig struct {
	// Secret selects HS256 with this secret (≥ 32 bytes).
	Secret string
	// PreviousSecrets still verify (rotation).
	PreviousSecrets []string
	// PrivateKeyFile selects EdDSA with this PEM (PKCS#8) Ed25519 key.
	PrivateKeyFile string
	// PreviousPublicKeyFiles still verify (rotation).
	PreviousPublicKeyFiles []string
	// Generate makes a throw-away Ed25519 key when neither is set
	// (development only; tokens die with the process).
	Generate bool
	Issuer   string
	Audience string
	// AccessTTL is the access token lifetime (≤ 15 minutes).
	AccessTTL time.Duration
}

// ErrNoKey is returned when no key is configured and Generate is off.
var ErrNoKey = errors.New("auth: no JWT key configured (JWT_SECRET or JWT_PRIVATE_KEY_FILE)")

// NewKeyRing builds the key ring. It reports whether it generated a key.
func NewKeyRing(cfg KeyRingConfig) (*KeyRing, bool, error) {
	k := &KeyRing{verify: map[string]any{}, public: map[string]ed25519.PublicKey{},
		issuer: cfg.Issuer, audience: cfg.Audience, ttl: cfg.AccessTTL, now: time.Now}
	if k.ttl <= 0 || k.ttl > 15*time.Minute {
		k.ttl = 15 * time.Minute
	}
	generated := false
	switch {
	case cfg.PrivateKeyFile != "":
		priv, err := readPrivateKey(cfg.PrivateKeyFile)
		if err != nil {
			return nil, false, err
		}
		k.useEd25519(priv)
		for _, f := range cfg.PreviousPublicKeyFiles {
			pub, err := readPublicKey(f)
			if err != nil {
				return nil, false, err
			}
			kid := kidOf(pub)
			k.verify[kid], k.public[kid] = pub, pub
		}
	case cfg.Secret != "":
		if len(cfg.Secret) < 32 {
			return nil, false, errors.New("auth: JWT_SECRET shorter than 32 bytes")
		}
		k.method = jwt.SigningMethodHS256
		k.signKey = []byte(cfg.Secret)
		k.signKID = kidOf([]byte(cfg.Secret))
		k.verify[k.signKID] = k.signKey
		for _, s := range cfg.PreviousSecrets {
			if len(s) >= 32 {
				k.verify[kidOf([]byte(s))] = []byte(s)
			}
		}
	case cfg.Generate:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, false, fmt.Errorf("auth: generate key: %w", err)
		}
		k.useEd25519(priv)
		generated = true
	default:
		return nil, false, ErrNoKey
	}
	k.timeValidator = jwt.NewValidator(k.timeChecks()...)
	return k, generated, nil
}

func (k *KeyRing) useEd25519(priv ed25519.PrivateKey) {
	pub := priv.Public().(ed25519.PublicKey)
	k.method = jwt.SigningMethodEdDSA
	k.signKey = priv
	k.signKID = kidOf(pub)
	k.verify[k.signKID] = pub
	k.public[k.signKID] = pub
}

// kidOf derives a key id from key material (never the secret itself).
func kidOf(material []byte) string {
	sum := sha256.Sum256(material)
	return hex.EncodeToString(sum[:8])
}

// TTL is the access token lifetime.
func (k *KeyRing) TTL() time.Duration { return k.ttl }

// Algorithm is the pinned signing algorithm.
func (k *KeyRing) Algorithm() string { return k.method.Alg() }

// AccessInput is what an access token says.
type AccessInput struct {
	UserID    uuid.UUID
	TenantID  uuid.UUID // uuid.Nil for platform tokens
	SessionID uuid.UUID
	ActorID   uuid.UUID // uuid.Nil unless impersonating
	// TTL overrides the ring's lifetime when shorter (impersonation).
	TTL time.Duration
}

// Issue signs an access token and returns it with its expiry.
func (k *KeyRing) Issue(in AccessInput) (string, time.Time, error) {
	now := k.now().Truncate(time.Second)
	ttl := k.ttl
	if in.TTL > 0 && in.TTL < ttl {
		ttl = in.TTL
	}
	exp := now.Add(ttl)
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    k.issuer,
			Subject:   in.UserID.String(),
			Audience:  jwt.ClaimStrings{k.audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ID:        uuid.NewString(),
		},
		Type: TypeAccess,
	}
	if in.TenantID != uuid.Nil {
		c.TenantID = in.TenantID.String()
	}
	if in.SessionID != uuid.Nil {
		c.SessionID = in.SessionID.String()
	}
	if in.ActorID != uuid.Nil {
		c.ActorID = in.ActorID.String()
	}
	t := jwt.NewWithClaims(k.method, &c)
	t.Header["kid"] = k.signKID
	t.Header["typ"] = HeaderTypeAccess
	s, err := t.SignedString(k.signKey)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: sign access token: %w", err)
	}
	return s, exp, nil
}

// ErrInvalidToken is every verification failure: the client learns nothing
// about which check failed.
var ErrInvalidToken = apperr.New(apperr.CodeUnauthenticated, "invalid or expired token")

// Verify checks an access token: pinned algorithm, known kid, signature,
// exp (required), nbf, iat, iss, aud, and typ in header and claims.
func (k *KeyRing) Verify(raw string) (*Claims, error) {
	if raw == "" || len(raw) > MaxTokenBytes || strings.Count(raw, ".") != 2 {
		return nil, ErrInvalidToken
	}
	k.verifiedMu.RLock()
	seen := k.verified[raw]
	k.verifiedMu.RUnlock()
	if seen != nil {
		// Signature, algorithm, issuer and audience held when it was
		// parsed; what time changes is checked again.
		if k.timeValidator.Validate(seen) != nil {
			return nil, ErrInvalidToken
		}
		c := *seen
		return &c, nil
	}
	c := &Claims{}
	_, err := jwt.ParseWithClaims(raw, c, k.keyFunc, append(k.timeChecks(),
		jwt.WithValidMethods([]string{k.method.Alg()}),
		jwt.WithIssuer(k.issuer),
		jwt.WithAudience(k.audience),
	)...)
	if err != nil {
		return nil, ErrInvalidToken
	}
	k.verifiedMu.Lock()
	if k.verified == nil || len(k.verified) >= maxVerified {
		k.verified = make(map[string]*Claims, 64)
	}
	stored := *c
	k.verified[raw] = &stored
	k.verifiedMu.Unlock()
	return c, nil
}

// timeChecks are the validations that depend on the clock (read through
// k.now at each check).
func (k *KeyRing) timeChecks() []jwt.ParserOption {
	return []jwt.ParserOption{jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(func() time.Time { return k.now() })}
}

func (k *KeyRing) keyFunc(t *jwt.Token) (any, error) {
	if typ, _ := t.Header["typ"].(string); typ != HeaderTypeAccess {
		return nil, errors.New("wrong token type")
	}
	kid, ok := t.Header["kid"].(string)
	if !ok || len(kid) != 16 {
		return nil, errors.New("missing or malformed kid")
	}
	key, ok := k.verify[kid]
	if !ok {
		return nil, errors.New("unknown kid")
	}
	return key, nil
}

// JWKS returns the JSON Web Key Set of the public keys (EdDSA only; nil for
// HS256, whose key is secret).
func (k *KeyRing) JWKS() map[string]any {
	if len(k.public) == 0 {
		return nil
	}
	keys := make([]map[string]string, 0, len(k.public))
	for kid, pub := range k.public {
		keys = append(keys, map[string]string{
			"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid,
			"x": base64.RawURLEncoding.EncodeToString(pub),
		})
	}
	return map[string]any{"keys": keys}
}

func readPrivateKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: read JWT_PRIVATE_KEY_FILE: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("auth: JWT_PRIVATE_KEY_FILE is not PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("auth: JWT_PRIVATE_KEY_FILE is not a PKCS#8 private key")
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, errors.New("auth: JWT_PRIVATE_KEY_FILE is not an Ed25519 key")
	}
	return priv, nil
}

func readPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: read previous public key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("auth: previous public key is not PEM")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, errors.New("auth: previous public key is not PKIX")
	}
	pub, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("auth: previous public key is not Ed25519")
	}
	return pub, nil
}

// NewOpaqueToken returns a random 256-bit token (URL-safe) and the SHA-256
// hash that is stored instead of it.
func NewOpaqueToken() (token string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashOpaque(token)
}

// HashOpaque hashes an opaque token for lookup.
func HashOpaque(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
