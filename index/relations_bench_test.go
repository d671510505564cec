package index_test

import (
	"math/rand"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/clusterpedia-memgraph/memgraph/graph"
	"github.com/clusterpedia-memgraph/memgraph/index"
	"github.com/clusterpedia-memgraph/memgraph/internal/fleet"
)

// Relationship benchmarks on fleet.Bench() (10 clusters, ~200k objects). Reproduce with
//
//	GOTOOLCHAIN=go1.23.10 go test -run '^$' -bench 'Relations' -benchtime 1x -count 6 ./index/
//
// BenchmarkRelationsIngest runs the hook and no-hook variants interleaved within each
// count, so both see the same machine conditions; compare medians.

var relBench struct {
	once  sync.Once
	f     *fleet.Fleet
	recs  []*index.Record
	store *index.Store
	err   error
}

func relBenchFleet(b *testing.B) (*fleet.Fleet, []*index.Record) {
	b.Helper()
	relBench.once.Do(func() {
		relBench.f = fleet.Generate(fleet.Bench())
		relBench.recs, relBench.err = relBench.f.Records()
	})
	if relBench.err != nil {
		b.Fatal(relBench.err)
	}
	return relBench.f, relBench.recs
}

var relBenchStore struct {
	once sync.Once
	s    *index.Store
	err  error
}

// relBenchLoaded is the Bench fleet in a store with the Relations hook.
func relBenchLoaded(b *testing.B) (*fleet.Fleet, *index.Store) {
	f, recs := relBenchFleet(b)
	relBenchStore.once.Do(func() {
		s, err := index.New(index.Options{Hooks: []index.TxnHook{index.NewRelations()}})
		if err != nil {
			relBenchStore.err = err
			return
		}
		relBenchStore.err = ingest(s, cloneRecs(recs), 1000)
		relBenchStore.s = s
	})
	if relBenchStore.err != nil {
		b.Fatal(relBenchStore.err)
	}
	return f, relBenchStore.s
}

func cloneRecs(in []*index.Record) []*index.Record {
	out := make([]*index.Record, len(in))
	for i, r := range in {
		c := *r
		out[i] = &c
	}
	return out
}

