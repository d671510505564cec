package kubestatemetrics

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/clusterpedia-memgraph/memgraph/index"
	"github.com/clusterpedia-memgraph/memgraph/internal/fleet"
)

// The benchmarks run on fleet.Bench(): 10 clusters of 20k objects (≈200k, 99k Pods).
// Reproduce:
//
//	GOWORK=$(hack/build.sh gowork) go test -run '^$' -bench KubeStateMetrics -benchtime 1x -count 5 ./storage/kubestatemetrics/
//
// and compare with benchstat. Results: docs/kube-state-metrics.md.

var benchRecords struct {
	once    sync.Once
	records []*index.Record
	err     error
}

// loadRecords generates the fleet's records (once per process).
func loadRecords(b *testing.B) []*index.Record {
	b.Helper()
	benchRecords.once.Do(func() {
		benchRecords.records, benchRecords.err = fleet.Generate(fleet.Bench()).Records()
	})
	if benchRecords.err != nil {
		b.Fatal(benchRecords.err)
	}
	return benchRecords.records
}

var benchFleet struct {
	once   sync.Once
	store  *index.Store
	e      *Exporter
	render time.Duration // rendering the whole fleet after Start
	held   uint64        // heap the rendered fleet holds
	err    error
}

const benchBatch = 256 // objects per transaction (as index/bench_test.go ingests)

func cloneRecords(in []*index.Record) []*index.Record {
	out := make([]*index.Record, len(in))
	for i, r := range in {
		c := *r
		out[i] = &c
	}
	return out
}

func ingest(s *index.Store, recs []*index.Record) error {
	muts := make([]index.Mutation, 0, benchBatch)
	for i, r := range recs {
		muts = append(muts, index.Mutation{Op: index.OpCreate, Record: r})
		if len(muts) == benchBatch || i == len(recs)-1 {
			if err := s.Apply(muts); err != nil {
				return err
			}
			muts = muts[:0]
		}
	}
	return nil
}

// loadBenchFleet builds the fleet's store and an exporter that rendered all of it.
func loadBenchFleet(b *testing.B) (*index.Store, *Exporter, []*index.Record) {
	b.Helper()
	recs := loadRecords(b)
	benchFleet.once.Do(func() {
		s, err := index.New(index.Options{})
		if err != nil {
			benchFleet.err = err
			return
		}
		if err := ingest(s, cloneRecords(recs)); err != nil {
			benchFleet.err = err
			return
		}
		e, err := New(Options{})
		if err != nil {
			benchFleet.err = err
			return
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		if err = e.Start(s); err == nil {
			err = e.Sync(context.Background())
		}
		benchFleet.render = time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		benchFleet.held = after.HeapAlloc - before.HeapAlloc
		benchFleet.store, benchFleet.e, benchFleet.err = s, e, err
	})
	if benchFleet.err != nil {
		b.Fatal(benchFleet.err)
	}
	return benchFleet.store, benchFleet.e, recs
}

// discardResponse is an http.ResponseWriter that counts and drops the body.
type discardResponse struct {
	h http.Header
	n int64
}

func (d *discardResponse) Header() http.Header         { return d.h }
func (d *discardResponse) WriteHeader(int)             {}
func (d *discardResponse) Write(p []byte) (int, error) { d.n += int64(len(p)); return len(p), nil }

// BenchmarkKubeStateMetricsScrape: one scrape through the handler (content negotiation,
// buffering, the rendered bytes of every selected shard), the body discarded — the whole
// fleet, one cluster of 20k objects, one namespace, one family, and the whole fleet
// gzipped. "http" reads the whole fleet over a real loopback connection. "fleet" also
// reports the heap the rendered fleet holds and how long rendering it took after Start.
func BenchmarkKubeStateMetricsScrape(b *testing.B) {
	s, e, recs := loadBenchFleet(b)
	ns := ""
	for _, r := range recs {
		if r.Cluster == fleet.ClusterName(0) && r.GVR.Resource == "pods" {
			ns = r.Namespace
			break
		}
	}
	h := e.Handler()
	for _, bc := range []struct{ name, target, gzip string }{
		{"fleet", FleetPath, ""},
		{"cluster", "/clusters/" + fleet.ClusterName(0) + "/metrics", ""},
		{"namespace", "/clusters/" + fleet.ClusterName(0) + "/metrics?namespace=" + ns, ""},
		{"family", FleetPath + "?family=kube_pod_status_phase", ""},
		{"fleet-gzip", FleetPath, "gzip"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var n int64
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest(http.MethodGet, bc.target, nil)
				if bc.gzip != "" {
					req.Header.Set("Accept-Encoding", bc.gzip)
				}
				w := &discardResponse{h: http.Header{}}
				h.ServeHTTP(w, req)
				n = w.n
			}
			b.ReportMetric(float64(n)/1e6, "MB/scrape")
			if bc.name == "fleet" {
				b.ReportMetric(float64(benchFleet.held)/1e6, "held-MB")
				b.ReportMetric(float64(benchFleet.held)/float64(e.Stats().Objects), "held-B/object")
				b.ReportMetric(benchFleet.render.Seconds(), "render-all-s")
			}
		})
	}
	b.Run("http", func(b *testing.B) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
		var n int64
		for i := 0; i < b.N; i++ {
			resp, err := c.Get(srv.URL + FleetPath)
			if err != nil {
				b.Fatal(err)
			}
			n, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n)/1e6, "MB/scrape")
	})
	runtime.KeepAlive(s)
}

