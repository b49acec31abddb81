package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/credential"
)

// Argon2Params are argon2id's cost parameters.
type Argon2Params struct {
	// Memory in KiB.
	Memory uint32
	// Time is the number of passes.
	Time uint32
	// Threads is the parallelism.
	Threads uint8
	// SaltLen and KeyLen in bytes.
	SaltLen, KeyLen uint32
}

// DefaultArgon2 meets OWASP's argon2id recommendation (m=19 MiB, t=2, p=1).
var DefaultArgon2 = Argon2Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Password length rules (see package credential).
const (
	MinPasswordLen   = credential.MinPasswordLen
	MaxPasswordLen   = credential.MaxPasswordLen
	MaxPasswordBytes = credential.MaxPasswordBytes
)

// Hasher hashes and verifies passwords with argon2id in a bounded pool: at
// most Slots hashes run at once, so a login flood queues instead of taking
// every core and all memory from other requests.
type Hasher struct {
	params Argon2Params
	slots  chan struct{}
	dummy  string
}

// NewHasher returns a Hasher with params and slots concurrent hashes
// (default: GOMAXPROCS).
func NewHasher(params Argon2Params, slots int) *Hasher {
	if slots <= 0 {
		slots = runtime.GOMAXPROCS(0)
	}
	h := &Hasher{params: params, slots: make(chan struct{}, slots)}
	// A real hash of a random password: verifying against it costs what a
	// real verification costs, for unknown accounts.
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	h.dummy = h.hashNow(string(b))
	return h
}

// ValidatePassword applies the password rules (credential.ValidatePassword).
func ValidatePassword(field, password, email string) error {
	return credential.ValidatePassword(field, password, email)
}

// ErrBusy is returned when ctx ends while waiting for a hashing slot.
var ErrBusy = apperr.New(apperr.CodeUnavailable, "the server is busy; try again")

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ErrBusy
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the PHC-format argon2id hash of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > MaxPasswordBytes {
		return "", apperr.Validation("password too long", map[string][]string{"password": {"is too long"}})
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.hashNow(password), nil
}

func (h *Hasher) hashNow(password string) string {
	p := h.params
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Verify reports whether password matches encoded, and whether encoded
// should be replaced by a hash with the current parameters. An empty
// encoded (unknown account) is verified against a dummy hash, so the answer
// takes as long as for a real account.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	if len(password) > MaxPasswordBytes {
		return false, false, nil
	}
	real := encoded != ""
	if !real {
		encoded = h.dummy
	}
	p, salt, key, perr := decodeHash(encoded)
	if perr != nil {
		// A corrupt stored hash still costs a hash, then fails.
		p, salt, key, _ = decodeHash(h.dummy)
		real = false
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	match := subtle.ConstantTimeCompare(got, key) == 1 && real
	return match, match && p != h.paramsFor(len(salt), len(key)), nil
}

func (h *Hasher) paramsFor(saltLen, keyLen int) Argon2Params {
	p := h.params
	if uint32(saltLen) != p.SaltLen || uint32(keyLen) != p.KeyLen {
		return Argon2Params{} // forces a rehash
	}
	return p
}

var errBadHash = errors.New("auth: malformed argon2id hash")

func decodeHash(encoded string) (Argon2Params, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return Argon2Params{}, nil, nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Argon2Params{}, nil, nil, errBadHash
	}
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return Argon2Params{}, nil, nil, errBadHash
	}
	if p.Memory == 0 || p.Memory > 1<<21 || p.Time == 0 || p.Time > 20 || p.Threads == 0 {
		return Argon2Params{}, nil, nil, errBadHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return Argon2Params{}, nil, nil, errBadHash
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return Argon2Params{}, nil, nil, errBadHash
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
