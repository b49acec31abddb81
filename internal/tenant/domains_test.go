package tenant_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/tenant"
)

// ttPrimaryCount counts the primary domains of tenant slug in the database.
func ttPrimaryCount(t *testing.T, env *ttEnv, slug string) int {
	t.Helper()
	return ttCount(t, env.Pool, `SELECT count(*) FROM public.domains d JOIN public.tenants t ON t.id = d.tenant_id
		WHERE t.slug = $1 AND d.is_primary`, slug)
}

func TestDomains(t *testing.T) {
	t.Parallel()

	// Each subtest uses its own literal domains: they share this database.
	env := ttNew(t)
	svc := env.Svc

	t.Run("AddDomainNormalizes", func(t *testing.T) {
		t.Parallel()

		tn := ttCreate(t, svc, ttSlug())

		got, err := svc.AddDomain(t.Context(), tn.Slug, "Shop.Example.COM.")

		require.NoError(t, err)
		require.Equal(t, []tenant.Domain{
			{Domain: tn.Slug + "." + env.Base, IsPrimary: true},
			{Domain: "shop.example.com"},
		}, got.Domains)
		require.Equal(t, 1, ttCount(t, env.Pool, "SELECT count(*) FROM public.domains WHERE domain = 'shop.example.com' AND tenant_id = $1", tn.ID))
	})

	t.Run("AddDomainOfAnotherTenantConflicts", func(t *testing.T) {
		t.Parallel()

		owner := ttCreate(t, svc, ttSlug())
		other := ttCreate(t, svc, ttSlug())
		_, err := svc.AddDomain(t.Context(), owner.Slug, "taken.example.com")
		require.NoError(t, err)

		for _, d := range []string{"TAKEN.example.com", "taken.example.com."} {
			_, err = svc.AddDomain(t.Context(), other.Slug, d)
			ttRequireField(t, err, apperr.CodeConflict, "domain")
		}

		got, err := svc.Get(t.Context(), other.Slug)
		require.NoError(t, err)
		require.Equal(t, other.Domains, got.Domains)
		got, err = svc.Get(t.Context(), owner.Slug)
		require.NoError(t, err)
		require.Len(t, got.Domains, 2)
	})

	t.Run("AddDomainTwiceConflicts", func(t *testing.T) {
		t.Parallel()

		tn := ttCreate(t, svc, ttSlug())
		_, err := svc.AddDomain(t.Context(), tn.Slug, "twice.example.com")
		require.NoError(t, err)

		_, err = svc.AddDomain(t.Context(), tn.Slug, "twice.example.com")

		ttRequireField(t, err, apperr.CodeConflict, "domain")
	})

	t.Run("AddDomainRejectsInvalidDomain", func(t *testing.T) {
		t.Parallel()

		tn := ttCreate(t, svc, ttSlug())

		for _, d := range []string{"", "nodots", "bad_domain.example.com", "-x.example.com", "x..example.com", "exa mple.com"} {
			_, err := svc.AddDomain(t.Context(), tn.Slug, d)
			ttRequireField(t, err, apperr.CodeValidation, "domain")
		}
		got, err := svc.Get(t.Context(), tn.Slug)
		require.NoError(t, err)
		require.Equal(t, tn.Domains, got.Domains)
	})

	t.Run("AddDomainCannotClaimThePlatformOrAnotherSlug", func(t *testing.T) {
		t.Parallel()

		squatter := ttCreate(t, svc, ttSlug())
		victim := ttCreate(t, svc, ttSlug())
		ctx := t.Context()
		// The victim moves to a custom domain and drops its subdomain: the
		// name must still not be claimable by another tenant.
		_, err := svc.AddDomain(ctx, victim.Slug, "victim.example.net")
		require.NoError(t, err)
		_, err = svc.SetPrimary(ctx, victim.Slug, "victim.example.net")
		require.NoError(t, err)
		_, err = svc.RemoveDomain(ctx, victim.Slug, victim.Slug+"."+env.Base)
		require.NoError(t, err)
		future := ttSlug()

		for _, d := range []string{
			victim.Slug + "." + env.Base,
			strings.ToUpper(victim.Slug + "." + env.Base + "."),
			future + "." + env.Base,
			env.Base,
		} {
			_, err := svc.AddDomain(ctx, squatter.Slug, d)
			ttRequireField(t, err, apperr.CodeValidation, "domain")
		}
		got, err := svc.Get(ctx, squatter.Slug)
		require.NoError(t, err)
		require.Equal(t, squatter.Domains, got.Domains)

		// The victim's subdomain still resolves to the victim (by slug), and
		// a tenant provisioned later gets its own subdomain.
		r := ttResolver(t, env, env.Cache, false)
		resolved, err := r.Resolve(ctx, victim.Slug+"."+env.Base, "")
		require.NoError(t, err)
		require.Equal(t, victim.ID, resolved.ID)
		ttCreate(t, svc, future)

		// A tenant may take its own subdomain back.
		got, err = svc.AddDomain(ctx, victim.Slug, victim.Slug+"."+env.Base)
		require.NoError(t, err)
		require.Len(t, got.Domains, 2)
	})

	t.Run("AddDomainToUnknownTenantIsNotFound", func(t *testing.T) {
		t.Parallel()

		_, err := svc.AddDomain(t.Context(), ttSlug(), "orphan.example.com")

		ttRequireCode(t, err, apperr.CodeNotFound)
		require.Zero(t, ttCount(t, env.Pool, "SELECT count(*) FROM public.domains WHERE domain = 'orphan.example.com'"))
	})

	t.Run("SetPrimaryMovesThePrimary", func(t *testing.T) {
		t.Parallel()

		tn := ttCreate(t, svc, ttSlug())
		_, err := svc.AddDomain(t.Context(), tn.Slug, "second.example.org")
		require.NoError(t, err)

		got, err := svc.SetPrimary(t.Context(), tn.Slug, "Second.Example.ORG")

		require.NoError(t, err)
		require.Equal(t, []tenant.Domain{
			{Domain: "second.example.org", IsPrimary: true},
			{Domain: tn.Slug + "." + env.Base},
		}, got.Domains)
		require.Equal(t, 1, ttPrimaryCount(t, env, tn.Slug))

		got, err = svc.SetPrimary(t.Context(), tn.Slug, "second.example.org")
		require.NoError(t, err, "setting the current primary again is harmless")
		require.Equal(t, "second.example.org", got.Domains[0].Domain)
		require.Equal(t, 1, ttPrimaryCount(t, env, tn.Slug))
	})

	t.Run("SetPrimaryOfAForeignOrUnknownDomainIsNotFound", func(t *testing.T) {
		t.Parallel()

		tn := ttCreate(t, svc, ttSlug())
		other := ttCreate(t, svc, ttSlug())

		for _, d := range []string{"unknown.example.org", other.Domains[0].Domain} {
			_, err := svc.SetPrimary(t.Context(), tn.Slug, d)
			ttRequireCode(t, err, apperr.CodeNotFound)
		}
		_, err := svc.SetPrimary(t.Context(), ttSlug(), tn.Domains[0].Domain)
		ttRequireCode(t, err, apperr.CodeNotFound)

		for _, x := range []*tenant.Tenant{tn, other} {
			got, err := svc.Get(t.Context(), x.Slug)
			require.NoError(t, err)
			require.Equal(t, x.Domains, got.Domains, "the primary did not move")
			require.Equal(t, 1, ttPrimaryCount(t, env, x.Slug))
		}
	})

	t.Run("RemovePrimaryConflicts", func(t *testing.T) {
		t.Parallel()

		tn := ttCreate(t, svc, ttSlug())
		_, err := svc.AddDomain(t.Context(), tn.Slug, "spare.example.net")
		require.NoError(t, err)

		_, err = svc.RemoveDomain(t.Context(), tn.Slug, tn.Domains[0].Domain)

		ttRequireCode(t, err, apperr.CodeConflict)
		got, err := svc.Get(t.Context(), tn.Slug)
		require.NoError(t, err)
		require.Equal(t, tenant.Domain{Domain: tn.Domains[0].Domain, IsPrimary: true}, got.Domains[0])
		require.Len(t, got.Domains, 2)
	})

	t.Run("RemoveUnknownOrForeignDomainIsNotFound", func(t *testing.T) {
		t.Parallel()

		tn := ttCreate(t, svc, ttSlug())
		other := ttCreate(t, svc, ttSlug())
		_, err := svc.AddDomain(t.Context(), other.Slug, "others.example.net")
		require.NoError(t, err)

		for _, d := range []string{"nowhere.example.net", "others.example.net", other.Domains[0].Domain} {
			_, err = svc.RemoveDomain(t.Context(), tn.Slug, d)
			ttRequireCode(t, err, apperr.CodeNotFound)
		}
		_, err = svc.RemoveDomain(t.Context(), ttSlug(), "others.example.net")
		ttRequireCode(t, err, apperr.CodeNotFound)
		_, err = svc.RemoveDomain(t.Context(), tn.Slug, "not a domain")
		ttRequireField(t, err, apperr.CodeValidation, "domain")

		got, err := svc.Get(t.Context(), other.Slug)
		require.NoError(t, err)
		require.Len(t, got.Domains, 2, "another tenant's domains are untouched")
	})

	t.Run("RemoveSecondaryDeletesIt", func(t *testing.T) {
		t.Parallel()

		tn := ttCreate(t, svc, ttSlug())
		_, err := svc.AddDomain(t.Context(), tn.Slug, "gone.example.net")
		require.NoError(t, err)

		got, err := svc.RemoveDomain(t.Context(), tn.Slug, "Gone.Example.NET.")

		require.NoError(t, err)
		require.Equal(t, tn.Domains, got.Domains)
		require.Zero(t, ttCount(t, env.Pool, "SELECT count(*) FROM public.domains WHERE domain = 'gone.example.net'"))

		_, err = svc.RemoveDomain(t.Context(), tn.Slug, "gone.example.net")
		ttRequireCode(t, err, apperr.CodeNotFound)
	})

	t.Run("RemovedDomainCanBeAddedByAnotherTenant", func(t *testing.T) {
		t.Parallel()

		from := ttCreate(t, svc, ttSlug())
		to := ttCreate(t, svc, ttSlug())
		_, err := svc.AddDomain(t.Context(), from.Slug, "moving.example.net")
		require.NoError(t, err)
		_, err = svc.RemoveDomain(t.Context(), from.Slug, "moving.example.net")
		require.NoError(t, err)

		got, err := svc.AddDomain(t.Context(), to.Slug, "moving.example.net")

		require.NoError(t, err)
		require.Contains(t, got.Domains, tenant.Domain{Domain: "moving.example.net"})
	})
}
