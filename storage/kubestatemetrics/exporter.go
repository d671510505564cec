package kubestatemetrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	metricsstore "k8s.io/kube-state-metrics/v2/pkg/metrics_store"

	"github.com/clusterpedia-memgraph/memgraph/config"
	"github.com/clusterpedia-memgraph/memgraph/index"
)

// Options configure an Exporter.
type Options struct {
	FamilyOptions
	// Clusters limits the metrics to these member clusters; ClustersDenylist excludes
	// clusters (at most one of the two; nil: every cluster).
	Clusters, ClustersDenylist []string
	// Namespaces limits namespaced objects to these namespaces; NamespacesDenylist excludes
	// namespaces (at most one of the two). Cluster-scoped objects are always kept.
	Namespaces, NamespacesDenylist []string
	// MaxPending bounds the objects waiting to be rendered (default 262144).
	MaxPending int
}

// OptionsFromConfig maps the kubeStateMetrics section of the storage configuration.
func OptionsFromConfig(c config.KubeStateMetrics) Options {
	return Options{
		FamilyOptions: FamilyOptions{
			Resources:            c.Resources,
			MetricAllowlist:      c.MetricAllowlist,
			MetricDenylist:       c.MetricDenylist,
			MetricOptInList:      c.MetricOptInList,
			LabelsAllowlist:      c.MetricLabelsAllowlist,
			AnnotationsAllowlist: c.MetricAnnotationsAllowlist,
		},
		Clusters:           c.Clusters,
		ClustersDenylist:   c.ClustersDenylist,
		Namespaces:         c.Namespaces,
		NamespacesDenylist: c.NamespacesDenylist,
		MaxPending:         c.MaxPendingObjects,
	}
}

// Exporter keeps the kube-state-metrics series of every covered object of the store,
// rendered and ready to be written. It is an index.Observer: the write path only enqueues
// the committed changes; one renderer goroutine decodes each object's JSON into its typed
// Kubernetes object and renders its families into kube-state-metrics' MetricsStore, in
// commit order per object. A scrape only copies the rendered bytes (WriteTo, Handler).
//
// The rendered series are sharded per (cluster, resource, namespace) — one
// kube-state-metrics MetricsStore each, never empty — so a scrape of one cluster or
// namespace touches only its shards, and every family is written once with its HELP and
// TYPE lines followed by the series of every selected shard.
type Exporter struct {
	fams        [numKinds]*kindFamilies
	clusterOK   func(string) bool // nil: every cluster
	namespaceOK func(string) bool // nil: every namespace
	// excludedBy names the configuration key that excludes a cluster ("" when none does).
	excludedBy string

	q        *queue
	live     atomic.Bool // observing: set when Start took the view the rebuild renders
	started  atomic.Bool
	closed   atomic.Bool
	stopOnce sync.Once
	stop     chan struct{} // closed by Stop: wakes a yielding renderer
	done     chan struct{} // closed when the renderer exits
	store    atomic.Pointer[index.Store]

	// Pacing: changes observed so far, and how many Sync calls wait.
	changes atomic.Int64
	waiting atomic.Int32

	// Renderer-owned.
	state        map[string]*clusterState
	loggedDecode map[[2]string]bool
	busy         time.Duration // rendering time since the last pace decision
	paceAt       time.Time     // when, and at which change count, pace last decided
	paceChanges  int64

	// mu guards the shard set: scrapes read it (and write while holding the read lock),
	// the renderer changes it.
	mu     sync.RWMutex
	shards map[string]*clusterShards

	objects      atomic.Int64
	decodeErrors atomic.Uint64
}

// clusterShards are one cluster's shards per kind, by namespace ("" for cluster-scoped
// kinds; the namespace's own name for Namespace objects).
type clusterShards struct {
	kinds [numKinds]map[string]*shard
}

type shard struct {
	namespace string
	store     *metricsstore.MetricsStore
	n         int // objects; renderer-owned
}

type nsName struct{ namespace, name string }

type objState struct {
	uid   types.UID
	shard *shard
}

type clusterState struct {
	objects [numKinds]map[nsName]objState
}

