package api

import (
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clusterpedia-memgraph/memgraph/graph"
	"github.com/clusterpedia-memgraph/memgraph/index"
)

// Version is memgraph's version, reported by memgraph_build_info. Set it at build time:
//
//	go build -ldflags "-X github.com/clusterpedia-memgraph/memgraph/api.Version=v0.1.0"
var Version = "dev"

// Metrics is memgraph's private Prometheus registry. It never touches the default
// registry (the host process owns that one). Every gauge is updated incrementally — from
// the store's committed changes (it is an index.Observer), from the relationship hook's
// maintained counters, and from the durations the adapter and the API report — so a
// scrape never walks the store.
type Metrics struct {
	reg *prometheus.Registry

	objects      *prometheus.GaugeVec
	bytes        *prometheus.GaugeVec
	writes       *prometheus.HistogramVec
	queries      *prometheus.HistogramVec
	edges        *prometheus.GaugeVec
	placeholders prometheus.Gauge
	requests     *prometheus.CounterVec

	mu       sync.Mutex
	resource map[resourceKey]*resourceGauges
	rel      *index.Relations
	lastRel  index.RelationStats
	edgeG    [graph.NumRelations]prometheus.Gauge
}

type resourceKey struct {
	cluster string
	gvr     index.GVR
}

type resourceGauges struct {
	count, bytes int64
	objects      prometheus.Gauge
	stored       prometheus.Gauge
}

// NewMetrics creates the registry with every memgraph metric registered.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), resource: map[resourceKey]*resourceGauges{}}
	gvrLabels := []string{"cluster", "group", "version", "resource"}
	m.objects = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "memgraph", Name: "objects",
		Help: "Objects stored, per member cluster and storage group/version/resource."}, gvrLabels)
	m.bytes = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "memgraph", Name: "stored_bytes",
		Help: "Bytes of object JSON stored, per member cluster and storage group/version/resource."}, gvrLabels)
	m.writes = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "memgraph", Name: "write_duration_seconds",
		Help: "Duration of storage writes, by operation.", Buckets: prometheus.ExponentialBuckets(1e-6, 4, 11)}, []string{"operation"})
	m.queries = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "memgraph", Name: "query_duration_seconds",
		Help: "Duration of queries (storage reads and graph API), by operation.", Buckets: prometheus.ExponentialBuckets(1e-5, 4, 11)}, []string{"operation"})
	m.edges = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "memgraph", Name: "graph_edges",
		Help: "Relationship graph edges, by relation kind."}, []string{"kind"})
	m.placeholders = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "memgraph", Name: "graph_placeholder_nodes",
		Help: "Objects referenced (by name or owner UID) that are not stored."})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "memgraph", Name: "http_requests_total",
		Help: "Requests served by memgraph's HTTP port, by route and status code."}, []string{"route", "code"})
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "memgraph", Name: "build_info",
		Help: "Build information: always 1."}, []string{"version", "goversion", "revision"})
	revision := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	build.WithLabelValues(Version, runtime.Version(), revision).Set(1)
	m.reg.MustRegister(m.objects, m.bytes, m.writes, m.queries, m.edges, m.placeholders, m.requests, build)
	for r := graph.Relation(0); r < graph.NumRelations; r++ {
		m.edgeG[r] = m.edges.WithLabelValues(r.String())
	}
	return m
}

// Registry is the private registry (serve it, or gather it in tests).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// TrackRelations makes the edge and placeholder gauges follow the hook's counters (set by
// the hook's goroutine whenever it publishes a new graph state) and exports its lag and
// failures.
func (m *Metrics) TrackRelations(r *index.Relations) {
	m.mu.Lock()
	m.rel = r
	m.mu.Unlock()
	m.setRelations(r.Current())
	r.OnUpdate(m.setRelations)
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "memgraph", Name: "graph_lag_commits",
			Help: "Commits whose changes the relationship graph has not applied yet (it is maintained on its own goroutine; graph queries wait for it)."},
			func() float64 { return float64(r.Status().Lag) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "memgraph", Name: "graph_update_failures_total",
			Help: "Relationship graph updates that failed (panicked); each was recovered by rebuilding the graph from the stored objects."},
			func() float64 { return float64(r.Status().Failures) }),
	)
}

// ObserveWrite records the duration of one storage write ("create", "update", "delete",
// "clean_cluster", ...).
func (m *Metrics) ObserveWrite(op string, d time.Duration) {
	m.writes.WithLabelValues(op).Observe(d.Seconds())
}

// ObserveQuery records the duration of one query ("list", "get", "graph", ...).
func (m *Metrics) ObserveQuery(op string, d time.Duration) {
	m.queries.WithLabelValues(op).Observe(d.Seconds())
}

func (m *Metrics) gauges(k resourceKey) *resourceGauges {
	g := m.resource[k]
	if g == nil {
		lv := []string{k.cluster, k.gvr.Group, k.gvr.Version, k.gvr.Resource}
		g = &resourceGauges{objects: m.objects.WithLabelValues(lv...), stored: m.bytes.WithLabelValues(lv...)}
		m.resource[k] = g
	}
	return g
}

func (m *Metrics) drop(k resourceKey) {
	lv := []string{k.cluster, k.gvr.Group, k.gvr.Version, k.gvr.Resource}
	m.objects.DeleteLabelValues(lv...)
	m.bytes.DeleteLabelValues(lv...)
	delete(m.resource, k)
}

