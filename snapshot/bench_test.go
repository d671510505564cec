package snapshot

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/golang/snappy"

	"github.com/clusterpedia-memgraph/memgraph/index"
	"github.com/clusterpedia-memgraph/memgraph/internal/fleet"
)

// Benchmarks on the 200k-object fleet (fleet.Bench()). Reproduce (numbers in
// docs/persistence.md):
//
//	GOTOOLCHAIN=go1.23.10 go test -run '^$' -bench . -benchtime 1x -count 3 -timeout 60m ./snapshot/

var benchFleet struct {
	once sync.Once
	recs []*index.Record
	err  error
}

func benchRecords(b *testing.B) []*index.Record {
	benchFleet.once.Do(func() {
		benchFleet.recs, benchFleet.err = fleet.Generate(fleet.Bench()).Records()
	})
	if benchFleet.err != nil {
		b.Fatal(benchFleet.err)
	}
	return benchFleet.recs
}

func quietOpts(dir string) Options {
	return Options{Dir: dir, SnapshotInterval: time.Hour, Logf: func(string, ...any) {}}
}

// ingest creates every record (one store call per object, as the synchro does) and
// returns the time writers spent.
func ingest(b *testing.B, s *index.Store, recs []*index.Record) time.Duration {
	clones := make([]*index.Record, len(recs))
	for i, r := range recs {
		clones[i] = cloneRecord(r)
	}
	runtime.GC()
	t0 := time.Now()
	for _, r := range clones {
		if err := s.Create(r); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(t0)
}

// BenchmarkIngest: 200k Creates (one store call per object, as the synchro makes them)
// into a store without persistence and into one with it (interval mode, 1s flush: the
// write-behind log is written concurrently), back to back in every iteration, in
// alternating order, so both see the same machine. ratio = throughput with / without;
// flushed-ms = time until the log holds every object.
func BenchmarkIngest(b *testing.B) {
	recs := benchRecords(b)
	var without, with, flushed time.Duration
	var ratios []float64
	for i := 0; i < b.N; i++ {
		var w, p time.Duration
		run := func(persist bool) {
			if !persist {
				s, _ := index.New(index.Options{})
				w = ingest(b, s, recs)
				return
			}
			ps, err := Open(quietOpts(filepath.Join(b.TempDir(), "db")))
			if err != nil {
				b.Fatal(err)
			}
			s, _ := index.New(index.Options{Observers: []index.Observer{ps}})
			if _, err := ps.Restore(s); err != nil {
				b.Fatal(err)
			}
			if err := ps.Start(s); err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			p = ingest(b, s, recs)
			if err := ps.flush(); err != nil {
				b.Fatal(err)
			}
			flushed += time.Since(t0)
			ps.abandon(false)
		}
		run(i%2 == 1)
		run(i%2 == 0)
		without += w
		with += p
		ratios = append(ratios, w.Seconds()/p.Seconds())
	}
	n := float64(len(recs)) * float64(b.N)
	b.ReportMetric(n/without.Seconds(), "objects/s-without")
	b.ReportMetric(n/with.Seconds(), "objects/s-with")
	b.ReportMetric(float64(flushed.Milliseconds())/float64(b.N), "flushed-ms")
	sort.Float64s(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "ratio")
}

// persistedStore is a store holding the fleet, with its Persister (interval mode).
func persistedStore(b *testing.B, dir string) (*Persister, *index.Store) {
	recs := benchRecords(b)
	p, err := Open(quietOpts(dir))
	if err != nil {
		b.Fatal(err)
	}
	s, _ := index.New(index.Options{Observers: []index.Observer{p}})
	if _, err := p.Restore(s); err != nil {
		b.Fatal(err)
	}
	muts := make([]index.Mutation, 0, len(recs))
	for _, r := range recs {
		muts = append(muts, index.Mutation{Op: index.OpUpsert, Record: cloneRecord(r)})
	}
	if err := s.Apply(muts); err != nil {
		b.Fatal(err)
	}
	return p, s
}

// BenchmarkSnapshot: one full snapshot of the 200k-object store (a write in between so
// each is a new generation); reports the size, the directory size after cleanup, and how
// long writers were blocked.
func BenchmarkSnapshot(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "db")
	p, s := persistedStore(b, dir)
	defer p.abandon(false)
	r := cloneRecord(benchRecords(b)[0])
	var blocked time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r = cloneRecord(r)
		r.ResourceVersion += "1"
		if err := s.Upsert(r); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := p.Snapshot(); err != nil {
			b.Fatal(err)
		}
		blocked = max(blocked, p.Status().LastSnapshotBlocked)
	}
	st := p.Status()
	b.ReportMetric(float64(st.LastSnapshotBytes)/(1<<20), "snapshot-MiB")
	b.ReportMetric(float64(st.DiskBytes)/(1<<20), "disk-MiB")
	b.ReportMetric(float64(blocked.Microseconds()), "writers-blocked-µs")
}

