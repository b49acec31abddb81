package graph

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	"weak"

	"github.com/99designs/gqlgen/graphql"
	"github.com/clientiq/clientiq/ent/entgql"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/clientiq/clientiq/ent"
	"github.com/clientiq/clientiq/graph/generated"
	"github.com/clientiq/clientiq/graph/model"
	"github.com/clientiq/clientiq/graph/scalar"
	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/cache"
)

// Limits bound what one operation may ask for. Rejected operations run no
// resolver and no SQL: they are refused before execution.
type Limits struct {
	// MaxDepth of nested selections. Default 10.
	MaxDepth int
	// MaxComplexity, counting each list field by its first/last. Default 1000.
	MaxComplexity int
	// MaxAliases is how often one field may appear in one selection set
	// (aliases). Default 5; the sign-in mutations allow only 1.
	MaxAliases int
	// MaxTokens bounds the parser. Default 10,000.
	MaxTokens int
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth == 0 {
		l.MaxDepth = 10
	}
	if l.MaxComplexity == 0 {
		l.MaxComplexity = 1000
	}
	if l.MaxAliases == 0 {
		l.MaxAliases = 5
	}
	if l.MaxTokens == 0 {
		l.MaxTokens = 10_000
	}
	return l
}

// singleUse are the mutations that try a secret: one per operation, so
// aliases cannot multiply guesses past the throttles.
var singleUse = map[string]bool{
	"login": true, "refreshToken": true, "resetPassword": true, "requestPasswordReset": true,
	"verifyEmail": true, "acceptInvitation": true, "signup": true, "changePassword": true,
}

// shapeLimit enforces depth and alias limits after validation.
type shapeLimit struct {
	l Limits
	// passed remembers the operations that passed: the checks depend on
	// the operation alone, and gqlgen's query cache hands the same parsed
	// operation to every request with the same query text. Weak keys, so
	// it keeps no operation alive after the query cache dropped it.
	passed *opSet
}

func newShapeLimit(l Limits) shapeLimit { return shapeLimit{l: l, passed: &opSet{}} }

func (shapeLimit) ExtensionName() string { return "ShapeLimit" }

