package billing

import (
	"time"

	"github.com/google/uuid"
)

// Statuses of a subscription.
const (
	StatusTrialing = "trialing"
	StatusActive   = "active"
	StatusPastDue  = "past_due"
	StatusCanceled = "canceled"
)

// transitions is the subscription state machine: from → the statuses it
// may move to. A canceled subscription only comes back through a new plan
// choice (ChangePlan), which starts it again; Resume cannot revive it.
var transitions = map[string][]string{
	StatusTrialing: {StatusActive, StatusPastDue, StatusCanceled},
	// active → trialing: a tenant on Free choosing its first paid plan.
	StatusActive:   {StatusTrialing, StatusPastDue, StatusCanceled},
	StatusPastDue:  {StatusActive, StatusCanceled},
	StatusCanceled: {StatusActive, StatusTrialing},
}

// CanTransition reports whether a subscription may move from one status to
// another. Staying in a status is always allowed.
func CanTransition(from, to string) bool {
	if from == to {
		return true
	}
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// subRow is a subscription as billing's transactions read and write it.
type subRow struct {
	ID                uuid.UUID
	TenantID          uuid.UUID
	PlanID            uuid.UUID
	Interval          string
	Status            string
	TrialEndsAt       *time.Time
	PeriodStart       time.Time
	PeriodEnd         time.Time
	CancelAtPeriodEnd bool
	CanceledAt        *time.Time
	ScheduledPlanID   *uuid.UUID
	PastDueSince      *time.Time
	Provider          string
	PaymentMethod     string
}

// renewal is what happens to a subscription whose period has ended.
type renewal struct {
	// Next is the subscription after the renewal.
	Next subRow
	// Reason names the change for the notifier (see SubscriptionChange).
	Reason string
	// Bill is whether the new period is invoiced (a paid plan that goes on);
	// Charge whether that invoice is charged at once (a card is on file or
	// the provider decides; a trial that ends without one goes past_due
	// and waits for the customer).
	Bill, Charge bool
}

// renew decides a due subscription's next state at now; next is the plan
// of the coming period (the scheduled downgrade when there is one) and
// price its price at the subscription's interval. It is pure: the caller
// writes the result and its invoice in one transaction.
func renew(sub subRow, next uuid.UUID, price int64, now time.Time) renewal {
	r := renewal{Next: sub, Reason: "renewed"}
	if sub.CancelAtPeriodEnd {
		r.Next.Status, r.Next.CanceledAt, r.Next.ScheduledPlanID, r.Reason = StatusCanceled, &now, nil, "canceled"
		return r
	}
	if sub.ScheduledPlanID != nil {
		r.Reason = "downgrade"
	}
	r.Next.PlanID, r.Next.ScheduledPlanID = next, nil
	r.Next.PeriodStart, r.Next.PeriodEnd = sub.PeriodEnd, addInterval(sub.PeriodEnd, sub.Interval)
	r.Bill = price > 0
	switch sub.Status {
	case StatusTrialing:
		r.Reason = "trial_ended"
		switch {
		case price == 0:
			r.Next.Status = StatusActive
		case sub.PaymentMethod == "":
			r.Next.Status, r.Next.PastDueSince = StatusPastDue, &now
		default:
			r.Next.Status, r.Charge = StatusActive, true
		}
	case StatusActive, StatusPastDue:
		// A past-due subscription is billed for the new period too; dunning
		// retries its invoices and ends it after the last retry.
		r.Charge = r.Bill
		if price == 0 && sub.Status == StatusPastDue {
			r.Next.Status, r.Next.PastDueSince = StatusActive, nil
		}
	}
	return r
}

// dunningStep is what dunning does for a past-due subscription.
type dunningStep int

const (
	dunningWait   dunningStep = iota // the next retry is not due yet
	dunningRetry                     // charge the failed invoices again
	dunningCancel                    // the last retry failed: end the subscription
)

// dun decides the dunning step of a subscription past due since since,
// after retries re-charges, at now, with the retry schedule (offsets from
// since). pending is whether a charge is still being processed: its
// outcome is awaited before anything else happens.
func dun(since, now time.Time, retries int, pending bool, schedule []time.Duration) dunningStep {
	switch {
	case pending:
		return dunningWait
	case retries < len(schedule):
		if !now.Before(since.Add(schedule[retries])) {
			return dunningRetry
		}
		return dunningWait
	}
	return dunningCancel
}
