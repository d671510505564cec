package storage

// Side-by-side benchmarks: memgraph against Clusterpedia's reference storage layer,
// internalstorage, on SQLite and on PostgreSQL — the same synthetic fleet, the same calls
// through the StorageFactory / ResourceStorage / CollectionResourceStorage interfaces, the
// same list objects the apiserver passes (internal typed lists such as core.PodList, so
// decoding is included), the same ListOptions binding-apiserver builds
// (withRemainingCount on).
//
//	BenchmarkCompare/Backend=<memgraph|sqlite|postgres>/Query=<query>   List / Get / collection
//	BenchmarkCompare/Backend=<...>/Op=<Create|Update|CleanCluster|GetResourceVersions>
//	BenchmarkCompare/Backend=memgraph/Op=Memory                          heap held vs JSON size
//
// Each backend loads the fleet once per process (sync.Once); run one backend per process so
// a loaded backend does not slow the others' garbage collection:
//
//	go test -run '^$' -bench 'Compare/Backend=sqlite/' ./storage/
//
// Environment:
//
//	MEMGRAPH_BENCH_FLEET=small          10 clusters x 1,000 objects instead of fleet.Bench()
//	                                    (10 x 20,000: the reported numbers)
//	MEMGRAPH_BENCH_POSTGRES_DSN=<dsn>   PostgreSQL for Backend=postgres (skipped without;
//	                                    hack/bench-compare.sh starts a throwaway server)
//	MEMGRAPH_BENCH_DIR=<dir>            where the SQLite file goes (default: a temp dir
//	                                    removed at exit)
//
// hack/bench-compare.sh (make bench-compare) runs everything and writes
// docs/benchmarks-vs-internalstorage.md.

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kubernetes/pkg/apis/core"

	internal "github.com/clusterpedia-io/api/clusterpedia"
	cpstorage "github.com/clusterpedia-io/clusterpedia/pkg/storage"
	"github.com/clusterpedia-io/clusterpedia/pkg/storage/internalstorage"

	"github.com/clusterpedia-memgraph/memgraph/index"
	"github.com/clusterpedia-memgraph/memgraph/internal/fleet"
)

const (
	envBenchFleet       = "MEMGRAPH_BENCH_FLEET"
	envBenchPostgresDSN = "MEMGRAPH_BENCH_POSTGRES_DSN"
	envBenchDir         = "MEMGRAPH_BENCH_DIR"

	// ingestCluster is the cluster name the write benchmarks use (never part of the fleet).
	ingestCluster = "ingest-bench"
)

var benchTempDir struct {
	mu  sync.Mutex
	dir string
}

// TestMain removes the SQLite file of the comparison benchmarks when they made a temp dir.
func TestMain(m *testing.M) {
	code := m.Run()
	benchTempDir.mu.Lock()
	if benchTempDir.dir != "" {
		_ = os.RemoveAll(benchTempDir.dir)
	}
	benchTempDir.mu.Unlock()
	os.Exit(code)
}

// compareData is the fleet every backend loads, and the separate objects the write
// benchmarks create, update and clean.
type compareData struct {
	fleet  *fleet.Fleet
	ingest []fleet.Object // one small cluster, created under ingestCluster
	// query parameters picked from the fleet
	labelNS, labelApp string // a namespace of cluster-00 and an app label used there
	deployUID         string // Deployment "web" in the first shared namespace of cluster-00
	node              string // first node of cluster-00
	getKeys           [][2]string
}

var compareDataOnce struct {
	once sync.Once
	d    *compareData
	err  error
}

func benchFleetConfig() (fleet.Config, string) {
	if strings.EqualFold(os.Getenv(envBenchFleet), "small") {
		return fleet.Config{Clusters: 10, ObjectsPerCluster: 1_000, Seed: 1}, "small"
	}
	return fleet.Bench(), "bench"
}