func (shapeLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (s shapeLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if s.passed != nil && s.passed.has(oc.Operation) {
		return nil
	}
	if d := depth(oc.Operation.SelectionSet, 0, map[string]bool{}); d > s.l.MaxDepth {
		return limitErr(fmt.Sprintf("the query is %d levels deep; at most %d are allowed", d, s.l.MaxDepth))
	}
	if err := aliases(oc.Operation.SelectionSet, s.l.MaxAliases, oc.Operation.Operation == ast.Mutation, true); err != nil {
		return err
	}
	if err := nestedPages(oc.Operation.SelectionSet, 0, map[string]bool{}); err != nil {
		return err
	}
	cursors, err := nestedCursors(oc.Operation.SelectionSet, oc.Variables, 0, map[string]bool{})
	if err != nil {
		return err
	}
	if s.passed != nil && !cursors { // cursors may come from variables: checked on every request
		s.passed.add(oc.Operation)
	}
	return nil
}

// nestedCursors checks the after and before cursors of connections below
// the root before anything runs, and reports whether there were any. ent
// loads nested pages with their parents' query and takes a cursor it
// cannot decode for a decoded one (a panic: INTERNAL); a root connection's
// cursor is checked by its argument's scalar (scalar.UnmarshalCursor).
func nestedCursors(set ast.SelectionSet, vars map[string]any, level int, seen map[string]bool) (bool, *gqlerror.Error) {
	found := false
	for _, sel := range set {
		var sub ast.SelectionSet
		next := level
		switch s := sel.(type) {
		case *ast.Field:
			if level > 0 && s.Definition != nil {
				for _, a := range s.Arguments {
					def := s.Definition.Arguments.ForName(a.Name)
					if def == nil || def.Type == nil || def.Type.Name() != "Cursor" {
						continue
					}
					found = true
					v, err := a.Value.Value(vars)
					if err != nil || v == nil {
						continue // gqlgen's validation answers for these
					}
					if _, err := scalar.UnmarshalCursor(v); err != nil {
						return found, &gqlerror.Error{Message: fmt.Sprintf("%s of %s: %s", a.Name, s.Alias, apperr.As(err).Message),
							Extensions: map[string]any{"code": "VALIDATION_ERROR", "fields": map[string][]string{"cursor": {"is not a cursor this API returned"}}}}
					}
				}
			}
			sub, next = s.SelectionSet, level+1
		case *ast.InlineFragment:
			sub = s.SelectionSet
		case *ast.FragmentSpread:
			if s.Definition == nil || seen[s.Name] {
				continue
			}
			seen[s.Name] = true
			sub = s.Definition.SelectionSet
		}
		f, err := nestedCursors(sub, vars, next, seen)
		found = found || f
		if err != nil {
			return found, err
		}
		if fs, ok := sel.(*ast.FragmentSpread); ok {
			delete(seen, fs.Name)
		}
	}
	return found, nil
}

// opSet is a bounded set of operations, held weakly.
type opSet struct {
	mu  sync.RWMutex
	ops map[weak.Pointer[ast.OperationDefinition]]struct{}
}

// maxOpSet bounds opSet: the query cache's size.
const maxOpSet = 1000

func (s *opSet) has(op *ast.OperationDefinition) bool {
	k := weak.Make(op)
	s.mu.RLock()
	_, ok := s.ops[k]
	s.mu.RUnlock()
	return ok
}

func (s *opSet) add(op *ast.OperationDefinition) {
	k := weak.Make(op)
	s.mu.Lock()
	if s.ops == nil || len(s.ops) >= maxOpSet {
		s.ops = make(map[weak.Pointer[ast.OperationDefinition]]struct{}, 64)
	}
	s.ops[k] = struct{}{}
	s.mu.Unlock()
}

// nestedPages requires first or last on every connection below the root:
// nested lists are loaded for a whole page of parents at once, so an
// unbounded one could read a tenant's every row (root connections default
// to one page).
func nestedPages(set ast.SelectionSet, level int, seen map[string]bool) *gqlerror.Error {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if level > 0 && s.Definition != nil && s.Definition.Type != nil &&
				strings.HasSuffix(s.Definition.Type.Name(), "Connection") &&
				s.Arguments.ForName("first") == nil && s.Arguments.ForName("last") == nil {
				return limitErr(fmt.Sprintf("%s is a nested list: pass first or last (at most %d)", s.Name, MaxPageSize))
			}
			if err := nestedPages(s.SelectionSet, level+1, seen); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := nestedPages(s.SelectionSet, level, seen); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if s.Definition == nil || seen[s.Name] {
				continue
			}
			seen[s.Name] = true
			if err := nestedPages(s.Definition.SelectionSet, level, seen); err != nil {
				return err
			}
			delete(seen, s.Name)
		}
	}
	return nil
}

func limitErr(msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": "VALIDATION_ERROR"}}
}

// depth returns the deepest field nesting of set, following fragments once.
func depth(set ast.SelectionSet, level int, seen map[string]bool) int {
	deepest := level
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.SelectionSet) == 0 {
				d = level + 1
			} else {
				d = depth(s.SelectionSet, level+1, seen)
			}
		case *ast.InlineFragment:
			d = depth(s.SelectionSet, level, seen)
		case *ast.FragmentSpread:
			if seen[s.Name] || s.Definition == nil {
				continue
			}
			seen[s.Name] = true
			d = depth(s.Definition.SelectionSet, level, seen)
			delete(seen, s.Name)
		}
		deepest = max(deepest, d)
	}
	return deepest
}

