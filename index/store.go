package index

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	memdb "github.com/hashicorp/go-memdb"
)

// ChangeKind says what a committed mutation did.
type ChangeKind uint8

const (
	ChangeCreate ChangeKind = iota + 1
	ChangeUpdate
	ChangeDelete
	ChangeEvent         // an event was recorded: Old and New are the record before/after
	ChangeCleanCluster  // Cluster was removed with everything in it
	ChangeCleanResource // (Cluster, GVR) was removed
)

func (k ChangeKind) String() string {
	switch k {
	case ChangeCreate:
		return "create"
	case ChangeUpdate:
		return "update"
	case ChangeDelete:
		return "delete"
	case ChangeEvent:
		return "event"
	case ChangeCleanCluster:
		return "clean_cluster"
	case ChangeCleanResource:
		return "clean_resource"
	}
	return fmt.Sprintf("ChangeKind(%d)", uint8(k))
}

// Change is one committed mutation, handed to Observers in commit order. Old and New are
// read-only records (nil where not applicable).
type Change struct {
	Kind    ChangeKind
	Cluster string
	GVR     GVR // for ChangeCleanResource
	Old     *Record
	New     *Record
	// Removed counts the objects a clean removed.
	Removed int
}

// Observer is told about every commit, synchronously, after the transaction committed and
// before the writer returns, in commit order (writes are serialized). It must be quick and
// must not call back into the store's write methods.
type Observer interface {
	Observe(changes []Change)
}

// TxnHook runs inside every write transaction after the store applied its own changes, so
// derived tables (e.g. relationship edges) commit atomically with the objects.
//
// A hook that wraps another (to time or log it) should implement Unwrap() TxnHook: the
// store finds the wrapped hook's optional parts (the registry it attaches to, Prepare,
// Load's concurrent build) through it.
type TxnHook interface {
	// Tables returns extra tables the hook needs in the schema.
	Tables() map[string]*memdb.TableSchema
	// Apply updates derived tables for the changes of this transaction.
	Apply(txn *memdb.Txn, changes []Change) error
}

// unwrapHook returns the innermost hook h wraps (h itself when it wraps none).
func unwrapHook(h TxnHook) TxnHook {
	for {
		u, ok := h.(interface{ Unwrap() TxnHook })
		if !ok {
			return h
		}
		h = u.Unwrap()
	}
}

// Options configures a Store.
type Options struct {
	// Observers are notified after every commit (persistence log, metrics, ...).
	Observers []Observer
	// Hooks run inside write transactions.
	Hooks []TxnHook
	// Now is the clock for SyncedAt (tests); default time.Now.
	Now func() time.Time
}

// Store is the in-memory database. Writes are serialized; reads run on immutable MVCC
// snapshots and never block writes.
type Store struct {
	// db holds the records and resource stats; udb holds TableUIDRefs. Two databases so
	// that Load can fill both at once on two goroutines (a memdb write transaction is one
	// goroutine's); every commit commits both and publishes them together (readState).
	db   *memdb.MemDB
	udb  *memdb.MemDB
	opts Options

	mu       sync.Mutex // serializes writers and observer calls; guards closed and intern
	closed   bool
	interned map[string]string
	reg      *registry

	// pending holds single-object writes waiting for the write lock (group commit, see
	// single); guarded by pendingMu.
	pendingMu sync.Mutex
	pending   []*groupedWrite

	// read is the latest commit as readers see it, replaced after every commit: memdb's read
	// transaction on it (immutable, so every reader shares it: a View or Get costs no
	// transaction of its own) and its commit number.
	read atomic.Pointer[readState]

	// rel is the attached Relations hook (nil: none). It is not run inside transactions:
	// publish hands it each commit's changes, and it maintains the graph on its own
	// goroutine (see Relations).
	rel *Relations
}

// readState is what every reader of one commit shares.
type readState struct {
	txn  *memdb.Txn // records and resource stats
	uids *memdb.Txn // TableUIDRefs
	seq  uint64     // commits so far
}

// newWriter opens a write transaction (s.mu held). The TableUIDRefs transaction is opened
// when the first row changes (most writes keep a record's UID and owners).
func (s *Store) newWriter() *writer {
	return &writer{s: s, txn: s.db.Txn(true), now: s.opts.Now().UTC(), stats: map[statsKey]*resourceStats{}}
}

// uidTxn is the write transaction on the TableUIDRefs database, opened on first use.
func (w *writer) uidTxn() *memdb.Txn {
	if w.uids == nil {
		w.uids = w.s.udb.Txn(true)
	}
	return w.uids
}

// abort drops whatever the writer wrote (a no-op after commit).
func (w *writer) abort() {
	w.txn.Abort()
	if w.uids != nil {
		w.uids.Abort()
	}
}

// commit commits both transactions and publishes the commit (s.mu held). Readers load one
// pointer to both read transactions, so they never see one without the other.
func (w *writer) commit() {
	w.txn.Commit()
	if w.uids != nil {
		w.uids.Commit()
	}
	w.s.publish(w)
}

// publish makes the commit w just made visible to readers (s.mu held) and hands its changes
// to the Relations hook. The hook gets them first, so a reader that sees commit n can wait
// for the graph of commit n.
func (s *Store) publish(w *writer) {
	prev := s.read.Load()
	st := &readState{txn: s.db.Txn(false), uids: prev.uids, seq: prev.seq + 1}
	if w.uids != nil {
		st.uids = s.udb.Txn(false)
	}
	if s.rel != nil && len(w.changes) > 0 {
		s.rel.enqueue(w.changes, st)
	}
	s.read.Store(st)
}

// New creates an empty store.
func New(opts Options) (*Store, error) {
	reg := newRegistry()
	sch := schema(reg)
	s := &Store{opts: opts, interned: make(map[string]string), reg: reg}
	for _, h := range opts.Hooks {
		if a, ok := unwrapHook(h).(interface{ attach(*Store) error }); ok {
			if err := a.attach(s); err != nil {
				return nil, err
			}
		}
		for name, t := range h.Tables() {
			if _, dup := sch.Tables[name]; dup {
				return nil, fmt.Errorf("hook table %q clashes with an existing table", name)
			}
			sch.Tables[name] = t
		}
	}
	db, err := memdb.NewMemDB(sch)
	if err != nil {
		return nil, fmt.Errorf("memdb schema: %w", err)
	}
	// A memdb snapshot is a full database whose write transactions do not track mutations:
	// no watch channel is closed on commit and no node is remembered for notification.
	// memgraph never uses memdb's watches, and tracking cost ~15 % of every insert
	// (BenchmarkIngest*); it also made transactions that modify more than 8,192 radix nodes
	// fall back to a commit that walks the whole tree.
	db = db.Snapshot()
	udb, err := memdb.NewMemDB(&memdb.DBSchema{Tables: map[string]*memdb.TableSchema{TableUIDRefs: uidRefsSchema(reg)}})
	if err != nil {
		return nil, fmt.Errorf("memdb schema: %w", err)
	}
	if s.opts.Now == nil {
		s.opts.Now = time.Now
	}
	s.db, s.udb = db, udb.Snapshot()
	s.read.Store(&readState{txn: s.db.Txn(false), uids: s.udb.Txn(false)})
	if s.rel != nil {
		s.rel.state.Store(&graphState{read: s.read.Load(), done: make(chan struct{})})
	}
	return s, nil
}

// Close refuses further writes. Reads keep working.
func (s *Store) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

// View returns a consistent read-only snapshot of the store.
func (s *Store) View() *View {
	st := s.read.Load()
	return &View{txn: st.txn, uids: st.uids, reg: s.reg, seq: st.seq, rel: s.rel}
}

// ViewWith calls fn with a snapshot taken while no write is in progress, holding the write
// lock for the duration of fn: what fn reads about Observer state (for example a log
// sequence number) corresponds exactly to the snapshot. fn must be quick.
func (s *Store) ViewWith(fn func(v *View)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.View())
}

