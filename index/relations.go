package index

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/clusterpedia-memgraph/memgraph/graph"
)

// RelationStats counts the relationship graph: edges by relation kind (owner edges count
// every ownerReference of every stored object) and placeholder nodes (targets referenced by
// name or by owner UID that are not stored). External RBAC subjects are not placeholders.
type RelationStats struct {
	Edges        [graph.NumRelations]int64
	Placeholders int64
}

func (s *RelationStats) add(o *RelationStats, sign int64) {
	for i := range s.Edges {
		s.Edges[i] += sign * o.Edges[i]
	}
	s.Placeholders += sign * o.Placeholders
}

// Relations is the TxnHook that maintains the relationship graph incrementally from the
// changes of every commit (never by scanning the store — except CleanResource, which
// rebuilds the one cluster it touches).
//
// It does not run inside the write transaction. The store hands it each commit's changes
// and read transaction as it publishes the commit; a goroutine of the hook's own (started
// when work arrives, gone when there is none) applies every change queued since its last
// pass in one batch, against the newest of those commits, and publishes the new graph
// state with that commit's read transaction. Writers therefore never wait for the graph,
// and a burst of writes (a cluster's initial sync, a restore) costs the graph one
// copy-on-write generation per pass instead of one per write. Readers of the graph
// (View.Relations) wait until it has caught up with their own commit.
//
// What it keeps, per cluster, in persistent maps hanging off one root:
//
//   - src: for every object with name references or a selector, its outgoing references
//     (graph.Extract) and its node metadata;
//   - rev: for every referenced target (group, kind, namespace, name), who refers to it —
//     so a target that arrives later resolves without rewriting edges, and a target that is
//     not stored is a placeholder;
//   - pod groups: Pods with the same namespace, labels, owners and references (the replicas
//     of one ReplicaSet) share one group, which carries the references and the selector
//     matches once for all of them; a Pod only adds itself to its group and to its Node;
//   - selectors (Service, PodDisruptionBudget, NetworkPolicy) indexed by one of their
//     key=value requirements (or "evaluate always"), and the pod groups each one matches.
//     Selectors are maintained from both sides: a new pod group is matched against the
//     selectors of its namespace, a new or changed selector against the pod groups.
//   - owners: for every owner UID, how many groups or objects refer to it (placeholders).
//
// Owner edges themselves are read from the records' ownerReferences and their uid_refs rows.
type Relations struct {
	// store is the store the hook is attached to (New attaches it); its registry (reg) maps
	// names to the compact ids that identity lookups of targets need.
	store *Store
	reg   *registry

	// state is the newest graph state: the graph of commit seq, with that commit's read
	// transaction.
	state atomic.Pointer[graphState]

	mu sync.Mutex // guards the queue
	// queue holds the changes of the commits not applied yet; queueRead and enqueued are
	// the newest of those commits. running: the goroutine is on its way.
	queue     []Change
	queueRead *readState
	enqueued  uint64
	running   bool
	held      bool // tests: commits queue up until release
	// waiters counts readers waiting for the graph; wake, when set, ends the goroutine's
	// linger (closed by a reader that starts waiting or by a queue that grew large).
	waiters int
	wake    chan struct{}
	// failOn (tests) makes applying a change panic when it returns true.
	failOn func(*Change) bool

	// busy is the time spent applying batches; failures counts batches that panicked (the
	// graph was then rebuilt from the commit's records); lastErr is the newest such panic.
	busy     atomic.Int64
	batches  atomic.Int64
	failures atomic.Int64
	lastErr  atomic.Pointer[string]
	// listener is told the counts of every new graph state (OnUpdate).
	listener atomic.Pointer[func(RelationStats)]
}

// graphState is one published graph state. done is closed when a newer one replaces it.
type graphState struct {
	root *relRoot
	read *readState // the commit it is the graph of
	done chan struct{}
}

// graphLinger and graphBatch: see Relations.run.
const (
	graphLinger = time.Millisecond
	graphBatch  = 4096
)

// graphQueueMax is the backlog of queued changes beyond which writers wait for the graph
// (enqueue); a variable for tests.
var graphQueueMax = 1 << 18

// graphWait bounds how long a reader waits for the graph to catch up with its commit; after
// it, the reader gets the newest graph state there is.
var graphWait atomic.Int64 // a time.Duration

func init() { graphWait.Store(int64(10 * time.Second)) }

// attach binds the hook to the store built with it; a hook serves one store, and a store
// runs one Relations hook.
func (r *Relations) attach(s *Store) error {
	switch {
	case r.store == s:
		return errors.New("index.Relations is listed twice in Options.Hooks")
	case r.store != nil:
		return errors.New("index.Relations is already attached to another store; create one per store")
	case s.rel != nil:
		return errors.New("a store runs one index.Relations hook")
	}
	r.store, r.reg = s, s.reg
	s.rel = r
	return nil
}

// NewRelations returns the hook; pass it in Options.Hooks.
func NewRelations() *Relations { return &Relations{} }

// Stats returns the graph counts once the graph has caught up with every commit made
// before the call (waiting up to graphWait).
func (r *Relations) Stats() RelationStats {
	if r.store == nil {
		return RelationStats{}
	}
	if root := r.waitFor(r.store.read.Load().seq).root; root != nil {
		return root.stats
	}
	return RelationStats{}
}

// Current returns the counts of the newest graph state, without waiting for the graph to
// catch up with the latest commits.
func (r *Relations) Current() RelationStats {
	if st := r.state.Load(); st != nil && st.root != nil {
		return st.root.stats
	}
	return RelationStats{}
}

// OnUpdate registers fn (replacing an earlier one): it is called on the hook's goroutine
// with the counts of every new graph state, before readers can see that state. fn must be
// quick and must not call back into the store.
func (r *Relations) OnUpdate(fn func(RelationStats)) { r.listener.Store(&fn) }

// RelationsStatus describes the hook's goroutine.
type RelationsStatus struct {
	// Lag is the number of commits whose changes are queued or being applied.
	Lag uint64
	// Batches counts the passes so far, Busy their total duration.
	Batches int64
	Busy    time.Duration
	// Failures counts passes that panicked; each was recovered by rebuilding the graph from
	// the records of its commit. LastError is the newest panic ("" when none).
	Failures  int64
	LastError string
}

