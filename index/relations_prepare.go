package index

import (
	"github.com/clusterpedia-memgraph/memgraph/graph"
)

// preparedRefs are a record's references extracted before the write lock (Store.Prepare):
// reading them out of the object JSON is most of the relationship hook's work per object,
// and needs nothing from the store.
type preparedRefs struct {
	object []byte       // the JSON they were extracted from
	src    graph.Object // and the metadata
	ex     graph.Extracted
}

// recordPreparer is a TxnHook that can do per-record work ahead of the write lock.
type recordPreparer interface{ prepare(*Record) }

// prepare extracts r's references, when the hook will need them.
func (rel *Relations) prepare(r *Record) {
	if r.refs != nil || (!isPod(r) && !graph.HasRules(r.GVR.Group, kindOf(r))) {
		return
	}
	src := objectOf(r)
	ex, _ := graph.Extract(src, r.Object)
	r.refs = &preparedRefs{object: r.Object, src: src, ex: ex}
}

// extractRefs returns r's references: p when they were extracted from exactly r's current
// JSON and metadata, otherwise extracted now (into buf, aliasing the JSON, when alias is
// set). The caller must not modify the result.
func extractRefs(r *Record, p *preparedRefs, buf []graph.Ref, alias bool) graph.Extracted {
	src := objectOf(r)
	if p != nil && sameSlice(p.object, r.Object) && p.src.Group == src.Group &&
		p.src.Version == src.Version && p.src.Kind == src.Kind && p.src.Namespace == src.Namespace &&
		p.src.Name == src.Name && p.src.Labels.Equal(src.Labels) {
		return p.ex
	}
	if alias {
		ex, _ := graph.ExtractInto(buf, src, r.Object)
		return ex
	}
	ex, _ := graph.Extract(src, r.Object)
	return ex
}

// sameSlice reports whether a and b are the same bytes in memory.
func sameSlice(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// Prepare does the hooks' per-record work that needs no store state — extracting the
// relationship references from the object JSON — ahead of a write, on the caller's
// goroutine: a restore does it on its decoding goroutines, so the graph is built sooner
// after Load. Optional: the Relations hook's goroutine extracts whatever was not prepared
// (ordinary writes leave it to that goroutine), and a record changed after Prepare is
// extracted again. Records must not be shared between concurrent Prepare calls.
func (s *Store) Prepare(recs ...*Record) {
	for _, h := range s.opts.Hooks {
		if p, ok := unwrapHook(h).(recordPreparer); ok {
			for _, r := range recs {
				if r != nil {
					p.prepare(r)
				}
			}
		}
	}
}
