package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/reqinfo"
	"github.com/clientiq/clientiq/internal/tenancy"
)

// TenantHeader names a tenant by slug when frontends share one origin.
const TenantHeader = "X-Tenant"

// How long resolutions are kept. The shared cache is invalidated on every
// change; the in-process copy is kept so briefly that a change made through
// any replica is honoured everywhere within a second.
const (
	sharedTTL   = 5 * time.Minute
	negativeTTL = 30 * time.Second
	localTTL    = 500 * time.Millisecond
	localMax    = 10_000
)

// ResolverConfig configures a Resolver.
type ResolverConfig struct {
	// Pool reads public.tenants and public.domains. Required.
	Pool *pgxpool.Pool
	// Cache is shared by replicas when it is Redis. Required.
	Cache cache.Store
	// BaseDomain: <slug>.<BaseDomain> names a tenant; BaseDomain itself is
	// the platform.
	BaseDomain string
	// AllowHeader honours X-Tenant.
	AllowHeader bool
	// Logger is required.
	Logger *slog.Logger
}

// Resolver finds the tenant of a request from its host or X-Tenant header.
type Resolver struct {
	cfg   ResolverConfig
	mu    sync.Mutex
	local map[string]localEntry
}

type localEntry struct {
	t       *tenancy.Tenant // nil: known not to exist
	expires time.Time
}

// NewResolver returns a Resolver.
func NewResolver(cfg ResolverConfig) *Resolver {
	cfg.BaseDomain = strings.ToLower(strings.TrimSuffix(cfg.BaseDomain, "."))
	return &Resolver{cfg: cfg, local: map[string]localEntry{}}
}

// Errors of resolution.
var (
	ErrTenantNotFound  = apperr.New(apperr.CodeTenantNotFound, "no tenant is served at this address")
	ErrTenantSuspended = apperr.New(apperr.CodeTenantSuspended, "this tenant is suspended")
)

// Resolve returns the tenant a request is for: nil (and no error) for the
// platform host; TENANT_NOT_FOUND for an unknown one; TENANT_SUSPENDED for
// a suspended tenant or one pending deletion.
func (r *Resolver) Resolve(ctx context.Context, hostport, header string) (*tenancy.Tenant, error) {
	host := hostOnly(hostport)
	var byHost *tenancy.Tenant
	platform := host == r.cfg.BaseDomain || host == "" || net.ParseIP(host) != nil
	if !platform {
		t, err := r.lookup(ctx, "host", host)
		if err != nil {
			return nil, err
		}
		if t == nil {
			if slug, ok := strings.CutSuffix(host, "."+r.cfg.BaseDomain); ok && !strings.Contains(slug, ".") {
				if t, err = r.lookup(ctx, "slug", slug); err != nil {
					return nil, err
				}
			}
		}
		if t == nil {
			return nil, ErrTenantNotFound
		}
		byHost = t
	}
	result := byHost
	if header = strings.TrimSpace(header); header != "" && r.cfg.AllowHeader {
		slug := strings.ToLower(header)
		if tenancy.ValidateSlug("X-Tenant", slug) != nil {
			return nil, ErrTenantNotFound
		}
		t, err := r.lookup(ctx, "slug", slug)
		if err != nil {
			return nil, err
		}
		if t == nil {
			return nil, ErrTenantNotFound
		}
		if byHost != nil && byHost.ID != t.ID {
			return nil, apperr.Validation("the X-Tenant header names another tenant than the host",
				map[string][]string{"X-Tenant": {"must match the tenant of the host"}})
		}
		result = t
	}
	if result != nil && !result.Active() {
		return nil, ErrTenantSuspended
	}
	return result, nil
}

// lookup finds a tenant by "host" or "slug": in-process copy, then the
// shared cache, then PostgreSQL. A nil tenant means none exists.
func (r *Resolver) lookup(ctx context.Context, kind, value string) (*tenancy.Tenant, error) {
	key := cache.Key("", "tenant-"+kind, value)
	now := time.Now()
	r.mu.Lock()
	if e, ok := r.local[key]; ok && now.Before(e.expires) {
		r.mu.Unlock()
		return e.t, nil
	}
	r.mu.Unlock()

	t, found, err := r.fromShared(ctx, key)
	if err != nil {
		r.cfg.Logger.WarnContext(ctx, "tenant_cache_unavailable", slog.Any("error", err))
	}
	if !found {
		t, err = r.fromDB(ctx, kind, value)
		if err != nil {
			return nil, err
		}
		r.toShared(ctx, key, t)
	}
	r.mu.Lock()
	if len(r.local) >= localMax {
		clear(r.local)
	}
	r.local[key] = localEntry{t: t, expires: now.Add(localTTL)}
	r.mu.Unlock()
	return t, nil
}

func (r *Resolver) fromShared(ctx context.Context, key string) (*tenancy.Tenant, bool, error) {
	b, ok, err := r.cfg.Cache.Get(ctx, key)
	if err != nil || !ok {
		return nil, false, err
	}
	if string(b) == "null" {
		return nil, true, nil
	}
	var t tenancy.Tenant
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, false, nil
	}
	return &t, true, nil
}

