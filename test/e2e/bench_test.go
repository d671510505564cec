package e2e

// TestE2EBenchCompare: issue 7's query mix as HTTPS requests against two
// binding-apiservers syncing the same PediaClusters — one with memgraph
// (persistence on, as deployed), one with internalstorage on SQLite — with the
// latency of every request measured client side (request sent to body read).
// Requests alternate between the two servers so both see the same machine
// load. Runs only with E2E=1 (hack/bench-compare.sh, make bench-compare); the
// results go to the test log and, as lines the script turns into
// docs/benchmarks-vs-internalstorage.md, to $MEMGRAPH_E2E_BENCH_OUT.
//
// Fleet: E2E_BENCH_CLUSTERS PediaClusters (default 4) that all point at one
// kube-apiserver, which holds E2E_BENCH_PODS pods (default 5,000) in 10
// namespaces under 50 Deployments/ReplicaSets — so every storage holds
// clusters × pods pods (20,000 by default).

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const benchPodsPerDeployment = 100

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}

// benchQuery is one query of the mix: a path, or a paged walk when paged.
type benchQuery struct {
	name    string
	path    string
	paged   bool
	samples int // requests per server
}

// timedGet sends one GET and returns its latency, status and body.
func timedGet(s *Server, path string) (time.Duration, int, []byte, error) {
	start := time.Now()
	code, body, err := s.Get(path)
	return time.Since(start), code, body, err
}

// runQuery performs q once against s: its latency (the sum over the pages of a
// paged walk) and the number of items returned.
func runQuery(t *testing.T, s *Server, q benchQuery) (time.Duration, int) {
	t.Helper()
	var total time.Duration
	items := 0
	cont := ""
	for page := 0; ; page++ {
		p := q.path
		if q.paged && cont != "" {
			p += "&continue=" + url.QueryEscape(cont)
		}
		d, code, body, err := timedGet(s, p)
		if err != nil || code != http.StatusOK {
			t.Fatalf("GET %s: %d %v %s", p, code, err, truncate(body, 300))
		}
		total += d
		var l struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Continue string `json:"continue"`
			} `json:"metadata"`
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(body, &l); err != nil {
			t.Fatalf("GET %s: %v", p, err)
		}
		if l.Items != nil || strings.HasSuffix(l.Kind, "List") || l.Kind == "CollectionResource" {
			items += len(l.Items)
		} else {
			items++ // a single object (Get)
		}
		cont = l.Metadata.Continue
		if !q.paged || cont == "" || len(l.Items) == 0 || page > 10_000 {
			return total, items
		}
	}
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted)) + 0.5)
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64)
}

