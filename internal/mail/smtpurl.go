package mail

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// TLSMode says how the SMTP connection is protected.
type TLSMode string

// The TLS modes SMTP_URL's ?tls= accepts.
const (
	// TLSNone sends in clear text (a relay on loopback, Mailpit in tests).
	TLSNone TLSMode = "none"
	// TLSOpportunistic upgrades with STARTTLS when the server offers it and
	// goes on in clear text otherwise: the default for smtp://.
	TLSOpportunistic TLSMode = "opportunistic"
	// TLSStartTLS requires STARTTLS: the send fails when it is not offered.
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit opens the connection with TLS (port 465): the default for
	// smtps://.
	TLSImplicit TLSMode = "tls"
)

// SMTPSettings is a parsed SMTP_URL.
type SMTPSettings struct {
	// Host is the relay's host name or IP address.
	Host string
	// Port is the relay's port; 0 in the URL means the scheme's default
	// (587 for smtp, 465 for smtps).
	Port int
	// Username and Password authenticate (SMTP AUTH); empty means no AUTH.
	Username, Password string
	// TLS is how the connection is protected.
	TLS TLSMode
	// SkipVerify accepts any server certificate. Tests only (Mailpit's
	// self-signed certificate); never set it in production.
	SkipVerify bool
}

// ParseSMTPURL parses smtp://user:pass@host:port?tls=none|opportunistic|starttls|tls
// or smtps://…, the format of SMTP_URL (config.validateSMTPURL accepts the
// same). smtps defaults to implicit TLS, smtp to opportunistic STARTTLS.
// ?skip_verify=true turns certificate verification off, for tests only.
func ParseSMTPURL(raw string) (SMTPSettings, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the URL, password included: say only what failed.
		return SMTPSettings{}, errors.New("parse SMTP URL: malformed URL")
	}
	var s SMTPSettings
	switch u.Scheme {
	case "smtp":
		s.TLS, s.Port = TLSOpportunistic, 587
	case "smtps":
		s.TLS, s.Port = TLSImplicit, 465
	default:
		return SMTPSettings{}, fmt.Errorf("parse SMTP URL: scheme %q is not smtp or smtps", u.Scheme)
	}
	if u.Opaque != "" || u.Path != "" && u.Path != "/" {
		return SMTPSettings{}, errors.New("parse SMTP URL: want smtp://[user:pass@]host[:port][?tls=…], no path")
	}
	s.Host = u.Hostname()
	if s.Host == "" {
		return SMTPSettings{}, errors.New("parse SMTP URL: no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return SMTPSettings{}, fmt.Errorf("parse SMTP URL: invalid port %q", p)
		}
		s.Port = n
	} else if strings.HasSuffix(u.Host, ":") {
		return SMTPSettings{}, errors.New("parse SMTP URL: empty port")
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	q := u.Query()
	for k := range q {
		if k != "tls" && k != "skip_verify" {
			return SMTPSettings{}, fmt.Errorf("parse SMTP URL: unknown parameter %q", k)
		}
	}
	switch m := TLSMode(q.Get("tls")); m {
	case "":
	case TLSNone, TLSOpportunistic, TLSStartTLS, TLSImplicit:
		s.TLS = m
	default:
		return SMTPSettings{}, fmt.Errorf("parse SMTP URL: tls=%q is not none, opportunistic, starttls or tls", m)
	}
	if v := q.Get("skip_verify"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return SMTPSettings{}, fmt.Errorf("parse SMTP URL: skip_verify=%q is not a boolean", v)
		}
		s.SkipVerify = b
	}
	return s, nil
}

// Addr is host:port, for logs and errors (it holds no credentials).
func (s SMTPSettings) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }
