package rest

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
)

func TestSnakeFields(t *testing.T) {
	t.Parallel()

	t.Run("RenamesValidationFieldsAndTheMessage", func(t *testing.T) {
		t.Parallel()
		for in, want := range map[string]string{
			"jobTitle": "job_title", "companySize": "company_size", "paymentMethod": "payment_method",
			"name": "name", "price_monthly": "price_monthly", "body": "body",
		} {
			err := snakeFields(apperr.FieldErrors{in: {"is wrong"}}.Err())
			e := apperr.As(err)
			require.Equal(t, apperr.CodeValidation, e.Code)
			require.Equal(t, map[string][]string{want: {"is wrong"}}, e.Fields, in)
			require.Equal(t, "invalid input: check "+want, e.Message, in)
		}
	})

	t.Run("KeepsEveryProblemOfEveryField", func(t *testing.T) {
		t.Parallel()
		src := apperr.Validation("two problems", map[string][]string{"jobTitle": {"a", "b"}, "email": {"c"}})
		e := apperr.As(snakeFields(src))
		require.Equal(t, map[string][]string{"job_title": {"a", "b"}, "email": {"c"}}, e.Fields)
		require.Equal(t, "two problems", e.Message)
		require.Equal(t, map[string][]string{"jobTitle": {"a", "b"}, "email": {"c"}}, src.Fields, "the service's error is not changed")
	})

	t.Run("LeavesOtherErrorsAlone", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, snakeFields(nil))
		limited := &apperr.Error{Code: apperr.CodeRateLimited, Message: "slow down", Fields: map[string][]string{"retryAfter": {"3"}}}
		require.Same(t, limited, snakeFields(limited))
		plain := errors.New("boom")
		require.Equal(t, plain, snakeFields(plain))
		bare := apperr.New(apperr.CodeValidation, "no fields")
		require.Same(t, bare, snakeFields(bare))
	})
}
