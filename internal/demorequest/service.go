// Package demorequest owns demo requests: the marketing site's "request a
// demo" form, which anyone may submit (validated, throttled per client
// address and per email), and the platform staff's inbox where requests
// are listed, read and triaged. Rows live in the public schema; they belong
// to no tenant.
//
// Emails are not this package's job: Create hands each stored request to a
// Notifier inside the inserting transaction, so the prospect's confirmation
// and the sales team's notification exist exactly when the request does.
// GraphQL and REST call the same Service methods.
package demorequest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/db"
)

// Notifier is told about every stored demo request, inside the inserting
// transaction: an implementation that enqueues email jobs in tx sends them
// exactly when the request commits. An error rolls the request back.
// notify.Outbox satisfies it through a small adapter in wiring.
type Notifier interface {
	DemoRequested(ctx context.Context, tx pgx.Tx, n Notice) error
}

// Notice is a stored demo request as the Notifier sees it: what the
// prospect typed, normalized, without the client address.
type Notice struct {
	ID uuid.UUID
	// Name, Email (lowercase), Company, JobTitle, Phone, CompanySize and
	// Message are the prospect's; optional ones are "" when not given.
	Name, Email, Company, JobTitle, Phone, CompanySize, Message string
	// Locale is the canonical BCP 47 tag the confirmation is written in.
	Locale    string
	CreatedAt time.Time
}

// Meta is where a request came from, for throttling and abuse triage.
type Meta struct {
	// IP is the client address; "" skips the per-address limit.
	IP        string
	UserAgent string
}

// Default throttles.
const (
	DefaultPerIPPerHour   = 5
	DefaultPerEmailPerDay = 3
)

// Config configures the Service.
type Config struct {
	// Pool is where requests are inserted, in a pgx transaction shared
	// with the Notifier (River's InsertTx). Required.
	Pool *pgxpool.Pool
	// Clients hands out the public ent client the staff reads and updates
	// go through. Required.
	Clients *db.Clients
	// Cache counts requests for the throttles (Redis in production, so
	// every instance shares the counts). Required.
	Cache cache.Store
	// Notifier is told about every stored request. Nil sends nothing.
	Notifier Notifier
	// PerIPPerHour is how many requests one client address may make in an
	// hour. Default DefaultPerIPPerHour; negative turns the limit off.
	PerIPPerHour int
	// PerEmailPerDay is how many requests one email address may make in a
	// day. Default DefaultPerEmailPerDay; negative turns the limit off.
	PerEmailPerDay int
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives throttle backend failures (the request then goes
	// through). Required.
	Logger *slog.Logger
}

// Service runs demo requests for GraphQL and REST alike.
type Service struct {
	pool     *pgxpool.Pool
	clients  *db.Clients
	cache    cache.Store
	notifier Notifier
	perIP    int
	perEmail int
	now      func() time.Time
	logger   *slog.Logger
}

// NewService checks cfg and returns a Service.
func NewService(cfg Config) (*Service, error) {
	if cfg.Pool == nil || cfg.Clients == nil || cfg.Cache == nil || cfg.Logger == nil {
		return nil, errors.New("new demo request service: Pool, Clients, Cache and Logger are required")
	}
	s := &Service{
		pool: cfg.Pool, clients: cfg.Clients, cache: cfg.Cache, notifier: cfg.Notifier,
		perIP: cfg.PerIPPerHour, perEmail: cfg.PerEmailPerDay, now: cfg.Now, logger: cfg.Logger,
	}
	if s.perIP == 0 {
		s.perIP = DefaultPerIPPerHour
	}
	if s.perEmail == 0 {
		s.perEmail = DefaultPerEmailPerDay
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Errors shared by several methods.
var errNotFound = apperr.New(apperr.CodeNotFound, "no such demo request")

// clock returns the current time at PostgreSQL's microsecond precision, so
// what is written reads back the same.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// translate passes errors with a code through and wraps anything else with
// op, after translating PostgreSQL errors once.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	return fmt.Errorf("%s: %w", op, db.Translate(err))
}