// New builds the family generators (errors name what kube-state-metrics rejected).
func New(o Options) (*Exporter, error) {
	fams, err := buildFamilies(o.FamilyOptions)
	if err != nil {
		return nil, err
	}
	if len(o.Clusters) > 0 && len(o.ClustersDenylist) > 0 {
		return nil, errors.New("set at most one of the cluster allowlist and denylist")
	}
	if len(o.Namespaces) > 0 && len(o.NamespacesDenylist) > 0 {
		return nil, errors.New("set at most one of the namespace allowlist and denylist")
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 1 << 18
	}
	e := &Exporter{
		fams:         fams,
		q:            newQueue(o.MaxPending),
		stop:         make(chan struct{}),
		done:         make(chan struct{}),
		paceAt:       time.Now(),
		state:        map[string]*clusterState{},
		loggedDecode: map[[2]string]bool{},
		shards:       map[string]*clusterShards{},
	}
	switch {
	case len(o.Clusters) > 0:
		e.clusterOK, e.excludedBy = memberOf(o.Clusters, true), "kubeStateMetrics.clusters"
	case len(o.ClustersDenylist) > 0:
		e.clusterOK, e.excludedBy = memberOf(o.ClustersDenylist, false), "kubeStateMetrics.clustersDenylist"
	}
	switch {
	case len(o.Namespaces) > 0:
		e.namespaceOK = memberOf(o.Namespaces, true)
	case len(o.NamespacesDenylist) > 0:
		e.namespaceOK = memberOf(o.NamespacesDenylist, false)
	}
	return e, nil
}

func memberOf(list []string, want bool) func(string) bool {
	set := make(map[string]bool, len(list))
	for _, v := range list {
		set[v] = true
	}
	return func(v string) bool { return set[v] == want }
}

// covers reports whether objects of kind k in cluster/namespace are rendered.
func (e *Exporter) covers(k int, cluster, namespace string) bool {
	if k < 0 || e.fams[k] == nil {
		return false
	}
	if e.clusterOK != nil && !e.clusterOK(cluster) {
		return false
	}
	return !kinds[k].namespaced || e.namespaceOK == nil || e.namespaceOK(namespace)
}

// Observe implements index.Observer: it enqueues the committed changes of covered objects
// (before Start it ignores them: Start renders the store as it is then).
func (e *Exporter) Observe(changes []index.Change) {
	if !e.live.Load() {
		return
	}
	e.changes.Add(int64(len(changes)))
	q := e.q
	q.mu.Lock()
	defer q.mu.Unlock()
	for i := range changes {
		ch := &changes[i]
		switch ch.Kind {
		case index.ChangeCreate, index.ChangeUpdate:
			r := ch.New
			if k := kindOf(r.GVR); e.covers(k, r.Cluster, r.Namespace) {
				q.pushObject(objKey{r.Cluster, k, r.Namespace, r.Name}, r)
			}
		case index.ChangeDelete:
			r := ch.Old
			if k := kindOf(r.GVR); e.covers(k, r.Cluster, r.Namespace) {
				q.pushObject(objKey{r.Cluster, k, r.Namespace, r.Name}, nil)
			}
		case index.ChangeCleanCluster:
			q.pushMarker(&op{kind: opCleanCluster, key: objKey{cluster: ch.Cluster}})
		case index.ChangeCleanResource:
			if k := kindOf(ch.GVR); k >= 0 && e.fams[k] != nil {
				q.pushMarker(&op{kind: opCleanResource, key: objKey{cluster: ch.Cluster, kind: k}})
			}
		}
	}
}

// Start renders every covered object of s in the background and from then on follows the
// committed changes. The snapshot it renders is taken under the store's write lock, so
// every later commit is observed after it.
func (e *Exporter) Start(s *index.Store) error {
	if s == nil {
		return errors.New("kube-state-metrics: nil store")
	}
	if !e.started.CompareAndSwap(false, true) {
		return errors.New("kube-state-metrics: already started")
	}
	e.store.Store(s)
	s.ViewWith(func(v *index.View) {
		e.q.mu.Lock()
		e.q.pushMarker(&op{kind: opRebuild, view: v})
		e.q.mu.Unlock()
		e.live.Store(true)
	})
	go e.run()
	return nil
}

