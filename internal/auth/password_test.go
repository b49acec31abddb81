package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/auth"
)

// defaultHasher is one Hasher with the production parameters, shared by
// the tests that need real costs (each NewHasher already runs one hash).
var defaultHasher = sync.OnceValue(func() *auth.Hasher { return auth.NewHasher(auth.DefaultArgon2, 0) })

func TestHasher(t *testing.T) {
	t.Parallel()

	t.Run("the default parameters round trip in PHC format", func(t *testing.T) {
		t.Parallel()
		h := defaultHasher()
		encoded, err := h.Hash(t.Context(), testPassword)
		require.NoError(t, err)
		require.Regexp(t, `^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`, encoded)
		ok, rehash, err := h.Verify(t.Context(), testPassword, encoded)
		require.NoError(t, err)
		require.True(t, ok)
		require.False(t, rehash, "current parameters need no rehash")

		again, err := h.Hash(t.Context(), testPassword)
		require.NoError(t, err)
		require.NotEqual(t, encoded, again, "every hash has its own salt")
	})

	t.Run("a wrong password does not verify", func(t *testing.T) {
		t.Parallel()
		h := auth.NewHasher(cheapArgon2, 0)
		encoded, err := h.Hash(t.Context(), testPassword)
		require.NoError(t, err)
		for _, wrong := range []string{"", "correct horse battery stapl", testPassword + " ", strings.ToUpper(testPassword)} {
			ok, rehash, err := h.Verify(t.Context(), wrong, encoded)
			require.NoError(t, err)
			require.False(t, ok, wrong)
			require.False(t, rehash)
		}
	})

	t.Run("a hash with older parameters verifies and asks for a rehash", func(t *testing.T) {
		t.Parallel()
		old := auth.NewHasher(auth.Argon2Params{Memory: 8192, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
		encoded, err := old.Hash(t.Context(), testPassword)
		require.NoError(t, err)
		require.Contains(t, encoded, "$m=8192,t=1,p=1$")
		ok, rehash, err := defaultHasher().Verify(t.Context(), testPassword, encoded)
		require.NoError(t, err)
		require.True(t, ok)
		require.True(t, rehash)

		ok, rehash, err = defaultHasher().Verify(t.Context(), "wrong password!", encoded)
		require.NoError(t, err)
		require.False(t, ok)
		require.False(t, rehash, "only a successful verification rehashes")
	})

	t.Run("other salt or key lengths ask for a rehash", func(t *testing.T) {
		t.Parallel()
		long := auth.NewHasher(auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 32, KeyLen: 64}, 1)
		encoded, err := long.Hash(t.Context(), testPassword)
		require.NoError(t, err)
		ok, rehash, err := auth.NewHasher(cheapArgon2, 1).Verify(t.Context(), testPassword, encoded)
		require.NoError(t, err)
		require.True(t, ok)
		require.True(t, rehash)
	})

	t.Run("a corrupt or foreign stored hash fails without an error", func(t *testing.T) {
		t.Parallel()
		h := auth.NewHasher(cheapArgon2, 0)
		good, err := h.Hash(t.Context(), testPassword)
		require.NoError(t, err)
		for _, encoded := range []string{
			"not a hash",
			"$2a$10$abcdefghijklmnopqrstuu5x6y7z8A9B0C1D2E3F4G5H6I7J8K9L0", // bcrypt
			strings.Replace(good, "argon2id", "argon2i", 1),
			strings.Replace(good, "v=19", "v=16", 1),
			strings.Replace(good, "m=1024", "m=99999999", 1),
			strings.Replace(good, "t=1", "t=0", 1),
			strings.Replace(good, "t=1", "t=1000", 1),
			good[:strings.LastIndex(good, "$")] + "$!!!",
			good + "$extra",
		} {
			ok, rehash, err := h.Verify(t.Context(), testPassword, encoded)
			require.NoError(t, err, encoded)
			require.False(t, ok, encoded)
			require.False(t, rehash, encoded)
		}
	})

	t.Run("a password over 1 KiB is refused before hashing", func(t *testing.T) {
		t.Parallel()
		// The only slot is held: a Hash that reached the pool would wait and
		// then fail with ErrBusy, so VALIDATION_ERROR proves the check came
		// first.
		h := auth.NewHasher(cheapArgon2, 1)
		wait := holdSlot(t, h, storedHash(32768, 3))
		defer wait()
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		huge := strings.Repeat("p", auth.MaxPasswordBytes+1)
		_, err := h.Hash(ctx, huge)
		ae := requireCode(t, err, apperr.CodeValidation)
		require.Contains(t, ae.Fields, "password")

		ok, rehash, err := h.Verify(ctx, huge, "")
		require.NoError(t, err)
		require.False(t, ok)
		require.False(t, rehash)
	})

	t.Run("a full pool answers busy when the context ends", func(t *testing.T) {
		t.Parallel()
		// Slow parameters, so the first Hash holds the only slot for a while.
		h := auth.NewHasher(auth.Argon2Params{Memory: 32768, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
		done := make(chan error, 1)
		go func() {
			_, err := h.Hash(context.Background(), testPassword)
			done <- err
		}()
		// Wait until the long Hash has the slot: a cheap probe (Verify costs
		// what the stored hash says) then times out waiting.
		cheap := storedHash(1024, 1)
		require.Eventually(t, func() bool {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
			defer cancel()
			_, _, err := h.Verify(ctx, "probe", cheap)
			return errors.Is(err, auth.ErrBusy)
		}, 10*time.Second, 5*time.Millisecond)

		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := h.Hash(ctx, "another password")
		require.ErrorIs(t, err, auth.ErrBusy)
		requireCode(t, err, apperr.CodeUnavailable)
		require.Less(t, time.Since(start), time.Second, "it gives up with the context")

		require.NoError(t, <-done)
		_, _, err = h.Verify(t.Context(), "probe", cheap)
		require.NoError(t, err, "the slot is free again")
	})
}

// storedHash is a well-formed argon2id hash with the given cost (and a
// meaningless key): Verify against it costs what it says.
func storedHash(memory, passes uint32) string {
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=1$%s$%s", memory, passes,
		base64.RawStdEncoding.EncodeToString([]byte("saltsaltsaltsalt")),
		base64.RawStdEncoding.EncodeToString(make([]byte, 32)))
}

// holdSlot takes h's only slot with a Verify against the slow stored hash
// and returns once the slot is taken (a cheap probe then times out). The
// returned func waits for the holder to finish.
func holdSlot(t *testing.T, h *auth.Hasher, slow string) func() {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, _, err := h.Verify(context.Background(), "x", slow)
		done <- err
	}()
	cheap := storedHash(1024, 1)
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		_, _, err := h.Verify(ctx, "probe", cheap)
		return errors.Is(err, auth.ErrBusy)
	}, 10*time.Second, 5*time.Millisecond)
	return func() { require.NoError(t, <-done) }
}