// Get returns the record with key k or a *KeyError wrapping ErrNotFound.
func (s *Store) Get(k Key) (*Record, error) {
	v := View{txn: s.read.Load().txn, reg: s.reg}
	return v.Get(k)
}

// List runs q on a fresh snapshot.
func (s *Store) List(q *Query) (*Result, error) { return s.View().List(q) }

// MutationOp is the operation of a Mutation.
type MutationOp uint8

const (
	OpCreate MutationOp = iota + 1 // fails with ErrExists when the key is stored
	OpUpdate                       // fails with ErrNotFound when the key is not stored
	OpUpsert                       // create or replace
	OpDelete                       // absent is fine
	OpCleanCluster
	OpCleanResource
	OpRecordEvent // Event recorded on every record of (Cluster, EventUID involved object UID)
)

// Mutation is one write for Apply.
type Mutation struct {
	Op     MutationOp
	Record *Record // Create, Update, Upsert
	Key    Key     // Delete; Key.Cluster (and Key.GVR) for the cleans
	// InvolvedUID and Event for OpRecordEvent (Key.Cluster is the cluster).
	InvolvedUID string
	Event       *Event
}

// Create stores a new object; an existing key yields a *KeyError wrapping ErrExists.
// The store takes ownership of r: the caller must not modify it afterwards.
func (s *Store) Create(r *Record) error { return s.one(Mutation{Op: OpCreate, Record: r}) }

// Update replaces a stored object, keeping its recorded events; a missing key yields a
// *KeyError wrapping ErrNotFound. The store takes ownership of r.
func (s *Store) Update(r *Record) error { return s.one(Mutation{Op: OpUpdate, Record: r}) }

// Upsert creates or replaces (keeping recorded events).
func (s *Store) Upsert(r *Record) error { return s.one(Mutation{Op: OpUpsert, Record: r}) }

// Delete removes the object with key k; it reports whether something was removed.
func (s *Store) Delete(k Key) (bool, error) {
	ch, err := s.single(Mutation{Op: OpDelete, Key: k})
	return len(ch) > 0, err
}

// CleanCluster removes every object of cluster and returns how many were removed.
func (s *Store) CleanCluster(cluster string) (int, error) {
	ch, err := s.apply([]Mutation{{Op: OpCleanCluster, Key: Key{Cluster: cluster}}}, true)
	if len(ch) == 0 {
		return 0, err
	}
	return ch[0].Removed, err
}

// CleanResource removes every object of (cluster, gvr) and returns how many were removed.
func (s *Store) CleanResource(cluster string, gvr GVR) (int, error) {
	ch, err := s.apply([]Mutation{{Op: OpCleanResource, Key: Key{Cluster: cluster, GVR: gvr}}}, true)
	if len(ch) == 0 {
		return 0, err
	}
	return ch[0].Removed, err
}

// RecordEvent records ev on every stored object of cluster whose UID is involvedUID (an
// event with the same UID is replaced). It reports whether any object was found.
func (s *Store) RecordEvent(cluster, involvedUID string, ev Event) (bool, error) {
	if involvedUID == "" {
		return false, errors.New("event has no involvedObject.uid")
	}
	ch, err := s.apply([]Mutation{{Op: OpRecordEvent, Key: Key{Cluster: cluster}, InvolvedUID: involvedUID, Event: &ev}}, true)
	return len(ch) > 0, err
}

// Apply runs muts in one transaction: all of them commit, or — when one fails — none.
func (s *Store) Apply(muts []Mutation) error {
	_, err := s.apply(muts, true)
	return err
}

func (s *Store) one(m Mutation) error {
	_, err := s.single(m)
	return err
}

// groupedWrite is one single-object write (Create, Update, Upsert or Delete) queued for
// group commit, and its outcome.
type groupedWrite struct {
	m       Mutation
	changes []Change
	err     error
}

// maxGroup bounds the writes committed in one group transaction.
const maxGroup = 256