func TestE2EBenchCompare(t *testing.T) {
	// A benchmark of several minutes: not part of `make e2e` (E2E=1), only of make
	// bench-compare, which sets MEMGRAPH_E2E_BENCH_OUT.
	if !Forced() || os.Getenv("MEMGRAPH_E2E_BENCH_OUT") == "" {
		t.Skip("SKIP TestE2EBenchCompare: a benchmark, run by make bench-compare (E2E=1 and MEMGRAPH_E2E_BENCH_OUT)")
	}
	clusters := envInt("E2E_BENCH_CLUSTERS", 4)
	pods := envInt("E2E_BENCH_PODS", 5_000)
	var names []string
	for i := 1; i <= clusters; i++ {
		names = append(names, fmt.Sprintf("c%d", i))
	}
	env := StartKube(t, KubeOptions{Clusters: names, SyncResourcesYAML: `- group: ""
  resources: ["pods", "namespaces"]
- group: apps
  resources: ["deployments", "replicasets", "daemonsets", "statefulsets"]
`})
	seedStart := time.Now()
	deployUID := seedBenchFleet(t, env, pods)
	seeded := time.Since(seedStart)

	cfg := filepath.Join(env.Dir, "memgraph-bench.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("persistence:\n  enabled: true\n  dir: %s\nserver:\n  enabled: false\n",
		filepath.Join(env.Dir, "memgraph-bench-data"))), 0o644); err != nil {
		t.Fatal(err)
	}
	syncStart := time.Now()
	mg := env.StartClusterpedia(t, PediaOptions{StorageName: "memgraph", StorageConfig: cfg})
	ref := env.StartClusterpedia(t, PediaOptions{StorageName: "internal"})
	env.WaitSynced(t, 5*time.Minute)
	want := clusters * pods
	for _, p := range []*Pedia{mg, ref} {
		p.WaitForList(t, 10*time.Minute, ResourcesPath+"/api/v1/pods?limit=1&withRemainingCount=true", func(l *List) (bool, string) {
			n := len(l.Items)
			if l.Metadata.RemainingItemCount != nil {
				n += int(*l.Metadata.RemainingItemCount)
			}
			return n == want, fmt.Sprintf("%d pods, want %d", n, want)
		})
	}
	synced := time.Since(syncStart)
	t.Logf("bench fleet: %d clusters x %d pods (+ %d Deployments, %d ReplicaSets, 10 Namespaces each) seeded in %s, synced into both storages in %s",
		clusters, pods, pods/benchPodsPerDeployment, pods/benchPodsPerDeployment, seeded.Round(time.Second), synced.Round(time.Second))

	node := "node-4" // even pods are Running
	queries := []benchQuery{
		{name: "namespace + label selector, limit 500", path: ResourcesPath + "/clusters/c1/api/v1/namespaces/ns-05/pods?labelSelector=" + url.QueryEscape("app=web-05,tier!=db") + "&limit=500", samples: 60},
		{name: "one cluster's pods paged by 500", path: ResourcesPath + "/clusters/c2/api/v1/pods?limit=500&withContinue=true", paged: true, samples: 8},
		{name: "orderby created_at desc, limit 50", path: ResourcesPath + "/api/v1/pods?orderby=" + url.QueryEscape("created_at desc") + "&limit=50", samples: 40},
		{name: "owner seniority 1 of a Deployment", path: ResourcesPath + "/clusters/c1/api/v1/pods?ownerUID=" + deployUID + "&ownerSeniority=1", samples: 60},
		{name: "fuzzy name, limit 500", path: ResourcesPath + "/clusters/c1/api/v1/pods?labelSelector=" + url.QueryEscape("internalstorage.clusterpedia.io/fuzzy-name=web") + "&limit=500", samples: 30},
		{name: "field selector phase + node, limit 500", path: ResourcesPath + "/clusters/c1/api/v1/pods?fieldSelector=" + url.QueryEscape("status.phase=Running,spec.nodeName="+node) + "&limit=500", samples: 30},
		{name: "collection workloads, limit 100", path: "/apis/clusterpedia.io/v1beta1/collectionresources/workloads?limit=100", samples: 40},
		{name: "get one pod", path: ResourcesPath + "/clusters/c1/api/v1/namespaces/ns-05/pods/web-05-5d8f7c9b4-7", samples: 100},
		{name: "full list of all pods", path: ResourcesPath + "/api/v1/pods", samples: 6},
		{name: "full list, metadata only", path: ResourcesPath + "/api/v1/pods?onlyMetadata=true", samples: 6},
	}
	servers := []struct {
		storage string
		s       *Server
	}{{"memgraph", mg.Server}, {"internal", ref.Server}}

	var out strings.Builder
	fmt.Fprintf(&out, "# fleet: %d PediaClusters x %d pods (+ %d Deployments and ReplicaSets, 10 Namespaces) = %d pods per storage; memgraph with persistence on, internalstorage on SQLite; client-side latency of each request over HTTPS (JSON), requests alternating between the two servers\n",
		clusters, pods, pods/benchPodsPerDeployment, want)
	for _, q := range queries {
		lat := [2][]time.Duration{}
		items := [2]int{}
		for w := 0; w < 2; w++ { // warm up
			for i, s := range servers {
				_, items[i] = runQuery(t, s.s, q)
			}
		}
		for n := 0; n < q.samples; n++ {
			for i, s := range servers {
				d, _ := runQuery(t, s.s, q)
				lat[i] = append(lat[i], d)
			}
		}
		if items[0] != items[1] {
			t.Errorf("%s: memgraph returned %d items, internalstorage %d", q.name, items[0], items[1])
		}
		var med [2]time.Duration
		for i, s := range servers {
			sort.Slice(lat[i], func(a, b int) bool { return lat[i][a] < lat[i][b] })
			med[i] = percentile(lat[i], 0.5)
			fmt.Fprintf(&out, "query=%s storage=%s n=%d items=%d median_ms=%s p99_ms=%s\n",
				strings.ReplaceAll(q.name, " ", "~"), s.storage, len(lat[i]), items[i], ms(med[i]), ms(percentile(lat[i], 0.99)))
		}
		t.Logf("%-40s %6d items  memgraph median %8s ms p99 %8s ms | internalstorage median %8s ms p99 %8s ms | %.1fx",
			q.name, items[0], ms(med[0]), ms(percentile(lat[0], 0.99)), ms(med[1]), ms(percentile(lat[1], 0.99)),
			float64(med[1])/float64(med[0]))
	}
	if path := os.Getenv("MEMGRAPH_E2E_BENCH_OUT"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(out.String()); err != nil {
			t.Fatal(err)
		}
	}
}

