package mail

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one rendered email, ready to send.
type Message struct {
	// To is the recipient's address. Required.
	To string
	// ToName is the recipient's display name; empty means none.
	ToName string
	// Subject, Text and HTML are the rendered template.
	Subject, Text, HTML string
	// ID becomes the Message-ID's left part (the sender adds "@" and the
	// From domain); empty lets the sender generate one. The worker derives it from the job id, so a
	// re-sent duplicate carries the same Message-ID and mail clients can
	// fold it.
	ID string
	// Template names the template the message was rendered from (logs).
	Template string
	// Link is the message's call-to-action link, if any (the log sender
	// shows it; SMTP ignores it).
	Link string
}

// Sender delivers rendered messages. An error wrapping ErrRejected is
// permanent (retrying cannot help); any other error is worth a retry.
type Sender interface {
	Send(ctx context.Context, msg Message) error
}

// ErrRejected marks a permanent refusal: the server answered 5xx to the
// recipient, or the address cannot be parsed.
var ErrRejected = errors.New("message rejected permanently")

// DefaultTimeout bounds connecting and each SMTP exchange.
const DefaultTimeout = 10 * time.Second

// SMTPConfig configures an SMTPSender.
type SMTPConfig struct {
	// URL is SMTP_URL (see ParseSMTPURL). Required.
	URL string
	// From is the sender, "Name <address>" or a bare address. Required:
	// the caller decides the default ("ClientIQ <no-reply@BASE_DOMAIN>").
	From string
	// Timeout bounds the connection and each SMTP command. Default
	// DefaultTimeout; more than DefaultTimeout is refused so a stuck relay
	// cannot hold a worker slot for long.
	Timeout time.Duration
	// HELO is the name given in EHLO. Default: the host name.
	HELO string
}

// SMTPSender delivers over SMTP with go-mail, one connection per message:
// email volume is low and a fresh connection never inherits a broken one.
type SMTPSender struct {
	settings SMTPSettings
	from     string
	domain   string // of from, for Message-IDs
	timeout  time.Duration
	helo     string
}

// NewSMTPSender parses cfg.URL and checks cfg.From; it does not connect.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	settings, err := ParseSMTPURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("new smtp sender: %w", err)
	}
	if cfg.Timeout < 0 || cfg.Timeout > DefaultTimeout {
		return nil, fmt.Errorf("new smtp sender: timeout %s is not within (0, %s]", cfg.Timeout, DefaultTimeout)
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("new smtp sender: from address %q: %w", cfg.From, err)
	}
	_, domain, _ := strings.Cut(from.Address, "@")
	return &SMTPSender{
		settings: settings, from: cfg.From, domain: domain,
		timeout: cmp.Or(cfg.Timeout, DefaultTimeout), helo: cfg.HELO,
	}, nil
}

// Timeout is the longest one exchange with the relay may take.
func (s *SMTPSender) Timeout() time.Duration { return s.timeout }

// Send implements Sender.
func (s *SMTPSender) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("send email: from: %w", err)
	}
	if err := msg.AddToFormat(m.ToName, m.To); err != nil {
		return redact(fmt.Errorf("send email: recipient: %w: %w", ErrRejected, err), m.To)
	}
	msg.Subject(m.Subject)
	if m.ID != "" {
		msg.SetMessageIDWithValue(m.ID + "@" + s.domain)
	} else {
		msg.SetMessageID()
	}
	msg.SetDate()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}

	client, err := s.client()
	if err != nil {
		return fmt.Errorf("send email: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return redact(classify(fmt.Errorf("send email via %s: %w", s.settings.Addr(), err)), m.To)
	}
	return nil
}

func (s *SMTPSender) client() (*gomail.Client, error) {
	st := s.settings
	opts := []gomail.Option{
		gomail.WithPort(st.Port),
		gomail.WithTimeout(s.timeout),
		gomail.WithTLSConfig(&tls.Config{ServerName: st.Host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: st.SkipVerify}), //nolint:gosec // skip_verify is test-only, documented
	}
	switch st.TLS {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	}
	if st.Username != "" {
		// Over TLS, go-mail picks the strongest mechanism the server offers.
		// In clear text (tls=none) it would pick none of PLAIN or LOGIN, so
		// ask for PLAIN, which go-mail still allows only to localhost: a
		// password never crosses a network unencrypted.
		auth := gomail.SMTPAuthAutoDiscover
		if st.TLS == TLSNone {
			auth = gomail.SMTPAuthPlain
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(st.Username), gomail.WithPassword(st.Password))
	}
	if s.helo != "" {
		opts = append(opts, gomail.WithHELO(s.helo))
	}
	c, err := gomail.NewClient(st.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client for %s: %w", st.Addr(), err)
	}
	return c, nil
}

// classify marks a 5xx answer to RCPT TO as ErrRejected: the mailbox does
// not exist or is refused, and a retry would only be refused again. Every
// other failure (network, 4xx, 5xx to AUTH or MAIL FROM, which are relay
// configuration problems an operator can fix) stays retryable.
func classify(err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) && se.Reason == gomail.ErrSMTPRcptTo && !se.IsTemp() && se.ErrorCode() >= 500 {
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	return err
}

// redactedError hides the recipient's address in Error() (River logs and
// stores job errors), while errors.Is/As still see the cause.
type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }

func redact(err error, addr string) error {
	msg := err.Error()
	if addr != "" {
		msg = replaceFold(msg, addr, MaskEmail(addr))
	}
	return &redactedError{msg: msg, cause: err}
}

// replaceFold replaces every case-insensitive occurrence of old in s.
func replaceFold(s, old, repl string) string {
	lower, lowerOld := strings.ToLower(s), strings.ToLower(old)
	if len(lower) != len(s) || len(lowerOld) != len(old) {
		return strings.ReplaceAll(s, old, repl) // non-ASCII case folding changed lengths
	}
	var b strings.Builder
	for {
		i := strings.Index(lower, lowerOld)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(repl)
		s, lower = s[i+len(old):], lower[i+len(old):]
	}
}

// MaskEmail keeps an address recognisable in logs without revealing it:
// "olga@acme.localhost" becomes "o***@acme.localhost".
func MaskEmail(addr string) string {
	local, domain, ok := strings.Cut(strings.TrimSpace(addr), "@")
	if !ok || local == "" {
		return "***"
	}
	r := []rune(local)
	return string(r[0]) + "***@" + domain
}