// Status reports the hook's progress and failures without waiting.
func (r *Relations) Status() RelationsStatus {
	st := RelationsStatus{Batches: r.batches.Load(), Busy: time.Duration(r.busy.Load()), Failures: r.failures.Load()}
	if e := r.lastErr.Load(); e != nil {
		st.LastError = *e
	}
	if g := r.state.Load(); g != nil {
		r.mu.Lock()
		if r.enqueued > g.read.seq {
			st.Lag = r.enqueued - g.read.seq
		}
		r.mu.Unlock()
	}
	return st
}

// Tables adds none: the graph state is kept outside memdb (one pointer per state; a memdb
// row cost a radix insert and its bookkeeping in every transaction).
func (r *Relations) Tables() map[string]*memdb.TableSchema { return nil }

// errNotAttached: the hook was not given to index.New (or hides behind a wrapper without
// Unwrap), so it has no store to keep its graph in.
var errNotAttached = errors.New("index.Relations is not attached to a store: pass it in index.Options.Hooks (a wrapping hook must implement Unwrap)")

// Apply is never called for an attached hook (the store hands it commits instead); called
// through a wrapper the store cannot see through, it refuses the transaction.
func (r *Relations) Apply(txn *memdb.Txn, changes []Change) error {
	if r.store == nil {
		return errNotAttached
	}
	return nil
}

// enqueue queues a commit's changes (s.mu held by the caller, so commits arrive in order)
// and starts the goroutine when it is not running.
func (r *Relations) enqueue(changes []Change, st *readState) {
	r.mu.Lock()
	if r.queue == nil {
		r.queue = changes[:len(changes):len(changes)] // appending copies: never the writer's slice
	} else {
		r.queue = append(r.queue, changes...)
	}
	r.queueRead, r.enqueued = st, st.seq
	start := !r.running && !r.held
	r.running = r.running || start
	if len(r.queue) >= graphBatch {
		r.endLinger()
	}
	backlog := len(r.queue) > graphQueueMax && len(r.queue) > len(changes)
	r.mu.Unlock()
	if start {
		go r.run()
	}
	if backlog {
		// Back-pressure: the queue holds changes and the record versions they name, so when
		// writes outrun the graph for long, the writer (and with it the store's write lock)
		// waits until the graph has reached this commit (at most graphWait). One large
		// commit alone (a restore) never waits.
		r.waitFor(st.seq)
	}
}

// hold makes commits queue up until the returned release runs (tests of batches that span
// commits).
func (r *Relations) hold() (release func()) {
	r.mu.Lock()
	r.held = true
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		r.held = false
		start := !r.running && len(r.queue) > 0
		r.running = r.running || start
		r.mu.Unlock()
		if start {
			go r.run()
		}
	}
}

// run applies the queue until it is empty.
//
// A small queue nobody waits for lingers first (up to graphLinger, cut short when a reader
// starts waiting or the queue reaches graphBatch changes): a pass costs a fixed amount
// (a new root, the cluster maps, the paths of every persistent map it touches, copied once
// per pass), so letting a stream of single-object writes collect makes the graph's share
// of an initial sync several times smaller (BenchmarkRelationsIngest).
func (r *Relations) run() {
	var linger *time.Timer
	lingered := false
	for {
		r.mu.Lock()
		if len(r.queue) == 0 || r.held {
			r.running = false
			r.mu.Unlock()
			if linger != nil {
				linger.Stop()
			}
			return
		}
		if !lingered && len(r.queue) < graphBatch && r.waiters == 0 {
			wake := make(chan struct{})
			r.wake = wake
			r.mu.Unlock()
			if linger == nil {
				linger = time.NewTimer(graphLinger)
			} else {
				linger.Reset(graphLinger)
			}
			select {
			case <-wake:
				// No drain: with Go 1.23 timers nothing stale is left; with the older
				// asynchronous ones a stale tick only shortens the next linger.
				linger.Stop()
			case <-linger.C:
				r.mu.Lock()
				r.wake = nil
				r.mu.Unlock()
			}
			lingered = true
			continue
		}
		lingered = false
		changes, read := r.queue, r.queueRead
		r.queue, r.queueRead = nil, nil
		r.mu.Unlock()
		r.applyBatch(changes, read)
	}
}

// applyBatch applies changes (of the commits up to read) against read, the newest of those
// commits, and publishes the result. A panic never escapes: the graph is rebuilt from read's
// records instead, and if that fails too the graph is left empty (owner edges, read from the
// records, still work).
func (r *Relations) applyBatch(changes []Change, read *readState) {
	t0 := time.Now()
	prev := r.state.Load()
	prepared := prepareBatch(changes)
	root, err := r.build(func(a *applier) {
		a.base(prev.root)
		a.apply(changes, prepared)
	}, read)
	if err != nil {
		r.failures.Add(1)
		msg := err.Error()
		r.lastErr.Store(&msg)
		root, err = r.build(func(a *applier) { a.rebuildAll() }, read)
		if err != nil {
			root = nil
		}
	}
	if l := r.listener.Load(); l != nil {
		var st RelationStats
		if root != nil {
			st = root.stats
		}
		func() {
			defer func() { recover() }() // a listener's panic must not stop the graph
			(*l)(st)
		}()
	}
	next := &graphState{root: root, read: read, done: make(chan struct{})}
	r.state.Store(next)
	close(prev.done)
	r.batches.Add(1)
	r.busy.Add(int64(time.Since(t0)))
}

// build runs fill on a new applier over commit read and settles it, recovering a panic.
func (r *Relations) build(fill func(*applier), read *readState) (root *relRoot, err error) {
	defer func() {
		if p := recover(); p != nil {
			root, err = nil, fmt.Errorf("relationship graph update panicked: %v", p)
		}
	}()
	a := &applier{txn: read.txn, uids: read.uids, reg: r.reg, e: &pedit{}, root: &relRoot{}, failOn: r.failOn}
	fill(a)
	a.settle()
	return a.root, nil
}

// endLinger wakes the goroutine if it lingers (r.mu held).
func (r *Relations) endLinger() {
	if r.wake != nil {
		close(r.wake)
		r.wake = nil
	}
}