// single runs one single-object write with group commit: the write is queued, then the
// caller takes the write lock and commits everything queued by then — its own write, or
// nothing when an earlier lock holder already committed it — in one transaction. With one
// writer this is exactly one transaction per write; with several concurrent writers (one
// Clusterpedia resource synchro per cluster and resource type) they share transactions:
// go-memdb copies every index path and allocates its bookkeeping once per transaction, so
// sharing it is most of the cost of a write (BenchmarkIngestConcurrentWriters).
//
// Each write keeps its own outcome: a typed exists / not-found or validation error fails
// only that write, before it changed anything; the others commit. Observers see the group
// as one commit, in queue order.
func (s *Store) single(m Mutation) ([]Change, error) {
	req := &groupedWrite{m: m}
	s.pendingMu.Lock()
	s.pending = append(s.pending, req)
	s.pendingMu.Unlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		s.pendingMu.Lock()
		batch := s.pending
		if len(batch) > maxGroup {
			batch = batch[:maxGroup:maxGroup]
			s.pending = s.pending[maxGroup:]
		} else {
			s.pending = nil
		}
		s.pendingMu.Unlock()
		if len(batch) == 0 {
			break
		}
		s.commitGroup(batch)
	}
	return req.changes, req.err
}

// commitGroup commits batch in one transaction (s.mu held). A failure that is not a
// write's own precondition — which nothing here expects — aborts the group and commits
// every write alone instead, so each still gets exactly its own outcome.
func (s *Store) commitGroup(batch []*groupedWrite) {
	if s.closed {
		for _, r := range batch {
			r.err = ErrClosed
		}
		return
	}
	if len(batch) == 1 {
		batch[0].changes, batch[0].err = s.applyLocked([]Mutation{batch[0].m}, true)
		return
	}
	alone := func() {
		for _, r := range batch {
			r.changes, r.err = s.applyLocked([]Mutation{r.m}, true)
		}
	}
	w := s.newWriter()
	spans := make([][2]int, len(batch))
	for i, r := range batch {
		start := len(w.changes)
		switch m := &r.m; m.Op {
		case OpCreate, OpUpdate, OpUpsert:
			old, kind, err := w.prepare(m)
			if err != nil {
				r.err = err // nothing written
				continue
			}
			if err := w.put(m.Record, old, kind); err != nil {
				w.abort()
				alone()
				return
			}
		default:
			if err := w.apply(m); err != nil {
				w.abort()
				alone()
				return
			}
		}
		spans[i] = [2]int{start, len(w.changes)}
	}
	if err := w.finish(); err != nil {
		w.abort()
		alone()
		return
	}
	w.commit()
	s.notify(w.changes)
	for i, r := range batch {
		if r.err == nil && spans[i][1] > spans[i][0] {
			r.changes = w.changes[spans[i][0]:spans[i][1]:spans[i][1]]
		}
	}
}

func (s *Store) apply(muts []Mutation, notify bool) ([]Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applyLocked(muts, notify)
}

// applyLocked runs muts in one transaction (s.mu held).
func (s *Store) applyLocked(muts []Mutation, notify bool) ([]Change, error) {
	if s.closed {
		return nil, ErrClosed
	}
	w := s.newWriter()
	defer w.abort()
	for i := range muts {
		if err := w.apply(&muts[i]); err != nil {
			return nil, err
		}
	}
	if err := w.finish(); err != nil {
		return nil, err
	}
	w.commit()
	if notify {
		s.notify(w.changes)
	}
	return w.changes, nil
}

