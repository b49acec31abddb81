package billing

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestCanTransition(t *testing.T) {
	t.Parallel()
	all := []string{StatusTrialing, StatusActive, StatusPastDue, StatusCanceled}
	allowed := map[[2]string]bool{
		{StatusTrialing, StatusActive}: true, {StatusTrialing, StatusPastDue}: true, {StatusTrialing, StatusCanceled}: true,
		{StatusActive, StatusTrialing}: true, {StatusActive, StatusPastDue}: true, {StatusActive, StatusCanceled}: true,
		{StatusPastDue, StatusActive}: true, {StatusPastDue, StatusCanceled}: true,
		{StatusCanceled, StatusActive}: true, {StatusCanceled, StatusTrialing}: true,
	}
	for _, from := range all {
		for _, to := range all {
			want := from == to || allowed[[2]string{from, to}]
			require.Equal(t, want, CanTransition(from, to), "%s → %s", from, to)
		}
	}
}

func TestRenew(t *testing.T) {
	t.Parallel()
	start, end := day(0), day(31)
	now := end.Add(time.Minute)
	plan, other := uuid.New(), uuid.New()
	base := subRow{ID: uuid.New(), PlanID: plan, Interval: IntervalMonth, Status: StatusActive, PeriodStart: start, PeriodEnd: end,
		PaymentMethod: "pm_card"}
	with := func(f func(*subRow)) subRow { s := base; f(&s); return s }

	t.Run("an active paid subscription renews for the next period, billed and charged", func(t *testing.T) {
		t.Parallel()
		r := renew(base, plan, 1900, now)
		require.Equal(t, StatusActive, r.Next.Status)
		require.Equal(t, end, r.Next.PeriodStart)
		require.Equal(t, addInterval(end, IntervalMonth), r.Next.PeriodEnd)
		require.True(t, r.Bill)
		require.True(t, r.Charge)
		require.Equal(t, "renewed", r.Reason)
	})
	t.Run("a free subscription renews without an invoice", func(t *testing.T) {
		t.Parallel()
		r := renew(base, plan, 0, now)
		require.False(t, r.Bill)
		require.False(t, r.Charge)
	})
	t.Run("cancel at period end ends the subscription without billing", func(t *testing.T) {
		t.Parallel()
		r := renew(with(func(s *subRow) { s.CancelAtPeriodEnd = true }), plan, 1900, now)
		require.Equal(t, StatusCanceled, r.Next.Status)
		require.NotNil(t, r.Next.CanceledAt)
		require.False(t, r.Bill)
		require.Equal(t, end, r.Next.PeriodEnd, "the period does not advance")
	})
	t.Run("a scheduled downgrade takes effect", func(t *testing.T) {
		t.Parallel()
		r := renew(with(func(s *subRow) { s.ScheduledPlanID = &other }), other, 0, now)
		require.Equal(t, other, r.Next.PlanID)
		require.Nil(t, r.Next.ScheduledPlanID)
		require.Equal(t, "downgrade", r.Reason)
	})
	t.Run("a trial of a paid plan with a card becomes active with a first invoice", func(t *testing.T) {
		t.Parallel()
		r := renew(with(func(s *subRow) { s.Status = StatusTrialing }), plan, 1900, now)
		require.Equal(t, StatusActive, r.Next.Status)
		require.True(t, r.Bill)
		require.True(t, r.Charge)
		require.Equal(t, "trial_ended", r.Reason)
	})
	t.Run("a trial without a payment method goes past due with an open invoice", func(t *testing.T) {
		t.Parallel()
		r := renew(with(func(s *subRow) { s.Status, s.PaymentMethod = StatusTrialing, "" }), plan, 1900, now)
		require.Equal(t, StatusPastDue, r.Next.Status)
		require.Equal(t, now, *r.Next.PastDueSince)
		require.True(t, r.Bill)
		require.False(t, r.Charge)
	})
	t.Run("a trial that was downgraded to free becomes active", func(t *testing.T) {
		t.Parallel()
		r := renew(with(func(s *subRow) { s.Status, s.PaymentMethod, s.ScheduledPlanID = StatusTrialing, "", &other }), other, 0, now)
		require.Equal(t, StatusActive, r.Next.Status)
		require.False(t, r.Bill)
	})
	t.Run("a past-due subscription moved to free is active again", func(t *testing.T) {
		t.Parallel()
		r := renew(with(func(s *subRow) { s.Status, s.PastDueSince, s.ScheduledPlanID = StatusPastDue, &start, &other }), other, 0, now)
		require.Equal(t, StatusActive, r.Next.Status)
		require.Nil(t, r.Next.PastDueSince)
	})
	t.Run("every renewal is a transition the state machine allows", func(t *testing.T) {
		t.Parallel()
		for _, st := range []string{StatusTrialing, StatusActive, StatusPastDue} {
			for _, price := range []int64{0, 1900} {
				for _, cancel := range []bool{false, true} {
					s := with(func(s *subRow) { s.Status, s.CancelAtPeriodEnd = st, cancel })
					r := renew(s, plan, price, now)
					require.True(t, CanTransition(st, r.Next.Status), "%s → %s", st, r.Next.Status)
				}
			}
		}
	})
}

func TestDun(t *testing.T) {
	t.Parallel()
	since := day(0)
	schedule := []time.Duration{24 * time.Hour, 72 * time.Hour, 168 * time.Hour}
	cases := []struct {
		name    string
		now     time.Time
		retries int
		pending bool
		want    dunningStep
	}{
		{"before the first retry is due it waits", since.Add(23 * time.Hour), 0, false, dunningWait},
		{"the first retry a day after", since.Add(24 * time.Hour), 0, false, dunningRetry},
		{"the second waits for day three", since.Add(48 * time.Hour), 1, false, dunningWait},
		{"the second on day three", since.Add(72 * time.Hour), 1, false, dunningRetry},
		{"the third on day seven", since.Add(168 * time.Hour), 2, false, dunningRetry},
		{"a charge still processing is awaited", since.Add(200 * time.Hour), 3, true, dunningWait},
		{"after the last retry failed it cancels", since.Add(169 * time.Hour), 3, false, dunningCancel},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, c.want, dun(since, c.now, c.retries, c.pending, schedule))
		})
	}
}
