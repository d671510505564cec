package index_test

import (
	"fmt"
	"math/rand"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/clusterpedia-memgraph/memgraph/index"
	"github.com/clusterpedia-memgraph/memgraph/internal/fleet"
)

// The benchmarks run on fleet.Bench(): 10 clusters, ~200k objects. Reproduce with
//   make bench            (or: go test -run '^$' -bench . -benchmem -count 6 ./index/)
// and compare runs with benchstat.

var benchFleet struct {
	once    sync.Once
	fleet   *fleet.Fleet
	records []*index.Record
	store   *index.Store
	err     error
}

func loadBenchFleet(b *testing.B) (*fleet.Fleet, []*index.Record, *index.Store) {
	b.Helper()
	benchFleet.once.Do(func() {
		f := fleet.Generate(fleet.Bench())
		recs, err := f.Records()
		if err != nil {
			benchFleet.err = err
			return
		}
		s, err := index.New(index.Options{})
		if err != nil {
			benchFleet.err = err
			return
		}
		if err := ingestBatched(s, cloneRecords(recs), benchBatch); err != nil {
			benchFleet.err = err
			return
		}
		benchFleet.fleet, benchFleet.records, benchFleet.store = f, recs, s
	})
	if benchFleet.err != nil {
		b.Fatal(benchFleet.err)
	}
	return benchFleet.fleet, benchFleet.records, benchFleet.store
}

// cloneRecords copies the record structs (the store takes ownership of what it is given).
func cloneRecords(in []*index.Record) []*index.Record {
	out := make([]*index.Record, len(in))
	for i, r := range in {
		c := *r
		out[i] = &c
	}
	return out
}

// benchBatch is the batch size of batched ingest. Larger write transactions overflow
// go-immutable-radix's mutation tracking (8192 nodes per index) and fall back to a commit
// that walks the whole tree, so batches stay at a few hundred objects.
const benchBatch = 256

