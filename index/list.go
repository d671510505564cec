package index

import (
	"container/heap"

	memdb "github.com/hashicorp/go-memdb"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/clusterpedia-memgraph/memgraph/graph"
)

// plan is a validated, compiled Query.
type plan struct {
	q          *Query
	types      []TypeMatch
	clusters   map[string]struct{}
	namespaces map[string]struct{}
	names      map[string]struct{}
	labels     labels.Selector
	fields     []FieldRequirement
	fuzzy      []string
	since      time.Time
	before     time.Time
	hasSince   bool
	hasBefore  bool
	order      []orderKey
	cur        cursor
}

func toSet(field string, vals []string) (map[string]struct{}, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	m := make(map[string]struct{}, len(vals))
	for _, v := range vals {
		if strings.IndexByte(v, 0) >= 0 {
			return nil, invalid(field, "value contains a NUL byte")
		}
		m[v] = struct{}{}
	}
	return m, nil
}

func compile(q *Query) (*plan, error) {
	p := &plan{q: q, types: q.Types, fuzzy: q.FuzzyNames}
	var err error
	if p.clusters, err = toSet("clusters", q.Clusters); err != nil {
		return nil, err
	}
	if p.namespaces, err = toSet("namespaces", q.Namespaces); err != nil {
		return nil, err
	}
	if p.names, err = toSet("names", q.Names); err != nil {
		return nil, err
	}
	if q.Labels != nil && !q.Labels.Empty() {
		p.labels = q.Labels
	}
	for i := range q.Fields {
		if err := q.Fields[i].Validate(); err != nil {
			return nil, err
		}
	}
	p.fields = q.Fields
	if q.Since != nil {
		p.since, p.hasSince = q.Since.UTC(), true
	}
	if q.Before != nil {
		p.before, p.hasBefore = q.Before.UTC(), true
	}
	if p.hasSince && p.hasBefore && p.before.Before(p.since) {
		return nil, invalid("before", "before (%s) is earlier than since (%s)", p.before.Format(time.RFC3339), p.since.Format(time.RFC3339))
	}
	if o := q.Owner; o != nil {
		if o.UID == "" && o.Name == "" {
			return nil, invalid("owner", "an owner query needs an owner uid or an owner name")
		}
		if o.Seniority < 0 {
			return nil, invalid("ownerSeniority", "must not be negative (got %d)", o.Seniority)
		}
	}
	if p.order, err = compileOrder(q.OrderBy); err != nil {
		return nil, err
	}
	if p.cur, err = decodeContinue(q.Continue, p.order); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *plan) typeOK(g GVR) bool {
	if len(p.types) == 0 {
		return true
	}
	for _, t := range p.types {
		if t.Matches(g) {
			return true
		}
	}
	return false
}

// match applies every filter, cheapest first.
func (p *plan) match(r *Record) bool {
	if p.clusters != nil {
		if _, ok := p.clusters[r.Cluster]; !ok {
			return false
		}
	}
	if !p.typeOK(r.GVR) {
		return false
	}
	if p.namespaces != nil {
		if _, ok := p.namespaces[r.Namespace]; !ok {
			return false
		}
	}
	if p.names != nil {
		if _, ok := p.names[r.Name]; !ok {
			return false
		}
	}
	for _, f := range p.fuzzy {
		if !strings.Contains(r.Name, f) {
			return false
		}
	}
	if p.hasSince && (r.Created.IsZero() || r.Created.Before(p.since)) {
		return false
	}
	if p.hasBefore && (r.Created.IsZero() || !r.Created.Before(p.before)) {
		return false
	}
	// &r.Labels: a pointer converts to labels.Labels without boxing the slice (an
	// allocation per candidate).
	if p.labels != nil && !p.labels.Matches(&r.Labels) {
		return false
	}
	for i := range p.fields {
		if !p.fields[i].Matches(r.Object) {
			return false
		}
	}
	return true
}

// List runs q against this snapshot.
func (v *View) List(q *Query) (*Result, error) {
	p, err := compile(q)
	if err != nil {
		return nil, err
	}
	switch {
	case q.Owner != nil:
		return p.collect(v.ownerCandidates(p))
	case p.names != nil && p.namespaces == nil:
		return p.collect(v.nameCandidates(p))
	case len(p.order) == 0:
		return v.stream(p)
	default:
		return p.collect(func(fn func(*Record) bool) { v.ordered(p, nil, fn) })
	}
}

// pairs lists the (cluster, GVR) pairs holding data that the query can match, in identity
// order.
func (v *View) pairs(p *plan) []ResourceStat {
	var out []ResourceStat
	add := func(stats []ResourceStat) {
		for _, s := range stats {
			if p.typeOK(s.GVR) {
				out = append(out, s)
			}
		}
	}
	if p.clusters == nil {
		add(v.Stats(""))
		return out
	}
	for _, c := range sortedUnique(p.q.Clusters) {
		add(v.Stats(c))
	}
	return out
}