// waitFor returns the graph state of commit seq or a later one, waiting up to graphWait for
// it (only commits that changed something are waited for).
func (r *Relations) waitFor(seq uint64) *graphState {
	r.mu.Lock()
	if seq > r.enqueued {
		seq = r.enqueued
	}
	r.mu.Unlock()
	st := r.state.Load()
	if st.read.seq >= seq {
		return st
	}
	r.mu.Lock()
	r.waiters++
	r.endLinger()
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.waiters--
		r.mu.Unlock()
	}()
	timer := time.NewTimer(time.Duration(graphWait.Load()))
	defer timer.Stop()
	for st.read.seq < seq {
		select {
		case <-st.done:
			st = r.state.Load()
		case <-timer.C:
			return st
		}
	}
	return st
}

// relRoot is the whole graph state of one snapshot; immutable once committed.
type relRoot struct {
	clusters map[string]*relCluster
	stats    RelationStats
}

// tkey addresses a name-reference target within a cluster.
type tkey struct{ group, kind, ns, name string }

func (k tkey) hash() uint64 {
	var h maphash.Hash
	h.SetSeed(hashSeed)
	h.WriteString(k.group)
	h.WriteByte(0)
	h.WriteString(k.kind)
	h.WriteByte(0)
	h.WriteString(k.ns)
	h.WriteByte(0)
	h.WriteString(k.name)
	return h.Sum64()
}

// bkey is a selector bucket: (namespace, label key, value), or the namespace's
// evaluate-always bucket (all).
type bkey struct {
	ns, k, v string
	all      bool
}

func (k bkey) hash() uint64 {
	var h maphash.Hash
	h.SetSeed(hashSeed)
	h.WriteString(k.ns)
	h.WriteByte(0)
	if k.all {
		h.WriteByte(1)
		return h.Sum64()
	}
	h.WriteString(k.k)
	h.WriteByte(0)
	h.WriteString(k.v)
	return h.Sum64()
}

type relCluster struct {
	owner    *pedit
	src      pmap[skey, *relSrc]
	rev      pmap[tkey, *relRev]
	owners   pmap[skey, relOwned]
	groups   pmap[skey, *podGroup]
	nsGroups pmap[skey, *pset[struct{}]]
	// glIdx indexes pod groups by (namespace, label key, value) for the label keys some
	// selector of the namespace requires (selKeys): a new selector only evaluates the
	// groups carrying one of its key=value requirements, and a new group only looks at
	// the selector buckets of those keys.
	glIdx pmap[bkey, *pset[struct{}]]
	// selKeys lists, per namespace, the label keys glIdx indexes (only ever grows).
	selKeys pmap[skey, []string]
	sels    pmap[skey, *relSel]
	selIdx  pmap[bkey, *pset[struct{}]]
	stats   RelationStats
}

// relSrc is one source object: its node and its own references (for a Pod: only the
// Node reference; the rest is in its group).
type relSrc struct {
	node  *graph.Node
	refs  []graph.Ref
	group string       // pod group key
	one   [1]graph.Ref // storage of a Pod's Node reference
}

// relRev lists who refers to one target.
type relRev struct {
	owner  *pedit
	srcs   pmap[skey, *graph.Node] // source uid → node
	groups pmap[skey, struct{}]    // pod group keys
	ph     bool                    // placeholder: referenced and not stored
}

func (r *relRev) len() int { return r.srcs.n + r.groups.n }

// relOwned counts the units (pod groups, other objects) referring to an owner UID.
type relOwned struct {
	n  int32
	ph bool
}

type podGroup struct {
	owner   *pedit
	key     string
	ns      string
	labels  graph.Labels
	refs    []graph.Ref
	owners  []string
	members pmap[skey, *graph.Node]
	sels    pmap[skey, graph.Relation]
}

type relSel struct {
	owner  *pedit
	node   *graph.Node
	sel    *graph.Selector
	ns     string
	bucket bkey
	groups pmap[skey, struct{}]
}

// base starts the applier from root (nil: an empty graph).
func (a *applier) base(root *relRoot) {
	if root != nil {
		a.root.clusters = root.clusters
		a.root.stats = root.stats
	}
}

// apply applies a batch of changes in commit order against the final state (a.txn), as if
// they were one transaction. A clean of a resource rebuilds its cluster from the final
// state, which already holds every later change of that cluster: those are skipped.
func (a *applier) apply(changes []Change, prepared []*preparedRefs) {
	var rebuiltAt map[string]int
	cleans := false
	for i := range changes {
		switch changes[i].Kind {
		case ChangeCleanResource:
			if rebuiltAt == nil {
				rebuiltAt = map[string]int{}
			}
			rebuiltAt[changes[i].Cluster] = i
			cleans = true
		case ChangeCleanCluster:
			cleans = true
		}
	}
	if !cleans && len(changes) >= parallelApplyMin && runtime.GOMAXPROCS(0) > 1 && a.applyByCluster(changes, prepared) {
		return
	}
	for i := range changes {
		ch := &changes[i]
		if rebuiltAt != nil {
			if at, ok := rebuiltAt[changeCluster(ch)]; ok && i != at && (i > at || ch.Kind == ChangeCleanResource) {
				continue
			}
		}
		a.prepared = nil
		if prepared != nil {
			a.prepared = prepared[i]
		}
		a.change(ch)
	}
	a.prepared = nil
}

// parallelApplyMin is the batch size from which a pass spreads its work over the cores:
// prepareBatch and applyByCluster (a variable for tests).
var parallelApplyMin = 4096