// ingest writes recs in transactions of batch mutations (batch 1: one Create per object,
// as Clusterpedia's synchro calls the storage).
func ingest(s *index.Store, recs []*index.Record, batch int) error {
	if batch <= 1 {
		for _, r := range recs {
			if err := s.Create(r); err != nil {
				return err
			}
		}
		return nil
	}
	muts := make([]index.Mutation, 0, batch)
	for i, r := range recs {
		muts = append(muts, index.Mutation{Op: index.OpCreate, Record: r})
		if len(muts) == batch || i == len(recs)-1 {
			if err := s.Apply(muts); err != nil {
				return err
			}
			muts = muts[:0]
		}
	}
	return nil
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchIngestPair ingests the same objects into two fresh stores, one without and one
// with the Relations hook, in alternating chunks of 500 objects (the order within a pair
// alternates too): both variants run interleaved under the same machine conditions, which
// on a shared machine matters more than anything else. It reports per object the wall
// time, the process CPU time (GC included) and the allocations of each variant, and the
// hook/no-hook ratios (of the sums, and the median of the per-chunk CPU ratios). The hook
// maintains the graph on its own goroutine: each chunk of the hook variant ends when the
// graph has caught up with it, so its wall and CPU time include all of the graph's work.
// in-hook is the time that goroutine spent applying batches.
// adapterRecord is what the storage adapter does per write: encode the object Clusterpedia
// hands it (an *unstructured.Unstructured) to JSON and read its metadata.
func adapterRecord(b *testing.B, cluster string, gvr index.GVR, u *unstructured.Unstructured) *index.Record {
	data, err := u.MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	r := &index.Record{Cluster: cluster, GVR: gvr, Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(),
		UID: string(u.GetUID()), ResourceVersion: u.GetResourceVersion(), Object: data, Created: u.GetCreationTimestamp().Time}
	if l := u.GetLabels(); len(l) > 0 {
		r.Labels = index.LabelsFromMap(l)
	}
	for _, o := range u.GetOwnerReferences() {
		r.Owners = append(r.Owners, index.OwnerRef{APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Name, UID: string(o.UID),
			Controller: o.Controller != nil && *o.Controller})
	}
	return r
}

type adapterInput struct {
	o fleet.Object
	u *unstructured.Unstructured
}

func benchIngestPair(b *testing.B, recs []*index.Record, batch int, fromJSON []fleet.Object) {
	benchIngestPairAdapter(b, recs, batch, fromJSON, nil)
}

func benchIngestPairAdapter(b *testing.B, recs []*index.Record, batch int, fromJSON []fleet.Object, adapter []adapterInput) {
	b.StopTimer()
	var inHook time.Duration
	const chunk = 500
	var wall, cpu [2]time.Duration
	var allocs, bytes [2]uint64
	var ratios []float64
	n := len(recs)
	if fromJSON != nil {
		n = len(fromJSON)
	}
	if adapter != nil {
		n = len(adapter)
	}
	var ms0, ms1 runtime.MemStats
	for i := 0; i < b.N; i++ {
		var stores [2]*index.Store
		var ins [2][]*index.Record
		var rel *index.Relations
		for v := range stores {
			opts := index.Options{}
			if v == 1 {
				rel = index.NewRelations()
				opts.Hooks = []index.TxnHook{rel}
			}
			s, err := index.New(opts)
			if err != nil {
				b.Fatal(err)
			}
			stores[v] = s
			if recs != nil {
				ins[v] = cloneRecs(recs)
			}
		}
		runtime.GC()
		for lo, c := 0, 0; lo < n; lo, c = lo+chunk, c+1 {
			hi := min(lo+chunk, n)
			var cc [2]time.Duration
			for k := 0; k < 2; k++ {
				v := (c + k) % 2
				runtime.ReadMemStats(&ms0)
				c0, t0 := cpuTime(), time.Now()
				if adapter != nil {
					for j := lo; j < hi; j++ {
						a := &adapter[j]
						if err := stores[v].Create(adapterRecord(b, a.o.Cluster, a.o.GVR, a.u)); err != nil {
							b.Fatal(err)
						}
					}
				} else if fromJSON != nil {
					for j := lo; j < hi; j++ {
						o := &fromJSON[j]
						r, err := index.RecordFromJSON(o.Cluster, o.GVR, o.JSON)
						if err != nil {
							b.Fatal(err)
						}
						if err := stores[v].Create(r); err != nil {
							b.Fatal(err)
						}
					}
				} else if err := ingest(stores[v], ins[v][lo:hi], batch); err != nil {
					b.Fatal(err)
				}
				if v == 1 {
					rel.Stats() // waits for the graph to catch up
				}
				wall[v] += time.Since(t0)
				cc[v] = cpuTime() - c0
				cpu[v] += cc[v]
				runtime.ReadMemStats(&ms1)
				allocs[v] += ms1.Mallocs - ms0.Mallocs
				bytes[v] += ms1.TotalAlloc - ms0.TotalAlloc
			}
			if cc[0] > 0 {
				ratios = append(ratios, float64(cc[1])/float64(cc[0]))
			}
		}
		runtime.KeepAlive(stores)
		inHook += rel.Status().Busy
	}
	sort.Float64s(ratios)
	per := func(x time.Duration) float64 { return float64(x.Nanoseconds()) / float64(b.N) / float64(n) }
	b.ReportMetric(per(wall[0]), "wall-ns/obj-no-hook")
	b.ReportMetric(per(wall[1]), "wall-ns/obj-hook")
	b.ReportMetric(float64(wall[1])/float64(wall[0]), "wall-hook/no-hook")
	b.ReportMetric(per(cpu[0]), "cpu-ns/obj-no-hook")
	b.ReportMetric(per(cpu[1]), "cpu-ns/obj-hook")
	b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "cpu-hook/no-hook")
	if len(ratios) > 0 {
		b.ReportMetric(ratios[len(ratios)/2], "cpu-hook/no-hook-median")
	}
	b.ReportMetric(per(inHook), "in-hook-ns/obj")
	b.ReportMetric(float64(allocs[0])/float64(b.N)/float64(n), "allocs/obj-no-hook")
	b.ReportMetric(float64(allocs[1])/float64(b.N)/float64(n), "allocs/obj-hook")
	b.ReportMetric(float64(bytes[0])/float64(b.N)/float64(n), "B/obj-no-hook")
	b.ReportMetric(float64(bytes[1])/float64(b.N)/float64(n), "B/obj-hook")
}