func ingestBatched(s *index.Store, recs []*index.Record, batch int) error {
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

func BenchmarkIngestBatched(b *testing.B) {
	_, recs, _ := loadBenchFleet(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		in := cloneRecords(recs)
		s, _ := index.New(index.Options{})
		b.StartTimer()
		if err := ingestBatched(s, in, benchBatch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
}

func BenchmarkIngestOnePerTxn(b *testing.B) {
	_, recs, _ := loadBenchFleet(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		in := cloneRecords(recs)
		s, _ := index.New(index.Options{})
		b.StartTimer()
		for _, r := range in {
			if err := s.Create(r); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
}

// BenchmarkIngestConcurrentWriters is Clusterpedia's initial sync: one writer per cluster
// (its resource synchros), each writing one object per call, all at once. Single-object
// writes that queue behind the write lock share one transaction (group commit); compare
// with BenchmarkIngestOnePerTxn, the same calls from one writer.
func BenchmarkIngestConcurrentWriters(b *testing.B) {
	_, recs, _ := loadBenchFleet(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, _ := index.New(index.Options{})
		run := writersByCluster(s, cloneRecords(recs))
		b.StartTimer()
		if err := run(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
}

// writersByCluster starts one goroutine per cluster of recs, each creating its records one
// call at a time once run is called; run waits for all of them and returns the first error.
func writersByCluster(s *index.Store, recs []*index.Record) (run func() error) {
	byCluster := map[string][]*index.Record{}
	for _, r := range recs {
		byCluster[r.Cluster] = append(byCluster[r.Cluster], r)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, len(byCluster))
	for _, rs := range byCluster {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for _, r := range rs {
				if err := s.Create(r); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	return func() error {
		close(start)
		wg.Wait()
		select {
		case err := <-errs:
			return err
		default:
			return nil
		}
	}
}

func BenchmarkUpdate(b *testing.B) {
	_, recs, s := loadBenchFleet(b)
	rng := rand.New(rand.NewSource(1))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := *recs[rng.Intn(len(recs))]
		c.ResourceVersion = strconv.Itoa(1_000_000 + i)
		if err := s.Update(&c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	_, recs, s := loadBenchFleet(b)
	keys := make([]index.Key, 1024)
	rng := rand.New(rand.NewSource(2))
	for i := range keys {
		keys[i] = recs[rng.Intn(len(recs))].Key()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Get(keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
	}
}

var podsGVR = index.GVR{Version: "v1", Resource: "pods"}

func runList(b *testing.B, s *index.Store, q *index.Query, wantItems bool) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	var n int
	for i := 0; i < b.N; i++ {
		res, err := s.List(q)
		if err != nil {
			b.Fatal(err)
		}
		n = len(res.Items)
	}
	if wantItems && n == 0 {
		b.Fatalf("query matched nothing: %+v", q)
	}
	b.ReportMetric(float64(n), "items")
}

// pickAppLabel returns a namespace of cluster-00 and an app label value used by pods there.
func pickAppLabel(b *testing.B, recs []*index.Record) (cluster, ns, app string) {
	for _, r := range recs {
		if r.GVR == podsGVR && r.Cluster == "cluster-00" && r.Labels.Get("app") != "" {
			return r.Cluster, r.Namespace, r.Labels.Get("app")
		}
	}
	b.Fatal("no labelled pod in the fleet")
	return
}

func BenchmarkListNamespaceLabel(b *testing.B) {
	_, recs, s := loadBenchFleet(b)
	cluster, ns, app := pickAppLabel(b, recs)
	sel, err := labels.Parse(fmt.Sprintf("app=%s,tier!=db", app))
	if err != nil {
		b.Fatal(err)
	}
	runList(b, s, &index.Query{Types: []index.TypeMatch{{Group: "", Version: "v1", Resource: "pods"}},
		Clusters: []string{cluster}, Namespaces: []string{ns}, Labels: sel, Limit: 500,
		WithContinue: true, WithRemainingCount: true}, true)
}

func BenchmarkListNamespaceLabelAllClusters(b *testing.B) {
	_, recs, s := loadBenchFleet(b)
	_, ns, app := pickAppLabel(b, recs)
	sel, _ := labels.Parse("app=" + app)
	runList(b, s, &index.Query{Types: []index.TypeMatch{{Version: "v1", Resource: "pods"}},
		Namespaces: []string{ns}, Labels: sel, Limit: 500, WithContinue: true, WithRemainingCount: true}, true)
}

func BenchmarkOwnerSeniority1(b *testing.B) {
	_, recs, s := loadBenchFleet(b)
	var dep *index.Record
	for _, r := range recs {
		if r.Kind == "Deployment" && r.Cluster == "cluster-00" {
			dep = r
			break
		}
	}
	runList(b, s, &index.Query{Types: []index.TypeMatch{{Version: "v1", Resource: "pods"}},
		Clusters: []string{dep.Cluster}, Owner: &index.OwnerQuery{UID: dep.UID, Seniority: 1},
		WithRemainingCount: true}, true)
}

func BenchmarkFuzzyName(b *testing.B) {
	_, _, s := loadBenchFleet(b)
	runList(b, s, &index.Query{Types: []index.TypeMatch{{Version: "v1", Resource: "pods"}},
		Clusters: []string{"cluster-00"}, FuzzyNames: []string{"web"}, Limit: 500, WithRemainingCount: true}, true)
}

func BenchmarkFieldSelector(b *testing.B) {
	f, _, s := loadBenchFleet(b)
	node := f.Nodes("cluster-00")[0]
	fs, err := index.ParseFieldSelector("status.phase=Running,spec.nodeName=" + node)
	if err != nil {
		b.Fatal(err)
	}
	runList(b, s, &index.Query{Types: []index.TypeMatch{{Version: "v1", Resource: "pods"}},
		Clusters: []string{"cluster-00"}, Fields: fs, Limit: 500, WithRemainingCount: true}, true)
}

func BenchmarkOrderByCreatedDescLimit50(b *testing.B) {
	_, _, s := loadBenchFleet(b)
	runList(b, s, &index.Query{Types: []index.TypeMatch{{Version: "v1", Resource: "pods"}},
		OrderBy: []index.OrderBy{{Field: index.OrderCreatedAt, Desc: true}}, Limit: 50,
		WithContinue: true, WithRemainingCount: true}, true)
}

func BenchmarkFullListPods(b *testing.B) {
	_, _, s := loadBenchFleet(b)
	runList(b, s, &index.Query{Types: []index.TypeMatch{{Version: "v1", Resource: "pods"}}, WithRemainingCount: true}, true)
}

// BenchmarkPagedClusterPods walks every page (500 items) of one cluster's pods.
func BenchmarkPagedClusterPods(b *testing.B) {
	_, _, s := loadBenchFleet(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := &index.Query{Types: []index.TypeMatch{{Version: "v1", Resource: "pods"}}, Clusters: []string{"cluster-03"},
			Limit: 500, WithContinue: true, WithRemainingCount: true}
		pages := 0
		for {
			res, err := s.List(q)
			if err != nil {
				b.Fatal(err)
			}
			pages++
			if res.Continue == "" {
				break
			}
			q.Continue = res.Continue
		}
		if pages < 2 {
			b.Fatalf("only %d pages", pages)
		}
	}
}

func BenchmarkResourceVersions(b *testing.B) {
	_, _, s := loadBenchFleet(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(s.View().ResourceVersions("cluster-05")) == 0 {
			b.Fatal("no resource versions")
		}
	}
}

// BenchmarkMemoryPerObject builds a store from the fleet's JSON and reports the heap held
// per object beyond the JSON itself (record structs, metadata strings, labels, owners and
// every index), and the total including the JSON.
func BenchmarkMemoryPerObject(b *testing.B) {
	f, _, _ := loadBenchFleet(b)
	jsonBytes := float64(f.TotalJSONBytes())
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		recs, err := f.Records()
		if err != nil {
			b.Fatal(err)
		}
		s, _ := index.New(index.Options{})
		if err := ingestBatched(s, recs, benchBatch); err != nil {
			b.Fatal(err)
		}
		n := float64(len(recs))
		recs = nil
		runtime.GC()
		runtime.ReadMemStats(&after)
		held := float64(after.HeapAlloc) - float64(before.HeapAlloc)
		b.ReportMetric(held/n, "overhead-B/object")
		b.ReportMetric((held+jsonBytes)/n, "total-B/object")
		b.ReportMetric(jsonBytes/n, "json-B/object")
		runtime.KeepAlive(s)
	}
}