// applyByCluster applies a large batch (without cleans) one cluster per goroutine, on every
// core: edges never cross clusters, and everything the applier changes for a change — the
// cluster's maps, its stats, the placeholders it settles — belongs to that change's cluster.
// Each goroutine has an applier of its own that shares the edit (every touched cluster is
// made editable first, so none of them writes the clusters map) and counts its own stats
// delta. It reports false (nothing done) for a batch of one cluster.
func (a *applier) applyByCluster(changes []Change, prepared []*preparedRefs) bool {
	byCluster := map[string][]int{}
	for i := range changes {
		c := changeCluster(&changes[i])
		byCluster[c] = append(byCluster[c], i)
	}
	if len(byCluster) < 2 {
		return false
	}
	names := make([]string, 0, len(byCluster))
	for name := range byCluster {
		names = append(names, name)
		a.cluster(name)
	}
	subs := make([]*applier, len(names))
	errs := make([]any, len(names))
	onEveryCore(len(names), 1, func(k int) {
		sub := &applier{txn: a.txn, uids: a.uids, reg: a.reg, e: a.e, failOn: a.failOn,
			root: &relRoot{clusters: a.root.clusters}, copiedMap: true}
		subs[k] = sub
		defer func() { errs[k] = recover() }()
		for _, i := range byCluster[names[k]] {
			sub.prepared = nil
			if prepared != nil {
				sub.prepared = prepared[i]
			}
			sub.change(&changes[i])
		}
		sub.prepared = nil
		sub.settle()
	})
	for k, sub := range subs {
		if errs[k] != nil {
			panic(errs[k]) // build recovers it and rebuilds
		}
		a.root.stats.add(&sub.root.stats, 1)
	}
	return true
}

// changeCluster is the cluster a change belongs to.
func changeCluster(ch *Change) string {
	switch {
	case ch.New != nil:
		return ch.New.Cluster
	case ch.Old != nil:
		return ch.Old.Cluster
	}
	return ch.Cluster
}

// rebuildAll builds the graph of every record of a.txn.
func (a *applier) rebuildAll() {
	it, err := a.txn.Get(TableRecords, IndexID)
	if err != nil {
		return
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		a.add(raw.(*Record))
	}
	a.modified = true
}

type clusterTarget struct {
	cluster string
	t       tkey
}

type clusterUID struct{ cluster, uid string }

type applier struct {
	failOn func(*Change) bool
	// prepared are the references Store.Prepare extracted for the change being applied.
	prepared  *preparedRefs
	refBuf    []graph.Ref
	keyBuf    []byte
	txn       *memdb.Txn // the records of the batch's newest commit
	uids      *memdb.Txn // and its TableUIDRefs
	reg       *registry
	e         *pedit
	root      *relRoot
	copiedMap bool
	modified  bool
	touchedT  map[clusterTarget]struct{}
	touchedO  map[clusterUID]struct{}
}

// cluster returns the editable state of a cluster, creating it.
func (a *applier) cluster(name string) *relCluster {
	a.modified = true
	c := a.root.clusters[name]
	if c != nil && c.owner == a.e {
		return c
	}
	if !a.copiedMap {
		m := make(map[string]*relCluster, len(a.root.clusters)+1)
		for k, v := range a.root.clusters {
			m[k] = v
		}
		a.root.clusters = m
		a.copiedMap = true
	}
	nc := &relCluster{}
	if c != nil {
		*nc = *c
	}
	nc.owner = a.e
	a.root.clusters[name] = nc
	return nc
}

func (a *applier) edges(c *relCluster, rel graph.Relation, d int64) {
	c.stats.Edges[rel] += d
	a.root.stats.Edges[rel] += d
}

func (a *applier) placeholders(c *relCluster, d int64) {
	c.stats.Placeholders += d
	a.root.stats.Placeholders += d
}

func (a *applier) change(ch *Change) {
	if a.failOn != nil && a.failOn(ch) {
		panic("failOn: " + ch.Kind.String())
	}
	switch ch.Kind {
	case ChangeCreate:
		a.add(ch.New)
	case ChangeDelete:
		a.remove(ch.Old)
	case ChangeUpdate:
		a.update(ch.Old, ch.New)
	case ChangeCleanCluster:
		a.dropCluster(ch.Cluster)
	case ChangeCleanResource:
		a.rebuildCluster(ch.Cluster)
	}
}

func (a *applier) dropCluster(name string) {
	c, ok := a.root.clusters[name]
	if !ok {
		return
	}
	a.cluster(name) // copies the map
	a.root.stats.add(&c.stats, -1)
	delete(a.root.clusters, name)
}

// rebuildCluster recomputes a cluster from the records left in the transaction: the
// clean removed records the hook cannot enumerate any more.
func (a *applier) rebuildCluster(name string) {
	a.dropCluster(name)
	var recs []*Record
	it, err := a.txn.Get(TableRecords, IndexID+"_prefix", name)
	if err != nil {
		return
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		recs = append(recs, raw.(*Record))
	}
	for _, r := range recs {
		a.add(r)
	}
	a.modified = true
}

func isPod(r *Record) bool { return r.GVR.Group == "" && r.GVR.Resource == "pods" }

func kindOf(r *Record) string {
	if r.Kind != "" {
		return r.Kind
	}
	k, _ := graph.KindFor(r.GVR.Group, r.GVR.Resource)
	return k
}

func srcKey(r *Record) skey {
	if r.UID != "" {
		return skey(r.UID)
	}
	return skey("\x00" + r.GVR.String() + "\x00" + r.Namespace + "\x00" + r.Name)
}

// NodeOf returns the graph node of a stored record (metadata only).
func NodeOf(r *Record) *graph.Node {
	return &graph.Node{Cluster: r.Cluster, Group: r.GVR.Group, Version: r.GVR.Version, Kind: kindOf(r),
		Resource: r.GVR.Resource, Namespace: r.Namespace, Name: r.Name, UID: r.UID}
}

func objectOf(r *Record) graph.Object {
	return graph.Object{Group: r.GVR.Group, Version: r.GVR.Version, Kind: kindOf(r), Namespace: r.Namespace, Name: r.Name, Labels: r.Labels}
}

func ownerUIDs(r *Record) int64 {
	var n int64
	for i := range r.Owners {
		if r.Owners[i].UID != "" {
			n++
		}
	}
	return n
}

// touchRecord marks the targets a record can satisfy, for placeholder settlement.
func (a *applier) touchRecord(c *relCluster, r *Record) {
	t := tkey{r.GVR.Group, kindOf(r), r.Namespace, r.Name}
	if c.rev.has(t) {
		if a.touchedT == nil {
			a.touchedT = map[clusterTarget]struct{}{}
		}
		a.touchedT[clusterTarget{r.Cluster, t}] = struct{}{}
	}
	if r.UID != "" && c.owners.has(skey(r.UID)) {
		if a.touchedO == nil {
			a.touchedO = map[clusterUID]struct{}{}
		}
		a.touchedO[clusterUID{r.Cluster, r.UID}] = struct{}{}
	}
}