// seedBenchFleet creates, in the host kube-apiserver (every PediaCluster's
// member), 10 namespaces ns-00..ns-09 and pods/100 Deployments named
// <web|api|worker|db|cache>-NN, each with a ReplicaSet and 100 Pods
// (labels app, tier; spec.nodeName node-0..node-9; every other Pod's status
// patched to Running). It returns the UID of Deployment web-05 in ns-05.
func seedBenchFleet(t *testing.T, env *Env, pods int) string {
	t.Helper()
	host := env.Host()
	for i := 0; i < 10; i++ {
		host.CreateNamespace(t, fmt.Sprintf("ns-%02d", i), nil)
	}
	kinds := []string{"web", "api", "worker", "db", "cache"}
	deployments := pods / benchPodsPerDeployment
	type podReq struct {
		ns   string
		body Object
	}
	var reqs []podReq
	deployUID := ""
	for d := 0; d < deployments; d++ {
		app := fmt.Sprintf("%s-%02d", kinds[d%len(kinds)], d)
		ns := fmt.Sprintf("ns-%02d", d%10)
		tier := kinds[d%len(kinds)]
		labels := map[string]any{"app": app, "tier": tier}
		tpl := map[string]any{"metadata": map[string]any{"labels": labels},
			"spec": map[string]any{"containers": []any{map[string]any{"name": "main", "image": "registry.k8s.io/pause:3.10"}}}}
		dep := host.Create(t, "/apis/apps/v1/namespaces/"+ns+"/deployments", Object{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": app, "labels": labels},
			"spec":     map[string]any{"replicas": benchPodsPerDeployment, "selector": map[string]any{"matchLabels": labels}, "template": tpl},
		})
		dep["apiVersion"], dep["kind"] = "apps/v1", "Deployment"
		if app == "web-05" {
			deployUID = dep.UID()
		}
		rs := host.Create(t, "/apis/apps/v1/namespaces/"+ns+"/replicasets", Object{
			"apiVersion": "apps/v1", "kind": "ReplicaSet",
			"metadata": map[string]any{"name": app + "-5d8f7c9b4", "labels": labels, "ownerReferences": []any{dep.OwnerRef()}},
			"spec":     map[string]any{"replicas": benchPodsPerDeployment, "selector": map[string]any{"matchLabels": labels}, "template": tpl},
		})
		rs["apiVersion"], rs["kind"] = "apps/v1", "ReplicaSet"
		for p := 0; p < benchPodsPerDeployment; p++ {
			reqs = append(reqs, podReq{ns: ns, body: Object{
				"apiVersion": "v1", "kind": "Pod",
				"metadata": map[string]any{"name": fmt.Sprintf("%s-5d8f7c9b4-%d", app, p), "labels": labels,
					"ownerReferences": []any{rs.OwnerRef()}},
				"spec": map[string]any{"nodeName": fmt.Sprintf("node-%d", p%10),
					"containers": []any{map[string]any{"name": "main", "image": "registry.k8s.io/pause:3.10",
						"resources": map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "64Mi"}}}}},
			}})
		}
	}
	if deployUID == "" {
		t.Fatal("no Deployment web-05 (E2E_BENCH_PODS too small?)")
	}
	// Pods concurrently: creation, then every other one's status to Running.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	work := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				r := reqs[i]
				name := r.body["metadata"].(map[string]any)["name"].(string)
				code, body, err := env.Kube.Do(http.MethodPost, "/api/v1/namespaces/"+r.ns+"/pods", r.body)
				if err == nil && code != http.StatusCreated {
					err = fmt.Errorf("create pod %s: %d %s", name, code, truncate(body, 200))
				}
				if err == nil && i%2 == 0 {
					code, body, err = env.Kube.Do(http.MethodPatch, "/api/v1/namespaces/"+r.ns+"/pods/"+name+"/status",
						[]byte(`{"status":{"phase":"Running"}}`), "Content-Type", "application/merge-patch+json")
					if err == nil && code != http.StatusOK {
						err = fmt.Errorf("patch pod %s status: %d %s", name, code, truncate(body, 200))
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range reqs {
		work <- i
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	return deployUID
}
