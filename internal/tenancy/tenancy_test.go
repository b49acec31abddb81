package tenancy_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/tenancy"
)

func TestValidateSlug(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		slug string
		ok   bool
	}{
		{"three characters are enough", "abc", true},
		{"letters digits and hyphens are a DNS label", "acme-corp-42", true},
		{"digits may lead", "42acme", true},
		{"sixty-three characters are the maximum", strings.Repeat("a", 63), true},
		{"empty is refused", "", false},
		{"two characters are too short", "ab", false},
		{"sixty-four characters are too long", strings.Repeat("a", 64), false},
		{"uppercase is refused", "Acme", false},
		{"leading hyphen is refused", "-acme", false},
		{"trailing hyphen is refused", "acme-", false},
		{"underscore is refused", "acme_corp", false},
		{"space is refused", "acme corp", false},
		{"dot is refused", "acme.corp", false},
		{"non-ASCII is refused", "acmé", false},
		{"quote is refused", `acme"x`, false},
		{"reserved www", "www", false},
		{"reserved api", "api", false},
		{"reserved admin", "admin", false},
		{"reserved app", "app", false},
		{"reserved public", "public", false},
		{"reserved static", "static", false},
		{"reserved mail", "mail", false},
		{"pg_ prefix is refused", "pg_catalog", false},
		{"pg- prefix is refused", "pg-acme", false},
		{"pg without separator is allowed", "pgacme", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			err := tenancy.ValidateSlug("tenant_slug", tt.slug)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			ae := apperr.As(err)
			require.Equal(t, apperr.CodeValidation, ae.Code)
			require.Contains(t, ae.Fields, "tenant_slug", "the error names the field it was given")
			require.NotEmpty(t, ae.Fields["tenant_slug"])
		})
	}
}

func TestSchemaName(t *testing.T) {
	t.Parallel()

	t.Run("prefixes tenant_ and turns hyphens into underscores", func(t *testing.T) {
		t.Parallel()

		require.Equal(t, "tenant_acme", tenancy.SchemaName("acme"))
		require.Equal(t, "tenant_acme_corp_42", tenancy.SchemaName("acme-corp-42"))
	})

	t.Run("fits PostgreSQL's 63-byte identifier limit for the longest slug", func(t *testing.T) {
		t.Parallel()

		for n := 3; n <= 63; n++ {
			slug := strings.Repeat("a", n-1) + "b"
			require.NoError(t, tenancy.ValidateSlug("slug", slug))
			name := tenancy.SchemaName(slug)
			require.LessOrEqual(t, len(name), 63, "slug of %d characters", n)
			require.NoError(t, tenancy.CheckSchema(name), "slug of %d characters", n)
		}
	})

	t.Run("distinct slugs get distinct schemas", func(t *testing.T) {
		t.Parallel()

		prefix60 := strings.Repeat("abcdefghij", 6)
		long := prefix60 + "xyz"
		// A slug that spells out a long slug's hashed schema name must not
		// land on it: "tenant_<47 chars>_<hash>" is also what a 56-character
		// slug "<47 chars>-<hash>" would give without hashing.
		spelled := strings.ReplaceAll(strings.TrimPrefix(tenancy.SchemaName(long), "tenant_"), "_", "-")
		require.NoError(t, tenancy.ValidateSlug("slug", spelled))

		slugs := []string{
			"acme", "acme-corp", "acmecorp", "acme-corp-2", "a-b-c", "ab-c", "abc",
			long,
			prefix60 + "xya",
			prefix60 + "x-z",
			prefix60 + "1",
			prefix60[:56],
			prefix60[:57],
			prefix60[:58],
			spelled,
			strings.Repeat("z", 63),
			strings.Repeat("z", 62),
		}
		seen := map[string]string{}
		for _, slug := range slugs {
			require.NoError(t, tenancy.ValidateSlug("slug", slug), slug)
			name := tenancy.SchemaName(slug)
			require.True(t, tenancy.ValidSchema(name), "%q gives invalid schema %q", slug, name)
			if other, dup := seen[name]; dup {
				t.Fatalf("slugs %q and %q share schema %q", other, slug, name)
			}
			seen[name] = slug
		}
	})

	t.Run("is stable", func(t *testing.T) {
		t.Parallel()

		long := strings.Repeat("q", 63)
		require.Equal(t, tenancy.SchemaName(long), tenancy.SchemaName(long))
	})
}