// ordered yields the candidates of the identity index in identity order, starting at the
// first item after `after` when given (seek), until fn returns false.
func (v *View) ordered(p *plan, after *Record, fn func(*Record) bool) {
	namespaces := sortedUnique(p.q.Namespaces)
	names := sortedUnique(p.q.Names)
	for _, pair := range v.pairs(p) {
		a := after
		if a != nil {
			switch c := cmpPair(pair, a); {
			case c < 0:
				continue // the whole pair lies before the cursor
			case c > 0:
				a = nil // the whole pair lies after it
			}
		}
		g := pair.GVR
		if namespaces == nil {
			if !v.scanPrefix(a, fn, pair.Cluster, g.Group, g.Version, g.Resource) {
				return
			}
			continue
		}
		for _, ns := range namespaces {
			na := a
			if na != nil {
				if ns < na.Namespace {
					continue
				}
				if ns > na.Namespace {
					na = nil
				}
			}
			if names != nil {
				for _, n := range names {
					if na != nil && n <= na.Name {
						continue
					}
					raw, err := v.txn.First(TableRecords, IndexID, pair.Cluster, g.Group, g.Version, g.Resource, ns, n)
					if err != nil || raw == nil {
						continue
					}
					if !fn(raw.(*Record)) {
						return
					}
				}
				continue
			}
			if !v.scanPrefix(na, fn, pair.Cluster, g.Group, g.Version, g.Resource, ns) {
				return
			}
		}
	}
}

func cmpPair(s ResourceStat, r *Record) int {
	if c := cmpString(s.Cluster, r.Cluster); c != 0 {
		return c
	}
	if c := cmpString(s.GVR.Group, r.GVR.Group); c != 0 {
		return c
	}
	if c := cmpString(s.GVR.Version, r.GVR.Version); c != 0 {
		return c
	}
	return cmpString(s.GVR.Resource, r.GVR.Resource)
}

// scanPrefix walks the identity index under prefix (a pair, optionally a namespace). When
// after is given it lies in the same pair (and namespace), and the walk seeks to just after
// it. It returns false when fn stopped.
func (v *View) scanPrefix(after *Record, fn func(*Record) bool, prefix ...any) bool {
	var it memdb.ResultIterator
	var err error
	if after != nil {
		it, err = v.txn.LowerBound(TableRecords, IndexID, after.Cluster, after.GVR.Group, after.GVR.Version, after.GVR.Resource, after.Namespace, after.Name)
	} else {
		it, err = v.txn.Get(TableRecords, IndexID+"_prefix", prefix...)
	}
	if err != nil {
		return true
	}
	ns, scoped := "", len(prefix) == 5
	if scoped {
		ns = prefix[4].(string)
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		r := raw.(*Record)
		if after != nil {
			// LowerBound runs on past the prefix: stop at its end.
			if cmpPair(ResourceStat{Cluster: after.Cluster, GVR: after.GVR}, r) != 0 || (scoped && r.Namespace != ns) {
				return true
			}
			if r.Namespace == after.Namespace && r.Name == after.Name {
				continue
			}
		}
		if !fn(r) {
			return false
		}
	}
	return true
}

// stream answers identity-ordered queries without sorting: it seeks to the cursor, takes
// the page, and keeps counting only when a remaining count is asked for.
func (v *View) stream(p *plan) (*Result, error) {
	q := p.q
	res := &Result{}
	skip := p.cur.offset
	var matched int64 // matches after the page
	more := false
	v.ordered(p, p.cur.after, func(r *Record) bool {
		if !p.match(r) {
			return true
		}
		if skip > 0 {
			skip--
			return true
		}
		if q.Limit <= 0 || int64(len(res.Items)) < q.Limit {
			res.Items = append(res.Items, r)
			return true
		}
		more = true
		matched++
		return q.WithRemainingCount
	})
	p.finish(res, more, matched)
	return res, nil
}

func (p *plan) finish(res *Result, more bool, remaining int64) {
	q := p.q
	if q.WithContinue && more && len(res.Items) > 0 {
		res.Continue = encodeContinue(p.order, res.Items[len(res.Items)-1])
	}
	if q.WithRemainingCount {
		res.RemainingCount = &remaining
	}
}

