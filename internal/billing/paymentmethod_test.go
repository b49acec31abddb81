package billing_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/rbac"
)

func TestSetPaymentMethod(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)

	t.Run("a provider token is stored and the next charge uses it", func(t *testing.T) {
		ctx, tn := f.tenant(t)
		sub, err := f.svc.SetPaymentMethod(ctx, "pm_card_declined")
		require.NoError(t, err)
		require.Equal(t, "pm_card_declined", sub.PaymentMethod)
		f.onPlan(t, tn, "starter", 10)
		f.exec(t, `UPDATE public.subscriptions SET payment_method = 'pm_card_insufficient_funds' WHERE tenant_id = $1`, tn.ID)
		_, err = f.svc.ChangePlan(ctx, "pro", "")
		require.NoError(t, err)
		var method string
		for _, c := range f.charger.Calls() {
			if c.TenantID == tn.ID {
				method = c.PaymentMethod
			}
		}
		require.Equal(t, "pm_card_insufficient_funds", method)
	})
	t.Run("anything but a pm_ token is refused naming the field, card numbers included", func(t *testing.T) {
		ctx, _ := f.tenant(t)
		for _, bad := range []string{"", "4242424242424242", "pm_", "pm_card success", "tok_visa"} {
			_, err := f.svc.SetPaymentMethod(ctx, bad)
			require.Equal(t, apperr.CodeValidation, apperr.As(err).Code, "%q", bad)
			require.Contains(t, apperr.As(err).Fields, "paymentMethod")
		}
	})
	t.Run("billing.read alone cannot set it", func(t *testing.T) {
		ctx, _ := f.tenant(t, rbac.BillingRead)
		_, err := f.svc.SetPaymentMethod(ctx, "pm_card_success")
		require.Equal(t, apperr.CodeForbidden, apperr.As(err).Code)
	})
}
