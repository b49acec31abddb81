package tenant_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/reqinfo"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
)

// ttRedis returns a Redis store on the local test Redis, closed when the
// test ends. Tests fail rather than skip without Redis, so a missing Redis
// can never pass as green.
func ttRedis(t *testing.T) *cache.Redis {
	t.Helper()
	r, err := cache.NewRedis(cache.LocalRedisURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	require.NoError(t, r.Ping(ctx), "these tests need Redis at %s (run `make services`)", cache.LocalRedisURL)
	return r
}

// ttResolver returns a Resolver on env's database.
func ttResolver(t *testing.T, env *ttEnv, store cache.Store, allowHeader bool) *tenant.Resolver {
	t.Helper()
	return tenant.NewResolver(tenant.ResolverConfig{
		Pool: env.Pool, Cache: store, BaseDomain: env.Base, AllowHeader: allowHeader, Logger: ttLogger(t),
	})
}

// ttResolverFixture is a database with tenants in every state.
type ttResolverFixture struct {
	env                          *ttEnv
	acme, other, paused, leaving *tenant.Tenant
	// shop is a custom domain of acme.
	shop string
	// unknown is a slug no tenant has.
	unknown string
}

// ttNewResolverFixture provisions the fixture. With random names, nothing
// in it collides with other tests sharing the same Redis; without, it uses
// the readable names acme, other, paused, leaving and shop.acme.io.
func ttNewResolverFixture(t *testing.T, store cache.Store, base string, random bool) *ttResolverFixture {
	t.Helper()
	env := ttNewWith(t, store, base)
	name := func(s string) string {
		if random {
			return s[:1] + dbtest.RandomSuffix()
		}
		return s
	}
	f := &ttResolverFixture{env: env, shop: name("shop") + "." + name("acme") + ".io", unknown: name("unknown")}
	ctx := t.Context()
	f.acme = ttCreate(t, env.Svc, name("acme"))
	f.other = ttCreate(t, env.Svc, name("other"))
	f.paused = ttCreate(t, env.Svc, name("paused"))
	f.leaving = ttCreate(t, env.Svc, name("leaving"))
	_, err := env.Svc.AddDomain(ctx, f.acme.Slug, f.shop)
	require.NoError(t, err)
	_, err = env.Svc.Suspend(ctx, f.paused.Slug)
	require.NoError(t, err)
	_, _, err = env.Svc.Delete(ctx, f.leaving.Slug)
	require.NoError(t, err)
	return f
}

// ttRequireResolved requires Resolve's answer to be want (nil: the
// platform) or, when code is set, that error.
func ttRequireResolved(t *testing.T, got *tenancy.Tenant, err error, want *tenant.Tenant, code apperr.Code) {
	t.Helper()
	if code != "" {
		require.Nil(t, got)
		ttRequireCode(t, err, code)
		return
	}
	require.NoError(t, err)
	if want == nil {
		require.Nil(t, got, "want the platform")
		return
	}
	require.NotNil(t, got)
	require.Equal(t, want.Tenant, *got)
}

// ttRunResolveTable checks every kind of host and header against f.
func ttRunResolveTable(t *testing.T, f *ttResolverFixture) {
	base := f.env.Base
	acmeHost := f.acme.Slug + "." + base
	tests := []struct {
		name   string
		host   string
		header string
		// noHeader uses a Resolver with AllowHeader false.
		noHeader bool
		want     *tenant.Tenant
		code     apperr.Code
	}{
		{name: "Subdomain", host: acmeHost, want: f.acme},
		{name: "SubdomainMixedCaseWithPort", host: strings.ToUpper(f.acme.Slug) + "." + strings.ToUpper(base[:1]) + base[1:] + ":8443", want: f.acme},
		{name: "SubdomainTrailingDot", host: acmeHost + ".", want: f.acme},
		{name: "CustomDomain", host: f.shop, want: f.acme},
		{name: "CustomDomainMixedCaseWithPort", host: strings.ToUpper(f.shop) + ":443", want: f.acme},
		{name: "IPv6WithPortIsPlatform", host: "[::1]:8080"},
		{name: "IPv6IsPlatform", host: "[::1]"},
		{name: "IPv4WithPortIsPlatform", host: "127.0.0.1:8080"},
		{name: "BaseDomainIsPlatform", host: base},
		{name: "BaseDomainWithPortIsPlatform", host: strings.ToUpper(base) + ":443"},
		{name: "UnknownSubdomain", host: f.unknown + "." + base, code: apperr.CodeTenantNotFound},
		{name: "NestedSubdomain", host: "a." + acmeHost, code: apperr.CodeTenantNotFound},
		{name: "TwoLabelSubdomain", host: "a.b." + base, code: apperr.CodeTenantNotFound},
		{name: "BaseDomainAsPrefix", host: acmeHost + ".evil.example", code: apperr.CodeTenantNotFound},
		{name: "UnknownCustomDomain", host: "shop.nobody.io", code: apperr.CodeTenantNotFound},
		{name: "SuspendedTenant", host: f.paused.Slug + "." + base, code: apperr.CodeTenantSuspended},
		{name: "PendingDeletionTenant", host: f.leaving.Slug + "." + base, code: apperr.CodeTenantSuspended},
		{name: "HeaderOnPlatformHost", host: base, header: f.acme.Slug, want: f.acme},
		{name: "HeaderOnIPHost", host: "127.0.0.1:8080", header: " " + strings.ToUpper(f.acme.Slug) + " ", want: f.acme},
		{name: "HeaderMatchingHost", host: acmeHost, header: f.acme.Slug, want: f.acme},
		{name: "HeaderMatchingCustomDomain", host: f.shop, header: f.acme.Slug, want: f.acme},
		{name: "HeaderNamingAnotherTenant", host: acmeHost, header: f.other.Slug, code: apperr.CodeValidation},
		{name: "HeaderUnknown", host: base, header: f.unknown, code: apperr.CodeTenantNotFound},
		{name: "HeaderPathTraversal", host: base, header: "../x", code: apperr.CodeTenantNotFound},
		{name: "HeaderWithSpace", host: base, header: "A B", code: apperr.CodeTenantNotFound},
		{name: "HeaderReserved", host: base, header: "www", code: apperr.CodeTenantNotFound},
		{name: "HeaderSuspended", host: base, header: f.paused.Slug, code: apperr.CodeTenantSuspended},
		{name: "HeaderPendingDeletion", host: base, header: f.leaving.Slug, code: apperr.CodeTenantSuspended},
		{name: "HeaderOnUnknownHost", host: f.unknown + "." + base, header: f.acme.Slug, code: apperr.CodeTenantNotFound},
		{name: "HeaderIgnoredWhenNotAllowed", host: base, header: f.acme.Slug, noHeader: true},
		{name: "HeaderIgnoredWhenNotAllowedOnTenantHost", host: acmeHost, header: f.other.Slug, noHeader: true, want: f.acme},
		{name: "MalformedHeaderIgnoredWhenNotAllowed", host: base, header: "../x", noHeader: true},
	}

	withHeader := ttResolver(t, f.env, f.env.Cache, true)
	withoutHeader := ttResolver(t, f.env, f.env.Cache, false)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			r := withHeader
			if tt.noHeader {
				r = withoutHeader
			}
			// Twice: the second answer comes from the caches.
			for range 2 {
				got, err := r.Resolve(t.Context(), tt.host, tt.header)
				ttRequireResolved(t, got, err, tt.want, tt.code)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()

	t.Run("MemoryCache", func(t *testing.T) {
		t.Parallel()

		ttRunResolveTable(t, ttNewResolverFixture(t, cache.NewMemory(0), "example.test", false))
	})

	t.Run("RedisCache", func(t *testing.T) {
		t.Parallel()

		ttRunResolveTable(t, ttNewResolverFixture(t, ttRedis(t), ttBase(), true))
	})
}

func TestResolverMiddleware(t *testing.T) {
	t.Parallel()

	f := ttNewResolverFixture(t, cache.NewMemory(0), "example.test", false)
	mw := ttResolver(t, f.env, f.env.Cache, true).Middleware

	// serve runs one request through the middleware and reports what the
	// next handler saw and what fail was called with.
	serve := func(t *testing.T, host, header string) (reached bool, seen *tenancy.Tenant, info *reqinfo.Info, failed error) {
		t.Helper()
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reached = true
			seen, _ = tenancy.FromContext(r.Context())
			w.WriteHeader(http.StatusNoContent)
		})
		fail := func(w http.ResponseWriter, r *http.Request, err error) {
			failed = err
			w.WriteHeader(http.StatusTeapot)
		}
		req := httptest.NewRequest(http.MethodGet, "/graphql", nil)
		req.Host = host
		if header != "" {
			req.Header.Set(tenant.TenantHeader, header)
		}
		ctx, i := reqinfo.New(req.Context(), "req-1")
		info = i
		rec := httptest.NewRecorder()
		mw(fail)(next).ServeHTTP(rec, req.WithContext(ctx))
		if failed != nil {
			require.Equal(t, http.StatusTeapot, rec.Code)
		}
		return reached, seen, info, failed
	}

	t.Run("PutsTheTenantInTheContext", func(t *testing.T) {
		t.Parallel()

		reached, seen, info, failed := serve(t, "ACME.example.test:443", "")

		require.NoError(t, failed)
		require.True(t, reached)
		require.NotNil(t, seen)
		require.Equal(t, f.acme.Tenant, *seen)
		require.Equal(t, f.acme.Slug, info.Tenant(), "the access log names the tenant")
	})

	t.Run("HeaderNamesTheTenantOnThePlatformHost", func(t *testing.T) {
		t.Parallel()

		reached, seen, _, failed := serve(t, "example.test", f.other.Slug)

		require.NoError(t, failed)
		require.True(t, reached)
		require.NotNil(t, seen)
		require.Equal(t, f.other.ID, seen.ID)
	})

	t.Run("PlatformHostHasNoTenant", func(t *testing.T) {
		t.Parallel()

		reached, seen, info, failed := serve(t, "example.test", "")

		require.NoError(t, failed)
		require.True(t, reached)
		require.Nil(t, seen)
		require.Empty(t, info.Tenant())
	})

	t.Run("FailureCallsFailWithTheAppError", func(t *testing.T) {
		t.Parallel()

		tests := []struct {
			host, header string
			code         apperr.Code
		}{
			{"unknown.example.test", "", apperr.CodeTenantNotFound},
			{"paused.example.test", "", apperr.CodeTenantSuspended},
			{"leaving.example.test", "", apperr.CodeTenantSuspended},
			{"acme.example.test", "other", apperr.CodeValidation},
			{"example.test", "../x", apperr.CodeTenantNotFound},
		}
		for _, tt := range tests {
			reached, _, info, failed := serve(t, tt.host, tt.header)

			require.False(t, reached, tt.host)
			ttRequireCode(t, failed, tt.code)
			require.Empty(t, info.Tenant())
		}
	})
}

