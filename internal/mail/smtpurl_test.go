package mail_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/mail"
)

func TestParseSMTPURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		raw     string
		want    mail.SMTPSettings
		wantErr string
	}{
		{name: "smtp defaults to opportunistic starttls on 587", raw: "smtp://relay.example.com",
			want: mail.SMTPSettings{Host: "relay.example.com", Port: 587, TLS: mail.TLSOpportunistic}},
		{name: "smtps defaults to implicit tls on 465", raw: "smtps://relay.example.com",
			want: mail.SMTPSettings{Host: "relay.example.com", Port: 465, TLS: mail.TLSImplicit}},
		{name: "credentials and port", raw: "smtp://user:p%40ss@relay.example.com:2525",
			want: mail.SMTPSettings{Host: "relay.example.com", Port: 2525, Username: "user", Password: "p@ss", TLS: mail.TLSOpportunistic}},
		{name: "user without password", raw: "smtp://apikey@relay.example.com:25?tls=starttls",
			want: mail.SMTPSettings{Host: "relay.example.com", Port: 25, Username: "apikey", TLS: mail.TLSStartTLS}},
		{name: "tls none", raw: "smtp://127.0.0.1:1025?tls=none",
			want: mail.SMTPSettings{Host: "127.0.0.1", Port: 1025, TLS: mail.TLSNone}},
		{name: "tls on smtp scheme", raw: "smtp://relay.example.com:465?tls=tls",
			want: mail.SMTPSettings{Host: "relay.example.com", Port: 465, TLS: mail.TLSImplicit}},
		{name: "starttls on smtps scheme overrides", raw: "smtps://relay.example.com:587?tls=starttls",
			want: mail.SMTPSettings{Host: "relay.example.com", Port: 587, TLS: mail.TLSStartTLS}},
		{name: "opportunistic spelled out", raw: "smtp://relay.example.com?tls=opportunistic",
			want: mail.SMTPSettings{Host: "relay.example.com", Port: 587, TLS: mail.TLSOpportunistic}},
		{name: "skip_verify for tests", raw: "smtps://localhost:1465?skip_verify=true",
			want: mail.SMTPSettings{Host: "localhost", Port: 1465, TLS: mail.TLSImplicit, SkipVerify: true}},
		{name: "ipv6 host", raw: "smtp://[::1]:1025?tls=none",
			want: mail.SMTPSettings{Host: "::1", Port: 1025, TLS: mail.TLSNone}},
		{name: "trailing slash is no path", raw: "smtp://relay.example.com/",
			want: mail.SMTPSettings{Host: "relay.example.com", Port: 587, TLS: mail.TLSOpportunistic}},
		{name: "wrong scheme", raw: "http://relay.example.com", wantErr: "scheme"},
		{name: "no scheme", raw: "relay.example.com:25", wantErr: "scheme"},
		{name: "no host", raw: "smtp://:25", wantErr: "no host"},
		{name: "port out of range", raw: "smtp://relay.example.com:70000", wantErr: "invalid port"},
		{name: "port zero", raw: "smtp://relay.example.com:0", wantErr: "invalid port"},
		{name: "empty port", raw: "smtp://relay.example.com:", wantErr: "empty port"},
		{name: "unknown tls mode", raw: "smtp://relay.example.com?tls=ssl", wantErr: "tls="},
		{name: "bad skip_verify", raw: "smtp://relay.example.com?skip_verify=maybe", wantErr: "skip_verify"},
		{name: "unknown parameter", raw: "smtp://relay.example.com?timeout=5", wantErr: "unknown parameter"},
		{name: "path", raw: "smtp://relay.example.com/inbox", wantErr: "no path"},
		{name: "malformed without echoing the password", raw: "smtp://user:secret@relay.example.com:%zz", wantErr: "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := mail.ParseSMTPURL(tt.raw)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.NotContains(t, err.Error(), "secret")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestMaskEmail(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"olga@acme.localhost": "o***@acme.localhost",
		"o@acme.localhost":    "o***@acme.localhost",
		"émile@example.fr":    "é***@example.fr",
		"not-an-address":      "***",
		"@example.com":        "***",
		"":                    "***",
	}
	for in, want := range tests {
		require.Equal(t, want, mail.MaskEmail(in), in)
	}
}

func TestFormatAmount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		minor         int64
		code, locale  string
		want, wantErr string
	}{
		{minor: 123450, code: "EUR", locale: "en", want: "€ 1,234.50"},
		{minor: 123450, code: "EUR", locale: "de", want: "€ 1.234,50"},
		{minor: 4900, code: "USD", locale: "", want: "$ 49.00"},
		{minor: 1500, code: "JPY", locale: "en", want: "¥ 1,500"},
		{minor: 0, code: "CHF", locale: "en", want: "CHF 0.00"},
		{minor: 100, code: "XXQ", locale: "en", wantErr: "currency"},
	}
	for _, tt := range tests {
		got, err := mail.FormatAmount(tt.minor, tt.code, tt.locale)
		if tt.wantErr != "" {
			require.ErrorContains(t, err, tt.wantErr)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tt.want, got, "%d %s %s", tt.minor, tt.code, tt.locale)
	}
}
