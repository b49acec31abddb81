package page_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/page"
)

func ptr(n int) *int { return &n }

func TestCapped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                string
		in                  page.Request
		wantFirst, wantLast *int
	}{
		{"no size asks for one full page", page.Request{}, ptr(page.Max), nil},
		{"a small first stays", page.Request{First: ptr(20)}, ptr(20), nil},
		{"a huge first is capped", page.Request{First: ptr(100000000)}, ptr(page.Max), nil},
		{"a huge last is capped", page.Request{Last: ptr(1000)}, nil, ptr(page.Max)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.in.Capped()
			require.Equal(t, tc.wantFirst, got.First)
			require.Equal(t, tc.wantLast, got.Last)
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	require.NoError(t, page.Request{First: ptr(0)}.Check())
	for _, bad := range []page.Request{{First: ptr(1), Last: ptr(1)}, {First: ptr(-1)}, {Last: ptr(-5)}} {
		err := bad.Check()
		require.Equal(t, apperr.CodeValidation, apperr.As(err).Code)
		require.Contains(t, apperr.As(err).Fields, "first")
	}
}
