package member_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
)

// meta is the client every test acts from; audit rows must carry it.
var meta = member.Meta{IP: "203.0.113.7", UserAgent: "member-test/1.0"}

// env is one test database with the real collaborators of the Service: the
// tenant service provisions schemas, auth.Service revokes sessions, an
// argon2id hasher (cheap parameters) hashes passwords.
type env struct {
	pool    *pgxpool.Pool
	svc     *member.Service
	tenants *tenant.Service
	hasher  *auth.Hasher
	notes   *notifier
	clock   *clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	tdb := dbtest.New(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	tenants, err := tenant.NewService(tenant.Config{Pool: tdb.Pool, Cache: cache.NewMemory(0), Logger: logger})
	require.NoError(t, err)
	hasher := auth.NewHasher(auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4)
	e := &env{pool: tdb.Pool, tenants: tenants, hasher: hasher, notes: &notifier{}, clock: &clock{t: time.Now()}}
	e.svc = member.NewService(member.Config{
		Pool:     tdb.Pool,
		Sessions: auth.NewService(auth.Config{Pool: tdb.Pool, Hasher: hasher, Logger: logger}),
		Notifier: e.notes,
		Hasher:   hasher,
		Logger:   logger,
		Now:      e.clock.Now,
	})
	return e
}

// clock is a movable clock for expiry tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// notifier records invitation emails, checking each arrives inside a live
// transaction; fail, when set for an address, makes delivery fail.
type notifier struct {
	mu   sync.Mutex
	sent []member.InvitationEmail
	fail map[string]error
}

func (n *notifier) Invitation(ctx context.Context, tx pgx.Tx, inv member.InvitationEmail) error {
	if tx == nil {
		return errors.New("notifier: no transaction")
	}
	if _, err := tx.Exec(ctx, "SELECT 1"); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.fail[inv.To]; err != nil {
		return err
	}
	n.sent = append(n.sent, inv)
	return nil
}

func (n *notifier) failFor(email string, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fail == nil {
		n.fail = map[string]error{}
	}
	n.fail[email] = err
}

// to returns the emails sent to address, oldest first.
func (n *notifier) to(address string) []member.InvitationEmail {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []member.InvitationEmail
	for _, s := range n.sent {
		if s.To == address {
			out = append(out, s)
		}
	}
	return out
}

// lastTo returns the latest email to address.
func (n *notifier) lastTo(t *testing.T, address string) member.InvitationEmail {
	t.Helper()
	got := n.to(address)
	require.NotEmpty(t, got, "no invitation email to %s", address)
	return got[len(got)-1]
}

// newTenant provisions a tenant with the real tenant service.
func (e *env) newTenant(t *testing.T) *tenancy.Tenant {
	t.Helper()
	tn, err := e.tenants.Create(context.Background(), tenant.CreateInput{Slug: "t" + dbtest.RandomSuffix(), Name: "Acme " + dbtest.RandomSuffix()})
	require.NoError(t, err)
	return &tn.Tenant
}

func newEmail() string { return "user-" + dbtest.RandomSuffix() + "@example.com" }

// userOpts tunes newUser.
type userOpts struct {
	Email    string
	Name     string
	Password string
	Disabled bool
}

// newUser inserts a public user (with a password hash when Password is
// set) and returns its id and email.
func (e *env) newUser(t *testing.T, o *userOpts) (uuid.UUID, string) {
	t.Helper()
	if o == nil {
		o = &userOpts{}
	}
	email := o.Email
	if email == "" {
		email = newEmail()
	}
	var hash *string
	if o.Password != "" {
		h, err := e.hasher.Hash(context.Background(), o.Password)
		require.NoError(t, err)
		hash = &h
	}
	var disabled *time.Time
	if o.Disabled {
		now := time.Now()
		disabled = &now
	}
	id := uuid.New()
	_, err := e.pool.Exec(context.Background(), `INSERT INTO public.users (id, email, password_hash, name, created_at, updated_at, disabled_at)
		VALUES ($1, $2, $3, $4, now(), now(), $5)`, id, email, hash, o.Name, disabled)
	require.NoError(t, err)
	return id, email
}

// addMember makes userID a member of tn with status and roles, by SQL.
func (e *env) addMember(t *testing.T, tn *tenancy.Tenant, userID uuid.UUID, status string, roles ...string) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	q := db.QuoteIdent(tn.Schema)
	id := uuid.New()
	_, err := e.pool.Exec(ctx, `INSERT INTO `+q+`.members (id, user_id, status, joined_at, created_at, updated_at)
		VALUES ($1, $2, $3, now(), clock_timestamp(), now())`, id, userID, status)
	require.NoError(t, err)
	tag, err := e.pool.Exec(ctx, `INSERT INTO `+q+`.member_roles (member_id, role_id)
		SELECT $1, id FROM `+q+`.roles WHERE name = ANY($2)`, id, roles)
	require.NoError(t, err)
	require.EqualValues(t, len(roles), tag.RowsAffected(), "unknown role in %v", roles)
	return id
}