// Load upserts the records next returns, batch after batch until it returns io.EOF, in one
// transaction: all of them commit, or — when next or a write fails — none. It fills an
// empty store (a restore) with less work than Apply: records in identity order (a snapshot
// is written in that order) follow each other down the same radix path and, into an empty
// store, need no existence lookup; the TableUIDRefs rows are written meanwhile by a second
// goroutine, in sorted runs; observers see one commit, and the Relations hook builds the
// graph of all of it in one pass after the commit. Writers wait meanwhile, and readers see
// the store as it was until Load commits. It returns the number of records.
func (s *Store) Load(next func() ([]*Record, error)) (n int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	w := s.newWriter()
	defer w.abort()
	if raw, err := w.txn.First(TableRecords, IndexID+"_prefix"); err != nil {
		return 0, err
	} else if raw == nil {
		w.loadAbove = []byte{}
	}
	w.loading = startUIDLoader(w.uidTxn())
	defer func() {
		if w.loading != nil { // failed before the end: stop the goroutine before abort
			w.loading.wait()
		}
	}()
	for {
		recs, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		for _, r := range recs {
			m := Mutation{Op: OpUpsert, Record: r}
			if err := w.apply(&m); err != nil {
				return 0, err
			}
		}
		n += len(recs)
	}
	err = w.loading.wait()
	w.loading = nil
	if err != nil {
		return 0, err
	}
	if err := w.finish(); err != nil {
		return 0, err
	}
	w.commit()
	s.notify(w.changes)
	return n, nil
}

// notify hands a commit's changes to the observers (s.mu held).
func (s *Store) notify(changes []Change) {
	if len(changes) == 0 {
		return
	}
	for _, o := range s.opts.Observers {
		o.Observe(changes)
	}
}

func (s *Store) intern(v string) string {
	if v == "" {
		return ""
	}
	if i, ok := s.interned[v]; ok {
		return i
	}
	s.interned[v] = v
	return v
}

type statsKey struct {
	cluster string
	gvr     GVR
}

// writer applies mutations inside one write transaction.
type writer struct {
	s       *Store
	txn     *memdb.Txn
	uids    *memdb.Txn // on s.udb; nil until a TableUIDRefs row changes
	now     time.Time
	changes []Change
	// stats are the (cluster, GVR) rows touched by this transaction, flushed at the end.
	stats map[statsKey]*resourceStats
	// loading, during Load, is the goroutine that writes the TableUIDRefs rows; nil
	// otherwise.
	loading *uidLoader
	// loadAbove, during a Load into an empty store, is the greatest identity key written so
	// far: a record with a greater key (a snapshot is in key order) cannot replace one.
	loadAbove []byte
}

func (w *writer) statsFor(cluster string, gvr GVR) (*resourceStats, error) {
	k := statsKey{cluster, gvr}
	if st, ok := w.stats[k]; ok {
		return st, nil
	}
	raw, err := w.txn.First(TableResourceStats, IndexStatsID, cluster, gvr.Group, gvr.Version, gvr.Resource)
	if err != nil {
		return nil, err
	}
	st := &resourceStats{Cluster: cluster, GVR: gvr}
	if raw != nil {
		*st = *raw.(*resourceStats)
	}
	w.stats[k] = st
	return st, nil
}