func loadCompareData(b *testing.B) *compareData {
	b.Helper()
	compareDataOnce.once.Do(func() {
		cfg, _ := benchFleetConfig()
		d := &compareData{fleet: fleet.Generate(cfg)}
		ing := fleet.Generate(fleet.Config{Clusters: 1, ObjectsPerCluster: 2_000, Seed: 7})
		d.ingest = ing.Objects
		for _, o := range d.fleet.Objects {
			if o.Cluster != "cluster-00" || o.Kind != "Pod" {
				continue
			}
			u := &unstructured.Unstructured{}
			if err := u.UnmarshalJSON(o.JSON); err != nil {
				compareDataOnce.err = err
				return
			}
			if app := u.GetLabels()["app"]; app != "" && d.labelApp == "" {
				d.labelNS, d.labelApp = u.GetNamespace(), app
			}
		}
		dep, ok := d.fleet.Find("cluster-00", "Deployment", fleet.SharedNamespaces[0], fleet.SharedName)
		if !ok {
			compareDataOnce.err = fmt.Errorf("fleet has no Deployment %s/%s", fleet.SharedNamespaces[0], fleet.SharedName)
			return
		}
		u := &unstructured.Unstructured{}
		_ = u.UnmarshalJSON(dep.JSON)
		d.deployUID = string(u.GetUID())
		d.node = d.fleet.Nodes("cluster-00")[0]
		rng := rand.New(rand.NewSource(2))
		pods := d.fleet.ByKind("Pod")
		for i := 0; i < 1024; i++ {
			o := pods[rng.Intn(len(pods))]
			p := &unstructured.Unstructured{}
			_ = p.UnmarshalJSON(o.JSON)
			d.getKeys = append(d.getKeys, [2]string{o.Cluster, p.GetNamespace() + "/" + p.GetName()})
		}
		compareDataOnce.d = d
	})
	if compareDataOnce.err != nil {
		b.Fatal(compareDataOnce.err)
	}
	return compareDataOnce.d
}

// compareBackend is one storage layer holding the fleet.
type compareBackend struct {
	name      string
	factory   cpstorage.StorageFactory
	storages  map[index.GVR]cpstorage.ResourceStorage
	workloads cpstorage.CollectionResourceStorage
	// heapInuse and heapAlloc are what loading the fleet added to the heap after a GC:
	// in-use spans and live objects (memgraph only: the SQL backends keep the data in
	// their database).
	heapInuse, heapAlloc int64
}

var compareBackends struct {
	mu   sync.Mutex
	once map[string]*sync.Once
	be   map[string]*compareBackend
	err  map[string]error
}

func newBenchFactory(name string) (cpstorage.StorageFactory, error) {
	switch name {
	case "memgraph":
		return newFactory(testConfig(), nil)
	case "sqlite":
		dir := os.Getenv(envBenchDir)
		if dir == "" {
			benchTempDir.mu.Lock()
			if benchTempDir.dir == "" {
				d, err := os.MkdirTemp("", "memgraph-bench-")
				if err != nil {
					benchTempDir.mu.Unlock()
					return nil, err
				}
				benchTempDir.dir = d
			}
			dir = benchTempDir.dir
			benchTempDir.mu.Unlock()
		}
		db := filepath.Join(dir, "internalstorage.sqlite")
		_ = os.Remove(db)
		// WAL with synchronous=NORMAL: the fastest durable setting a SQLite user would
		// choose (the default rollback journal fsyncs every insert).
		return internalStorageFactory(dir, "type: sqlite\ndsn: "+db+"?_journal_mode=WAL&_synchronous=NORMAL\n")
	case "postgres":
		dsn := os.Getenv(envBenchPostgresDSN)
		return internalStorageFactory(os.TempDir(), "type: postgres\ndsn: "+strconv.Quote(dsn)+"\n")
	}
	return nil, fmt.Errorf("unknown backend %q", name)
}