// actor is a user with a membership and a context acting as them.
type actor struct {
	UserID   uuid.UUID
	MemberID uuid.UUID
	Email    string
	ctx      context.Context
}

// newMember creates a user who is an active member of tn with roles.
func (e *env) newMember(t *testing.T, tn *tenancy.Tenant, roles ...string) *actor {
	t.Helper()
	uid, email := e.newUser(t, nil)
	mid := e.addMember(t, tn, uid, member.StatusActive, roles...)
	return &actor{UserID: uid, MemberID: mid, Email: email, ctx: e.as(t, tn, uid)}
}

// as returns a context in tn with userID's viewer, read from the database
// the way auth reads it on every request: roles and permissions of the
// active membership (none without one).
func (e *env) as(t *testing.T, tn *tenancy.Tenant, userID uuid.UUID) context.Context {
	t.Helper()
	q := db.QuoteIdent(tn.Schema)
	v := &tenancy.Viewer{UserID: userID, SessionID: uuid.New()}
	var memberID *uuid.UUID
	var roles, perms []string
	err := e.pool.QueryRow(context.Background(), `SELECT u.email, m.id,
			coalesce((SELECT array_agg(DISTINCT ro.name) FROM `+q+`.member_roles mr JOIN `+q+`.roles ro ON ro.id = mr.role_id
				WHERE mr.member_id = m.id), '{}'),
			coalesce((SELECT array_agg(DISTINCT p) FROM `+q+`.member_roles mr JOIN `+q+`.roles ro ON ro.id = mr.role_id,
				jsonb_array_elements_text(ro.permissions) p WHERE mr.member_id = m.id), '{}')
		FROM public.users u LEFT JOIN `+q+`.members m ON m.user_id = u.id AND m.status = 'active'
		WHERE u.id = $1`, userID).Scan(&v.Email, &memberID, &roles, &perms)
	require.NoError(t, err)
	if memberID != nil {
		v.MemberID = *memberID
	}
	v.Roles = roles
	ps := make([]rbac.Permission, len(perms))
	for i, p := range perms {
		ps[i] = rbac.Permission(p)
	}
	v.Permissions = rbac.NewSet(ps)
	return tenancy.WithViewer(tenancy.WithTenant(context.Background(), tn), v)
}

// anonymous is a context in tn with no viewer.
func anonymous(tn *tenancy.Tenant) context.Context {
	return tenancy.WithTenant(context.Background(), tn)
}

// newSession gives userID a live refresh-token family.
func (e *env) newSession(t *testing.T, userID uuid.UUID) {
	t.Helper()
	_, err := e.pool.Exec(context.Background(), `INSERT INTO public.refresh_tokens (id, token_hash, family_id, user_id, created_at, expires_at)
		VALUES ($1, $2, $3, $4, now(), now() + interval '1 day')`, uuid.New(), []byte(uuid.New().String()), uuid.New(), userID)
	require.NoError(t, err)
}

