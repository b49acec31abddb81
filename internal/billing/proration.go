package billing

import (
	"math/bits"
	"time"
)

// Intervals a subscription is billed at.
const (
	IntervalMonth = "month"
	IntervalYear  = "year"
)

// addInterval returns the end of a billing period that starts at t. A
// monthly period ending on a day the next month lacks ends on that month's
// last day (Jan 31 → Feb 28), so periods never skip a month; the following
// periods keep the shortened day (Feb 28 → Mar 28).
func addInterval(t time.Time, interval string) time.Time {
	months := 1
	if interval == IntervalYear {
		months = 12
	}
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(months), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// annualized is what a price costs over a year, to compare plans billed at
// different intervals.
func annualized(price int64, interval string) int64 {
	if interval == IntervalMonth {
		return price * 12
	}
	return price
}

// Proration is the money side of an immediate plan change.
type Proration struct {
	// Credit is the unused part of the old plan's price, as a negative
	// amount (0 when nothing is left to credit).
	Credit int64
	// Charge is the new plan's price for the time it will run in the
	// period, positive (0 for a free plan).
	Charge int64
}

// Total is what the customer owes: never negative. A credit larger than
// the charge is not paid out (nor carried forward).
func (p Proration) Total() int64 { return max(0, p.Credit+p.Charge) }

// Prorate computes the lines of a change at now within the period
// [start, end): the unused fraction (end−now)/(end−start) of oldPrice is
// credited and the same fraction of newPrice charged. Time is measured in
// whole seconds; now before start counts as the whole period unused and
// now at or after end as nothing unused.
//
// Rounding: each line is rounded to the nearest minor unit on its own,
// halves away from zero (0.5 cent credits 1 cent, charges 1 cent), so
// credit and charge of the same price at the same moment cancel exactly.
func Prorate(oldPrice, newPrice int64, start, end, now time.Time) Proration {
	period := int64(end.Sub(start) / time.Second)
	if period <= 0 {
		return Proration{}
	}
	unused := min(max(int64(end.Sub(now)/time.Second), 0), period)
	return Proration{Credit: -fraction(oldPrice, unused, period), Charge: fraction(newPrice, unused, period)}
}

// fraction returns round(amount × num / den) for 0 ≤ num ≤ den, halves up,
// in 128-bit arithmetic so large prices times long periods never overflow.
// A negative amount counts as 0 (prices are never negative).
func fraction(amount, num, den int64) int64 {
	if amount <= 0 || num <= 0 || den <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(amount), uint64(num))
	// Add den/2 for rounding half up, carrying into hi.
	var carry uint64
	lo, carry = bits.Add64(lo, uint64(den)/2, 0)
	hi += carry
	q, _ := bits.Div64(hi, lo, uint64(den)) // q ≤ amount: no overflow
	return int64(q)
}
