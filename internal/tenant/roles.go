package tenant

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/rbac"
)

// builtinRolesDigest identifies the current built-in role definitions.
var builtinRolesDigest = sync.OnceValue(func() string {
	b, _ := json.Marshal(rbac.Builtin)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:4])
})

// seedBuiltinRoles creates or updates the built-in roles in schema. Custom
// roles are never touched.
func seedBuiltinRoles(ctx context.Context, tx pgx.Tx, schema string) error {
	q := `INSERT INTO ` + db.QuoteIdent(schema) + `.roles (id, name, description, permissions, builtin, created_at, updated_at)
		VALUES ($1, $2, $3, $4, true, now(), now())
		ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description, permissions = EXCLUDED.permissions,
			builtin = true, updated_at = now()`
	for _, r := range rbac.Builtin {
		perms, _ := json.Marshal(r.Permissions)
		if _, err := tx.Exec(ctx, q, uuid.New(), r.Name, r.Description, string(perms)); err != nil {
			return fmt.Errorf("seed role %s in %s: %w", r.Name, schema, err)
		}
	}
	return nil
}