// liveSessions counts userID's unrevoked refresh tokens.
func (e *env) liveSessions(t *testing.T, userID uuid.UUID) int {
	t.Helper()
	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM public.refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL`, userID).Scan(&n))
	return n
}

// auditRow is an audit_events row.
type auditRow struct {
	Action         string
	ActorID        *uuid.UUID
	ImpersonatorID *uuid.UUID
	TargetType     string
	TargetID       string
	IP             string
	UserAgent      string
	Metadata       map[string]any
}

// audits returns tn's audit rows for action, oldest first.
func (e *env) audits(t *testing.T, tn *tenancy.Tenant, action string) []auditRow {
	t.Helper()
	rows, err := e.pool.Query(context.Background(), `SELECT action, actor_id, impersonator_id, target_type, target_id, ip, user_agent,
		coalesce(metadata, '{}') FROM `+db.QuoteIdent(tn.Schema)+`.audit_events WHERE action = $1 ORDER BY created_at, id`, action)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (auditRow, error) {
		var a auditRow
		var md []byte
		err := row.Scan(&a.Action, &a.ActorID, &a.ImpersonatorID, &a.TargetType, &a.TargetID, &a.IP, &a.UserAgent, &md)
		if err == nil {
			err = json.Unmarshal(md, &a.Metadata)
		}
		return a, err
	})
	require.NoError(t, err)
	return out
}

// requireAudit checks tn has exactly one action entry about target, by
// actor, from meta, and returns it.
func (e *env) requireAudit(t *testing.T, tn *tenancy.Tenant, action, targetType string, target, actor uuid.UUID) auditRow {
	t.Helper()
	var found []auditRow
	for _, a := range e.audits(t, tn, action) {
		if a.TargetID == target.String() {
			found = append(found, a)
		}
	}
	require.Len(t, found, 1, "audit %s for %s", action, target)
	a := found[0]
	require.Equal(t, targetType, a.TargetType)
	require.NotNil(t, a.ActorID)
	require.Equal(t, actor, *a.ActorID)
	require.Equal(t, meta.IP, a.IP)
	require.Equal(t, meta.UserAgent, a.UserAgent)
	return a
}

// snapshot digests everything the member service can change in tn, so a
// refused call can be shown to have changed nothing.
func (e *env) snapshot(t *testing.T, tn *tenancy.Tenant) string {
	t.Helper()
	q := db.QuoteIdent(tn.Schema)
	var s string
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT concat_ws(' | ',
		(SELECT string_agg(id::text || ':' || status || ':' || coalesce(joined_at::text, ''), ',' ORDER BY id) FROM `+q+`.members),
		(SELECT string_agg(member_id::text || ':' || role_id::text, ',' ORDER BY member_id, role_id) FROM `+q+`.member_roles),
		(SELECT string_agg(id::text || ':' || name || ':' || description || ':' || permissions::text, ',' ORDER BY id) FROM `+q+`.roles),
		(SELECT string_agg(id::text || ':' || role || ':' || coalesce(accepted_at::text, '') || ':' || coalesce(revoked_at::text, ''), ',' ORDER BY id) FROM `+q+`.invitations),
		(SELECT count(*)::text FROM `+q+`.audit_events))`).Scan(&s))
	return s
}

// roleID returns the id of tn's role called name.
func (e *env) roleID(t *testing.T, tn *tenancy.Tenant, name string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	require.NoError(t, e.pool.QueryRow(context.Background(),
		`SELECT id FROM `+db.QuoteIdent(tn.Schema)+`.roles WHERE name = $1`, name).Scan(&id))
	return id
}

// memberRoles returns the role names of member id in tn, sorted.
func (e *env) memberRoles(t *testing.T, tn *tenancy.Tenant, id uuid.UUID) []string {
	t.Helper()
	q := db.QuoteIdent(tn.Schema)
	rows, err := e.pool.Query(context.Background(), `SELECT r.name FROM `+q+`.member_roles mr JOIN `+q+`.roles r ON r.id = mr.role_id
		WHERE mr.member_id = $1 ORDER BY r.name`, id)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return names
}

// activeOwners counts tn's active members holding the owner role.
func (e *env) activeOwners(t *testing.T, tn *tenancy.Tenant) int {
	t.Helper()
	q := db.QuoteIdent(tn.Schema)
	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT count(*) FROM `+q+`.members m
		JOIN `+q+`.member_roles mr ON mr.member_id = m.id JOIN `+q+`.roles r ON r.id = mr.role_id
		WHERE m.status = 'active' AND r.name = 'owner'`).Scan(&n))
	return n
}

// requireCode checks err carries code.
func requireCode(t *testing.T, err error, code apperr.Code) *apperr.Error {
	t.Helper()
	require.Error(t, err)
	ae := apperr.As(err)
	require.Equal(t, code, ae.Code, "error: %v", err)
	return ae
}

// concurrently runs fns at the same moment and returns their errors.
func concurrently(fns ...func() error) []error {
	errs := make([]error, len(fns))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() {
			<-start
			errs[i] = fn()
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// quote is tn's schema quoted for SQL.
func quote(tn *tenancy.Tenant) string { return db.QuoteIdent(tn.Schema) }

// impersonated is ctx with its viewer acted by staff.
func impersonated(ctx context.Context, staff uuid.UUID) context.Context {
	v, _ := tenancy.ViewerFrom(ctx)
	cp := *v
	cp.ImpersonatorID = staff
	return tenancy.WithViewer(ctx, &cp)
}