// inert reports whether a record neither refers to anything nor is referred to: its write
// leaves the graph unchanged (ConfigMaps, Secrets, Nodes, ... nobody points at yet).
func (a *applier) inert(r *Record) bool {
	if isPod(r) || len(r.Owners) > 0 || graph.HasRules(r.GVR.Group, kindOf(r)) {
		return false
	}
	c := a.root.clusters[r.Cluster]
	if c == nil {
		return true
	}
	if c.rev.has(tkey{r.GVR.Group, kindOf(r), r.Namespace, r.Name}) {
		return false
	}
	return r.UID == "" || !c.owners.has(skey(r.UID))
}

func (a *applier) add(r *Record) {
	if a.inert(r) {
		return
	}
	c := a.cluster(r.Cluster)
	a.touchRecord(c, r)
	a.edges(c, graph.RelOwner, ownerUIDs(r))
	if isPod(r) {
		a.addPod(c, r)
		return
	}
	a.ownersRC(c, r, 1)
	if !graph.HasRules(r.GVR.Group, kindOf(r)) {
		return
	}
	key := srcKey(r)
	if _, dup := c.src.get(key); dup {
		return // the same object stored at another version
	}
	if _, dup := c.sels.get(key); dup {
		return
	}
	ex := extractRefs(r, a.prepared, nil, false)
	if len(ex.Refs) == 0 && ex.Selector == nil {
		return
	}
	node := NodeOf(r)
	if len(ex.Refs) > 0 {
		c.src.set(a.e, key, &relSrc{node: node, refs: ex.Refs})
		for i := range ex.Refs {
			a.addRef(c, r.Cluster, &ex.Refs[i], key, node)
		}
	}
	if ex.Selector != nil {
		a.addSelector(c, key, node, ex.Selector)
	}
}

func (a *applier) remove(r *Record) {
	if a.inert(r) {
		return
	}
	c := a.cluster(r.Cluster)
	a.touchRecord(c, r)
	a.edges(c, graph.RelOwner, -ownerUIDs(r))
	if isPod(r) {
		a.removePod(c, r)
		return
	}
	a.ownersRC(c, r, -1)
	key := srcKey(r)
	removed := false
	if src, ok := c.src.get(key); ok && sameObject(src.node, r) {
		for i := range src.refs {
			a.removeRef(c, r.Cluster, &src.refs[i], key)
		}
		c.src.del(a.e, key)
		removed = true
	}
	if sel, ok := c.sels.get(key); ok && sameObject(sel.node, r) {
		a.removeSelector(c, key)
		removed = true
	}
	if removed && r.UID != "" {
		// Another stored version of the same object takes over.
		if o := firstByUID(a.uids, a.txn, r.Cluster, r.UID); o != nil {
			if graph.HasRules(o.GVR.Group, kindOf(o)) {
				a.ownersRC(c, o, -1) // add counts it again
				a.edges(c, graph.RelOwner, -ownerUIDs(o))
				a.add(o)
			}
		}
	}
}

func sameObject(n *graph.Node, r *Record) bool {
	return n.Version == r.GVR.Version && n.Resource == r.GVR.Resource && n.Group == r.GVR.Group
}

func sameBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 || &a[0] == &b[0] {
		return true
	}
	return bytes.Equal(a, b)
}

func sameOwners(a, b []OwnerRef) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (a *applier) update(old, nw *Record) {
	if old.UID != nw.UID || kindOf(old) != kindOf(nw) || old.GVR != nw.GVR {
		a.remove(old)
		a.add(nw)
		return
	}
	if sameBytes(old.Object, nw.Object) && sameOwners(old.Owners, nw.Owners) && old.Labels.Equal(nw.Labels) {
		return // e.g. a recorded event: nothing the graph reads changed
	}
	if a.inert(old) && a.inert(nw) {
		return
	}
	c := a.cluster(nw.Cluster)
	if !sameOwners(old.Owners, nw.Owners) {
		a.edges(c, graph.RelOwner, ownerUIDs(nw)-ownerUIDs(old))
	}
	if isPod(nw) {
		a.updatePod(c, old, nw)
		return
	}
	if !sameOwners(old.Owners, nw.Owners) {
		a.ownersRC(c, nw, 1)
		a.ownersRC(c, old, -1)
	}
	if !graph.HasRules(nw.GVR.Group, kindOf(nw)) {
		return
	}
	key := srcKey(nw)
	ex := extractRefs(nw, a.prepared, nil, false)
	src, hadSrc := c.src.get(key)
	if hadSrc && !sameObject(src.node, nw) {
		return // another version owns the entry
	}
	var oldRefs []graph.Ref
	if hadSrc {
		oldRefs = src.refs
	}
	if !graph.EqualRefs(oldRefs, ex.Refs) {
		node := NodeOf(nw)
		if hadSrc {
			node = src.node
		}
		for i := range oldRefs {
			a.removeRef(c, nw.Cluster, &oldRefs[i], key)
		}
		if len(ex.Refs) > 0 {
			c.src.set(a.e, key, &relSrc{node: node, refs: ex.Refs})
			for i := range ex.Refs {
				a.addRef(c, nw.Cluster, &ex.Refs[i], key, node)
			}
		} else if hadSrc {
			c.src.del(a.e, key)
		}
	}
	sel, hadSel := c.sels.get(key)
	switch {
	case hadSel && ex.Selector != nil && sel.sel.Canonical == ex.Selector.Canonical && sel.sel.Rel == ex.Selector.Rel:
		// unchanged selector: its matches stand
	case hadSel:
		node := sel.node
		a.removeSelector(c, key)
		if ex.Selector != nil {
			a.addSelector(c, key, node, ex.Selector)
		}
	case ex.Selector != nil:
		a.addSelector(c, key, NodeOf(nw), ex.Selector)
	}
}

// --- owners (placeholder accounting for owner UIDs) ---

func (a *applier) ownersRC(c *relCluster, r *Record, d int32) {
	for i := range r.Owners {
		if u := r.Owners[i].UID; u != "" {
			a.ownerRef(c, r.Cluster, u, d)
		}
	}
}