// collect answers queries whose candidates are not in the requested order: it filters every
// candidate and keeps the page with a bounded heap (O(matches · log page)), counting the
// rest.
func (p *plan) collect(candidates func(fn func(*Record) bool)) (*Result, error) {
	q := p.q
	after := p.cur.after
	keep := -1 // unbounded
	if q.Limit > 0 {
		keep = int(p.cur.offset + q.Limit)
	}
	h := &recordHeap{order: p.order}
	var total int64
	candidates(func(r *Record) bool {
		if !p.match(r) {
			return true
		}
		if after != nil && compareRecords(p.order, r, after) <= 0 {
			return true
		}
		total++
		if keep < 0 || h.Len() < keep {
			heap.Push(h, r)
		} else if keep > 0 && compareRecords(p.order, r, h.items[0]) < 0 {
			h.items[0] = r
			heap.Fix(h, 0)
		}
		return true
	})
	items := h.items
	sort.Slice(items, func(i, j int) bool { return compareRecords(p.order, items[i], items[j]) < 0 })
	off := p.cur.offset
	if off > int64(len(items)) {
		off = int64(len(items))
	}
	res := &Result{Items: items[off:]}
	if len(res.Items) == 0 {
		res.Items = nil
	}
	remaining := total - p.cur.offset - int64(len(res.Items))
	if remaining < 0 {
		remaining = 0
	}
	p.finish(res, remaining > 0, remaining)
	return res, nil
}

// recordHeap is a max-heap (by the query order) of the best items seen so far.
type recordHeap struct {
	order []orderKey
	items []*Record
}

func (h *recordHeap) Len() int           { return len(h.items) }
func (h *recordHeap) Less(i, j int) bool { return compareRecords(h.order, h.items[i], h.items[j]) > 0 }
func (h *recordHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *recordHeap) Push(x any)         { h.items = append(h.items, x.(*Record)) }
func (h *recordHeap) Pop() any {
	n := len(h.items) - 1
	x := h.items[n]
	h.items = h.items[:n]
	return x
}

func (v *View) clustersOf(p *plan) []string {
	if p.clusters != nil {
		return sortedUnique(p.q.Clusters)
	}
	return v.Clusters()
}

// nameCandidates yields the records named in the query when it names no namespace: for each
// (cluster, GVR) pair that can match, an exact identity lookup per name in each namespace of
// the pair (found by a skip scan, see View.namespaces).
func (v *View) nameCandidates(p *plan) func(fn func(*Record) bool) {
	return func(fn func(*Record) bool) {
		names := sortedUnique(p.q.Names)
		for _, pair := range v.pairs(p) {
			stop := false
			v.namespaces(pair.Cluster, pair.GVR, func(ns string) bool {
				for _, n := range names {
					r, err := v.Get(Key{Cluster: pair.Cluster, GVR: pair.GVR, Namespace: ns, Name: n})
					if err != nil {
						continue
					}
					if !fn(r) {
						stop = true
						return false
					}
				}
				return true
			})
			if stop {
				return
			}
		}
	}
}

// ownerCandidates yields the dependents Seniority+1 generations below the owner, walking
// the owner graph over every ownerReference.
func (v *View) ownerCandidates(p *plan) func(fn func(*Record) bool) {
	o := p.q.Owner
	return func(fn func(*Record) bool) {
		var roots []graph.NodeID
		for _, c := range v.clustersOf(p) {
			if o.UID != "" {
				roots = append(roots, graph.NodeID{Cluster: c, UID: o.UID})
				continue
			}
			for _, r := range v.ownersNamed(c, o) {
				if r.UID != "" {
					roots = append(roots, graph.NodeID{Cluster: c, UID: r.UID})
				}
			}
		}
		// A dependent with several owners in the generation is yielded once.
		var seen map[*Record]struct{}
		for _, id := range graph.Generation(v.Graph(), roots, o.Seniority) {
			stop := false
			v.dependents(id.Cluster, id.UID, func(r *Record) bool {
				if len(r.Owners) > 1 {
					if seen == nil {
						seen = map[*Record]struct{}{}
					}
					if _, dup := seen[r]; dup {
						return true
					}
					seen[r] = struct{}{}
				}
				if !fn(r) {
					stop = true
					return false
				}
				return true
			})
			if stop {
				return
			}
		}
	}
}

// ownersNamed returns the records of cluster named o.Name, of o's group-resource when it has
// one, in o's namespaces when it names some (cluster-scoped owners match any): exact
// identity lookups per (GVR, namespace); without namespaces, those of each GVR are found by a
// skip scan.
func (v *View) ownersNamed(cluster string, o *OwnerQuery) []*Record {
	var out []*Record
	for _, st := range v.Stats(cluster) {
		if o.HasGR && (st.GVR.Group != o.Group || st.GVR.Resource != o.Resource) {
			continue
		}
		try := func(ns string) bool {
			if r, err := v.Get(Key{Cluster: cluster, GVR: st.GVR, Namespace: ns, Name: o.Name}); err == nil {
				out = append(out, r)
			}
			return true
		}
		if len(o.Namespaces) == 0 {
			v.namespaces(cluster, st.GVR, try)
			continue
		}
		try("") // a cluster-scoped owner
		for _, ns := range sortedUnique(o.Namespaces) {
			if ns != "" {
				try(ns)
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
