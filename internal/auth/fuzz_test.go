package auth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/clientiq/clientiq/internal/auth"
)

// FuzzVerify: no input makes token verification panic or accept a token
// the ring did not issue.
func FuzzVerify(f *testing.F) {
	keys, _, err := auth.NewKeyRing(auth.KeyRingConfig{Generate: true, Issuer: "fuzz", Audience: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "a.b.c", "..", "eyJhbGciOiJub25lIn0.e30.", "Bearer x", "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJIUzI1NiJ9.e30.sig"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := keys.Verify(raw)
		if err == nil {
			t.Fatalf("accepted a token it did not issue: %q (%+v)", raw, c)
		}
		if !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("unexpected error kind %v", err)
		}
	})
}

// FuzzAuthenticateHeader: any Authorization header is anonymous or 401,
// never a panic or another error.
func FuzzAuthenticateHeader(f *testing.F) {
	keys, _, err := auth.NewKeyRing(auth.KeyRingConfig{Generate: true, Issuer: "fuzz", Audience: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	svc := auth.NewService(auth.Config{Keys: keys})
	for _, s := range []string{"", "Bearer", "Bearer ", "bearer a.b.c", "Basic dXNlcjpwYXNz", "Bearer \x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		v, err := svc.Authenticate(context.Background(), header)
		if header == "" && (v != nil || err != nil) {
			t.Fatal("an empty header must be anonymous")
		}
		if err != nil && !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("unexpected error kind %v", err)
		}
		if v != nil {
			t.Fatalf("authenticated a header the ring never issued: %q", header)
		}
	})
}