func (r *Resolver) toShared(ctx context.Context, key string, t *tenancy.Tenant) {
	b, _ := json.Marshal(t)
	ttl := sharedTTL
	if t == nil {
		ttl = negativeTTL
	}
	if err := r.cfg.Cache.Set(ctx, key, b, ttl); err != nil {
		r.cfg.Logger.WarnContext(ctx, "tenant_cache_unavailable", slog.Any("error", err))
	}
}

func (r *Resolver) fromDB(ctx context.Context, kind, value string) (*tenancy.Tenant, error) {
	q := `SELECT t.id, t.slug, t.name, t.schema_name, t.status FROM public.tenants t WHERE t.slug = $1`
	if kind == "host" {
		q = `SELECT t.id, t.slug, t.name, t.schema_name, t.status FROM public.domains d
			JOIN public.tenants t ON t.id = d.tenant_id WHERE d.domain = $1`
	}
	var t tenancy.Tenant
	err := r.cfg.Pool.QueryRow(ctx, q, value).Scan(&t.ID, &t.Slug, &t.Name, &t.Schema, &t.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, apperr.Wrap(apperr.CodeInternal, "internal error", err)
	}
	return &t, nil
}

// Middleware resolves the tenant of each request and puts it in the
// context (tenancy.FromContext). Failures are answered by fail.
func (r *Resolver) Middleware(fail func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			t, err := r.Resolve(req.Context(), req.Host, req.Header.Get(TenantHeader))
			if err != nil {
				fail(w, req, err)
				return
			}
			if t != nil {
				if info := reqinfo.From(req.Context()); info != nil {
					info.SetTenant(t.Slug)
				}
				req = req.WithContext(tenancy.WithTenant(req.Context(), t))
			}
			next.ServeHTTP(w, req)
		})
	}
}

// hostOnly lowercases a Host header and drops its port and trailing dot.
func hostOnly(hostport string) string {
	h := strings.ToLower(strings.TrimSpace(hostport))
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	} else if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	return strings.TrimSuffix(h, ".")
}

// invalidate forgets the resolutions of the given hosts.
func (s *Service) invalidate(ctx context.Context, hosts ...string) {
	keys := make([]string, 0, len(hosts))
	for _, h := range hosts {
		keys = append(keys, cache.Key("", "tenant-host", h))
	}
	s.forget(ctx, keys)
}

// invalidateTenant forgets every resolution of t (its slug and all hosts).
func (s *Service) invalidateTenant(ctx context.Context, t *Tenant) {
	s.forget(ctx, s.resolutionKeys(t))
}

// resolutionKeys are the shared cache's keys of t's resolutions.
func (s *Service) resolutionKeys(t *Tenant) []string {
	keys := []string{cache.Key("", "tenant-slug", t.Slug), cache.Key("", "tenant-host", t.Slug+"."+s.baseDomain)}
	for _, d := range t.Domains {
		keys = append(keys, cache.Key("", "tenant-host", d.Domain))
	}
	return keys
}

// ForgetCached forgets the shared cache's resolutions of ts (slugs, default
// hosts, custom domains): every replica resolves them from the database
// again within a second. The service does it for each change it makes;
// this is for operators' tools whose database was changed or swapped
// behind the service's back (a restored backup, the benchmark harness
// switching between databases that share one Redis). An error means the
// cache may still hold them.
func (s *Service) ForgetCached(ctx context.Context, ts ...*Tenant) error {
	keys := make([]string, 0, 2*len(ts))
	for _, t := range ts {
		keys = append(keys, s.resolutionKeys(t)...)
	}
	if len(keys) == 0 {
		return nil
	}
	if err := s.cache.Delete(ctx, keys...); err != nil {
		return fmt.Errorf("forget cached tenant resolutions: %w", err)
	}
	s.forgetAgain(ctx, keys)
	return nil
}

// forget deletes cached resolutions now and once more shortly after: a
// replica that read the old row just before the change may write it back
// into the shared cache after the first delete; the second one removes it
// (the in-process copies live 500 ms, so every replica is current within
// a second).
func (s *Service) forget(ctx context.Context, keys []string) {
	if err := s.cache.Delete(ctx, keys...); err != nil {
		s.logger.WarnContext(ctx, "tenant_cache_invalidate_failed", slog.Any("error", err))
	}
	s.forgetAgain(ctx, keys)
}

// forgetAgain is forget's second, delayed delete (see WaitForgotten).
func (s *Service) forgetAgain(ctx context.Context, keys []string) {
	bg := context.WithoutCancel(ctx)
	s.forgetting.Add(1)
	time.AfterFunc(300*time.Millisecond, func() {
		defer s.forgetting.Done()
		if err := s.cache.Delete(bg, keys...); err != nil {
			s.logger.WarnContext(bg, "tenant_cache_invalidate_failed", slog.Any("error", err))
		}
	})
}

// WaitForgotten blocks until the second, delayed invalidation of every
// change made so far has run. A short-lived process (the tenant CLI) calls
// it before closing the cache and exiting: otherwise the process is gone
// before the timer fires, and a stale resolution written back by a racing
// replica stays in the shared cache for its whole TTL.
func (s *Service) WaitForgotten() { s.forgetting.Wait() }
