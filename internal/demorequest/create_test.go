package demorequest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/demorequest"
)

func TestCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("stores the normalized request and notifies once inside its transaction", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		in := valid()
		in.Name, in.Company, in.Message = "  Dana Scully ", " Initech ", "  We would like a demo.\nThanks.  "

		rc, err := f.svc.Create(ctx, in, demorequest.Meta{IP: "203.0.113.7", UserAgent: "Mozilla/5.0"})
		require.NoError(t, err)
		require.Equal(t, "new", rc.Status.String())

		var name, email, company, message, locale, status, ip, ua string
		require.NoError(t, f.db.Pool.QueryRow(ctx, `SELECT name, email, company, message, locale, status, source_ip, user_agent
			FROM public.demo_requests WHERE id = $1`, rc.ID).Scan(&name, &email, &company, &message, &locale, &status, &ip, &ua))
		require.Equal(t, "Dana Scully", name)
		require.Equal(t, strings.ToLower(strings.TrimSpace(in.Email)), email)
		require.Equal(t, "Initech", company)
		require.Equal(t, "We would like a demo.\nThanks.", message)
		require.Equal(t, "de-CH", locale)
		require.Equal(t, "new", status)
		require.Equal(t, "203.0.113.7", ip)
		require.Equal(t, "Mozilla/5.0", ua)

		notices, inTx, outside := f.notes.all()
		require.Len(t, notices, 1)
		n := notices[0]
		require.Equal(t, rc.ID, n.ID)
		require.Equal(t, email, n.Email)
		require.Equal(t, "Initech", n.Company)
		require.Equal(t, "51-200", n.CompanySize)
		require.Equal(t, "de-CH", n.Locale)
		require.True(t, n.CreatedAt.Equal(rc.CreatedAt))
		require.Equal(t, []int{1}, inTx, "the notifier sees the row in its transaction")
		require.Equal(t, []int{0}, outside, "and nobody else does before the commit")
	})

	t.Run("a failing notifier rolls the request back", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		f.notes.fail.Store(true)

		_, err := f.svc.Create(ctx, valid(), demorequest.Meta{IP: "203.0.113.8"})
		require.ErrorIs(t, err, errNotifier)
		require.Equal(t, apperr.CodeInternal, apperr.CodeOf(err))
		require.Zero(t, f.count(t))
		notices, _, _ := f.notes.all()
		require.Len(t, notices, 1)
	})

	t.Run("optional fields may be left out and the locale defaults to en", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(c *demorequest.Config) { c.Notifier = nil })

		rc, err := f.svc.Create(ctx, demorequest.Input{Name: "Dana", Email: "dana@initech.test", Company: "Initech"}, demorequest.Meta{})
		require.NoError(t, err)
		d, err := f.svc.Get(staff(), rc.ID)
		require.NoError(t, err)
		require.Equal(t, "en", d.Locale)
		require.Empty(t, d.Phone)
		require.Empty(t, d.CompanySize)
		require.Nil(t, d.HandledBy)
	})

	t.Run("client metadata is clipped, not refused", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		_, err := f.svc.Create(ctx, valid(), demorequest.Meta{IP: "198.51.100.1", UserAgent: strings.Repeat("é", 400) + "\x00"})
		require.NoError(t, err)
		var ua string
		require.NoError(t, f.db.Pool.QueryRow(ctx, `SELECT user_agent FROM public.demo_requests`).Scan(&ua))
		require.Len(t, ua, 512)
	})
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, nil)

	cases := []struct {
		name   string
		mutate func(*demorequest.Input)
		field  string
	}{
		{"name is required", func(in *demorequest.Input) { in.Name = "   " }, "name"},
		{"name is at most 200 characters", func(in *demorequest.Input) { in.Name = strings.Repeat("n", 201) }, "name"},
		{"name is one line", func(in *demorequest.Input) { in.Name = "Dana\r\nBcc: everyone@example.com" }, "name"},
		{"email is required", func(in *demorequest.Input) { in.Email = "" }, "email"},
		{"email must be an address", func(in *demorequest.Input) { in.Email = "dana@localhost" }, "email"},
		{"company is required", func(in *demorequest.Input) { in.Company = "" }, "company"},
		{"company is at most 200 characters", func(in *demorequest.Input) { in.Company = strings.Repeat("c", 201) }, "company"},
		{"job title is at most 200 characters", func(in *demorequest.Input) { in.JobTitle = strings.Repeat("j", 201) }, "jobTitle"},
		{"message is at most 2000 characters", func(in *demorequest.Input) { in.Message = strings.Repeat("m", 2001) }, "message"},
		{"message has no NUL", func(in *demorequest.Input) { in.Message = "hi\x00there" }, "message"},
		{"phone has digits", func(in *demorequest.Input) { in.Phone = "call me" }, "phone"},
		{"phone has enough digits", func(in *demorequest.Input) { in.Phone = "+1 23" }, "phone"},
		{"company size is a known bucket", func(in *demorequest.Input) { in.CompanySize = "huge" }, "companySize"},
		{"locale is a language tag", func(in *demorequest.Input) { in.Locale = "not a locale!" }, "locale"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			in := valid()
			c.mutate(&in)
			_, err := f.svc.Create(ctx, in, demorequest.Meta{})
			ae := apperr.As(err)
			require.Equal(t, apperr.CodeValidation, ae.Code, "%v", err)
			require.Contains(t, ae.Fields, c.field)
			require.Len(t, ae.Fields, 1, "only %s is wrong: %v", c.field, ae.Fields)
		})
	}

	t.Run("every problem is reported at once", func(t *testing.T) {
		t.Parallel()
		_, err := f.svc.Create(ctx, demorequest.Input{Email: "nope", Phone: "x", Message: strings.Repeat("m", 2001)}, demorequest.Meta{})
		ae := apperr.As(err)
		require.Equal(t, apperr.CodeValidation, ae.Code)
		require.ElementsMatch(t, []string{"name", "email", "company", "phone", "message"}, keys(ae.Fields))
	})

	t.Run("lengths count characters, not bytes", func(t *testing.T) {
		t.Parallel()
		in := valid()
		in.Name, in.Message = strings.Repeat("ü", 200), strings.Repeat("語", 2000)
		_, err := f.svc.Create(ctx, in, demorequest.Meta{})
		require.NoError(t, err)
	})

	t.Run("loose phone formats are accepted", func(t *testing.T) {
		t.Parallel()
		for _, p := range []string{"+44 20 7946 0958", "(030) 123456", "555.010.9999", "+1-555-010-9999", "0043/1/234567"} {
			in := valid()
			in.Phone = p
			_, err := f.svc.Create(ctx, in, demorequest.Meta{})
			require.NoError(t, err, p)
		}
	})

	t.Run("an invalid request stores nothing and notifies nobody", func(t *testing.T) {
		t.Parallel()
		g := newFixture(t, nil)
		_, err := g.svc.Create(ctx, demorequest.Input{}, demorequest.Meta{})
		require.Error(t, err)
		require.Zero(t, g.count(t))
		notices, _, _ := g.notes.all()
		require.Empty(t, notices)
	})
}

func TestCreateRateLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("one client address gets five requests an hour", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		meta := demorequest.Meta{IP: "192.0.2.10"}
		for range demorequest.DefaultPerIPPerHour {
			_, err := f.svc.Create(ctx, valid(), meta)
			require.NoError(t, err)
		}
		_, err := f.svc.Create(ctx, valid(), meta)
		ae := apperr.As(err)
		require.Equal(t, apperr.CodeRateLimited, ae.Code)
		require.Contains(t, ae.Fields, "retry_after_seconds")
		require.Equal(t, demorequest.DefaultPerIPPerHour, f.count(t))

		_, err = f.svc.Create(ctx, valid(), demorequest.Meta{IP: "192.0.2.11"})
		require.NoError(t, err, "another address is not affected")
	})

	t.Run("one email gets three requests a day, whatever its case or address", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		in := valid()
		for i := range demorequest.DefaultPerEmailPerDay {
			_, err := f.svc.Create(ctx, in, demorequest.Meta{IP: fmt.Sprintf("192.0.2.%d", 100+i)})
			require.NoError(t, err)
		}
		in.Email = strings.ToUpper(in.Email)
		_, err := f.svc.Create(ctx, in, demorequest.Meta{IP: "198.51.100.99"})
		require.Equal(t, apperr.CodeRateLimited, apperr.CodeOf(err))
		require.Equal(t, demorequest.DefaultPerEmailPerDay, f.count(t))
		notices, _, _ := f.notes.all()
		require.Len(t, notices, demorequest.DefaultPerEmailPerDay, "a throttled request sends nothing")
	})

	t.Run("the limits are configurable", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(c *demorequest.Config) { c.PerIPPerHour, c.PerEmailPerDay = 1, -1 })
		in := valid()
		_, err := f.svc.Create(ctx, in, demorequest.Meta{IP: "192.0.2.20"})
		require.NoError(t, err)
		_, err = f.svc.Create(ctx, in, demorequest.Meta{IP: "192.0.2.20"})
		require.Equal(t, apperr.CodeRateLimited, apperr.CodeOf(err))
		for i := range 5 {
			_, err = f.svc.Create(ctx, in, demorequest.Meta{IP: fmt.Sprintf("198.51.100.%d", i)})
			require.NoError(t, err, "the email limit is off")
		}
	})

	t.Run("a throttle backend that is down lets requests through", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(c *demorequest.Config) { c.Cache = brokenCache{cache.NewMemory(0)} })
		for range demorequest.DefaultPerIPPerHour + 1 {
			_, err := f.svc.Create(ctx, valid(), demorequest.Meta{IP: "192.0.2.30"})
			require.NoError(t, err)
		}
	})
}

func TestNewService(t *testing.T) {
	t.Parallel()
	_, err := demorequest.NewService(demorequest.Config{})
	require.ErrorContains(t, err, "required")
}

func keys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