// aliases refuses a field repeated (under aliases) more than max times in
// one selection set, and the single-use mutations more than once.
func aliases(set ast.SelectionSet, limit int, mutation, root bool) *gqlerror.Error {
	counts := map[string]int{}
	var walk func(ast.SelectionSet) *gqlerror.Error
	walk = func(set ast.SelectionSet) *gqlerror.Error {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				counts[s.Name]++
				if err := aliases(s.SelectionSet, limit, false, false); err != nil {
					return err
				}
			case *ast.InlineFragment:
				if err := walk(s.SelectionSet); err != nil {
					return err
				}
			case *ast.FragmentSpread:
				if s.Definition != nil {
					if err := walk(s.Definition.SelectionSet); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	if err := walk(set); err != nil {
		return err
	}
	for name, n := range counts {
		if root && mutation && singleUse[name] && n > 1 {
			return limitErr(fmt.Sprintf("%s may appear only once per operation", name))
		}
		if n > limit {
			return limitErr(fmt.Sprintf("%s appears %d times; at most %d aliases of a field are allowed", name, n, limit))
		}
	}
	return nil
}

// connectionCost multiplies a connection's children by its page size
// (first or last, default and cap MaxPageSize).
func connectionCost(child int, first, last *int) int {
	n := MaxPageSize
	if first != nil && *first >= 0 && *first < n {
		n = *first
	}
	if last != nil && *last >= 0 && *last < n {
		n = *last
	}
	return 1 + child*max(n, 1)
}

// complexity sets the cost of every list field, so the complexity limit
// counts what a query can really return.
func complexity(c *generated.ComplexityRoot) {
	type cur = *entgql.Cursor[uuid.UUID]
	c.Query.Projects = func(child int, _ cur, first *int, _ cur, last *int, _ *ent.ProjectOrder, _ *ent.ProjectWhereInput) int {
		return connectionCost(child, first, last)
	}
	c.Query.Tenants = func(child int, _ cur, first *int, _ cur, last *int, _ *ent.TenantOrder, _ *ent.TenantWhereInput) int {
		return connectionCost(child, first, last)
	}
	c.Query.AuditEvents = func(child int, _ cur, first *int, _ cur, last *int, _ *ent.AuditEventOrder, _ *ent.AuditEventWhereInput) int {
		return connectionCost(child, first, last)
	}
	c.Project.Items = func(child int, _ cur, first *int, _ cur, last *int, _ *ent.DataItemOrder, _ *ent.DataItemWhereInput) int {
		return connectionCost(child, first, last)
	}
	c.Query.Members = func(child int, _ cur, first *int, _ cur, last *int, _ *model.MemberOrder, _ *model.MemberWhereInput) int {
		return connectionCost(child, first, last)
	}
	c.Query.Roles = func(child int, _ cur, first *int, _ cur, last *int, _ *model.RoleOrder, _ *model.RoleWhereInput) int {
		return connectionCost(child, first, last)
	}
	c.Query.Invitations = func(child int, _ cur, first *int, _ cur, last *int, _ *model.InvitationOrder, _ *model.InvitationWhereInput) int {
		return connectionCost(child, first, last)
	}
	c.Query.DemoRequests = func(child int, _ cur, first *int, _ cur, last *int, _ *ent.DemoRequestOrder, _ *ent.DemoRequestWhereInput) int {
		return connectionCost(child, first, last)
	}
	c.Tenant.Domains = func(child int, _ cur, first *int, _ cur, last *int, _ *ent.DomainOrder, _ *ent.DomainWhereInput) int {
		return connectionCost(child, first, last)
	}
}

// apqCache stores automatic persisted queries in the shared cache (Redis
// when present) for a day.
type apqCache struct{ store cache.Store }

func (a apqCache) Get(ctx context.Context, key string) (string, bool) {
	b, ok, err := a.store.Get(ctx, cache.Key("", "apq", key))
	if err != nil || !ok {
		return "", false
	}
	return string(b), true
}

func (a apqCache) Add(ctx context.Context, key, value string) {
	_ = a.store.Set(ctx, cache.Key("", "apq", key), []byte(value), 24*time.Hour)
}
