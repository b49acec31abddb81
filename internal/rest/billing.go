package rest

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/clientiq/clientiq/ent/entgql"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/ent/invoiceline"
	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/billing"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// The billing handlers call the billing.Service methods the GraphQL
// resolvers call; the service checks the viewer itself (anyone for the
// price list, billing.read, billing.manage, staff for plan edits) and
// reads only the rows of the tenant in the context.

func planResource(p *ent.Plan) Resource {
	return Resource{ID: p.ID.String(), Type: "plan", Attributes: map[string]any{
		"code": p.Code, "name": p.Name, "description": p.Description, "currency": p.Currency,
		"price_monthly": p.PriceMonthly, "price_yearly": p.PriceYearly, "trial_days": p.TrialDays,
		"max_seats": p.MaxSeats, "max_projects": p.MaxProjects, "max_data_items": p.MaxDataItems,
		"features": nonNilStrings(p.Features), "active": p.Active, "sort_order": p.SortOrder,
		"created_at": timestamp(p.CreatedAt), "updated_at": timestamp(p.UpdatedAt),
	}, Relationships: map[string]any{}}
}

// subscriptionResource renders a subscription as the service returns it,
// with its plan loaded: the plan's code is the attribute PATCH takes. The
// payment method token is never shown, only whether there is one
// (GraphQL's hasPaymentMethod).
func subscriptionResource(s *ent.Subscription) Resource {
	code := ""
	if s.Edges.Plan != nil {
		code = s.Edges.Plan.Code
	}
	return Resource{ID: s.ID.String(), Type: "subscription", Attributes: map[string]any{
		"plan": code, "interval": s.Interval, "status": s.Status, "trial_ends_at": optTimestamp(s.TrialEndsAt),
		"current_period_start": timestamp(s.CurrentPeriodStart), "current_period_end": timestamp(s.CurrentPeriodEnd),
		"cancel_at_period_end": s.CancelAtPeriodEnd, "canceled_at": optTimestamp(s.CanceledAt),
		"past_due_since": optTimestamp(s.PastDueSince), "provider": s.Provider, "has_payment_method": s.PaymentMethod != "",
		"created_at": timestamp(s.CreatedAt), "updated_at": timestamp(s.UpdatedAt),
	}, Relationships: map[string]any{
		"plan": idRef("plan", &s.PlanID), "scheduled_plan": idRef("plan", s.ScheduledPlanID),
	}}
}

func invoiceResource(inv *ent.Invoice) Resource {
	return Resource{ID: inv.ID.String(), Type: "invoice", Attributes: map[string]any{
		"number": inv.Number, "status": inv.Status, "currency": inv.Currency, "subtotal": inv.Subtotal, "total": inv.Total,
		"period_start": optTimestamp(inv.PeriodStart), "period_end": optTimestamp(inv.PeriodEnd),
		"due_at": optTimestamp(inv.DueAt), "paid_at": optTimestamp(inv.PaidAt), "failure_reason": inv.FailureReason,
		"created_at": timestamp(inv.CreatedAt), "updated_at": timestamp(inv.UpdatedAt),
	}, Relationships: map[string]any{"subscription": idRef("subscription", inv.SubscriptionID)}}
}

// invoiceWithLines is invoiceResource with the lines attribute, for the
// answers about one invoice (a list does not read every invoice's lines).
func invoiceWithLines(inv *ent.Invoice, lines []*ent.InvoiceLine) Resource {
	res := invoiceResource(inv)
	out := make([]map[string]any, 0, len(lines))
	for _, l := range lines {
		out = append(out, map[string]any{
			"id": l.ID.String(), "kind": l.Kind, "description": l.Description, "quantity": l.Quantity,
			"unit_amount": l.UnitAmount, "amount": l.Amount, "position": l.Position,
		})
	}
	res.Attributes["lines"] = out
	return res
}

// --- plans ---

func (h *handlers) listPlans(w http.ResponseWriter, r *http.Request) {
	ps, err := h.billing.Plans(r.Context())
	writeAll(h, w, r, ps, err, planResource)
}