func internalStorageFactory(dir, body string) (cpstorage.StorageFactory, error) {
	f, err := os.CreateTemp(dir, "internalstorage-*.yaml")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(body + "metrics:\n  disable: true\n"); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return internalstorage.NewStorageFactory(f.Name())
}

// storagesFor builds the resource storage of every fleet kind and the workloads collection,
// with the configs the apiserver and the synchro build.
func storagesFor(f cpstorage.StorageFactory) (map[index.GVR]cpstorage.ResourceStorage, cpstorage.CollectionResourceStorage, error) {
	out := map[index.GVR]cpstorage.ResourceStorage{}
	for _, kind := range fleet.Kinds() {
		g, _ := fleet.GVRFor(kind)
		rc, err := configFactory.NewConfig(schema.GroupVersionResource{Group: g.Group, Version: g.Version, Resource: g.Resource}, fleet.Namespaced(kind))
		if err != nil {
			return nil, nil, err
		}
		rs, err := f.NewResourceStorage(&cpstorage.ResourceStorageConfig{ResourceConfig: *rc})
		if err != nil {
			return nil, nil, err
		}
		out[g] = rs
	}
	crs, err := f.GetCollectionResources(context.TODO())
	if err != nil {
		return nil, nil, err
	}
	for _, cr := range crs {
		if cr.Name != CollectionWorkloads {
			continue
		}
		for i := range cr.ResourceTypes {
			rt := &cr.ResourceTypes[i]
			rc, err := configFactory.NewConfig(rt.GroupResource().WithVersion(""), false)
			if err != nil {
				return nil, nil, err
			}
			*rt = internal.CollectionResourceType{Group: rc.StorageResource.Group, Version: rc.StorageResource.Version, Resource: rc.StorageResource.Resource}
		}
		w, err := f.NewCollectionResourceStorage(cr)
		return out, w, err
	}
	return nil, nil, fmt.Errorf("no %s collection", CollectionWorkloads)
}

// createAll writes objects through their resource storages, as the synchro hands them:
// *unstructured.Unstructured with the cluster-name annotation.
func createAll(ctx context.Context, storages map[index.GVR]cpstorage.ResourceStorage, cluster string, objs []fleet.Object) error {
	for _, o := range objs {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(o.JSON); err != nil {
			return err
		}
		c := o.Cluster
		if cluster != "" {
			c = cluster
			setClusterName(u, c)
		}
		if err := storages[o.GVR].Create(ctx, c, u); err != nil {
			return fmt.Errorf("create %s %s/%s in %s: %w", o.Kind, u.GetNamespace(), u.GetName(), c, err)
		}
	}
	return nil
}

func setClusterName(u *unstructured.Unstructured, cluster string) {
	a := u.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[internal.ShadowAnnotationClusterName] = cluster
	u.SetAnnotations(a)
}