func (a *applier) ownerRef(c *relCluster, cluster, uid string, d int32) {
	k := skey(uid)
	o, _ := c.owners.get(k)
	was := o.n
	o.n += d
	if o.n <= 0 {
		if o.ph {
			a.placeholders(c, -1)
		}
		c.owners.del(a.e, k)
		return
	}
	c.owners.set(a.e, k, o)
	if was == 0 {
		if a.touchedO == nil {
			a.touchedO = map[clusterUID]struct{}{}
		}
		a.touchedO[clusterUID{cluster, uid}] = struct{}{}
	}
}

// --- name references ---

func refKey(ref *graph.Ref) tkey { return tkey{ref.Group, ref.Kind, ref.Namespace, ref.Name} }

func (a *applier) touchTarget(cluster string, t tkey) {
	if a.touchedT == nil {
		a.touchedT = map[clusterTarget]struct{}{}
	}
	a.touchedT[clusterTarget{cluster, t}] = struct{}{}
}

// editRev returns an editable referrer list for t (new when absent) and whether it is
// already stored under t.
func (a *applier) editRev(c *relCluster, t tkey) (*relRev, bool) {
	rv, ok := c.rev.get(t)
	switch {
	case !ok:
		return &relRev{owner: a.e}, false
	case rv.owner != a.e:
		cp := *rv
		cp.owner = a.e
		return &cp, false
	}
	return rv, true
}

// putRev stores rv, or drops it once nobody refers to the target.
func (a *applier) putRev(c *relCluster, t tkey, rv *relRev, stored bool) {
	if rv.len() == 0 {
		if rv.ph {
			a.placeholders(c, -1)
		}
		c.rev.del(a.e, t)
		return
	}
	if !stored {
		c.rev.set(a.e, t, rv)
	}
}

func (a *applier) addRef(c *relCluster, cluster string, ref *graph.Ref, from skey, node *graph.Node) {
	a.edges(c, ref.Rel, 1)
	if ref.External {
		return
	}
	t := refKey(ref)
	rv, stored := a.editRev(c, t)
	if rv.len() == 0 {
		a.touchTarget(cluster, t)
	}
	rv.srcs.set(a.e, from, node)
	a.putRev(c, t, rv, stored)
}

func (a *applier) removeRef(c *relCluster, cluster string, ref *graph.Ref, from skey) {
	a.edges(c, ref.Rel, -1)
	if ref.External {
		return
	}
	t := refKey(ref)
	if !c.rev.has(t) {
		return
	}
	rv, stored := a.editRev(c, t)
	rv.srcs.del(a.e, from)
	a.putRev(c, t, rv, stored)
}

func (a *applier) addGroupRef(c *relCluster, cluster string, ref *graph.Ref, g string) {
	t := refKey(ref)
	rv, stored := a.editRev(c, t)
	if rv.len() == 0 {
		a.touchTarget(cluster, t)
	}
	rv.groups.set(a.e, skey(g), struct{}{})
	a.putRev(c, t, rv, stored)
}

func (a *applier) removeGroupRef(c *relCluster, ref *graph.Ref, g string) {
	t := refKey(ref)
	if !c.rev.has(t) {
		return
	}
	rv, stored := a.editRev(c, t)
	rv.groups.del(a.e, skey(g))
	a.putRev(c, t, rv, stored)
}

// --- pods and pod groups ---

// podState is what a Pod contributes: its group key and parts, and its Node reference.
// refs, owners and key are views into the applier's scratch buffers: copy what is kept.
type podState struct {
	key      []byte
	refs     []graph.Ref // without the Node reference
	owners   []string
	node     graph.Ref
	hasNode  bool
	ownerArr [2]string
}

