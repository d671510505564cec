package kubestatemetrics

import (
	"sync"
	"sync/atomic"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

type opKind uint8

const (
	opUpsert        opKind = iota + 1 // render rec for key (replacing what key had)
	opDelete                          // drop key's series
	opCleanCluster                    // drop every series of cluster
	opCleanResource                   // drop every series of (cluster, kind)
	opRebuild                         // drop everything, then render every object of view
	opBarrier                         // close done once everything before it is applied
)

// objKey identifies one object of a covered kind.
type objKey struct {
	cluster   string
	kind      int
	namespace string
	name      string
}

// op is one unit of work for the renderer.
type op struct {
	kind    opKind
	key     objKey        // upsert, delete; key.cluster (and key.kind) for the cleans
	rec     *index.Record // upsert: the committed record (read-only, shared with the store)
	view    *index.View   // rebuild
	done    chan struct{} // barrier
	removed bool          // superseded by a clean or a rebuild enqueued later
}

// queue hands committed changes from the write path to the renderer. Object operations
// are coalesced per object — an object changed several times before the renderer reaches
// it is rendered once, in its latest state, at the position of its first pending change —
// and bounded: when max objects are pending, push waits for the renderer. A clean or a
// rebuild supersedes every pending operation it covers, so coalescing never moves an
// object's change across one. Operations come out in the order they went in.
type queue struct {
	mu       sync.Mutex
	cond     *sync.Cond // broadcast on every state change (space freed, work added, closed)
	items    []*op
	head     int
	pending  map[objKey]*op // object operations not yet taken by the renderer
	npending atomic.Int64   // len(pending), readable without mu
	max      int
	closed   bool
}

func newQueue(max int) *queue {
	q := &queue{pending: map[objKey]*op{}, max: max}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// pushObject enqueues an upsert (rec != nil) or a delete of key, coalescing with a pending
// operation of the same object. It waits while max objects are pending; it drops the
// operation once the queue is closed. The caller holds q.mu.
func (q *queue) pushObject(key objKey, rec *index.Record) {
	kind := opDelete
	if rec != nil {
		kind = opUpsert
	}
	for {
		if q.closed {
			return
		}
		if p := q.pending[key]; p != nil {
			p.kind, p.rec = kind, rec
			return
		}
		if len(q.pending) < q.max {
			break
		}
		q.cond.Wait()
	}
	o := &op{kind: kind, key: key, rec: rec}
	q.pending[key] = o
	q.npending.Store(int64(len(q.pending)))
	q.items = append(q.items, o)
	q.cond.Broadcast()
}

// pushMarker enqueues a clean, a rebuild or a barrier; a clean or a rebuild supersedes the
// pending object operations it covers. The caller holds q.mu.
func (q *queue) pushMarker(o *op) {
	if q.closed {
		if o.done != nil {
			close(o.done)
		}
		return
	}
	if o.kind != opBarrier {
		for k, p := range q.pending {
			if o.kind == opRebuild || (k.cluster == o.key.cluster && (o.kind == opCleanCluster || k.kind == o.key.kind)) {
				p.removed = true
				delete(q.pending, k)
			}
		}
		q.npending.Store(int64(len(q.pending)))
	}
	q.items = append(q.items, o)
	q.cond.Broadcast()
}

// take waits for work and returns up to n operations in order (nil once closed). Object
// operations leave the pending set: later changes of those objects queue anew.
func (q *queue) take(n int, buf []*op) []*op {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.head == len(q.items) && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return nil
	}
	out := buf[:0]
	for q.head < len(q.items) && len(out) < n {
		o := q.items[q.head]
		q.items[q.head] = nil
		q.head++
		if o.removed {
			continue
		}
		if o.kind == opUpsert || o.kind == opDelete {
			delete(q.pending, o.key)
		}
		out = append(out, o)
	}
	q.npending.Store(int64(len(q.pending)))
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head > 4096 && q.head*2 > len(q.items) {
		q.items = append(q.items[:0], q.items[q.head:]...)
		q.head = 0
	}
	q.cond.Broadcast()
	return out
}

// len is the number of queued operations (superseded ones included).
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.head
}

// close wakes every waiter; later pushes are dropped and barriers released at once.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.closed = true
	for _, o := range q.items[q.head:] {
		if o != nil && o.done != nil {
			close(o.done)
		}
	}
	q.items, q.head, q.pending = nil, 0, map[objKey]*op{}
	q.npending.Store(0)
	q.cond.Broadcast()
}