func loadBackend(b *testing.B, name string) *compareBackend {
	b.Helper()
	if name == "postgres" && os.Getenv(envBenchPostgresDSN) == "" {
		b.Skipf("SKIP Backend=postgres: %s is not set (hack/bench-compare.sh starts a PostgreSQL server)", envBenchPostgresDSN)
	}
	d := loadCompareData(b)
	compareBackends.mu.Lock()
	if compareBackends.once == nil {
		compareBackends.once = map[string]*sync.Once{}
		compareBackends.be = map[string]*compareBackend{}
		compareBackends.err = map[string]error{}
	}
	once := compareBackends.once[name]
	if once == nil {
		once = &sync.Once{}
		compareBackends.once[name] = once
	}
	compareBackends.mu.Unlock()
	once.Do(func() {
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		be, err := func() (*compareBackend, error) {
			f, err := newBenchFactory(name)
			if err != nil {
				return nil, err
			}
			storages, workloads, err := storagesFor(f)
			if err != nil {
				return nil, err
			}
			if err := createAll(bg, storages, "", d.fleet.Objects); err != nil {
				return nil, err
			}
			return &compareBackend{name: name, factory: f, storages: storages, workloads: workloads}, nil
		}()
		if err == nil {
			took := time.Since(start)
			runtime.GC()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if name == "memgraph" {
				be.heapInuse = int64(after.HeapInuse) - int64(before.HeapInuse)
				be.heapAlloc = int64(after.HeapAlloc) - int64(before.HeapAlloc)
			}
			_, size := benchFleetConfig()
			fmt.Fprintf(os.Stderr, "# load Backend=%s fleet=%s: %d objects (%d MB of JSON) in %s, %.0f objects/s\n",
				name, size, len(d.fleet.Objects), d.fleet.TotalJSONBytes()>>20, took.Round(time.Millisecond),
				float64(len(d.fleet.Objects))/took.Seconds())
		}
		compareBackends.mu.Lock()
		compareBackends.be[name], compareBackends.err[name] = be, err
		compareBackends.mu.Unlock()
	})
	compareBackends.mu.Lock()
	be, err := compareBackends.be[name], compareBackends.err[name]
	compareBackends.mu.Unlock()
	if err != nil {
		b.Fatalf("load Backend=%s: %v", name, err)
	}
	return be
}

var benchPods = index.GVR{Version: "v1", Resource: "pods"}

// compareQuery is one List (or collection Get) of the query mix.
type compareQuery struct {
	name string
	// run performs the query once and returns how many items it produced.
	run func(b *testing.B, be *compareBackend) int
}

func listOnce(b *testing.B, rs cpstorage.ResourceStorage, rawQuery, cluster, namespace string) (*core.PodList, error) {
	list := &core.PodList{}
	err := rs.List(bg, list, decodeListOptions(b, rawQuery, cluster, namespace))
	return list, err
}

func podQuery(name, rawQuery, cluster, namespace string) compareQuery {
	return compareQuery{name: name, run: func(b *testing.B, be *compareBackend) int {
		list, err := listOnce(b, be.storages[benchPods], rawQuery, cluster, namespace)
		if err != nil {
			// recorded in the raw results (the report shows the query as missing)
			fmt.Fprintf(os.Stderr, "# Backend=%s Query=%s rejected: %v\n", be.name, name, err)
			b.Skipf("SKIP Backend=%s Query=%s: %v", be.name, name, err)
		}
		return len(list.Items)
	}}
}

func compareQueries(d *compareData) []compareQuery {
	return []compareQuery{
		podQuery("NamespaceLabelLimit500", "labelSelector="+fmt.Sprintf("app=%s,tier!=db", d.labelApp)+"&limit=500", "cluster-00", d.labelNS),
		{name: "ClusterPodsPagedBy500", run: func(b *testing.B, be *compareBackend) int {
			n, token := 0, ""
			for page := 0; ; page++ {
				q := "limit=500&withContinue=true"
				if token != "" {
					q += "&continue=" + token
				}
				list, err := listOnce(b, be.storages[benchPods], q, "cluster-03", "")
				if err != nil {
					b.Fatalf("page %d: %v", page, err)
				}
				n += len(list.Items)
				if token = list.Continue; token == "" || len(list.Items) == 0 || page > 10_000 {
					return n
				}
			}
		}},
		podQuery("OrderByCreatedDescLimit50", "orderby=created_at%20desc&limit=50", "", ""),
		podQuery("OwnerSeniority1", "ownerUID="+d.deployUID+"&ownerSeniority=1", "cluster-00", ""),
		podQuery("FuzzyNameLimit500", "labelSelector=internalstorage.clusterpedia.io/fuzzy-name=web&limit=500", "cluster-00", ""),
		podQuery("FieldSelectorLimit500", "fieldSelector=status.phase=Running,spec.nodeName="+d.node+"&limit=500", "cluster-00", ""),
		{name: "CollectionWorkloadsLimit100", run: func(b *testing.B, be *compareBackend) int {
			out, err := be.workloads.Get(bg, decodeCollectionOptions(b, "limit=100"))
			if err != nil {
				b.Fatal(err)
			}
			return len(out.Items)
		}},
		podQuery("FullListPods", "", "", ""),
		podQuery("FullListPodsMetadataOnly", "onlyMetadata=true", "", ""),
	}
}

