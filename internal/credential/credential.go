// Package credential owns the rules for what people type to identify
// themselves: email addresses and passwords. It is pure, shared by sign-up
// (auth) and invitations (member), so both accept exactly the same input.
package credential

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/clientiq/clientiq/internal/apperr"
)

// Password length rules.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 128
	// MaxPasswordBytes is refused before any hashing, so a huge body cannot
	// buy CPU time.
	MaxPasswordBytes = 1024
)

// NormalizeEmail lowercases and checks an email address; field names the
// input field in the VALIDATION_ERROR.
func NormalizeEmail(field, email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	if e == "" {
		return "", apperr.Validation("invalid email", map[string][]string{field: {"is required"}})
	}
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e || len(e) > 254 || !strings.Contains(e[strings.LastIndex(e, "@")+1:], ".") {
		return "", apperr.Validation("invalid email", map[string][]string{field: {"is not a valid email address"}})
	}
	return e, nil
}

// ValidatePassword applies the password rules (12–128 characters, not the
// email); field names the input field in the VALIDATION_ERROR.
func ValidatePassword(field, password, email string) error {
	fe := apperr.FieldErrors{}
	n := utf8.RuneCountInString(password)
	switch {
	case len(password) > MaxPasswordBytes || n > MaxPasswordLen:
		fe.Add(field, fmt.Sprintf("must be at most %d characters", MaxPasswordLen))
	case n < MinPasswordLen:
		fe.Add(field, fmt.Sprintf("must be at least %d characters", MinPasswordLen))
	case email != "" && strings.EqualFold(strings.TrimSpace(password), strings.TrimSpace(email)):
		fe.Add(field, "must not be your email address")
	}
	return fe.Err()
}
