package member

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/rbac"
)

// Input limits.
const (
	maxNameLen        = 200
	maxDescriptionLen = 500
	maxTokenLen       = 128
)

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
