package mail_test

import (
	"maps"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/mail"
)

// fixtures holds, per template, data with every key the template uses.
var fixtures = map[string]map[string]string{
	mail.TemplateEmailVerification: {"name": "Olga", "link": "https://clientiq.test/verify-email?token=tok-v", "expires_at": "2030-01-02 03:04 UTC"},
	mail.TemplatePasswordReset:     {"name": "Olga", "link": "https://clientiq.test/reset-password?token=tok-r", "expires_at": "2030-01-02 03:04 UTC"},
	mail.TemplateInvitation: {"tenant_name": "Acme", "inviter_name": "Ben", "role": "admin",
		"link": "https://acme.clientiq.test/accept-invitation?token=tok-i", "expires_at": "2030-01-09 03:04 UTC"},
	mail.TemplateDemoRequestConfirmation: {"name": "Dana", "company": "Initech", "link": "https://clientiq.test/"},
	mail.TemplateDemoRequestSales: {"name": "Dana", "email": "dana@initech.test", "company": "Initech",
		"message": "We have 40 consultants.", "link": "https://clientiq.test/staff/demo"},
	mail.TemplatePaymentReceipt: {"tenant_name": "Acme", "plan_name": "Pro", "amount": "€ 49.00",
		"invoice_number": "INV-7", "link": "https://acme.clientiq.test/settings/billing"},
	mail.TemplatePaymentFailed: {"tenant_name": "Acme", "plan_name": "Pro", "amount": "€ 49.00",
		"invoice_number": "INV-8", "link": "https://acme.clientiq.test/settings/billing"},
	mail.TemplateSubscriptionChanged: {"tenant_name": "Acme", "plan_name": "Team", "amount": "€ 99.00",
		"invoice_number": "INV-9", "link": "https://acme.clientiq.test/settings/billing"},
}

func newRenderer(t *testing.T) *mail.Renderer {
	t.Helper()
	r, err := mail.NewRenderer()
	require.NoError(t, err)
	return r
}

func TestRenderer(t *testing.T) {
	t.Parallel()

	t.Run("every template renders subject, text and html with its link", func(t *testing.T) {
		t.Parallel()
		r := newRenderer(t)
		require.Len(t, fixtures, len(mail.Templates), "a fixture per template")
		for _, name := range mail.Templates {
			data := fixtures[name]
			out, err := r.Render(name, "en", data)
			require.NoError(t, err, name)
			require.NotEmpty(t, out.Subject, name)
			require.NotContains(t, out.Subject, "\n", name)
			require.Contains(t, out.Text, data["link"], name)
			// html/template escapes & in attributes and text alike; these
			// links have none, so they appear verbatim.
			require.Contains(t, out.HTML, `href="`+data["link"]+`"`, name)
			require.Contains(t, out.HTML, "<html", name)
			for _, body := range []string{out.Subject, out.Text, out.HTML} {
				require.NotContains(t, body, "<no value>", name)
			}
		}
	})

	t.Run("data fills the subject", func(t *testing.T) {
		t.Parallel()
		out, err := newRenderer(t).Render(mail.TemplateInvitation, "en", fixtures[mail.TemplateInvitation])
		require.NoError(t, err)
		require.Equal(t, "Ben invited you to Acme on ClientIQ", out.Subject)
	})

	t.Run("html escapes data and text keeps it", func(t *testing.T) {
		t.Parallel()
		data := maps.Clone(fixtures[mail.TemplateInvitation])
		data["tenant_name"] = `<script>alert("x")</script>`
		out, err := newRenderer(t).Render(mail.TemplateInvitation, "en", data)
		require.NoError(t, err)
		require.NotContains(t, out.HTML, "<script>")
		require.Contains(t, out.HTML, "&lt;script&gt;")
		require.Contains(t, out.Text, `<script>alert("x")</script>`)
	})

	t.Run("a javascript link is neutralised in html", func(t *testing.T) {
		t.Parallel()
		data := maps.Clone(fixtures[mail.TemplatePasswordReset])
		data["link"] = "javascript:alert(1)"
		out, err := newRenderer(t).Render(mail.TemplatePasswordReset, "en", data)
		require.NoError(t, err)
		require.NotContains(t, out.HTML, `href="javascript:`)
	})

	t.Run("a newline in data cannot break the subject", func(t *testing.T) {
		t.Parallel()
		data := maps.Clone(fixtures[mail.TemplateInvitation])
		data["inviter_name"] = "Ben\r\nBcc: evil@example.com"
		out, err := newRenderer(t).Render(mail.TemplateInvitation, "en", data)
		require.NoError(t, err)
		require.NotContains(t, out.Subject, "\n")
		require.NotContains(t, out.Subject, "\r")
	})

	t.Run("an unknown template errors", func(t *testing.T) {
		t.Parallel()
		_, err := newRenderer(t).Render("welcome_pack", "en", map[string]string{})
		require.ErrorIs(t, err, mail.ErrUnknownTemplate)
	})

	t.Run("missing data errors instead of rendering no value", func(t *testing.T) {
		t.Parallel()
		r := newRenderer(t)
		for _, name := range mail.Templates {
			for key := range fixtures[name] {
				data := maps.Clone(fixtures[name])
				delete(data, key)
				_, err := r.Render(name, "en", data)
				require.ErrorIs(t, err, mail.ErrRender, "%s without %s", name, key)
			}
		}
	})

	t.Run("an unknown or empty locale falls back to english", func(t *testing.T) {
		t.Parallel()
		r := newRenderer(t)
		want, err := r.Render(mail.TemplatePasswordReset, "en", fixtures[mail.TemplatePasswordReset])
		require.NoError(t, err)
		for _, locale := range []string{"", "xx", "de-AT", "fr", "not a locale!", "en-GB"} {
			got, err := r.Render(mail.TemplatePasswordReset, locale, fixtures[mail.TemplatePasswordReset])
			require.NoError(t, err, locale)
			require.Equal(t, want, got, locale)
			require.Equal(t, "en", r.Match(locale), locale)
		}
	})
}