// BenchmarkKubeStateMetricsIngest: ingest of the whole fleet (256 objects per
// transaction) into a fresh store without and then with the exporter observing it, as a
// pair per iteration (run with -benchtime 1x -count N): "without-s" and "with-s" are the
// write path (until the last write returned), "ratio" is with/without. With the exporter,
// "catchup-s" is how long rendering went on after the last write and "rendered-s" the
// time until every object's series were ready.
func BenchmarkKubeStateMetricsIngest(b *testing.B) {
	recs := loadRecords(b)
	run := func(withMetrics bool) (written, rendered time.Duration) {
		in := cloneRecords(recs)
		var e *Exporter
		opts := index.Options{}
		if withMetrics {
			var err error
			if e, err = New(Options{}); err != nil {
				b.Fatal(err)
			}
			opts.Observers = []index.Observer{e}
		}
		s, _ := index.New(opts)
		if e != nil {
			if err := e.Start(s); err != nil {
				b.Fatal(err)
			}
			defer e.Stop(context.Background())
		}
		runtime.GC()
		start := time.Now()
		if err := ingest(s, in); err != nil {
			b.Fatal(err)
		}
		written = time.Since(start)
		if e != nil {
			if err := e.Sync(context.Background()); err != nil {
				b.Fatal(err)
			}
			rendered = time.Since(start)
		}
		return written, rendered
	}
	var without, with, rendered time.Duration
	for i := 0; i < b.N; i++ {
		w0, _ := run(false)
		w1, r1 := run(true)
		without, with, rendered = without+w0, with+w1, rendered+r1
	}
	n := float64(b.N)
	b.ReportMetric(without.Seconds()/n, "without-s")
	b.ReportMetric(with.Seconds()/n, "with-s")
	b.ReportMetric(with.Seconds()/without.Seconds(), "ratio")
	b.ReportMetric((rendered-with).Seconds()/n, "catchup-s")
	b.ReportMetric(rendered.Seconds()/n, "rendered-s")
	b.ReportMetric(float64(len(recs)), "objects")
}

// BenchmarkKubeStateMetricsRenderPod: the renderer's cost for one fleet Pod, split into
// decoding its stored JSON and rendering its families.
func BenchmarkKubeStateMetricsRenderPod(b *testing.B) {
	f := fleet.Generate(fleet.Config{Clusters: 1, ObjectsPerCluster: 5000, Seed: 1})
	var pods [][]byte
	for _, o := range f.ByKind("Pod") {
		pods = append(pods, o.JSON)
	}
	fams, err := buildFamilies(FamilyOptions{})
	if err != nil {
		b.Fatal(err)
	}
	gen := generateFunc("cluster-00", fams[kindByResource("pods")].generators)
	b.Run("decode", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var p corev1.Pod
			if err := json.Unmarshal(pods[i%len(pods)], &p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("render", func(b *testing.B) {
		objs := make([]*corev1.Pod, len(pods))
		for i := range pods {
			objs[i] = &corev1.Pod{}
			if err := json.Unmarshal(pods[i], objs[i]); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		n := 0
		for i := 0; i < b.N; i++ {
			for _, fam := range gen(objs[i%len(objs)]) {
				n += len(fam.ByteSlice())
			}
		}
		b.ReportMetric(float64(n)/float64(b.N), "bytes/pod")
	})
}