func (a *applier) podStateOf(r *Record, st *podState) {
	ex := extractRefs(r, a.prepared, a.refBuf, true)
	refs := append(a.refBuf[:0], ex.Refs...) // a working copy: prepared refs are shared
	a.refBuf = refs[:0]
	for i := range refs {
		if refs[i].Rel == graph.RelPodNode {
			st.node, st.hasNode = refs[i], true
			copy(refs[i:], refs[i+1:])
			refs = refs[:len(refs)-1]
			break
		}
	}
	st.refs = refs
	st.owners = st.ownerArr[:0]
	for i := range r.Owners {
		if u := r.Owners[i].UID; u != "" {
			st.owners = append(st.owners, u)
		}
	}
	sortStrings(st.owners)
	a.keyBuf = appendGroupKey(a.keyBuf[:0], r.Namespace, r.Labels, st.refs, st.owners)
	st.key = a.keyBuf
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// appendGroupKey appends the canonical key of (namespace, labels, references, owner UIDs).
func appendGroupKey(b []byte, ns string, lbls graph.Labels, refs []graph.Ref, owners []string) []byte {
	b = append(b, ns...)
	b = append(b, 1)
	for i := 0; i < len(lbls); i += 2 { // sorted by key
		b = append(b, lbls[i]...)
		b = append(b, '=')
		b = append(b, lbls[i+1]...)
		b = append(b, 0)
	}
	b = append(b, 1)
	for i := range refs {
		b = append(b, byte(refs[i].Rel)+'A')
		b = append(b, refs[i].Group...)
		b = append(b, '/')
		b = append(b, refs[i].Kind...)
		b = append(b, '/')
		b = append(b, refs[i].Name...)
		b = append(b, 0)
	}
	b = append(b, 1)
	for _, o := range owners {
		b = append(b, o...)
		b = append(b, 0)
	}
	return b
}

func newPodSrc(node *graph.Node, st *podState, group string) *relSrc {
	src := &relSrc{node: node, group: group}
	if st.hasNode {
		src.one[0] = st.node
		src.one[0].Name = strings.Clone(st.node.Name) // st aliases the object's JSON
		src.refs = src.one[:1]
	}
	return src
}

func (a *applier) addPod(c *relCluster, r *Record) {
	key := srcKey(r)
	if _, dup := c.src.get(key); dup {
		return
	}
	var st podState
	a.podStateOf(r, &st)
	node := NodeOf(r)
	group := a.joinGroup(c, r, &st, key, node)
	src := newPodSrc(node, &st, group)
	for i := range src.refs {
		a.addRef(c, r.Cluster, &src.refs[i], key, node)
	}
	c.src.set(a.e, key, src)
}

func (a *applier) removePod(c *relCluster, r *Record) {
	key := srcKey(r)
	src, ok := c.src.get(key)
	if !ok || !sameObject(src.node, r) {
		return
	}
	a.leaveGroup(c, r.Cluster, src.group, key)
	for i := range src.refs {
		a.removeRef(c, r.Cluster, &src.refs[i], key)
	}
	c.src.del(a.e, key)
}

func (a *applier) updatePod(c *relCluster, old, nw *Record) {
	key := srcKey(nw)
	src, ok := c.src.get(key)
	if !ok {
		a.addPod(c, nw)
		return
	}
	if !sameObject(src.node, nw) {
		return
	}
	var st podState
	a.podStateOf(nw, &st)
	sameNode := st.hasNode == (len(src.refs) == 1) && (!st.hasNode || st.node == src.refs[0])
	sameGroup := string(st.key) == src.group
	if sameGroup && sameNode {
		return // status-only update: the common case
	}
	node := src.node
	group := src.group
	if !sameGroup {
		a.leaveGroup(c, nw.Cluster, src.group, key)
		group = a.joinGroup(c, nw, &st, key, node)
	}
	nsrc := newPodSrc(node, &st, group)
	if !sameNode {
		for i := range src.refs {
			a.removeRef(c, nw.Cluster, &src.refs[i], key)
		}
		for i := range nsrc.refs {
			a.addRef(c, nw.Cluster, &nsrc.refs[i], key, node)
		}
	}
	c.src.set(a.e, key, nsrc)
}

func (a *applier) editGroup(g *podGroup) *podGroup {
	if g.owner == a.e {
		return g
	}
	cp := *g
	cp.owner = a.e
	return &cp
}

// joinGroup adds a Pod to the group of its state (creating it) and returns the group key.
func (a *applier) joinGroup(c *relCluster, r *Record, st *podState, member skey, node *graph.Node) string {
	old, ok := getString(&c.groups, st.key)
	var g *podGroup
	if !ok {
		g = a.newGroup(c, r, st)
	} else {
		g = a.editGroup(old)
	}
	g.members.set(a.e, member, node)
	for i := range g.refs {
		a.edges(c, g.refs[i].Rel, 1)
	}
	g.sels.each(func(_ skey, rel graph.Relation) bool {
		a.edges(c, rel, 1)
		return true
	})
	if g != old {
		c.groups.set(a.e, skey(g.key), g)
	}
	return g.key
}

// newGroup registers a group's references, owners and namespace, and matches it against
// the selectors of its namespace (through the selector buckets of its labels).
func (a *applier) newGroup(c *relCluster, r *Record, st *podState) *podGroup {
	g := &podGroup{owner: a.e, key: string(st.key), ns: r.Namespace, labels: r.Labels, refs: graph.CloneRefs(st.refs)}
	if len(st.owners) > 0 {
		g.owners = append([]string(nil), st.owners...)
	}
	for i := range g.refs {
		a.addGroupRef(c, r.Cluster, &g.refs[i], g.key)
	}
	for _, u := range g.owners {
		a.ownerRef(c, r.Cluster, u, 1)
	}
	nsk := skey(g.ns)
	set, _ := c.nsGroups.get(nsk)
	set = editableSet(set, a.e)
	set.m.set(a.e, skey(g.key), struct{}{})
	c.nsGroups.set(a.e, nsk, set)
	keys, _ := c.selKeys.get(nsk)
	for _, k := range keys {
		if v, ok := g.labels.Lookup(k); ok {
			setAdd(a, &c.glIdx, bkey{ns: g.ns, k: k, v: v}, skey(g.key))
		}
	}
	match := func(b bkey) {
		bucket, ok := c.selIdx.get(b)
		if !ok {
			return
		}
		bucket.m.each(func(selKey skey, _ struct{}) bool {
			sel, ok := c.sels.get(selKey)
			if ok && sel.sel.Matches(&g.labels) {
				g.sels.set(a.e, selKey, sel.sel.Rel)
				es := a.editSel(sel)
				es.groups.set(a.e, skey(g.key), struct{}{})
				if es != sel {
					c.sels.set(a.e, selKey, es)
				}
			}
			return true
		})
	}
	// A selector's bucket is one of its key=value requirements, whose key is in selKeys.
	for _, k := range keys {
		if v, ok := g.labels.Lookup(k); ok {
			match(bkey{ns: g.ns, k: k, v: v})
		}
	}
	match(bkey{ns: g.ns, all: true})
	return g
}

func (a *applier) leaveGroup(c *relCluster, cluster, key string, member skey) {
	old, ok := c.groups.get(skey(key))
	if !ok || !old.members.has(member) {
		return
	}
	g := a.editGroup(old)
	g.members.del(a.e, member)
	for i := range g.refs {
		a.edges(c, g.refs[i].Rel, -1)
	}
	g.sels.each(func(_ skey, rel graph.Relation) bool {
		a.edges(c, rel, -1)
		return true
	})
	if g.members.len() > 0 {
		if g != old {
			c.groups.set(a.e, skey(key), g)
		}
		return
	}
	// The last member left: unregister the group everywhere.
	for i := range g.refs {
		a.removeGroupRef(c, &g.refs[i], key)
	}
	for _, u := range g.owners {
		a.ownerRef(c, cluster, u, -1)
	}
	setDel(a, &c.nsGroups, skey(g.ns), skey(key))
	keys, _ := c.selKeys.get(skey(g.ns))
	for _, k := range keys {
		if v, ok := g.labels.Lookup(k); ok {
			setDel(a, &c.glIdx, bkey{ns: g.ns, k: k, v: v}, skey(key))
		}
	}
	g.sels.each(func(selKey skey, _ graph.Relation) bool {
		if sel, ok := c.sels.get(selKey); ok {
			es := a.editSel(sel)
			es.groups.del(a.e, skey(key))
			if es != sel {
				c.sels.set(a.e, selKey, es)
			}
		}
		return true
	})
	c.groups.del(a.e, skey(key))
}

// --- selectors ---

func (a *applier) editSel(s *relSel) *relSel {
	if s.owner == a.e {
		return s
	}
	cp := *s
	cp.owner = a.e
	return &cp
}

func (a *applier) addSelector(c *relCluster, key skey, node *graph.Node, sel *graph.Selector) {
	s := &relSel{owner: a.e, node: node, sel: sel, ns: node.Namespace}
	// Index under the key=value requirement with the smallest bucket (any one of them is
	// carried by every match), or evaluate always when there is none.
	s.bucket = bkey{ns: s.ns, all: true}
	best := -1
	for _, p := range sel.Equal {
		b := bkey{ns: s.ns, k: p[0], v: p[1]}
		set, _ := c.selIdx.get(b)
		if n := set.len(); best < 0 || n < best {
			best, s.bucket = n, b
		}
	}
	setAdd(a, &c.selIdx, s.bucket, key)
	a.indexSelectorKeys(c, s.ns, sel)
	// Candidate pod groups: those carrying the requirement with the fewest groups, or
	// every group of the namespace for a selector without key=value requirements.
	var groups *pset[struct{}]
	if len(sel.Equal) == 0 {
		groups, _ = c.nsGroups.get(skey(s.ns))
	} else {
		for i, p := range sel.Equal {
			set, _ := c.glIdx.get(bkey{ns: s.ns, k: p[0], v: p[1]})
			if i == 0 || set.len() < groups.len() {
				groups = set
			}
		}
	}
	if groups != nil {
		groups.m.each(func(gk skey, _ struct{}) bool {
			old, ok := c.groups.get(gk)
			if !ok || !sel.Matches(&old.labels) {
				return true
			}
			g := a.editGroup(old)
			g.sels.set(a.e, key, sel.Rel)
			if g != old {
				c.groups.set(a.e, gk, g)
			}
			s.groups.set(a.e, gk, struct{}{})
			a.edges(c, sel.Rel, int64(g.members.len()))
			return true
		})
	}
	c.sels.set(a.e, key, s)
}

// indexSelectorKeys makes glIdx cover the keys of sel's key=value requirements, indexing
// the namespace's existing groups under a key the first time a selector uses it.
func (a *applier) indexSelectorKeys(c *relCluster, ns string, sel *graph.Selector) {
	nsk := skey(ns)
	keys, _ := c.selKeys.get(nsk)
	grown := keys
	for _, p := range sel.Equal {
		if slices.Contains(grown, p[0]) {
			continue
		}
		if len(grown) == len(keys) {
			grown = slices.Clone(keys)
		}
		grown = append(grown, p[0])
		if groups, ok := c.nsGroups.get(nsk); ok {
			k := p[0]
			groups.m.each(func(gk skey, _ struct{}) bool {
				if g, ok := c.groups.get(gk); ok {
					if v, ok := g.labels.Lookup(k); ok {
						setAdd(a, &c.glIdx, bkey{ns: ns, k: k, v: v}, gk)
					}
				}
				return true
			})
		}
	}
	if len(grown) != len(keys) {
		c.selKeys.set(a.e, nsk, grown)
	}
}

func (a *applier) removeSelector(c *relCluster, key skey) {
	s, ok := c.sels.get(key)
	if !ok {
		return
	}
	setDel(a, &c.selIdx, s.bucket, key)
	s.groups.each(func(gk skey, _ struct{}) bool {
		if old, ok := c.groups.get(gk); ok {
			g := a.editGroup(old)
			g.sels.del(a.e, key)
			if g != old {
				c.groups.set(a.e, gk, g)
			}
			a.edges(c, s.sel.Rel, -int64(g.members.len()))
		}
		return true
	})
	c.sels.del(a.e, key)
}

// setAdd adds member to the set stored under k in m.
func setAdd[K pkey](a *applier, m *pmap[K, *pset[struct{}]], k K, member skey) {
	old, _ := m.get(k)
	set := editableSet(old, a.e)
	set.m.set(a.e, member, struct{}{})
	if set != old {
		m.set(a.e, k, set)
	}
}

// setDel removes member from the set stored under k in m, dropping an emptied set.
func setDel[K pkey](a *applier, m *pmap[K, *pset[struct{}]], k K, member skey) {
	set, ok := m.get(k)
	if !ok || !set.m.has(member) {
		return
	}
	old := set
	set = editableSet(set, a.e)
	set.m.del(a.e, member)
	if set.len() == 0 {
		m.del(a.e, k)
		return
	}
	if set != old {
		m.set(a.e, k, set)
	}
}

// --- placeholders ---

// targetExists reports whether a record answers to the target in the transaction.
func targetExists(txn *memdb.Txn, reg *registry, cluster string, t tkey) bool {
	return findByKind(txn, reg, cluster, t) != nil
}

// settle recomputes the placeholder flag of every target and owner UID whose referrers
// went from none to some, or whose object was created or deleted, in this transaction —
// against the transaction's final state, so the order of changes within it is irrelevant.
func (a *applier) settle() {
	for ct := range a.touchedT {
		c, ok := a.root.clusters[ct.cluster]
		if !ok {
			continue
		}
		rv, ok := c.rev.get(ct.t)
		if !ok {
			continue
		}
		ph := !targetExists(a.txn, a.reg, ct.cluster, ct.t)
		if ph == rv.ph {
			continue
		}
		c = a.cluster(ct.cluster)
		rv, stored := a.editRev(c, ct.t)
		rv.ph = ph
		if !stored {
			c.rev.set(a.e, ct.t, rv)
		}
		if ph {
			a.placeholders(c, 1)
		} else {
			a.placeholders(c, -1)
		}
	}
	for cu := range a.touchedO {
		c, ok := a.root.clusters[cu.cluster]
		if !ok {
			continue
		}
		o, ok := c.owners.get(skey(cu.uid))
		if !ok {
			continue
		}
		ph := firstByUID(a.uids, a.txn, cu.cluster, cu.uid) == nil
		if ph == o.ph {
			continue
		}
		c = a.cluster(cu.cluster)
		o.ph = ph
		c.owners.set(a.e, skey(cu.uid), o)
		if ph {
			a.placeholders(c, 1)
		} else {
			a.placeholders(c, -1)
		}
	}
}