// BenchmarkCompare runs the query mix and the write and maintenance operations against each
// backend (see the file comment).
func BenchmarkCompare(b *testing.B) {
	for _, name := range []string{"memgraph", "sqlite", "postgres"} {
		b.Run("Backend="+name, func(b *testing.B) {
			be := loadBackend(b, name)
			d := loadCompareData(b)
			for _, q := range compareQueries(d) {
				b.Run("Query="+q.name, func(b *testing.B) {
					b.ReportAllocs()
					n := 0
					for i := 0; i < b.N; i++ {
						n = q.run(b, be)
					}
					b.ReportMetric(float64(n), "items")
				})
			}
			b.Run("Query=Get", func(b *testing.B) {
				rs := be.storages[benchPods]
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					k := d.getKeys[i%len(d.getKeys)]
					ns, n, _ := strings.Cut(k[1], "/")
					if err := rs.Get(bg, k[0], ns, n, &core.Pod{}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("Op=GetResourceVersions", func(b *testing.B) {
				b.ReportAllocs()
				n := 0
				for i := 0; i < b.N; i++ {
					rvs, err := be.factory.GetResourceVersions(bg, "cluster-05")
					if err != nil {
						b.Fatal(err)
					}
					n = 0
					for _, v := range rvs {
						n += len(v.Resources)
					}
				}
				b.ReportMetric(float64(n), "items")
			})
			benchWrites(b, be, d)
			if name == "memgraph" {
				b.Run("Op=Memory", func(b *testing.B) {
					for i := 0; i < b.N; i++ {
						runtime.KeepAlive(be)
					}
					json, n := float64(d.fleet.TotalJSONBytes()), float64(len(d.fleet.Objects))
					b.ReportMetric(float64(be.heapInuse)/json, "inuse/json")
					b.ReportMetric(float64(be.heapAlloc)/json, "live/json")
					b.ReportMetric(float64(be.heapInuse)/n, "inuse-B/object")
					b.ReportMetric(float64(be.heapAlloc)/n, "live-B/object")
					b.ReportMetric(json/n, "json-B/object")
				})
			}
		})
	}
}

// benchWrites times Create, Update and CleanCluster on a separate 2,000-object cluster
// (ingestCluster) while the fleet stays loaded; every op handles the whole batch and the
// objects/s metric is the write throughput.
func benchWrites(b *testing.B, be *compareBackend, d *compareData) {
	clean := func(b *testing.B) {
		if err := be.factory.CleanCluster(bg, ingestCluster); err != nil {
			b.Fatal(err)
		}
	}
	decodeBatch := func(b *testing.B, rv int) []*unstructured.Unstructured {
		out := make([]*unstructured.Unstructured, len(d.ingest))
		for i, o := range d.ingest {
			u := &unstructured.Unstructured{}
			if err := u.UnmarshalJSON(o.JSON); err != nil {
				b.Fatal(err)
			}
			setClusterName(u, ingestCluster)
			if rv > 0 {
				u.SetResourceVersion(strconv.Itoa(rv + i))
			}
			out[i] = u
		}
		return out
	}
	writeBatch := func(b *testing.B, objs []*unstructured.Unstructured, update bool) {
		for i, u := range objs {
			rs := be.storages[d.ingest[i].GVR]
			var err error
			if update {
				err = rs.Update(bg, ingestCluster, u)
			} else {
				err = rs.Create(bg, ingestCluster, u)
			}
			if err != nil {
				b.Fatalf("%s/%s: %v", u.GetNamespace(), u.GetName(), err)
			}
		}
	}
	objectsPerSecond := func(b *testing.B) {
		b.ReportMetric(float64(len(d.ingest))*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
	}
	b.Run("Op=Create", func(b *testing.B) {
		clean(b)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			objs := decodeBatch(b, 0)
			b.StartTimer()
			writeBatch(b, objs, false)
			b.StopTimer()
			clean(b)
			b.StartTimer()
		}
		objectsPerSecond(b)
	})
	b.Run("Op=Update", func(b *testing.B) {
		clean(b)
		writeBatch(b, decodeBatch(b, 0), false)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			objs := decodeBatch(b, 10_000_000+i*len(d.ingest))
			b.StartTimer()
			writeBatch(b, objs, true)
		}
		b.StopTimer()
		objectsPerSecond(b)
		clean(b)
	})
	b.Run("Op=CleanCluster", func(b *testing.B) {
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			writeBatch(b, decodeBatch(b, 0), false)
			b.StartTimer()
			clean(b)
		}
		objectsPerSecond(b)
	})
}

// TestCompareQueriesAgree checks, on a small fleet, that the comparison's query mix is
// answered alike by memgraph and internalstorage on SQLite (same item counts; the same
// items where the query orders totally), so the benchmarks compare like with like — and
// records where internalstorage differs (documented differences).
func TestCompareQueriesAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP TestCompareQueriesAgree in -short mode (loads a fleet into SQLite)")
	}
	fl := fleet.Generate(fleet.Config{Clusters: 10, ObjectsPerCluster: 400, Seed: 1})
	var storages [2]map[index.GVR]cpstorage.ResourceStorage
	for i, f := range []cpstorage.StorageFactory{newTestFactory(t, nil), newInternalStorage(t)} {
		s, _, err := storagesFor(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := createAll(bg, s, "", fl.Objects); err != nil {
			t.Fatal(err)
		}
		storages[i] = s
	}
	node := fl.Nodes("cluster-00")[0]
	for _, q := range []struct{ name, query, cluster string }{
		{"FieldSelector", "fieldSelector=status.phase=Running,spec.nodeName=" + node, "cluster-00"},
		{"FuzzyName", "labelSelector=internalstorage.clusterpedia.io/fuzzy-name=web", "cluster-00"},
		{"OrderByCreatedDesc", "orderby=created_at%20desc,cluster,namespace,name&limit=50", ""},
		{"All", "orderby=cluster,namespace,name", ""},
	} {
		t.Run(q.name, func(t *testing.T) {
			var got [2][]string
			for i, s := range storages {
				list := &core.PodList{}
				if err := s[benchPods].List(bg, list, decodeListOptions(t, q.query, q.cluster, "")); err != nil {
					t.Fatalf("storage %d: %v", i, err)
				}
				got[i] = ids(t, list)
			}
			if len(got[0]) == 0 || join(got[0]) != join(got[1]) {
				t.Fatalf("memgraph %d items, internalstorage %d:\n%v\n%v", len(got[0]), len(got[1]), got[0], got[1])
			}
		})
	}
	// Owner seniority 1: the same set (internalstorage orders by database order).
	dep, _ := fl.Find("cluster-00", "Deployment", fleet.SharedNamespaces[0], fleet.SharedName)
	u := &unstructured.Unstructured{}
	_ = u.UnmarshalJSON(dep.JSON)
	var got [2][]string
	for i, s := range storages {
		list := &core.PodList{}
		if err := s[benchPods].List(bg, list, decodeListOptions(t, "ownerUID="+string(u.GetUID())+"&ownerSeniority=1", "cluster-00", "")); err != nil {
			t.Fatal(err)
		}
		got[i] = ids(t, list)
		sort.Strings(got[i])
	}
	if len(got[0]) == 0 || join(got[0]) != join(got[1]) {
		t.Fatalf("owner: memgraph %v, internalstorage %v", got[0], got[1])
	}
}