// ttReplicas is a Service and two Resolvers (two replicas of the API), each
// with its own connection to one shared Redis.
type ttReplicas struct {
	env      *ttEnv
	replicas []*tenant.Resolver
	acme     *tenant.Tenant
}

func ttNewReplicas(t *testing.T) *ttReplicas {
	t.Helper()
	env := ttNewWith(t, ttRedis(t), ttBase())
	rs := &ttReplicas{env: env, acme: ttCreate(t, env.Svc, ttSlug())}
	for range 2 {
		rs.replicas = append(rs.replicas, ttResolver(t, env, ttRedis(t), true))
	}
	return rs
}

// requireEventually requires every replica to answer host with want (or
// code) within a second.
func (rs *ttReplicas) requireEventually(t *testing.T, host string, want *tenant.Tenant, code apperr.Code) {
	t.Helper()
	for i, r := range rs.replicas {
		require.Eventually(t, func() bool {
			got, err := r.Resolve(context.Background(), host, "")
			if code != "" {
				return got == nil && err != nil && apperr.CodeOf(err) == code
			}
			if err != nil {
				return false
			}
			if want == nil {
				return got == nil
			}
			return got != nil && got.ID == want.ID && got.Status == want.Status
		}, time.Second, 20*time.Millisecond, "replica %d: %s should answer %v %s within a second", i, host, want, code)
	}
}