// benchIngestConcurrentPair is Clusterpedia's initial sync — one writer per cluster, one
// object per call, all at once — into a store without and with the hook, in alternating
// order. The hook's reference extraction runs outside the write lock (Store.Prepare), in
// parallel with the other writers' transactions; wall time is what the sync waits for.
func benchIngestConcurrentPair(b *testing.B, recs []*index.Record) {
	b.StopTimer()
	var wall, cpu [2]time.Duration
	var ratios []float64
	for i := 0; i < b.N; i++ {
		var w [2]time.Duration
		for k := 0; k < 2; k++ {
			v := (i + k) % 2
			opts := index.Options{}
			rel := index.NewRelations()
			if v == 1 {
				opts.Hooks = []index.TxnHook{rel}
			}
			s, err := index.New(opts)
			if err != nil {
				b.Fatal(err)
			}
			run := writersByCluster(s, cloneRecs(recs))
			runtime.GC()
			c0, t0 := cpuTime(), time.Now()
			err = run()
			if v == 1 {
				rel.Stats() // the graph caught up
			}
			w[v] = time.Since(t0)
			wall[v] += w[v]
			cpu[v] += cpuTime() - c0
			if err != nil {
				b.Fatal(err)
			}
		}
		ratios = append(ratios, float64(w[1])/float64(w[0]))
	}
	sort.Float64s(ratios)
	per := func(x time.Duration) float64 { return float64(x.Nanoseconds()) / float64(b.N) / float64(len(recs)) }
	b.ReportMetric(per(wall[0]), "wall-ns/obj-no-hook")
	b.ReportMetric(per(wall[1]), "wall-ns/obj-hook")
	b.ReportMetric(ratios[len(ratios)/2], "wall-hook/no-hook-median")
	b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "cpu-hook/no-hook")
}

// BenchmarkRelationsIngest measures ingest with and without relationship maintenance:
// the whole Bench fleet (200k objects) in transactions of 1000 writes and one write per
// transaction (what Clusterpedia's synchro does), the first cluster only (20k objects,
// quicker), and end to end from object JSON (index.RecordFromJSON + Create).
func BenchmarkRelationsIngest(b *testing.B) {
	f, all := relBenchFleet(b)
	var one []*index.Record
	var oneObjs []fleet.Object
	for i, o := range f.Objects {
		if o.Cluster == fleet.ClusterName(0) {
			one = append(one, all[i])
			oneObjs = append(oneObjs, o)
		}
	}
	b.Run("fleet/batch1000", func(b *testing.B) { benchIngestPair(b, all, 1000, nil) })
	b.Run("fleet/one-per-txn", func(b *testing.B) { benchIngestPair(b, all, 1, nil) })
	b.Run("cluster/batch1000", func(b *testing.B) { benchIngestPair(b, one, 1000, nil) })
	b.Run("cluster/one-per-txn", func(b *testing.B) { benchIngestPair(b, one, 1, nil) })
	b.Run("cluster/from-json-one-per-txn", func(b *testing.B) { benchIngestPair(b, nil, 1, oneObjs) })
	b.Run("fleet/concurrent-writers", func(b *testing.B) { benchIngestConcurrentPair(b, all) })
	// The storage adapter's path: the object arrives decoded (Clusterpedia hands an
	// *unstructured.Unstructured), is encoded to JSON and written one per transaction.
	// The first 5000 objects of the first cluster (decoded objects are large).
	b.Run("cluster/adapter-one-per-txn", func(b *testing.B) {
		in := make([]adapterInput, 0, 5000)
		for _, o := range oneObjs[:min(5000, len(oneObjs))] {
			u := &unstructured.Unstructured{}
			if err := u.UnmarshalJSON(o.JSON); err != nil {
				b.Fatal(err)
			}
			in = append(in, adapterInput{o: o, u: u})
		}
		benchIngestPairAdapter(b, nil, 1, nil, in)
	})
}

