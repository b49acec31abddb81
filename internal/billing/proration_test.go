package billing

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func day(n int) time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n) }

func TestProrate(t *testing.T) {
	t.Parallel()
	month := [2]time.Time{day(0), day(30)} // a 30-day period
	year := [2]time.Time{day(0), day(365)} // a 365-day period
	half := day(0).Add(15*24*time.Hour + 12*time.Hour)
	cases := []struct {
		name             string
		oldPrice, newPrc int64
		period           [2]time.Time
		now              time.Time
		credit, charge   int64
	}{
		{"at the start the whole old price is credited and the new charged", 1900, 4900, month, day(0), -1900, 4900},
		{"halfway through half of each", 1900, 4900, month, day(15), -950, 2450},
		{"ten of thirty days used", 3000, 6000, month, day(10), -2000, 4000},
		{"at the end nothing is left", 1900, 4900, month, day(30), 0, 0},
		{"after the end nothing is left", 1900, 4900, month, day(31), 0, 0},
		{"before the start the whole period counts", 1900, 4900, month, day(-3), -1900, 4900},
		{"from free only the new plan is charged", 0, 1900, month, day(10), 0, 1267},
		{"yearly prices over a year", 19000, 49000, year, day(73), -15200, 39200},
		{"a price change mid-day rounds each line to the nearest cent", 1000, 2000, month, half, -483, 967},
		{"a half cent rounds away from zero on both lines", 1, 1, [2]time.Time{day(0), day(2)}, day(1), -1, 1},
		{"an empty period prorates nothing", 1900, 4900, [2]time.Time{day(1), day(1)}, day(1), 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := Prorate(c.oldPrice, c.newPrc, c.period[0], c.period[1], c.now)
			require.Equal(t, c.credit, p.Credit, "credit")
			require.Equal(t, c.charge, p.Charge, "charge")
			require.Equal(t, max(0, c.credit+c.charge), p.Total())
		})
	}
	t.Run("the same price credits and charges exactly the same", func(t *testing.T) {
		t.Parallel()
		for h := 0; h < 30*24; h += 7 {
			p := Prorate(4900, 4900, day(0), day(30), day(0).Add(time.Duration(h)*time.Hour))
			require.Equal(t, int64(0), p.Credit+p.Charge)
		}
	})
	t.Run("a credit larger than the charge totals zero", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, int64(0), Prorate(4900, 1900, day(0), day(30), day(10)).Total())
	})
	t.Run("huge prices over long periods do not overflow", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, int64(math.MaxInt64/2), fraction(math.MaxInt64/2, 1<<40, 1<<40))
	})
}

func TestAddInterval(t *testing.T) {
	t.Parallel()
	d := func(y int, m time.Month, dd int) time.Time { return time.Date(y, m, dd, 9, 30, 0, 0, time.UTC) }
	cases := []struct {
		name     string
		from     time.Time
		interval string
		want     time.Time
	}{
		{"a month later on the same day", d(2026, 3, 14), IntervalMonth, d(2026, 4, 14)},
		{"the 31st ends on the last day of a shorter month", d(2026, 1, 31), IntervalMonth, d(2026, 2, 28)},
		{"leap years have a 29th of February", d(2028, 1, 31), IntervalMonth, d(2028, 2, 29)},
		{"December rolls into January", d(2026, 12, 15), IntervalMonth, d(2027, 1, 15)},
		{"a year later", d(2026, 6, 1), IntervalYear, d(2027, 6, 1)},
		{"the 29th of February a year later is the 28th", d(2028, 2, 29), IntervalYear, d(2029, 2, 28)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, c.want, addInterval(c.from, c.interval))
		})
	}
}
