package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The mixed load of the scaling test: requests of both tenants spread at
// random over the servers, reads and writes, and reads of the other
// tenant's ids. Every answer is checked for rows of the other tenant.
const (
	scLoadRequests = 360
	scLoadWorkers  = 12
)

// scLoad is what the mixed load saw.
type scLoad struct {
	requests, writes, crossReads atomic.Int64
	perServer                    []atomic.Int64

	mu       sync.Mutex
	problems []string // leaks first, then unexpected errors
	leaks    int
}

func (l *scLoad) report(leak bool, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if leak {
		l.leaks++
	}
	if len(l.problems) < 20 {
		l.problems = append(l.problems, fmt.Sprintf(format, args...))
	}
}

// scRunLoad sends scLoadRequests requests from scLoadWorkers goroutines.
func scRunLoad(ctx context.Context, c *scClient, servers []*server, a, b *scTenant) *scLoad {
	l := &scLoad{perServer: make([]atomic.Int64, len(servers))}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range scLoadWorkers {
		wg.Go(func() {
			for {
				n := next.Add(1)
				if n > scLoadRequests {
					return
				}
				tn, other := a, b
				if rand.IntN(2) == 1 {
					tn, other = b, a
				}
				i := rand.IntN(len(servers))
				l.perServer[i].Add(1)
				l.requests.Add(1)
				scOne(ctx, c, servers[i], tn, other, int(n), l)
			}
		})
	}
	wg.Wait()
	return l
}

// scOne sends one request for tn and checks its answer.
func scOne(ctx context.Context, c *scClient, s *server, tn, other *scTenant, n int, l *scLoad) {
	own := tn.projects[rand.IntN(len(tn.projects))]
	theirs := other.projects[rand.IntN(len(other.projects))]
	var (
		query string
		vars  map[string]any
		check func(scReply) (leak string)
		cross bool
	)
	switch k := rand.IntN(10); {
	case k < 3:
		query = `{ projects(first: 100) { totalCount edges { node { id name } } } }`
		check = func(r scReply) string {
			for _, p := range scNodes(scDig(r.data, "projects")) {
				if id, _ := p["id"].(string); !slices.Contains(tn.projects, id) {
					return fmt.Sprintf("listed project %v is not %s's", p, tn.slug)
				}
			}
			return ""
		}
	case k < 5:
		query = `query($id: ID!) { project(id: $id) { id name items(first: 50) { edges { node { id title } } } } }`
		vars = map[string]any{"id": own}
		check = func(r scReply) string {
			if scDig(r.data, "project", "id") != own {
				return fmt.Sprintf("own project %s answered %s", own, r.raw)
			}
			for _, it := range scNodes(scDig(r.data, "project", "items")) {
				if title, _ := it["title"].(string); !strings.HasPrefix(title, tn.marker) {
					return fmt.Sprintf("item %v of %s is not %s's", it, own, tn.slug)
				}
			}
			return ""
		}
	case k < 6:
		query, cross = `query($id: ID!) { project(id: $id) { id name } }`, true
		vars = map[string]any{"id": theirs}
	case k < 7:
		query, cross = `query($id: ID!) { node(id: $id) { id ... on Project { name } } }`, true
		vars = map[string]any{"id": theirs}
	case k < 9:
		query = `mutation($in: CreateDataItemInput!) { createDataItem(input: $in) { id title } }`
		title := fmt.Sprintf("%sitem %d", tn.marker, n)
		vars = map[string]any{"in": map[string]any{"projectId": own, "title": title}}
		check = func(r scReply) string {
			if scDig(r.data, "createDataItem", "title") != title {
				return fmt.Sprintf("created item answered %s", r.raw)
			}
			return ""
		}
	default:
		query = `mutation($in: UpdateProjectInput!) { updateProject(input: $in) { id description } }`
		desc := fmt.Sprintf("%supdate %d", tn.marker, n)
		vars = map[string]any{"in": map[string]any{"id": own, "description": desc}}
		check = func(r scReply) string {
			if scDig(r.data, "updateProject", "description") != desc {
				return fmt.Sprintf("updated project answered %s", r.raw)
			}
			return ""
		}
	}
	if strings.HasPrefix(query, "mutation") {
		l.writes.Add(1)
	}
	r, err := c.post(ctx, s, query, vars, tn.headers()...)
	if err != nil {
		l.report(false, "%s on %s: %v", tn.slug, s.addr, err)
		return
	}
	// Whatever was asked, the answer never names the other tenant's rows.
	if strings.Contains(string(r.raw), other.marker) {
		l.report(true, "%s on %s got a row of %s: %s", tn.slug, s.addr, other.slug, r.raw)
		return
	}
	if cross {
		l.crossReads.Add(1)
		// Another tenant's id is unknown here: null, or NOT_FOUND.
		if (scDig(r.data, "project") != nil || scDig(r.data, "node") != nil) || (r.code != "" && r.code != "NOT_FOUND") {
			l.report(r.code == "", "%s on %s read %s's project %s: %s", tn.slug, s.addr, other.slug, theirs, r.raw)
		}
		return
	}
	if r.status != 200 || len(r.errors) > 0 {
		l.report(false, "%s on %s: %d %s", tn.slug, s.addr, r.status, r.raw)
		return
	}
	if leak := check(r); leak != "" {
		l.report(true, "%s on %s: %s", tn.slug, s.addr, leak)
	}
}

// summary is one line for the test log.
func (l *scLoad) summary(took time.Duration) string {
	per := make([]int64, len(l.perServer))
	for i := range l.perServer {
		per[i] = l.perServer[i].Load()
	}
	return fmt.Sprintf("%d requests (%d writes, %d reads of the other tenant's ids) from %d clients in %s (%.0f/s), per server %v",
		l.requests.Load(), l.writes.Load(), l.crossReads.Load(), scLoadWorkers, took.Round(time.Millisecond),
		float64(l.requests.Load())/took.Seconds(), per)
}