// finish writes the transaction's stats rows and runs the hooks over its changes (the
// Relations hook runs after the commit instead: Store.publish).
func (w *writer) finish() error {
	if err := w.flushStats(); err != nil {
		return err
	}
	for _, h := range w.s.opts.Hooks {
		if _, ok := unwrapHook(h).(*Relations); ok {
			continue
		}
		if err := h.Apply(w.txn, w.changes); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) flushStats() error {
	for _, st := range w.stats {
		if st.Count <= 0 {
			if _, err := w.txn.DeleteAll(TableResourceStats, IndexStatsID, st.Cluster, st.GVR.Group, st.GVR.Version, st.GVR.Resource); err != nil {
				return err
			}
			continue
		}
		if err := w.txn.Insert(TableResourceStats, st); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) lookup(k Key) (*Record, error) {
	raw, err := w.txn.First(TableRecords, IndexID, w.s.reg.key(k))
	if err != nil || raw == nil {
		return nil, err
	}
	return raw.(*Record), nil
}

func (w *writer) normalize(r *Record) error {
	if r == nil {
		return errors.New("nil record")
	}
	if r.Cluster == "" || r.GVR.Version == "" || r.GVR.Resource == "" || r.Name == "" {
		return fmt.Errorf("record needs cluster, version, resource and name (got %q %q %q)", r.Cluster, r.GVR, r.Name)
	}
	s := w.s
	r.Cluster = s.intern(r.Cluster)
	r.GVR = GVR{s.intern(r.GVR.Group), s.intern(r.GVR.Version), s.intern(r.GVR.Resource)}
	r.Kind = s.intern(r.Kind)
	r.Namespace = s.intern(r.Namespace)
	if l := r.Labels; len(l) > 0 {
		if len(l)%2 != 0 {
			return fmt.Errorf("labels: odd number of strings (keys and values alternate)")
		}
		// Keys are interned into a copy: the caller's slice may be shared with a stored
		// record (an update built from a copy of one) that readers use concurrently.
		var interned Labels
		for i := 0; i < len(l); i += 2 {
			if i > 0 && l[i] <= l[i-2] {
				return fmt.Errorf("labels: keys not sorted or not unique at %q (build them with LabelsFromMap)", l[i])
			}
			k := s.intern(l[i])
			if interned == nil && unsafe.StringData(k) != unsafe.StringData(l[i]) {
				interned = append(make(Labels, 0, len(l)), l...)
			}
			if interned != nil {
				interned[i] = k
			}
		}
		if interned != nil {
			r.Labels = interned
		}
	}
	for _, p := range []string{r.Namespace, r.Name} {
		if strings.IndexByte(p, 0) >= 0 {
			return fmt.Errorf("namespace and name must not contain NUL bytes")
		}
	}
	var err error
	if r.cid, r.gid, err = s.reg.assign(r.Cluster, r.GVR, kindOf(r)); err != nil {
		return err
	}
	r.SyncedAt = w.now
	return nil
}

func (w *writer) put(r *Record, old *Record, kind ChangeKind) error {
	if err := w.txn.Insert(TableRecords, r); err != nil {
		return err
	}
	if err := w.putUIDRefs(r, old); err != nil {
		return err
	}
	st, err := w.statsFor(r.Cluster, r.GVR)
	if err != nil {
		return err
	}
	if old == nil {
		st.Count++
	} else {
		st.Bytes -= int64(len(old.Object))
	}
	st.Bytes += int64(len(r.Object))
	w.changes = append(w.changes, Change{Kind: kind, Cluster: r.Cluster, GVR: r.GVR, Old: old, New: r})
	return nil
}

func (w *writer) remove(old *Record) error {
	if err := w.txn.Delete(TableRecords, old); err != nil {
		return err
	}
	if err := w.deleteUIDRefs(old); err != nil {
		return err
	}
	st, err := w.statsFor(old.Cluster, old.GVR)
	if err != nil {
		return err
	}
	st.Count--
	st.Bytes -= int64(len(old.Object))
	return nil
}

// prepare validates a Create, Update or Upsert against the transaction's state without
// writing anything: the stored record it replaces (nil for none) and the change kind.
func (w *writer) prepare(m *Mutation) (*Record, ChangeKind, error) {
	r := m.Record
	if err := w.normalize(r); err != nil {
		return nil, 0, err
	}
	var old *Record
	if k := idKey(r.cid, r.gid, r.Namespace, r.Name); w.loadAbove != nil && bytes.Compare(k, w.loadAbove) > 0 {
		w.loadAbove = k // above every key in the store: nothing to look up
	} else if raw, err := w.txn.First(TableRecords, IndexID, rawKey(k)); err != nil {
		return nil, 0, err
	} else if raw != nil {
		old = raw.(*Record)
	}
	switch {
	case m.Op == OpCreate && old != nil:
		return nil, 0, &KeyError{Err: ErrExists, Key: r.Key()}
	case m.Op == OpUpdate && old == nil:
		return nil, 0, &KeyError{Err: ErrNotFound, Key: r.Key()}
	}
	kind := ChangeCreate
	if old != nil {
		kind = ChangeUpdate
		// Recorded events survive updates of the object (as in internalstorage), but only
		// while it is the same object (a recreated object has a new UID).
		if r.Events == nil && old.UID == r.UID {
			r.Events = old.Events
		}
	}
	return old, kind, nil
}

func (w *writer) apply(m *Mutation) error {
	switch m.Op {
	case OpCreate, OpUpdate, OpUpsert:
		old, kind, err := w.prepare(m)
		if err != nil {
			return err
		}
		return w.put(m.Record, old, kind)
	case OpDelete:
		old, err := w.lookup(m.Key)
		if err != nil || old == nil {
			return err
		}
		if err := w.remove(old); err != nil {
			return err
		}
		w.changes = append(w.changes, Change{Kind: ChangeDelete, Cluster: old.Cluster, GVR: old.GVR, Old: old})
		return nil
	case OpCleanCluster:
		return w.clean(Change{Kind: ChangeCleanCluster, Cluster: m.Key.Cluster}, m.Key.Cluster)
	case OpCleanResource:
		g := m.Key.GVR
		return w.clean(Change{Kind: ChangeCleanResource, Cluster: m.Key.Cluster, GVR: g},
			m.Key.Cluster, g.Group, g.Version, g.Resource)
	case OpRecordEvent:
		return w.recordEvent(m.Key.Cluster, m.InvolvedUID, m.Event)
	}
	return fmt.Errorf("unknown mutation op %d", m.Op)
}

func (w *writer) clean(ch Change, prefix ...any) error {
	if ch.Cluster == "" {
		return errors.New("clean needs a cluster name")
	}
	// Pairs created earlier in this transaction are still pending in w.stats.
	if err := w.flushStats(); err != nil {
		return err
	}
	// Stats rows first: they tell which (cluster, GVR) pairs exist.
	it, err := w.txn.Get(TableResourceStats, IndexStatsID+"_prefix", prefix...)
	if err != nil {
		return err
	}
	var rows []*resourceStats
	for raw := it.Next(); raw != nil; raw = it.Next() {
		rows = append(rows, raw.(*resourceStats))
	}
	var recs []*Record
	for _, st := range rows {
		recs = recs[:0]
		it, err := w.txn.Get(TableRecords, IndexID+"_prefix", st.Cluster, st.GVR.Group, st.GVR.Version, st.GVR.Resource)
		if err != nil {
			return err
		}
		for raw := it.Next(); raw != nil; raw = it.Next() {
			recs = append(recs, raw.(*Record))
		}
		for _, r := range recs {
			if err := w.txn.Delete(TableRecords, r); err != nil {
				return err
			}
			if err := w.deleteUIDRefs(r); err != nil {
				return err
			}
		}
		ch.Removed += len(recs)
		z, err := w.statsFor(st.Cluster, st.GVR)
		if err != nil {
			return err
		}
		z.Count, z.Bytes = 0, 0
	}
	w.changes = append(w.changes, ch)
	return nil
}

func (w *writer) recordEvent(cluster, uid string, ev *Event) error {
	if cluster == "" || uid == "" || ev == nil {
		return errors.New("record event needs a cluster, an involved object UID and an event")
	}
	var targets []*Record
	eachUIDRef(w.uidTxn(), w.txn, uidSelf, cluster, uid, func(r *Record) bool { targets = append(targets, r); return true })
	for _, old := range targets {
		r := *old
		r.Events = make([]Event, 0, len(old.Events)+1)
		replaced := false
		for _, e := range old.Events {
			if e.UID == ev.UID && ev.UID != "" {
				e = *ev
				replaced = true
			}
			r.Events = append(r.Events, e)
		}
		if !replaced {
			r.Events = append(r.Events, *ev)
		}
		r.SyncedAt = w.now
		if err := w.txn.Insert(TableRecords, &r); err != nil {
			return err
		}
		w.changes = append(w.changes, Change{Kind: ChangeEvent, Cluster: cluster, GVR: r.GVR, Old: old, New: &r})
	}
	return nil
}
