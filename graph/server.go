package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/clientiq/clientiq/graph/generated"
	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/billing"
	"github.com/clientiq/clientiq/internal/cache"
	"github.com/clientiq/clientiq/internal/db"
	"github.com/clientiq/clientiq/internal/demorequest"
	"github.com/clientiq/clientiq/internal/events"
	"github.com/clientiq/clientiq/internal/member"
	"github.com/clientiq/clientiq/internal/project"
	"github.com/clientiq/clientiq/internal/reqinfo"
	"github.com/clientiq/clientiq/internal/tenancy"
	"github.com/clientiq/clientiq/internal/tenant"
)

// Config configures the GraphQL handler.
type Config struct {
	// Clients hands out the public and tenant-scoped ent clients.
	Clients *db.Clients
	// Auth runs the identity flows.
	Auth *auth.Service
	// Tenants runs the tenant lifecycle.
	Tenants *tenant.Service
	// Members runs memberships, roles and invitations.
	Members *member.Service
	// Logger receives internal errors with their detail. Required.
	Logger *slog.Logger
	// Version is answered by the version query.
	Version string
	// Introspection allows __schema and __type queries (off in production).
	Introspection bool
	// OperationTimeout bounds one operation. Default 10s.
	OperationTimeout time.Duration
	// Limits bound depth, complexity, aliases and tokens (defaults when zero).
	Limits Limits
	// Cache stores automatic persisted queries; nil uses an in-process one.
	Cache cache.Store
	// Projects writes projects; nil builds one over Clients (no events).
	Projects *project.Service
	// Events feeds subscriptions; nil means no live events.
	Events *events.Bus
	// Billing runs plans, subscriptions and invoices; nil answers the
	// billing fields with FEATURE_DISABLED.
	Billing *billing.Service
	// DemoRequests runs the request-a-demo form and the staff inbox; nil
	// answers those fields with FEATURE_DISABLED.
	DemoRequests *demorequest.Service
	// Auth also authenticates WebSocket connections from connection_init.
	// AllowedOrigins are the browser origins allowed to open WebSockets
	// (host patterns, e.g. "app.example.com"); same-host is always allowed.
	AllowedOrigins []string
}

// NewHandler returns the /graphql HTTP handler.
func NewHandler(cfg Config) http.Handler {
	if cfg.OperationTimeout == 0 {
		cfg.OperationTimeout = 10 * time.Second
	}
	limits := cfg.Limits.withDefaults()
	projects := cfg.Projects
	if projects == nil {
		projects = project.NewService(cfg.Clients)
	}
	gc := generated.Config{
		Resolvers: &Resolver{Clients: cfg.Clients, Auth: cfg.Auth, Tenants: cfg.Tenants, Membership: cfg.Members, ProjectSvc: projects, Events: cfg.Events,
			BillingSvc: cfg.Billing, DemoRequestSvc: cfg.DemoRequests, Version: cfg.Version},
		Directives: directives(),
	}
	complexity(&gc.Complexity)
	srv := handler.New(generated.NewExecutableSchema(gc))
	srv.AddTransport(transport.Options{})
	// First: the WebSocket upgrade is a GET, which the GET transport would take.
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 10 * time.Second,
		InitFunc:              wsInit(cfg.Auth),
		Implementation: transport.CoderWebsocketImplementation{
			AcceptOptions: websocket.AcceptOptions{OriginPatterns: cfg.AllowedOrigins},
		},
	})
	// GET serves queries only (gqlgen refuses mutations over GET); POST
	// takes application/json only, so form posts (CSRF) match no transport.
	srv.AddTransport(transport.GET{})
	srv.AddTransport(postTransport{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(limits.MaxTokens)
	use(srv, newShapeLimit(limits))
	use(srv, extension.FixedComplexityLimit(limits.MaxComplexity))
	store := cfg.Cache
	if store == nil {
		store = cache.NewMemory(10_000)
	}
	use(srv, extension.AutomaticPersistedQuery{Cache: apqCache{store}})
	// Introspection for everyone where cfg.Introspection (local, staging);
	// elsewhere only for platform staff (their playground needs the schema).
	use(srv, extension.Introspection{})
	if !cfg.Introspection {
		srv.SetDisableSuggestion(true)
		srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
			v, ok := tenancy.ViewerFrom(ctx)
			graphql.GetOperationContext(ctx).DisableIntrospection = !ok || !v.IsStaff || v.ImpersonatorID != uuid.Nil
			return next(ctx)
		})
	}
	srv.SetErrorPresenter(presenter(cfg.Logger))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		cfg.Logger.ErrorContext(ctx, "graphql_panic",
			slog.String("request_id", reqinfo.RequestID(ctx)), slog.String("panic", fmt.Sprint(v)))
		return apperr.New(apperr.CodeInternal, "internal error")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isUpgrade(r) {
			// A subscription lives as long as its connection: no operation
			// timeout, and none of the server's read/write deadlines.
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Time{})
			_ = rc.SetWriteDeadline(time.Time{})
			ctx := r.Context()
			if cfg.Clients != nil {
				ctx = withLoaders(ctx, cfg.Clients.Public())
			}
			srv.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), cfg.OperationTimeout)
		defer cancel()
		if cfg.Clients != nil {
			ctx = withLoaders(ctx, cfg.Clients.Public())
		}
		srv.ServeHTTP(w, r.WithContext(ctx))
	})
}

