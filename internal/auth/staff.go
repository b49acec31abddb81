package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/google/uuid"
)

// EnsureStaff makes the account with email platform staff, creating it with
// a generated password when it does not exist (operators' CLI). It returns
// the password only when it created the account.
func (s *Service) EnsureStaff(ctx context.Context, email, name string) (created bool, password string, err error) {
	e, err := NormalizeEmail("email", email)
	if err != nil {
		return false, "", err
	}
	tag, err := s.pool.Exec(ctx, "UPDATE public.users SET is_staff = true, updated_at = now() WHERE email = $1", e)
	if err != nil {
		return false, "", fmt.Errorf("promote staff: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return false, "", nil
	}
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	password = base64.RawURLEncoding.EncodeToString(b)
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return false, "", err
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO public.users (id, email, password_hash, name, locale, is_staff, created_at, updated_at)
		VALUES ($1, $2, $3, $4, 'en', true, now(), now())`, uuid.New(), e, hash, name); err != nil {
		return false, "", fmt.Errorf("create staff: %w", err)
	}
	return true, password, nil
}