func TestValidatePassword(t *testing.T) {
	t.Parallel()

	const email = "Jane.Doe@Example.com"
	cases := []struct {
		name     string
		password string
		email    string
		problem  string // "" when valid
	}{
		{"11 characters", strings.Repeat("a", 11), email, "at least 12"},
		{"12 characters", strings.Repeat("a", 12), email, ""},
		{"12 multi-byte characters", strings.Repeat("é", 12), email, ""},
		{"11 multi-byte characters", strings.Repeat("密", 11), email, "at least 12"},
		{"128 characters", strings.Repeat("a", 128), email, ""},
		{"128 four-byte characters", strings.Repeat("🔑", 128), email, ""},
		{"129 characters", strings.Repeat("a", 129), email, "at most 128"},
		{"2000 bytes", strings.Repeat("a", 2000), email, "at most 128"},
		{"300 four-byte characters over 1 KiB", strings.Repeat("🔑", 300), email, "at most 128"},
		{"the email", email, email, "email"},
		{"the email in other case", "jane.doe@EXAMPLE.COM", email, "email"},
		{"the email padded", "  jane.doe@example.com ", email, "email"},
		{"like the email but longer", "jane.doe@example.com1", email, ""},
		{"the email when no email is known", "jane.doe@example.com", "", ""},
		{"empty", "", email, "at least 12"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := auth.ValidatePassword("newPassword", c.password, c.email)
			if c.problem == "" {
				require.NoError(t, err)
				return
			}
			ae := requireCode(t, err, apperr.CodeValidation)
			require.Len(t, ae.Fields["newPassword"], 1)
			require.Contains(t, ae.Fields["newPassword"][0], c.problem)
		})
	}
}

// TestHasherUnknownAccountCostsAsMuchAsAKnownOne is not parallel: it
// measures this process's CPU time, which other tests would add to.
func TestHasherUnknownAccountCostsAsMuchAsAKnownOne(t *testing.T) {
	h := defaultHasher()
	encoded, err := h.Hash(t.Context(), testPassword)
	require.NoError(t, err)
	for _, pw := range []string{"", testPassword, "anything at all"} {
		ok, rehash, err := h.Verify(t.Context(), pw, "")
		require.NoError(t, err)
		require.False(t, ok)
		require.False(t, rehash)
	}
	ctx := t.Context()
	requireComparableTimes(t, 7, 3, 0.20,
		func() { _, _, _ = h.Verify(ctx, "wrong password!", "") },
		func() { _, _, _ = h.Verify(ctx, "wrong password!", encoded) })
}