// presenter puts a stable code in extensions.code and hides internal detail:
// INTERNAL errors are logged with the request id and answered generically.
func presenter(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		var ae *apperr.Error
		if !errors.As(err, &ae) {
			// gqlgen's own errors (parse, validation) already carry a code.
			if gerr.Extensions != nil && gerr.Extensions["code"] != nil {
				return gerr
			}
			// gqlgen's own message without a path came before execution,
			// from the request itself (undecodable body, APQ hash mismatch,
			// introspection off): the client's mistake, not ours.
			var ge *gqlerror.Error
			if errors.As(err, &ge) && ge.Err == nil && len(gerr.Path) == 0 {
				if len(gerr.Message) > 300 {
					gerr.Message = gerr.Message[:300] + "…"
				}
				if gerr.Extensions == nil {
					gerr.Extensions = map[string]any{}
				}
				gerr.Extensions["code"] = string(apperr.CodeValidation)
				return gerr
			}
			ae = apperr.As(err)
		}
		if gerr.Extensions == nil {
			gerr.Extensions = map[string]any{}
		}
		gerr.Extensions["code"] = string(ae.Code)
		if len(ae.Fields) > 0 {
			gerr.Extensions["fields"] = ae.Fields
		}
		if ae.Code == apperr.CodeInternal {
			info := reqinfo.From(ctx)
			attrs := []any{slog.Any("error", err), slog.String("path", gerr.Path.String())}
			if info != nil {
				attrs = append(attrs, slog.String("request_id", info.RequestID()), slog.String("tenant", info.Tenant()))
			}
			level, msg := slog.LevelError, "graphql_internal_error"
			if errors.Is(err, context.Canceled) && ctx.Err() != nil {
				// The client closed the connection mid-request: nothing
				// failed here, and nobody reads the answer.
				level, msg = slog.LevelInfo, "graphql_client_gone"
			}
			logger.Log(ctx, level, msg, attrs...)
			gerr.Message = "internal error"
		} else {
			gerr.Message = ae.Message
		}
		return gerr
	}
}

// isUpgrade reports whether r asks for a WebSocket.
func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// wsInit authenticates a WebSocket from its connection_init payload
// ({"Authorization": "Bearer …"}) when the upgrade request carried no
// Authorization header; the tenant was resolved from the upgrade request.
func wsInit(a *auth.Service) transport.WebsocketInitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		if _, ok := tenancy.ViewerFrom(ctx); ok || a == nil {
			return ctx, nil, nil
		}
		header := p.Authorization()
		if header == "" {
			return ctx, nil, nil // anonymous: the field's policy decides
		}
		v, err := a.Authenticate(ctx, header)
		if err != nil {
			return nil, nil, err
		}
		if v != nil {
			ctx = tenancy.WithViewer(ctx, v)
		}
		return ctx, nil, nil
	}
}

// use registers ext on srv. Field interceptors are refused: plain scalar
// fields take a direct path that does not call them
// (graph/internal/genpatch/plainfields.go), so one would silently miss
// most fields.
func use(srv *handler.Server, ext graphql.HandlerExtension) {
	if _, ok := ext.(graphql.FieldInterceptor); ok {
		panic(fmt.Sprintf("graph: %T intercepts fields, which plain fields skip (see genpatch)", ext))
	}
	srv.Use(ext)
}