func (h *handlers) getPlan(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	p, err := h.billing.Plan(r.Context(), id)
	respond(h, w, r, http.StatusOK, p, err, planResource)
}

// planBody is what PATCH /plans/{id} may change (GraphQL's
// UpdatePlanInput): omitted fields stay; code, currency and sort_order are
// not editable and refused as unknown fields.
type planBody struct {
	Name         *string    `json:"name"`
	Description  *string    `json:"description"`
	PriceMonthly *int64     `json:"price_monthly"`
	PriceYearly  *int64     `json:"price_yearly"`
	TrialDays    *int       `json:"trial_days"`
	MaxSeats     limitField `json:"max_seats"`
	MaxProjects  limitField `json:"max_projects"`
	MaxDataItems limitField `json:"max_data_items"`
	Features     *[]string  `json:"features"`
	Active       *bool      `json:"active"`
}

// limitField is a plan limit in a PATCH body: absent leaves the limit as
// it is, null makes it unlimited, a number sets it (GraphQL's omittable
// maxSeats and friends).
type limitField struct {
	set   bool
	value *int
}

// UnmarshalJSON runs for null too (the field is not a pointer), which is
// how null and absent are told apart.
func (l *limitField) UnmarshalJSON(b []byte) error {
	l.set = true
	return json.Unmarshal(b, &l.value)
}

func (l limitField) limit() *billing.Limit {
	if !l.set {
		return nil
	}
	return &billing.Limit{Value: l.value}
}

// updatePlan addresses the plan by id, so it calls UpdatePlan, which
// GraphQL's updatePlan reaches through UpdatePlanByCode: the same staff
// check and validation.
func (h *handlers) updatePlan(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	var b planBody
	if err := decode(r, &b); err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	p, err := h.billing.UpdatePlan(r.Context(), id, billing.PlanUpdate{
		Name: b.Name, Description: b.Description, PriceMonthly: b.PriceMonthly, PriceYearly: b.PriceYearly,
		TrialDays: b.TrialDays, MaxSeats: b.MaxSeats.limit(), MaxProjects: b.MaxProjects.limit(),
		MaxDataItems: b.MaxDataItems.limit(), Features: deref(b.Features), Active: b.Active,
	})
	respond(h, w, r, http.StatusOK, p, err, planResource)
}

// --- subscriptions ---

// listSubscriptions answers the tenant's one subscription as a list.
func (h *handlers) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	sub, err := h.billing.Subscription(r.Context())
	var subs []*ent.Subscription
	if err == nil {
		subs = []*ent.Subscription{sub}
	}
	writeAll(h, w, r, subs, err, subscriptionResource)
}

func (h *handlers) getSubscription(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	sub, err := h.billing.SubscriptionByID(r.Context(), id)
	respond(h, w, r, http.StatusOK, sub, err, subscriptionResource)
}

// subscriptionBody is one change: a plan (with an optional interval),
// cancel_at_period_end to cancel (true) or resume (false), or
// payment_method to record the provider's token for the tenant's card.
type subscriptionBody struct {
	Plan              *string `json:"plan"`
	Interval          *string `json:"interval"`
	CancelAtPeriodEnd *bool   `json:"cancel_at_period_end"`
	PaymentMethod     *string `json:"payment_method"`
}

