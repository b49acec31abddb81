package member

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/rbac"
)

// Input limits.
const (
	minPasswordLen    = 12
	maxPasswordLen    = 128
	maxPasswordBytes  = 1024
	maxNameLen        = 200
	maxDescriptionLen = 500
	maxTokenLen       = 128
)

// normalizeEmail lowercases and checks an email address, with the same
// rules as sign-up, so an invitation reaches the account sign-up would make.
func normalizeEmail(field, email string) (string, error) {
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

// validatePassword is the default password rule set, the same as auth's:
// 12 to 128 characters, not the email address.
func validatePassword(field, password, email string) error {
	fe := apperr.FieldErrors{}
	n := utf8.RuneCountInString(password)
	switch {
	case len(password) > maxPasswordBytes || n > maxPasswordLen:
		fe.Add(field, fmt.Sprintf("must be at most %d characters", maxPasswordLen))
	case n < minPasswordLen:
		fe.Add(field, fmt.Sprintf("must be at least %d characters", minPasswordLen))
	case email != "" && strings.EqualFold(strings.TrimSpace(password), strings.TrimSpace(email)):
		fe.Add(field, "must not be your email address")
	}
	return fe.Err()
}

var roleNameRE = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// checkRoleName validates a custom role's name into fe. A built-in name is
// taken, so it is a CONFLICT, reported by the caller.
func checkRoleName(fe apperr.FieldErrors, name string) {
	if !roleNameRE.MatchString(name) {
		fe.Add("name", "must be 1 to 64 characters: lowercase letters, digits, hyphens and underscores")
	}
}

func checkDescription(fe apperr.FieldErrors, d string) {
	if utf8.RuneCountInString(d) > maxDescriptionLen {
		fe.Add("description", fmt.Sprintf("must be at most %d characters", maxDescriptionLen))
	}
}

// normalizePermissions deduplicates perms into catalogue order and records
// the names that are not in the catalogue in fe.
func normalizePermissions(fe apperr.FieldErrors, perms []string) []string {
	var unknown []string
	set := rbac.Set{}
	for _, p := range perms {
		p = strings.TrimSpace(p)
		if !rbac.Valid(rbac.Permission(p)) {
			if !slices.Contains(unknown, p) {
				unknown = append(unknown, p)
			}
			continue
		}
		set[rbac.Permission(p)] = struct{}{}
	}
	if len(unknown) > 0 {
		fe.Add("permissions", "unknown permissions: "+strings.Join(unknown, ", "))
	}
	out := []string{}
	for _, p := range set.List() {
		out = append(out, string(p))
	}
	return out
}

// normalizeRoleNames trims and deduplicates role names, sorted.
func normalizeRoleNames(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// notHeld returns the permissions in perms the viewer's set lacks. Names
// outside the catalogue grant nothing, so they are never "not held".
func notHeld(held rbac.Set, perms []string) []string {
	var out []string
	for _, p := range perms {
		if rbac.Valid(rbac.Permission(p)) && !held.Has(rbac.Permission(p)) {
			out = append(out, p)
		}
	}
	return out
}

// newToken returns a random invitation token and the hash stored for it.
func newToken() (token string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

// hashToken is how an invitation token is looked up: only its SHA-256 is
// stored, so a database leak reveals no usable invitation.
func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
