package demorequest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/text/language"

	entdemo "github.com/clientiq/clientiq/ent/demorequest"
	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/credential"
)

// Bounds of what a prospect may type, in characters.
const (
	MaxName     = 200
	MaxCompany  = 200
	MaxJobTitle = 200
	MaxMessage  = 2000
	MaxPhone    = 40
	// A phone number has MinPhoneDigits to MaxPhoneDigits digits.
	MinPhoneDigits = 6
	MaxPhoneDigits = 20
)

// CompanySizes are the accepted company size buckets, smallest first.
var CompanySizes = []string{"1-10", "11-50", "51-200", "201-500", "501-1000", "1001+"}

// Input is what a prospect types into the form. Name, Email and Company
// are required; the rest may be "".
type Input struct {
	Name, Email, Company string
	JobTitle, Phone      string
	// CompanySize is one of CompanySizes.
	CompanySize string
	Message     string
	// Locale is a BCP 47 tag; "" is "en".
	Locale string
}

// Receipt is what the prospect is told about the stored request: nothing
// staff wrote and nothing about where it came from.
type Receipt struct {
	ID        uuid.UUID
	Status    entdemo.Status
	CreatedAt time.Time
}

// Create validates in, throttles it per client address and per email,
// stores it and tells the Notifier in the same transaction. Anyone may
// call it. Problems with the input are one VALIDATION_ERROR listing every
// field; throttled calls are RATE_LIMITED and store nothing.
func (s *Service) Create(ctx context.Context, in Input, meta Meta) (*Receipt, error) {
	n, err := in.normalize()
	if err != nil {
		return nil, err
	}
	if meta.IP != "" {
		if err := s.allow(ctx, "demo-request-ip", meta.IP, s.perIP, time.Hour); err != nil {
			return nil, err
		}
	}
	if err := s.allow(ctx, "demo-request-email", emailKey(n.Email), s.perEmail, 24*time.Hour); err != nil {
		return nil, err
	}
	n.ID, n.CreatedAt = uuid.New(), s.clock()
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO public.demo_requests (id, created_at, updated_at, name, email, company,
			job_title, phone, company_size, message, locale, status, source_ip, user_agent)
			VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			n.ID, n.CreatedAt, n.Name, n.Email, n.Company, n.JobTitle, n.Phone, n.CompanySize, n.Message, n.Locale,
			entdemo.StatusNew, clip(meta.IP, 64), clip(meta.UserAgent, 512))
		if err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		if s.notifier == nil {
			return nil
		}
		return s.notifier.DemoRequested(ctx, tx, n)
	})
	if err != nil {
		return nil, translate("create demo request", err)
	}
	return &Receipt{ID: n.ID, Status: entdemo.StatusNew, CreatedAt: n.CreatedAt}, nil
}

// allow counts one request against key; over limit is RATE_LIMITED. A
// failing throttle backend lets the request through (the form must keep
// working when Redis does not) and is logged.
func (s *Service) allow(ctx context.Context, kind, value string, limit int, window time.Duration) error {
	if limit < 0 {
		return nil
	}
	d, err := s.cache.Allow(ctx, cache.Key("", kind, value), limit, window)
	if err != nil {
		s.logger.WarnContext(ctx, "demo_request_throttle_failed", slog.String("limit", kind), slog.Any("error", err))
		return nil
	}
	if d.Allowed {
		return nil
	}
	return &apperr.Error{Code: apperr.CodeRateLimited,
		Message: "too many demo requests; try again in " + d.RetryAfter.Round(time.Second).String(),
		Fields:  map[string][]string{"retry_after_seconds": {strconv.Itoa(int(d.RetryAfter.Seconds() + 0.999))}}}
}

// emailKey keeps addresses out of the cache's keys.
func emailKey(email string) string {
	sum := sha256.Sum256([]byte(email))
	return hex.EncodeToString(sum[:16])
}

// normalize trims and checks every field, reporting all problems at once.
func (in Input) normalize() (Notice, error) {
	fe := apperr.FieldErrors{}
	n := Notice{
		Name: line(fe, "name", in.Name, MaxName, true), Company: line(fe, "company", in.Company, MaxCompany, true),
		JobTitle: line(fe, "jobTitle", in.JobTitle, MaxJobTitle, false),
		Message:  strings.TrimSpace(in.Message), CompanySize: strings.TrimSpace(in.CompanySize),
	}
	email, err := credential.NormalizeEmail("email", in.Email)
	if err != nil {
		for k, v := range apperr.As(err).Fields {
			fe[k] = append(fe[k], v...)
		}
	}
	n.Email = email
	if !utf8.ValidString(n.Message) || strings.ContainsRune(n.Message, 0) {
		fe.Add("message", "contains invalid characters")
	} else if utf8.RuneCountInString(n.Message) > MaxMessage {
		fe.Add("message", fmt.Sprintf("must be at most %d characters", MaxMessage))
	}
	if n.CompanySize != "" && !slices.Contains(CompanySizes, n.CompanySize) {
		fe.Add("companySize", "must be one of "+strings.Join(CompanySizes, ", "))
	}
	n.Phone = strings.TrimSpace(in.Phone)
	if n.Phone != "" && !validPhone(n.Phone) {
		fe.Add("phone", fmt.Sprintf("must be %d to %d digits, with only spaces and + ( ) - . / between them",
			MinPhoneDigits, MaxPhoneDigits))
	}
	n.Locale = "en"
	if l := strings.TrimSpace(in.Locale); l != "" {
		tag, err := language.Parse(l)
		if err != nil || len(l) > 35 {
			fe.Add("locale", "is not a valid language tag")
		} else {
			n.Locale = tag.String()
		}
	}
	return n, fe.Err()
}

// line trims a one-line field and checks it: no control characters (the
// name ends up in an email header), at most max characters, present when
// required.
func line(fe apperr.FieldErrors, field, v string, max int, required bool) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "" && required:
		fe.Add(field, "is required")
	case !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl):
		fe.Add(field, "must be one line of text")
	case utf8.RuneCountInString(v) > max:
		fe.Add(field, fmt.Sprintf("must be at most %d characters", max))
	}
	return v
}

// validPhone is deliberately loose: people write numbers in every national
// format, so only the alphabet and the number of digits are checked.
func validPhone(p string) bool {
	if len(p) > MaxPhone {
		return false
	}
	digits := 0
	for _, r := range p {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune(" +()-./", r):
		default:
			return false
		}
	}
	return digits >= MinPhoneDigits && digits <= MaxPhoneDigits
}

// clip cuts s to at most n bytes without splitting a character (client
// supplied metadata is kept, not refused).
func clip(s string, n int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