// updateSubscription maps the body to changePlan, cancelSubscription,
// resumeSubscription or setPaymentMethod. The id is checked first
// (SubscriptionByID): another tenant's subscription, or none, is NOT_FOUND
// and nothing changes.
func (h *handlers) updateSubscription(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	var b subscriptionBody
	if err := decode(r, &b); err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	changing := b.Plan != nil || b.Interval != nil
	switch {
	case b.PaymentMethod != nil && (changing || b.CancelAtPeriodEnd != nil):
		err = apperr.Validation("invalid input: check payment_method", map[string][]string{
			"payment_method": {"cannot be combined with plan, interval or cancel_at_period_end: send one change at a time"}})
	case changing && b.CancelAtPeriodEnd != nil:
		err = apperr.Validation("invalid input: check cancel_at_period_end", map[string][]string{
			"cancel_at_period_end": {"cannot be combined with plan or interval: send one change at a time"}})
	case !changing && b.CancelAtPeriodEnd == nil && b.PaymentMethod == nil:
		err = apperr.Validation("nothing to update", map[string][]string{
			"body": {"must set plan (and interval), cancel_at_period_end or payment_method"}})
	}
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	if _, err := h.billing.SubscriptionByID(r.Context(), id); err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	var sub *ent.Subscription
	switch {
	case b.PaymentMethod != nil:
		sub, err = h.setPaymentMethod(r, *b.PaymentMethod)
	case changing:
		sub, err = h.billing.ChangePlan(r.Context(), deref(b.Plan), deref(b.Interval))
	case *b.CancelAtPeriodEnd:
		sub, err = h.billing.Cancel(r.Context())
	default:
		sub, err = h.billing.Resume(r.Context())
	}
	respond(h, w, r, http.StatusOK, sub, err, subscriptionResource)
}

// setPaymentMethod checks billing.manage before calling the service, as
// GraphQL's @hasPermission directive does before its resolver:
// SetPaymentMethod checks the token's shape first, so without this a caller
// who may only read billing would be told VALIDATION_ERROR where GraphQL
// says FORBIDDEN. The service's field name (paymentMethod) is renamed to
// the body's.
func (h *handlers) setPaymentMethod(r *http.Request, method string) (*ent.Subscription, error) {
	if _, err := tenancy.RequirePermission(r.Context(), rbac.BillingManage); err != nil {
		return nil, err
	}
	sub, err := h.billing.SetPaymentMethod(r.Context(), method)
	return sub, snakeFields(err)
}

// --- invoices ---

// listInvoices pages through the tenant's invoices, newest first
// (GraphQL's invoices with orderBy {field: CREATED_AT, direction: DESC}).
func (h *handlers) listInvoices(w http.ResponseWriter, r *http.Request) {
	limit, after, err := pageParams(r)
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	newestFirst := &ent.InvoiceOrder{Direction: entgql.OrderDirectionDesc, Field: ent.InvoiceOrderFieldCreatedAt}
	conn, err := h.billing.Invoices(r.Context(), billing.Page{After: after, First: &limit}, newestFirst, nil)
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	data := make([]Resource, 0, len(conn.Edges))
	for _, e := range conn.Edges {
		data = append(data, invoiceResource(e.Node))
	}
	WriteData(w, r, http.StatusOK, data, &Pagination{
		NextCursor: nextCursor(conn.PageInfo.HasNextPage, conn.PageInfo.EndCursor), HasMore: conn.PageInfo.HasNextPage, Limit: limit,
	})
}

func (h *handlers) getInvoice(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	inv, err := h.billing.Invoice(r.Context(), id)
	h.respondInvoice(w, r, http.StatusOK, inv, err)
}

// payInvoice answers 202: the charge is made by a job, and the invoice
// stays open until the payment reports back.
func (h *handlers) payInvoice(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	inv, err := h.billing.PayInvoice(r.Context(), id)
	h.respondInvoice(w, r, http.StatusAccepted, inv, err)
}

// respondInvoice writes inv with its lines, or err. The lines are read
// through the invoice's edge, as GraphQL's Invoice.lines reads them, once
// the service has returned the invoice (so it is the tenant's).
func (h *handlers) respondInvoice(w http.ResponseWriter, r *http.Request, status int, inv *ent.Invoice, err error) {
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	lines, err := inv.QueryLines().Order(ent.Asc(invoiceline.FieldPosition), ent.Asc(invoiceline.FieldID)).All(r.Context())
	if err != nil {
		WriteError(w, r, h.logger, fmt.Errorf("read lines of invoice %s: %w", inv.ID, err))
		return
	}
	WriteData(w, r, status, invoiceWithLines(inv, lines), nil)
}