// BenchmarkRestore: Open + Restore of the 200k-object fleet, from a snapshot and from the
// log alone (no snapshot: the worst case, a crash before the first snapshot). Each restore
// runs in a fresh child process, as a restart does (the benchmark's own heap, which holds
// the generated fleet, would otherwise slow the restore's garbage collections); restore-ms
// is what Restore reports (Open's checks included: the store serves from then on),
// graph-ready-ms when the relationship graph of the restored objects is complete (on the
// same clock), heap-MiB the child's heap afterwards.
func BenchmarkRestore(b *testing.B) {
	// snapshot+relations restores into a store with the relationship hook, as the plugin
	// runs it (the hook builds the graph of the restored objects).
	for _, from := range []string{"snapshot", "snapshot+relations", "log"} {
		b.Run(from, func(b *testing.B) {
			// MEMGRAPH_RESTORE_DIR keeps the directories (one per variant) and reuses them:
			// comparing two builds on the same data without regenerating it.
			dir := filepath.Join(b.TempDir(), "db")
			if keep := os.Getenv(restoreDirEnv); keep != "" {
				dir = filepath.Join(keep, strings.TrimSuffix(from, "+relations"))
			}
			n := -1 // unknown for a reused directory: the first child tells
			if _, err := os.Stat(dir); err != nil {
				p, s := persistedStore(b, dir)
				if from != "log" {
					if err := p.Snapshot(); err != nil {
						b.Fatal(err)
					}
				}
				p.abandon(true)
				n = storeSize(s)
			}
			var restore, heap, cpu, graphReady float64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				args := []string{"-test.run=^TestRestoreChild$", "-test.count=1"}
				if prof := os.Getenv("MEMGRAPH_RESTORE_CPUPROFILE"); prof != "" {
					args = append(args, "-test.cpuprofile="+prof+"."+from)
				}
				cmd := exec.Command(os.Args[0], args...)
				cmd.Env = append(os.Environ(), restoreEnv+"="+dir)
				if from == "snapshot+relations" {
					cmd.Env = append(cmd.Env, restoreRelationsEnv+"=1")
				}
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("%v: %s", err, out)
				}
				var objects int
				var ms, mib, cpums, gms float64
				at := bytes.Index(out, []byte("RESTORED"))
				if at < 0 {
					b.Fatalf("child: %s", out)
				}
				_, err = fmt.Sscanf(string(out[at:]), "RESTORED %d %f %f %f %f", &objects, &ms, &mib, &cpums, &gms)
				if n < 0 {
					n = objects
				}
				if err != nil || objects != n {
					b.Fatalf("child: %v %d/%d: %s", err, objects, n, out)
				}
				restore += ms
				graphReady += gms
				heap += mib
				cpu += cpums
			}
			b.ReportMetric(float64(n), "objects")
			b.ReportMetric(restore/float64(b.N), "restore-ms")
			b.ReportMetric(heap/float64(b.N), "heap-MiB")
			b.ReportMetric(cpu/float64(b.N), "restore-cpu-ms")
			if from == "snapshot+relations" {
				b.ReportMetric(graphReady/float64(b.N), "graph-ready-ms")
			}
		})
	}
}

const (
	restoreEnv          = "MEMGRAPH_SNAPSHOT_RESTORE_CHILD"
	restoreRelationsEnv = "MEMGRAPH_SNAPSHOT_RESTORE_RELATIONS"
	restoreDirEnv       = "MEMGRAPH_RESTORE_DIR"
)

// TestRestoreChild is BenchmarkRestore's child process.
func TestRestoreChild(t *testing.T) {
	dir := os.Getenv(restoreEnv)
	if dir == "" {
		t.Skip("BenchmarkRestore child only")
	}
	cpu0 := cpuTime()
	p, err := Open(quietOpts(dir))
	if err != nil {
		t.Fatal(err)
	}
	opts := index.Options{Observers: []index.Observer{p}}
	rel := index.NewRelations()
	if os.Getenv(restoreRelationsEnv) != "" {
		opts.Hooks = []index.TxnHook{rel}
	}
	s, _ := index.New(opts)
	res, err := p.Restore(s)
	if err != nil || res.Outcome != RestoreOK {
		t.Fatalf("%v %+v", err, res)
	}
	// The store serves from here on; the relationship graph is built on the hook's goroutine
	// (graph-ms: until it is complete, on the same clock as restore-ms).
	graph := res.Duration
	if len(opts.Hooks) > 0 {
		t0 := time.Now()
		rel.Stats()
		graph += time.Since(t0)
	}
	cpu := cpuTime() - cpu0
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("RESTORED %d %.1f %.1f %.1f %.1f\n", res.Objects, float64(res.Duration.Microseconds())/1000,
		float64(ms.HeapAlloc)/(1<<20), float64(cpu.Microseconds())/1000, float64(graph.Microseconds())/1000)
	p.abandon(false)
}