// BenchmarkRelationsDeploymentTree walks a Deployment's full descendant tree
// (ReplicaSets and Pods) from a fresh View, Deployments picked at random.
func BenchmarkRelationsDeploymentTree(b *testing.B) {
	f, s := relBenchLoaded(b)
	deps := f.ByKind("Deployment")
	v := s.View()
	keys := make([]index.Key, 256)
	rng := rand.New(rand.NewSource(3))
	for i := range keys {
		o := deps[rng.Intn(len(deps))]
		r, _ := index.RecordFromJSON(o.Cluster, o.GVR, o.JSON)
		keys[i] = r.Key()
	}
	nodes := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v = s.View()
		n, ok := v.NodeByKey(keys[i%len(keys)])
		if !ok {
			b.Fatal("missing deployment")
		}
		res := graph.Walk(v.Relations(), n, graph.WalkOptions{Direction: graph.Dependents, Depth: 20, Rels: graph.RelSet(0).With(graph.RelOwner)})
		nodes += len(res.Nodes)
	}
	b.ReportMetric(float64(nodes)/float64(b.N), "nodes/op")
}

// BenchmarkRelationsServicePods lists the Pods a Service selects from a fresh View.
func BenchmarkRelationsServicePods(b *testing.B) {
	f, s := relBenchLoaded(b)
	svcs := f.ByKind("Service")
	keys := make([]index.Key, 256)
	rng := rand.New(rand.NewSource(4))
	for i := range keys {
		o := svcs[rng.Intn(len(svcs))]
		r, _ := index.RecordFromJSON(o.Cluster, o.GVR, o.JSON)
		keys[i] = r.Key()
	}
	nodes := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v := s.View()
		n, ok := v.NodeByKey(keys[i%len(keys)])
		if !ok {
			b.Fatal("missing service")
		}
		res := graph.Walk(v.Relations(), n, graph.WalkOptions{Direction: graph.Dependencies, Depth: 1, Rels: graph.RelSet(0).With(graph.RelServicePod)})
		nodes += len(res.Nodes)
	}
	b.ReportMetric(float64(nodes)/float64(b.N), "nodes/op")
}

// BenchmarkRelationsPodUpdate is the steady-state write: a Pod's status changes.
func BenchmarkRelationsPodUpdate(b *testing.B) {
	f, s := relBenchLoaded(b)
	pods := f.ByKind("Pod")
	recs := make([]*index.Record, 512)
	rng := rand.New(rand.NewSource(5))
	for i := range recs {
		o := pods[rng.Intn(len(pods))]
		r, _ := index.RecordFromJSON(o.Cluster, o.GVR, o.JSON)
		// a different byte slice with the same content: the graph must re-read it
		r.Object = append([]byte(nil), r.Object...)
		recs[i] = r
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := *recs[i%len(recs)]
		if err := s.Update(&c); err != nil {
			b.Fatal(err)
		}
	}
}