// Stop stops the renderer (what is rendered stays readable) and waits for it, bounded by
// ctx. Later changes are ignored.
func (e *Exporter) Stop(ctx context.Context) error {
	e.closed.Store(true)
	e.live.Store(false)
	e.stopOnce.Do(func() { close(e.stop) })
	e.q.close()
	if !e.started.Load() {
		return nil
	}
	select {
	case <-e.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("kube-state-metrics renderer: %w", ctx.Err())
	}
}

// Sync waits until every change committed before the call is rendered (bounded by ctx).
func (e *Exporter) Sync(ctx context.Context) error {
	if !e.started.Load() {
		return errors.New("kube-state-metrics: not started")
	}
	done := make(chan struct{})
	e.waiting.Add(1) // the renderer stops yielding to writers
	defer e.waiting.Add(-1)
	e.q.mu.Lock()
	e.q.pushMarker(&op{kind: opBarrier, done: done})
	e.q.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats are counters of an Exporter.
type Stats struct {
	// Objects whose series are rendered.
	Objects int64
	// Queued operations waiting for the renderer.
	Queued int
	// DecodeErrors counts stored objects that could not be decoded (they have no series).
	DecodeErrors uint64
}

// Stats returns the current counters.
func (e *Exporter) Stats() Stats {
	return Stats{Objects: e.objects.Load(), Queued: e.q.len(), DecodeErrors: e.decodeErrors.Load()}
}

// --- renderer ---

// Rendering yields to bursts of writes. Decoding and rendering an object costs several
// times what storing it does (a Pod: ≈60 µs to decode and ≈180 µs to render, with ≈60 KB
// of garbage, against ≈50 µs to ingest), and rendering alongside a burst slows the burst
// down by more than its CPU share: its garbage makes the collector mark the whole store
// more often, and the writers pay for that in mark assists. Up to burstRate changes per
// second the renderer follows in real time (at most a fifth of a core); above it — an
// initial sync, a resync after a restart, a mass rollout — it sleeps yieldFactor times as
// long as it worked after each yieldSlice of work (2% of a core, so it never stops) and
// catches up at full speed when the burst is over. It does not yield while a Sync caller
// waits, nor when half of maxPending objects wait (the writers would soon wait for it).
const (
	burstRate   = 1000 // changes per second
	yieldSlice  = 10 * time.Millisecond
	yieldFactor = 49
)

func (e *Exporter) run() {
	defer close(e.done)
	buf := make([]*op, 0, 64)
	for {
		ops := e.q.take(64, buf)
		if ops == nil {
			return
		}
		for _, o := range ops {
			start := time.Now()
			e.apply(o)
			if o.kind != opRebuild { // the rebuild paces itself
				e.pace(time.Since(start))
			}
		}
	}
}

// pace accounts rendering time and, when a slice is used up during a burst of writes,
// yields.
func (e *Exporter) pace(d time.Duration) {
	e.busy += d
	if e.busy < yieldSlice {
		return
	}
	busy := e.busy
	e.busy = 0
	now, changes := time.Now(), e.changes.Load()
	rate := float64(changes-e.paceChanges) / now.Sub(e.paceAt).Seconds()
	e.paceAt, e.paceChanges = now, changes
	if rate < burstRate || e.waiting.Load() > 0 || e.q.npending.Load()*2 >= int64(e.q.max) {
		return
	}
	t := time.NewTimer(busy * yieldFactor)
	defer t.Stop()
	select {
	case <-t.C:
	case <-e.stop:
	}
}

func (e *Exporter) apply(o *op) {
	switch o.kind {
	case opUpsert:
		e.upsert(o.key, o.rec)
	case opDelete:
		e.remove(o.key)
	case opCleanCluster:
		e.dropCluster(o.key.cluster)
	case opCleanResource:
		e.dropKind(o.key.cluster, o.key.kind)
	case opRebuild:
		e.rebuild(o.view)
	case opBarrier:
		close(o.done)
	}
}

// shardNamespace is the shard an object belongs to: its namespace, a Namespace's own name
// (its series carry namespace="<name>"), "" for other cluster-scoped objects.
func shardNamespace(k int, key objKey) string {
	switch {
	case kinds[k].namespaced:
		return key.namespace
	case kinds[k].resource == "namespaces":
		return key.name
	}
	return ""
}

func (e *Exporter) decode(k int, rec *index.Record) (metav1.Object, error) {
	obj := kinds[k].newObject()
	if err := json.Unmarshal(rec.Object, obj); err != nil {
		return nil, err
	}
	if got := obj.(runtime.Object).GetObjectKind().GroupVersionKind().Kind; got != "" && got != kinds[k].kind {
		return nil, fmt.Errorf("stored object is a %s, not a %s", got, kinds[k].kind)
	}
	return obj, nil
}

func (e *Exporter) upsert(key objKey, rec *index.Record) {
	obj, err := e.decode(key.kind, rec)
	if err != nil {
		e.decodeErrors.Add(1)
		lk := [2]string{key.cluster, kinds[key.kind].resource}
		if !e.loggedDecode[lk] {
			e.loggedDecode[lk] = true
			klog.ErrorS(err, "memgraph kube-state-metrics: cannot decode a stored object; it has no series (further errors for this cluster and resource are counted, not logged)",
				"cluster", key.cluster, "resource", kinds[key.kind].gvr.String(), "namespace", key.namespace, "name", key.name)
		}
		e.remove(key)
		return
	}
	cs := e.state[key.cluster]
	if cs == nil {
		cs = &clusterState{}
		e.state[key.cluster] = cs
	}
	objs := cs.objects[key.kind]
	if objs == nil {
		objs = map[nsName]objState{}
		cs.objects[key.kind] = objs
	}
	nk := nsName{key.namespace, key.name}
	uid := obj.GetUID()
	if old, ok := objs[nk]; ok {
		if old.uid == uid {
			_ = old.shard.store.Update(obj) // replaces the object's series (same UID)
			return
		}
		e.dropObject(key.cluster, key.kind, old)
	} else {
		e.objects.Add(1)
	}
	ns := shardNamespace(key.kind, key)
	sh := e.shards[key.cluster].get(key.kind, ns)
	if sh != nil {
		_ = sh.store.Add(obj)
		sh.n++
	} else {
		f := e.fams[key.kind]
		sh = &shard{namespace: ns, n: 1, store: metricsstore.NewMetricsStore(f.headers, generateFunc(key.cluster, f.generators))}
		_ = sh.store.Add(obj) // rendered before it is visible: a visible shard is never empty
		e.mu.Lock()
		cls := e.shards[key.cluster]
		if cls == nil {
			cls = &clusterShards{}
			e.shards[key.cluster] = cls
		}
		if cls.kinds[key.kind] == nil {
			cls.kinds[key.kind] = map[string]*shard{}
		}
		cls.kinds[key.kind][ns] = sh
		e.mu.Unlock()
	}
	objs[nk] = objState{uid: uid, shard: sh}
}

func (c *clusterShards) get(k int, ns string) *shard {
	if c == nil {
		return nil
	}
	return c.kinds[k][ns]
}

// dropObject removes one object's series; its shard leaves the set with its last object.
func (e *Exporter) dropObject(cluster string, k int, st objState) {
	sh := st.shard
	sh.n--
	if sh.n > 0 {
		_ = sh.store.Delete(&metav1.ObjectMeta{UID: st.uid})
		return
	}
	e.mu.Lock()
	if cls := e.shards[cluster]; cls != nil && cls.kinds[k][sh.namespace] == sh {
		delete(cls.kinds[k], sh.namespace)
		if len(cls.kinds[k]) == 0 {
			cls.kinds[k] = nil
			if cls.empty() {
				delete(e.shards, cluster)
			}
		}
	}
	e.mu.Unlock()
}

func (c *clusterShards) empty() bool {
	for _, m := range c.kinds {
		if m != nil {
			return false
		}
	}
	return true
}

func (e *Exporter) remove(key objKey) {
	cs := e.state[key.cluster]
	if cs == nil {
		return
	}
	nk := nsName{key.namespace, key.name}
	st, ok := cs.objects[key.kind][nk]
	if !ok {
		return
	}
	delete(cs.objects[key.kind], nk)
	e.objects.Add(-1)
	e.dropObject(key.cluster, key.kind, st)
}

func (e *Exporter) dropCluster(cluster string) {
	e.mu.Lock()
	delete(e.shards, cluster)
	e.mu.Unlock()
	if cs := e.state[cluster]; cs != nil {
		for _, m := range cs.objects {
			e.objects.Add(-int64(len(m)))
		}
		delete(e.state, cluster)
	}
}

func (e *Exporter) dropKind(cluster string, k int) {
	e.mu.Lock()
	if cls := e.shards[cluster]; cls != nil {
		cls.kinds[k] = nil
		if cls.empty() {
			delete(e.shards, cluster)
		}
	}
	e.mu.Unlock()
	if cs := e.state[cluster]; cs != nil {
		e.objects.Add(-int64(len(cs.objects[k])))
		cs.objects[k] = nil
	}
}

// rebuild drops everything and renders every covered object of v.
func (e *Exporter) rebuild(v *index.View) {
	e.mu.Lock()
	e.shards = map[string]*clusterShards{}
	e.mu.Unlock()
	e.state = map[string]*clusterState{}
	e.objects.Store(0)
	for _, c := range v.Clusters() {
		for k := range kinds {
			if e.fams[k] == nil || (e.clusterOK != nil && !e.clusterOK(c)) {
				continue
			}
			v.Scan(c, kinds[k].gvr, func(r *index.Record) bool {
				if e.closed.Load() {
					return false
				}
				if e.covers(k, c, r.Namespace) {
					start := time.Now()
					e.upsert(objKey{c, k, r.Namespace, r.Name}, r)
					e.pace(time.Since(start))
				}
				return true
			})
		}
	}
}

// --- scrape ---

// Selection narrows a scrape; nil fields select everything.
type Selection struct {
	// Clusters to write.
	Clusters []string
	// Namespaces to write: the series of namespaced objects in them and of the Namespace
	// objects themselves (both carry namespace="<name>"); cluster-scoped objects are left
	// out.
	Namespaces []string
	// Families to write (exact metric family names).
	Families []string
}

// WriteTo writes the selected series in the Prometheus text format: per resource, per
// family, the family's HELP and TYPE lines, then its series in every selected cluster and
// namespace (clusters and namespaces sorted; objects within a shard in
// kube-state-metrics' order). It holds the shard set's read lock while it writes.
func (e *Exporter) WriteTo(w io.Writer, sel Selection) error {
	if sel.Families != nil {
		w = newFamilyFilter(w, sel.Families)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	clusters := sel.Clusters
	if clusters == nil {
		clusters = make([]string, 0, len(e.shards))
		for c := range e.shards {
			clusters = append(clusters, c)
		}
	} else {
		clusters = sortedUnique(clusters)
	}
	sort.Strings(clusters)
	var namespaces []string
	if sel.Namespaces != nil {
		namespaces = sortedUnique(sel.Namespaces)
	}
	var stores []*metricsstore.MetricsStore
	var keys []string
	for k := range kinds {
		stores = stores[:0]
		for _, c := range clusters {
			m := e.shards[c].kindShards(k)
			if len(m) == 0 {
				continue
			}
			if namespaces != nil {
				for _, ns := range namespaces {
					if sh := m[ns]; sh != nil && (kinds[k].namespaced || kinds[k].resource == "namespaces") {
						stores = append(stores, sh.store)
					}
				}
				continue
			}
			keys = keys[:0]
			for ns := range m {
				keys = append(keys, ns)
			}
			sort.Strings(keys)
			for _, ns := range keys {
				stores = append(stores, m[ns].store)
			}
		}
		if len(stores) == 0 {
			continue
		}
		if err := metricsstore.NewMetricsWriter(stores...).WriteAll(w); err != nil {
			return err
		}
	}
	return nil
}

func (c *clusterShards) kindShards(k int) map[string]*shard {
	if c == nil {
		return nil
	}
	return c.kinds[k]
}

// hasCluster reports whether any series of cluster is rendered.
func (e *Exporter) hasCluster(cluster string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.shards[cluster] != nil
}

func sortedUnique(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	n := 0
	for i, v := range out {
		if i == 0 || v != out[n-1] {
			out[n] = v
			n++
		}
	}
	return out[:n]
}