// BenchmarkDecode compares the two ways to rebuild the records of the fleet, on one core:
// decoding the binary record format vs. index.RecordFromJSON on the object JSON.
func BenchmarkDecode(b *testing.B) {
	recs := benchRecords(b)
	var enc []byte
	{
		e := encoder{}
		for _, r := range recs {
			e.lenPrefixed(func() { e.record(r) })
		}
		enc = e.b
	}
	b.Run("binary", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			d := decoder{b: enc, strs: map[string]string{}}
			for len(d.b) > 0 {
				rd := decoder{b: d.raw(), strs: d.strs}
				if rd.record(); rd.err != nil {
					b.Fatal(rd.err)
				}
			}
		}
		b.ReportMetric(float64(len(recs)), "objects")
	})
	b.Run("snappy", func(b *testing.B) { // what compressing snapshot chunks would add to restore
		var comp [][]byte
		var raw, packed int
		for off := 0; off < len(enc); off += chunkTarget {
			c := enc[off:min(off+chunkTarget, len(enc))]
			comp = append(comp, snappy.Encode(nil, c))
			raw += len(c)
			packed += len(comp[len(comp)-1])
		}
		b.ResetTimer()
		buf := make([]byte, chunkTarget)
		for i := 0; i < b.N; i++ {
			for _, c := range comp {
				if _, err := snappy.Decode(buf, c); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(raw)/float64(packed), "compression-ratio")
	})
	b.Run("json", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, r := range recs {
				if _, err := index.RecordFromJSON(r.Cluster, r.GVR, r.Object); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(len(recs)), "objects")
	})
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLogWrite: the flusher's work for the whole fleet ingested one object per commit
// (encode every commit and append it to the log, 1000 commits per flush; no fsync): what
// persistence adds to ingest, on the flusher's core.
func BenchmarkLogWrite(b *testing.B) {
	recs := benchRecords(b)
	cs := make([]commit, len(recs))
	for i, r := range recs {
		cs[i] = commit{seq: uint64(i + 1), changes: []index.Change{{Kind: index.ChangeCreate, Cluster: r.Cluster, GVR: r.GVR, New: r}}}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p, err := Open(quietOpts(filepath.Join(b.TempDir(), "db")))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		p.flushMu.Lock()
		for lo := 0; lo < len(cs); lo += 1000 {
			if err := p.writeCommits(cs[lo:min(lo+1000, len(cs))]); err != nil {
				b.Fatal(err)
			}
		}
		p.flushMu.Unlock()
		b.StopTimer()
		b.ReportMetric(float64(p.Status().LogBytes)/(1<<20), "log-MiB")
		p.abandon(false)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(recs)), "ns/object")
}

// BenchmarkStrictConcurrentWriters: strict mode fsyncs every commit before the write
// returns; 8 writers (Clusterpedia runs one synchro per cluster and resource type) writing
// one object per call share commits and fsyncs through the store's group commit.
// writes/commit is how many writes one fsync covered.
func BenchmarkStrictConcurrentWriters(b *testing.B) {
	const writers, per = 8, 250
	var commits, writes int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		opts := testOpts(filepath.Join(b.TempDir(), "db"), b)
		opts.SyncMode = SyncStrict
		p, s := openStoreCounting(b, opts, &commits)
		var wg sync.WaitGroup
		b.StartTimer()
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < per; j++ {
					r := &index.Record{Cluster: fmt.Sprintf("c%d", w), GVR: index.GVR{Version: "v1", Resource: "configmaps"},
						Namespace: "ns", Name: fmt.Sprintf("cm-%d", j), UID: fmt.Sprintf("u-%d-%d", w, j), Object: []byte(`{"data":{}}`)}
					if err := s.Create(r); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		b.StopTimer()
		writes += writers * per
		closeStore(b, p, s)
	}
	b.ReportMetric(float64(writes)/b.Elapsed().Seconds(), "objects/s")
	b.ReportMetric(float64(writes)/float64(commits), "writes/commit")
}

type commitCounter struct{ n *int64 }

func (c commitCounter) Observe([]index.Change) { atomic.AddInt64(c.n, 1) }

func openStoreCounting(t testing.TB, opts Options, commits *int64) (*Persister, *index.Store) {
	t.Helper()
	p, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s, err := index.New(index.Options{Observers: []index.Observer{p, commitCounter{commits}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Restore(s); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if err := p.Start(s); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return p, s
}
