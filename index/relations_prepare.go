package index

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/clusterpedia-memgraph/memgraph/graph"
)

// preparedRefs are a record's references extracted ahead of applying its change
// (prepareBatch): reading them out of the object JSON is most of the relationship hook's
// work per object, and needs nothing but the record.
type preparedRefs struct {
	object []byte       // the JSON they were extracted from
	src    graph.Object // and the metadata
	ex     graph.Extracted
}

// prepareRefs extracts r's references (nil when the hook never reads them).
func prepareRefs(r *Record) *preparedRefs {
	if !isPod(r) && !graph.HasRules(r.GVR.Group, kindOf(r)) {
		return nil
	}
	src := objectOf(r)
	ex, _ := graph.Extract(src, r.Object)
	return &preparedRefs{object: r.Object, src: src, ex: ex}
}

// prepareBatch extracts the references of a large batch's new records on every core
// before the batch is applied (a restore hands the hook all of its objects at once): the
// result is indexed like changes (nil for a small batch). Records are not written.
func prepareBatch(changes []Change) []*preparedRefs {
	if len(changes) < parallelApplyMin || runtime.GOMAXPROCS(0) < 2 {
		return nil
	}
	prepared := make([]*preparedRefs, len(changes))
	onEveryCore(len(changes), 256, func(i int) {
		if ch := &changes[i]; ch.New != nil && (ch.Kind == ChangeCreate || ch.Kind == ChangeUpdate) {
			prepared[i] = prepareRecovering(ch.New)
		}
	})
	return prepared
}

// onEveryCore calls fn(0) … fn(n-1) on up to GOMAXPROCS goroutines, which take step
// indexes at a time, and returns when all calls have.
func onEveryCore(n, step int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), (n+step-1)/step); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(int64(step))) - step
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+step, n); i++ {
					fn(i)
				}
			}
		}()
	}
	wg.Wait()
}

// prepareRecovering is prepareRefs on a goroutine of its own: a panic leaves the record
// unprepared (the pass extracts it again, where a panic is recovered by a rebuild).
func prepareRecovering(r *Record) (p *preparedRefs) {
	defer func() {
		if recover() != nil {
			p = nil
		}
	}()
	return prepareRefs(r)
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
