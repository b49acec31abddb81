package billing

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/ent/invoice"
	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/page"
	"github.com/clientiq/clientiq/internal/rbac"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// MaxPage caps every page of a list.
const MaxPage = page.Max

// Page is a cursor page request (see internal/page).
type Page = page.Request

// Invoices returns a page of the invoices of the tenant in ctx
// (billing.read); where narrows them further, never beyond the tenant.
func (s *Service) Invoices(ctx context.Context, pg Page, order *ent.InvoiceOrder, where *ent.InvoiceWhereInput) (*ent.InvoiceConnection, error) {
	if _, err := tenancy.RequirePermission(ctx, rbac.BillingRead); err != nil {
		return nil, err
	}
	t, err := tenancy.Require(ctx)
	if err != nil {
		return nil, err
	}
	pg = pg.Capped()
	conn, err := s.clients.Public().Invoice.Query().Where(invoice.TenantID(t.ID)).
		Paginate(ctx, pg.After, pg.First, pg.Before, pg.Last,
			ent.WithInvoiceOrder(order), ent.WithInvoiceFilter(where.Filter))
	if err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) {
			return nil, err
		}
		return nil, fmt.Errorf("list invoices: %w", err)
	}
	return conn, nil
}

// Invoice returns one invoice of the tenant in ctx (billing.read);
// another tenant's invoice is NOT_FOUND, like one that does not exist.
func (s *Service) Invoice(ctx context.Context, id uuid.UUID) (*ent.Invoice, error) {
	if _, err := tenancy.RequirePermission(ctx, rbac.BillingRead); err != nil {
		return nil, err
	}
	t, err := tenancy.Require(ctx)
	if err != nil {
		return nil, err
	}
	return s.invoiceOf(ctx, t.ID, id)
}

// invoiceOf reads tenantID's invoice id, with no permission check (callers
// have made theirs).
func (s *Service) invoiceOf(ctx context.Context, tenantID, id uuid.UUID) (*ent.Invoice, error) {
	inv, err := s.clients.Public().Invoice.Query().Where(invoice.ID(id), invoice.TenantID(tenantID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errInvoiceNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read invoice: %w", err)
	}
	return inv, nil
}

// PayInvoice starts a new charge of an open or failed invoice of the
// tenant in ctx (billing.manage). FEATURE_DISABLED when payments are off;
// CONFLICT when the invoice is paid or void, or a charge of it is still
// being processed (so a double click charges once).
func (s *Service) PayInvoice(ctx context.Context, id uuid.UUID) (*ent.Invoice, error) {
	t, err := s.manage(ctx)
	if err != nil {
		return nil, err
	}
	if !s.charging() {
		return nil, errPaymentsDisabled
	}
	err = s.inTx(ctx, "pay invoice", func(tx pgx.Tx) error {
		var status, currency string
		var total int64
		err := tx.QueryRow(ctx, `SELECT status, currency, total FROM public.invoices WHERE id = $1 AND tenant_id = $2 FOR UPDATE`,
			id, t.ID).Scan(&status, &currency, &total)
		if errors.Is(err, pgx.ErrNoRows) {
			return errInvoiceNotFound
		}
		if err != nil {
			return err
		}
		if status != "open" && status != "failed" {
			return apperr.New(apperr.CodeConflict, "the invoice is "+status+"; only open or failed invoices can be paid")
		}
		var pending bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM public.payments WHERE invoice_id = $1 AND status = 'pending')`,
			id).Scan(&pending); err != nil {
			return err
		}
		if pending {
			return apperr.New(apperr.CodeConflict, "a payment of this invoice is already being processed")
		}
		sub, err := lockSub(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		return s.charge(ctx, tx, sub, writtenInvoice{ID: id, Total: total, Status: "open"}, currency)
	})
	if err != nil {
		return nil, err
	}
	// billing.manage was checked: the answer needs no billing.read.
	return s.invoiceOf(ctx, t.ID, id)
}