func TestRendererLocales(t *testing.T) {
	t.Parallel()
	// The embedded English tree plus a German directory holding only
	// password_reset: adding a locale is dropping files.
	fsys := fstest.MapFS{
		"de/layout.html":            {Data: []byte(`<html lang="de">{{template "content" .}}</html>`)},
		"de/password_reset.subject": {Data: []byte("Passwort zurücksetzen")},
		"de/password_reset.txt":     {Data: []byte("Hallo {{.name}}: {{.link}}")},
		"de/password_reset.html":    {Data: []byte(`{{define "title"}}x{{end}}{{define "content"}}<a href="{{.link}}">Neues Passwort</a>{{end}}`)},
	}
	en, err := mail.NewRenderer()
	require.NoError(t, err)
	for _, name := range mail.Templates {
		for _, ext := range []string{".subject", ".txt", ".html"} {
			b, err := mail.TemplateFile("en/" + name + ext)
			require.NoError(t, err)
			fsys["en/"+name+ext] = &fstest.MapFile{Data: b}
		}
	}
	b, err := mail.TemplateFile("en/layout.html")
	require.NoError(t, err)
	fsys["en/layout.html"] = &fstest.MapFile{Data: b}
	r, err := mail.NewRendererFS(fsys)
	require.NoError(t, err)

	t.Run("a german reader gets the german template", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, "de", r.Match("de-AT"))
		out, err := r.Render(mail.TemplatePasswordReset, "de-AT", fixtures[mail.TemplatePasswordReset])
		require.NoError(t, err)
		require.Equal(t, "Passwort zurücksetzen", out.Subject)
		require.Contains(t, out.HTML, `lang="de"`)
	})

	t.Run("a template german lacks falls back to english", func(t *testing.T) {
		t.Parallel()
		got, err := r.Render(mail.TemplateInvitation, "de", fixtures[mail.TemplateInvitation])
		require.NoError(t, err)
		want, err := en.Render(mail.TemplateInvitation, "en", fixtures[mail.TemplateInvitation])
		require.NoError(t, err)
		require.Equal(t, want, got)
	})

	t.Run("a tree without every english template is refused", func(t *testing.T) {
		t.Parallel()
		partial := fstest.MapFS{}
		maps.Copy(partial, fsys)
		delete(partial, "en/payment_failed.subject")
		_, err := mail.NewRendererFS(partial)
		require.ErrorContains(t, err, "en/payment_failed is missing")
	})
}