// requireHeaderEventually requires every replica to resolve the X-Tenant
// header slug (on the base domain) to want within a second.
func (rs *ttReplicas) requireHeaderEventually(t *testing.T, slug string, want *tenant.Tenant) {
	t.Helper()
	for i, r := range rs.replicas {
		require.Eventually(t, func() bool {
			got, err := r.Resolve(context.Background(), rs.env.Base, slug)
			return err == nil && got != nil && got.ID == want.ID
		}, time.Second, 20*time.Millisecond, "replica %d: X-Tenant %s should answer %s within a second", i, slug, want.ID)
	}
}

// warm resolves host on every replica, filling their caches, and requires
// the answer.
func (rs *ttReplicas) warm(t *testing.T, host string, want *tenant.Tenant, code apperr.Code) {
	t.Helper()
	for range 2 {
		for _, r := range rs.replicas {
			got, err := r.Resolve(t.Context(), host, "")
			ttRequireResolved(t, got, err, want, code)
		}
	}
}

func TestResolverReplicasSeeChangesWithinASecond(t *testing.T) {
	t.Parallel()

	t.Run("SuspendAndReactivate", func(t *testing.T) {
		t.Parallel()

		rs := ttNewReplicas(t)
		host := rs.acme.Slug + "." + rs.env.Base
		rs.warm(t, host, rs.acme, "")

		_, err := rs.env.Svc.Suspend(t.Context(), rs.acme.Slug)
		require.NoError(t, err)
		rs.requireEventually(t, host, nil, apperr.CodeTenantSuspended)

		_, err = rs.env.Svc.Reactivate(t.Context(), rs.acme.Slug)
		require.NoError(t, err)
		rs.requireEventually(t, host, rs.acme, "")
	})

	t.Run("ForgetCachedDropsAResolutionFromElsewhere", func(t *testing.T) {
		t.Parallel()

		rs := ttNewReplicas(t)
		host := rs.acme.Slug + "." + rs.env.Base
		rs.warm(t, host, rs.acme, "")

		// Another database behind the same Redis (or a restored backup)
		// has its own tenant under this slug, and a server of it cached it
		// (after the provisioning's own delayed invalidation).
		rs.env.Svc.WaitForgotten()
		other := *rs.acme
		other.ID = uuid.New()
		b, err := json.Marshal(&other.Tenant)
		require.NoError(t, err)
		for _, key := range []string{cache.Key("", "tenant-slug", rs.acme.Slug), cache.Key("", "tenant-host", host)} {
			require.NoError(t, rs.env.Cache.Set(t.Context(), key, b, time.Minute))
		}
		rs.requireEventually(t, host, &other, "")
		rs.requireHeaderEventually(t, rs.acme.Slug, &other)

		require.NoError(t, rs.env.Svc.ForgetCached(t.Context(), rs.acme))
		rs.requireEventually(t, host, rs.acme, "")
		rs.requireHeaderEventually(t, rs.acme.Slug, rs.acme)
	})

	t.Run("SuspendSeenThroughTheHeader", func(t *testing.T) {
		t.Parallel()

		rs := ttNewReplicas(t)
		for _, r := range rs.replicas {
			got, err := r.Resolve(t.Context(), rs.env.Base, rs.acme.Slug)
			ttRequireResolved(t, got, err, rs.acme, "")
		}

		_, err := rs.env.Svc.Suspend(t.Context(), rs.acme.Slug)
		require.NoError(t, err)

		for i, r := range rs.replicas {
			require.Eventually(t, func() bool {
				_, err := r.Resolve(context.Background(), rs.env.Base, rs.acme.Slug)
				return err != nil && apperr.CodeOf(err) == apperr.CodeTenantSuspended
			}, time.Second, 20*time.Millisecond, "replica %d", i)
		}
	})

	t.Run("DeleteSeenOnACustomDomain", func(t *testing.T) {
		t.Parallel()

		rs := ttNewReplicas(t)
		shop := "shop-" + dbtest.RandomSuffix() + ".io"
		_, err := rs.env.Svc.AddDomain(t.Context(), rs.acme.Slug, shop)
		require.NoError(t, err)
		rs.warm(t, shop, rs.acme, "")

		_, _, err = rs.env.Svc.Delete(t.Context(), rs.acme.Slug)
		require.NoError(t, err)

		rs.requireEventually(t, shop, nil, apperr.CodeTenantSuspended)
	})

	t.Run("AddedDomainBecomesResolvable", func(t *testing.T) {
		t.Parallel()

		rs := ttNewReplicas(t)
		shop := "shop-" + dbtest.RandomSuffix() + ".io"
		rs.warm(t, shop, nil, apperr.CodeTenantNotFound)

		_, err := rs.env.Svc.AddDomain(t.Context(), rs.acme.Slug, shop)
		require.NoError(t, err)

		rs.requireEventually(t, shop, rs.acme, "")
	})

	t.Run("RemovedDomainBecomesNotFound", func(t *testing.T) {
		t.Parallel()

		rs := ttNewReplicas(t)
		shop := "shop-" + dbtest.RandomSuffix() + ".io"
		_, err := rs.env.Svc.AddDomain(t.Context(), rs.acme.Slug, shop)
		require.NoError(t, err)
		rs.warm(t, shop, rs.acme, "")

		_, err = rs.env.Svc.RemoveDomain(t.Context(), rs.acme.Slug, shop)
		require.NoError(t, err)

		rs.requireEventually(t, shop, nil, apperr.CodeTenantNotFound)
	})

	t.Run("NewTenantBecomesResolvable", func(t *testing.T) {
		t.Parallel()

		rs := ttNewReplicas(t)
		slug := ttSlug()
		host := slug + "." + rs.env.Base
		rs.warm(t, host, nil, apperr.CodeTenantNotFound)

		tn := ttCreate(t, rs.env.Svc, slug)

		rs.requireEventually(t, host, tn, "")
	})

	t.Run("PurgedTenantBecomesNotFound", func(t *testing.T) {
		t.Parallel()

		rs := ttNewReplicas(t)
		host := rs.acme.Slug + "." + rs.env.Base
		_, due, err := rs.env.Svc.Delete(t.Context(), rs.acme.Slug)
		require.NoError(t, err)
		rs.warm(t, host, nil, apperr.CodeTenantSuspended)

		purged, err := rs.env.Svc.Purge(t.Context(), rs.acme.Slug, due.Add(time.Second))
		require.NoError(t, err)
		require.True(t, purged)

		rs.requireEventually(t, host, nil, apperr.CodeTenantNotFound)
	})
}
