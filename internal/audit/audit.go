// Package audit owns the tenant audit log: the actions that are recorded
// and the one function that records them, in the caller's transaction when
// there is one, so an action and its audit entry commit together.
package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// Actions recorded in the audit log.
const (
	LoginSucceeded       = "auth.login"
	LoginFailed          = "auth.login_failed"
	TokenReuseDetected   = "auth.token_reuse_detected"
	Logout               = "auth.logout"
	PasswordChanged      = "auth.password_changed"
	PasswordReset        = "auth.password_reset"
	MemberInvited        = "member.invited"
	InvitationRevoked    = "member.invitation_revoked"
	InvitationAccepted   = "member.invitation_accepted"
	MemberRolesChanged   = "member.roles_changed"
	MemberStatusChanged  = "member.status_changed"
	MemberRemoved        = "member.removed"
	RoleCreated          = "role.created"
	RoleUpdated          = "role.updated"
	RoleDeleted          = "role.deleted"
	ImpersonationStarted = "impersonation.started"
	ProjectCreated       = "project.created"
	ProjectUpdated       = "project.updated"
	ProjectDeleted       = "project.deleted"
	TenantOwnerSignedUp  = "tenant.created"
	SubscriptionChanged  = "billing.subscription_changed"
)

// Event is one audit entry.
type Event struct {
	Action         string
	ActorID        uuid.UUID // uuid.Nil: no authenticated actor
	ImpersonatorID uuid.UUID
	TargetType     string
	TargetID       string
	IP             string
	UserAgent      string
	Metadata       map[string]any
}

// Execer runs a statement: a pgx pool, connection or transaction.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Record writes e into the audit log of schema through a pgx pool,
// connection or transaction.
func Record(ctx context.Context, q Execer, schema string, e Event) error {
	query, args, err := insert(schema, e)
	if err != nil {
		return err
	}
	if _, err := q.Exec(ctx, query, args...); err != nil {
		return fmt.Errorf("record audit event %s: %w", e.Action, err)
	}
	return nil
}

// Queue adds the statement writing e into the audit log of schema to b,
// so it commits with the batch's other statements (db.Clients.SendBatch).
func Queue(b *pgx.Batch, schema string, e Event) error {
	query, args, err := insert(schema, e)
	if err != nil {
		return err
	}
	b.Queue(query, args...)
	return nil
}

// SQLExecer runs a raw statement in an ent transaction (its ExecContext).
type SQLExecer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// RecordSQL is Record for ent transactions, so a change made through ent
// and its audit entry commit together.
func RecordSQL(ctx context.Context, q SQLExecer, schema string, e Event) error {
	query, args, err := insert(schema, e)
	if err != nil {
		return err
	}
	if _, err := q.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("record audit event %s: %w", e.Action, err)
	}
	return nil
}

// insert builds the one INSERT both Record variants run.
func insert(schema string, e Event) (string, []any, error) {
	if err := tenancy.CheckSchema(schema); err != nil {
		return "", nil, err
	}
	var meta []byte
	if len(e.Metadata) > 0 {
		meta, _ = json.Marshal(e.Metadata)
	}
	return `INSERT INTO ` + db.QuoteIdent(schema) + `.audit_events
		(id, action, actor_id, impersonator_id, target_type, target_id, ip, user_agent, metadata, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())`,
		[]any{db.NewID(), e.Action, nilUUID(e.ActorID), nilUUID(e.ImpersonatorID), e.TargetType, e.TargetID,
			truncate(e.IP, 64), truncate(e.UserAgent, 512), jsonOrNil(meta)}, nil
}

// jsonOrNil passes JSON as text (NULL when empty), which pgx sends as a
// jsonb parameter.
func jsonOrNil(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

func nilUUID(u uuid.UUID) *uuid.UUID {
	if u == uuid.Nil {
		return nil
	}
	return &u
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