func TestCheckSchema(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		schema string
		ok     bool
	}{
		{"a tenant schema is accepted", "tenant_acme", true},
		{"underscores and digits are accepted", "tenant_acme_corp_42", true},
		{"the public schema is refused", "public", false},
		{"the bare prefix is refused", "tenant_", false},
		{"an empty name is refused", "", false},
		{"an injection attempt is refused", `tenant_a"; drop`, false},
		{"a quote is refused", `tenant_a"`, false},
		{"pg_catalog is refused", "pg_catalog", false},
		{"information_schema is refused", "information_schema", false},
		{"uppercase is refused", "tenant_Acme", false},
		{"an uppercase prefix is refused", "TENANT_acme", false},
		{"a hyphen is refused", "tenant_acme-corp", false},
		{"a dot is refused", "tenant_acme.projects", false},
		{"a name over 63 bytes is refused", "tenant_" + strings.Repeat("a", 57), false},
		{"a name of 63 bytes is accepted", "tenant_" + strings.Repeat("a", 56), true},
		{"a trailing newline is refused", "tenant_acme\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			require.Equal(t, tt.ok, tenancy.ValidSchema(tt.schema))
			if tt.ok {
				require.NoError(t, tenancy.CheckSchema(tt.schema))
			} else {
				require.Error(t, tenancy.CheckSchema(tt.schema))
			}
		})
	}
}

func TestTenantContext(t *testing.T) {
	t.Parallel()

	acme := &tenancy.Tenant{ID: uuid.New(), Slug: "acme", Name: "Acme", Schema: "tenant_acme", Status: tenancy.StatusActive}

	t.Run("a context carries the tenant it was given", func(t *testing.T) {
		t.Parallel()

		ctx := tenancy.WithTenant(context.Background(), acme)
		got, ok := tenancy.FromContext(ctx)
		require.True(t, ok)
		require.Same(t, acme, got)

		got, err := tenancy.Require(ctx)
		require.NoError(t, err)
		require.Same(t, acme, got)
	})

	t.Run("an inner tenant replaces the outer one", func(t *testing.T) {
		t.Parallel()

		other := &tenancy.Tenant{Slug: "other", Schema: "tenant_other"}
		ctx := tenancy.WithTenant(tenancy.WithTenant(context.Background(), acme), other)
		got, err := tenancy.Require(ctx)
		require.NoError(t, err)
		require.Same(t, other, got)
	})

	t.Run("a context without a tenant has none", func(t *testing.T) {
		t.Parallel()

		got, ok := tenancy.FromContext(context.Background())
		require.False(t, ok)
		require.Nil(t, got)
	})

	t.Run("a nil tenant counts as none", func(t *testing.T) {
		t.Parallel()

		ctx := tenancy.WithTenant(context.Background(), nil)
		_, ok := tenancy.FromContext(ctx)
		require.False(t, ok)
		_, err := tenancy.Require(ctx)
		require.ErrorIs(t, err, tenancy.ErrNoTenant)
	})

	t.Run("Require without a tenant is TENANT_NOT_FOUND", func(t *testing.T) {
		t.Parallel()

		got, err := tenancy.Require(context.Background())
		require.Nil(t, got)
		require.ErrorIs(t, err, tenancy.ErrNoTenant)
		require.Equal(t, apperr.CodeTenantNotFound, apperr.CodeOf(err))

		wrapped := errors.Join(errors.New("list projects"), err)
		require.Equal(t, apperr.CodeTenantNotFound, apperr.CodeOf(wrapped))
	})

	t.Run("Active is true only for active tenants", func(t *testing.T) {
		t.Parallel()

		for status, want := range map[string]bool{
			tenancy.StatusActive:          true,
			tenancy.StatusSuspended:       false,
			tenancy.StatusPendingDeletion: false,
		} {
			tn := tenancy.Tenant{Status: status}
			require.Equal(t, want, tn.Active(), status)
		}
	})
}
