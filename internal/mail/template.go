package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"slices"
	"strings"
	texttemplate "text/template"

	"golang.org/x/text/language"
)

// Template names: one per kind of email ClientIQ sends. Each has, per
// locale, <name>.subject and <name>.txt (text/template) and <name>.html
// (html/template, inside that locale's layout.html).
const (
	TemplateEmailVerification       = "email_verification"
	TemplatePasswordReset           = "password_reset"
	TemplateInvitation              = "invitation"
	TemplateDemoRequestConfirmation = "demo_request_confirmation"
	TemplateDemoRequestSales        = "demo_request_sales"
	TemplatePaymentReceipt          = "payment_receipt"
	TemplatePaymentFailed           = "payment_failed"
	TemplateSubscriptionChanged     = "subscription_changed"
)

// Templates lists every template; the fallback locale must have them all.
var Templates = []string{
	TemplateEmailVerification, TemplatePasswordReset, TemplateInvitation,
	TemplateDemoRequestConfirmation, TemplateDemoRequestSales,
	TemplatePaymentReceipt, TemplatePaymentFailed, TemplateSubscriptionChanged,
}

// FallbackLocale is used when no template matches the recipient's locale.
const FallbackLocale = "en"

// ErrUnknownTemplate is returned for a template name that does not exist.
var ErrUnknownTemplate = errors.New("unknown email template")

// ErrRender is returned when a template cannot be rendered with the data
// given (a missing key): a programming error that a retry cannot fix.
var ErrRender = errors.New("render email template")

//go:embed templates
var embedded embed.FS

// Rendered is a template's output for one recipient.
type Rendered struct {
	Subject, Text, HTML string
}

// page is one template in one locale, parsed.
type page struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

// Renderer renders the email templates, localized. Adding a locale is
// adding a directory templates/<bcp47 tag>/ with layout.html and any of the
// templates: a template it lacks falls back to English.
type Renderer struct {
	matcher language.Matcher
	locales []string                    // locales[0] is FallbackLocale
	pages   map[string]map[string]*page // locale → name → page
}

// NewRenderer parses the templates embedded in the binary.
func NewRenderer() (*Renderer, error) {
	sub, err := fs.Sub(embedded, "templates")
	if err != nil {
		return nil, fmt.Errorf("email templates: %w", err)
	}
	return NewRendererFS(sub)
}

// NewRendererFS parses templates from fsys, laid out as <locale>/<name>.*;
// it exists so tests can render a tree other than the embedded one.
func NewRendererFS(fsys fs.FS) (*Renderer, error) {
	dirs, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("email templates: %w", err)
	}
	r := &Renderer{locales: []string{FallbackLocale}, pages: map[string]map[string]*page{}}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		tag, err := language.Parse(d.Name())
		if err != nil {
			return nil, fmt.Errorf("email templates: directory %q is not a locale: %w", d.Name(), err)
		}
		pages, err := parseLocale(fsys, d.Name())
		if err != nil {
			return nil, err
		}
		r.pages[d.Name()] = pages
		if tag.String() != FallbackLocale {
			r.locales = append(r.locales, d.Name())
		}
	}
	for _, name := range Templates {
		if r.pages[FallbackLocale][name] == nil {
			return nil, fmt.Errorf("email templates: %s/%s is missing", FallbackLocale, name)
		}
	}
	tags := make([]language.Tag, len(r.locales))
	for i, l := range r.locales {
		tags[i] = language.Make(l)
	}
	r.matcher = language.NewMatcher(tags)
	return r, nil
}

// parseLocale parses every template of one locale directory.
func parseLocale(fsys fs.FS, locale string) (map[string]*page, error) {
	files, err := fs.Glob(fsys, locale+"/*.subject")
	if err != nil {
		return nil, fmt.Errorf("email templates %s: %w", locale, err)
	}
	layout := path.Join(locale, "layout.html")
	if _, err := fs.Stat(fsys, layout); err != nil {
		layout = path.Join(FallbackLocale, "layout.html")
	}
	pages := map[string]*page{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".subject")
		base := path.Join(locale, name)
		p := &page{}
		if p.subject, err = texttemplate.New(path.Base(f)).Option("missingkey=error").ParseFS(fsys, base+".subject"); err != nil {
			return nil, fmt.Errorf("email template %s: %w", base, err)
		}
		if p.text, err = texttemplate.New(name+".txt").Option("missingkey=error").ParseFS(fsys, base+".txt"); err != nil {
			return nil, fmt.Errorf("email template %s: %w", base, err)
		}
		if p.html, err = htmltemplate.New("layout.html").Option("missingkey=error").ParseFS(fsys, layout, base+".html"); err != nil {
			return nil, fmt.Errorf("email template %s: %w", base, err)
		}
		pages[name] = p
	}
	return pages, nil
}

// Locales lists the locales that have templates, FallbackLocale first.
func (r *Renderer) Locales() []string { return slices.Clone(r.locales) }

// Match returns the template locale closest to locale (a BCP 47 tag such as
// "de-AT" or an Accept-Language value), FallbackLocale when none is close.
func (r *Renderer) Match(locale string) string {
	_, i := language.MatchStrings(r.matcher, locale)
	return r.locales[i]
}

// Render renders template name for a recipient whose locale is locale.
// data must hold every key the template uses: a missing one is an error
// wrapping ErrRender, never "<no value>" in a sent email.
func (r *Renderer) Render(name, locale string, data map[string]string) (Rendered, error) {
	p := r.pages[r.Match(locale)][name]
	if p == nil {
		p = r.pages[FallbackLocale][name]
	}
	if p == nil {
		return Rendered{}, fmt.Errorf("render %q: %w", name, ErrUnknownTemplate)
	}
	var subject, text, html bytes.Buffer
	if err := p.subject.Execute(&subject, data); err != nil {
		return Rendered{}, fmt.Errorf("%w %s subject: %w", ErrRender, name, err)
	}
	if err := p.text.Execute(&text, data); err != nil {
		return Rendered{}, fmt.Errorf("%w %s text: %w", ErrRender, name, err)
	}
	if err := p.html.Execute(&html, data); err != nil {
		return Rendered{}, fmt.Errorf("%w %s html: %w", ErrRender, name, err)
	}
	return Rendered{
		// One line, whatever the data held: a newline in a header would
		// let data inject headers.
		Subject: strings.Join(strings.Fields(subject.String()), " "),
		Text:    text.String(),
		HTML:    html.String(),
	}, nil
}
