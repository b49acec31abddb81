package viewercache

import "github.com/prometheus/client_golang/prometheus"

// Collector exports the cache's state: whether it answers (its feed is up
// and heard its probe) and how its lookups went while it did.
func (c *Cache) Collector() prometheus.Collector { return collector{c} }

type collector struct{ c *Cache }

var (
	liveDesc = prometheus.NewDesc("clientiq_viewer_cache_live",
		"1 while the viewer cache answers (its invalidation feed is up), else 0.", nil, nil)
	lookupsDesc = prometheus.NewDesc("clientiq_viewer_cache_lookups_total",
		"Viewer cache lookups while it answered, by result (hit: the viewer was not read from the database).", []string{"result"}, nil)
)

func (m collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- liveDesc
	ch <- lookupsDesc
}

func (m collector) Collect(ch chan<- prometheus.Metric) {
	live := 0.0
	if m.c.Live() {
		live = 1
	}
	ch <- prometheus.MustNewConstMetric(liveDesc, prometheus.GaugeValue, live)
	ch <- prometheus.MustNewConstMetric(lookupsDesc, prometheus.CounterValue, float64(m.c.hits.Load()), "hit")
	ch <- prometheus.MustNewConstMetric(lookupsDesc, prometheus.CounterValue, float64(m.c.misses.Load()), "miss")
}