func (m *Metrics) adjust(k resourceKey, dc, db int64) {
	g := m.gauges(k)
	g.count += dc
	g.bytes += db
	if g.count <= 0 {
		m.drop(k)
		return
	}
	g.objects.Set(float64(g.count))
	g.stored.Set(float64(g.bytes))
}

// Observe implements index.Observer: it applies each committed change to the gauges.
func (m *Metrics) Observe(changes []index.Change) {
	m.mu.Lock()
	for i := range changes {
		ch := &changes[i]
		switch ch.Kind {
		case index.ChangeCreate:
			m.adjust(resourceKey{ch.New.Cluster, ch.New.GVR}, 1, int64(len(ch.New.Object)))
		case index.ChangeUpdate:
			if ch.Old.GVR != ch.New.GVR {
				m.adjust(resourceKey{ch.Old.Cluster, ch.Old.GVR}, -1, -int64(len(ch.Old.Object)))
				m.adjust(resourceKey{ch.New.Cluster, ch.New.GVR}, 1, int64(len(ch.New.Object)))
			} else if d := int64(len(ch.New.Object) - len(ch.Old.Object)); d != 0 {
				m.adjust(resourceKey{ch.New.Cluster, ch.New.GVR}, 0, d)
			}
		case index.ChangeDelete:
			m.adjust(resourceKey{ch.Old.Cluster, ch.Old.GVR}, -1, -int64(len(ch.Old.Object)))
		case index.ChangeCleanCluster:
			for k := range m.resource {
				if k.cluster == ch.Cluster {
					m.drop(k)
				}
			}
		case index.ChangeCleanResource:
			m.drop(resourceKey{ch.Cluster, ch.GVR})
		}
	}
	m.mu.Unlock()
}

// catchUp waits (bounded) until the relationship graph has applied every commit made so
// far, so that the graph gauges — set by the hook when it publishes — describe them. The
// /metrics handler calls it before gathering.
func (m *Metrics) catchUp() {
	m.mu.Lock()
	r := m.rel
	m.mu.Unlock()
	if r != nil {
		r.Stats()
	}
}

// setRelations sets the graph gauges to st.
func (m *Metrics) setRelations(st index.RelationStats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st == m.lastRel {
		return
	}
	for r := range st.Edges {
		if st.Edges[r] != m.lastRel.Edges[r] {
			m.edgeG[r].Set(float64(st.Edges[r]))
		}
	}
	m.placeholders.Set(float64(st.Placeholders))
	m.lastRel = st
}

// Resync sets the object gauges from a snapshot's per-resource counters (cheap: one row
// per cluster and resource). Use it after the store was filled without observers, e.g.
// restored from a snapshot.
func (m *Metrics) Resync(v *index.View) {
	m.mu.Lock()
	seen := map[resourceKey]bool{}
	for _, st := range v.Stats("") {
		k := resourceKey{st.Cluster, st.GVR}
		seen[k] = true
		g := m.gauges(k)
		g.count, g.bytes = st.Count, st.Bytes
		g.objects.Set(float64(st.Count))
		g.stored.Set(float64(st.Bytes))
	}
	for k := range m.resource {
		if !seen[k] {
			m.drop(k)
		}
	}
	m.mu.Unlock()
}

// SnapshotStats is what persistence reports about its snapshots, as plain values.
type SnapshotStats struct {
	// LastSuccess is when the last snapshot completed; zero before the first one.
	LastSuccess time.Time
	// LastDuration is how long the last snapshot took.
	LastDuration time.Duration
	// Failures counts failed snapshots since start.
	Failures uint64
	// Snapshots counts completed snapshots since start.
	Snapshots uint64
}

// RegisterSnapshot adds memgraph_snapshot_age_seconds (absent before the first snapshot),
// memgraph_snapshot_duration_seconds, memgraph_snapshots_total and
// memgraph_snapshot_failures_total, read from fn at scrape time (fn must be cheap: it
// returns values persistence keeps anyway). Call it once.
func (m *Metrics) RegisterSnapshot(fn func() SnapshotStats) error {
	return m.reg.Register(&snapshotCollector{fn: fn, now: time.Now})
}

type snapshotCollector struct {
	fn  func() SnapshotStats
	now func() time.Time
}

var (
	snapAgeDesc = prometheus.NewDesc("memgraph_snapshot_age_seconds",
		"Seconds since the last successful snapshot (absent before the first one).", nil, nil)
	snapDurDesc = prometheus.NewDesc("memgraph_snapshot_duration_seconds",
		"Duration of the last successful snapshot.", nil, nil)
	snapTotalDesc = prometheus.NewDesc("memgraph_snapshots_total",
		"Snapshots completed since start.", nil, nil)
	snapFailDesc = prometheus.NewDesc("memgraph_snapshot_failures_total",
		"Snapshots that failed since start.", nil, nil)
)

func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- snapAgeDesc
	ch <- snapDurDesc
	ch <- snapTotalDesc
	ch <- snapFailDesc
}

func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.fn()
	if !st.LastSuccess.IsZero() {
		ch <- prometheus.MustNewConstMetric(snapAgeDesc, prometheus.GaugeValue, c.now().Sub(st.LastSuccess).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(snapDurDesc, prometheus.GaugeValue, st.LastDuration.Seconds())
	ch <- prometheus.MustNewConstMetric(snapTotalDesc, prometheus.CounterValue, float64(st.Snapshots))
	ch <- prometheus.MustNewConstMetric(snapFailDesc, prometheus.CounterValue, float64(st.Failures))
}
