package kubestatemetrics

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/prometheus/common/expfmt"

	"github.com/clusterpedia-memgraph/memgraph/config"
	"github.com/clusterpedia-memgraph/memgraph/index"
)

// TestCoveredResourcesMatchUpstream: the resources served are exactly the ones
// config.KubeStateMetricsResources lists, and every kind's storage GVR is the one
// Clusterpedia's MetricsStoreBuilder gives a store for (checked in the golden test) and
// kindOf maps back.
func TestCoveredResourcesMatchUpstream(t *testing.T) {
	if got, want := strings.Join(Resources(), ","), strings.Join(config.KubeStateMetricsResources, ","); got != want {
		t.Fatalf("Resources() = %s, config lists %s", got, want)
	}
	for i, g := range GVRs() {
		if kindOf(g) != i {
			t.Errorf("kindOf(%s) = %d, want %d", g, kindOf(g), i)
		}
		other := g
		other.Version = "v1beta1"
		if kindOf(other) != -1 {
			t.Errorf("kindOf(%s) covers another version", other)
		}
	}
	for _, g := range []index.GVR{{Version: "v1", Resource: "configmaps"}, {Group: "example.com", Version: "v1", Resource: "pods"}, {}} {
		if kindOf(g) != -1 {
			t.Errorf("kindOf(%s) = %d, want -1", g, kindOf(g))
		}
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"unknown resource", Options{FamilyOptions: FamilyOptions{Resources: []string{"configmaps"}}}, `"configmaps"`},
		{"allow and deny", Options{FamilyOptions: FamilyOptions{MetricAllowlist: []string{"a"}, MetricDenylist: []string{"b"}}}, "mutually exclusive"},
		{"bad regexp", Options{FamilyOptions: FamilyOptions{MetricDenylist: []string{"kube_("}}}, "kube_("},
		{"labels for an unknown resource", Options{FamilyOptions: FamilyOptions{LabelsAllowlist: map[string][]string{"widgets": {"a"}}}}, "widgets"},
		{"clusters both ways", Options{Clusters: []string{"a"}, ClustersDenylist: []string{"b"}}, "cluster"},
		{"namespaces both ways", Options{Namespaces: []string{"a"}, NamespacesDenylist: []string{"b"}}, "namespace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestUndecodableObjects: a stored object that does not decode into its kind has no series
// (its earlier series are removed), is counted, and does not stop the renderer.
func TestUndecodableObjects(t *testing.T) {
	s, e := newObservedStore(t, Options{})
	objs := fixtures("c1", 2)
	web := find(objs, "pods", "shop", "web-1")
	apply(t, s, upsert(t, "c1", web), upsert(t, "c1", find(objs, "deployments", "shop", "web")))
	syncExporter(t, e)
	if out := scrape(t, e, Selection{}); !strings.Contains(out, `pod="web-1"`) {
		t.Fatalf("web-1 has no series:\n%s", out)
	}
	bad := func(name, json string) *index.Record {
		return &index.Record{Cluster: "c1", GVR: kinds[kindByResource("pods")].gvr, Namespace: "shop", Name: name, Object: []byte(json)}
	}
	apply(t, s,
		index.Mutation{Op: index.OpUpsert, Record: bad("web-1", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1","namespace":"shop","uid":"u"},"spec":{"containers":"oops"}}`)},
		index.Mutation{Op: index.OpUpsert, Record: bad("svc", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc","namespace":"shop","uid":"s"}}`)},
		index.Mutation{Op: index.OpUpsert, Record: bad("trunc", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":`)},
	)
	syncExporter(t, e)
	out := scrape(t, e, Selection{})
	if strings.Contains(out, "kube_pod_") && strings.Contains(out, `pod="`) {
		t.Errorf("undecodable pods still have series:\n%s", out)
	}
	if !strings.Contains(out, `kube_deployment_created{cluster="c1",namespace="shop",deployment="web"}`) {
		t.Errorf("the deployment lost its series")
	}
	if st := e.Stats(); st.DecodeErrors != 3 || st.Objects != 1 {
		t.Errorf("stats = %+v, want 3 decode errors and 1 object", st)
	}
	// Fixed again: series are back.
	apply(t, s, upsert(t, "c1", web))
	syncExporter(t, e)
	if out := scrape(t, e, Selection{}); !strings.Contains(out, `kube_pod_status_phase{cluster="c1",namespace="shop",pod="web-1"`) {
		t.Errorf("web-1 has no series after a good update")
	}
}

// TestRestoreThenStart: changes committed before Start (persistence restoring the store)
// are not observed one by one; Start renders the store as it is, and later commits follow.
func TestRestoreThenStart(t *testing.T) {
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := index.New(index.Options{Observers: []index.Observer{e}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Sync(context.Background()); err == nil {
		t.Error("Sync before Start succeeded")
	}
	m := model{}
	for _, o := range fixtures("c1", 3) {
		apply(t, s, upsert(t, "c1", o))
		m.put(t, "c1", o)
	}
	if n := e.q.len(); n != 0 {
		t.Fatalf("%d operations queued before Start", n)
	}
	if err := e.Start(s); err != nil {
		t.Fatal(err)
	}
	defer e.Stop(context.Background())
	if err := e.Start(s); err == nil {
		t.Error("second Start succeeded")
	}
	for _, o := range fixtures("c2", 4) {
		apply(t, s, upsert(t, "c2", o))
		m.put(t, "c2", o)
	}
	syncExporter(t, e)
	checkOutput(t, "after start", e, Options{}, m, Selection{})
	if st := e.Stats(); st.Objects != int64(2*len(fixtures("c1", 3))) || st.Queued != 0 {
		t.Errorf("stats = %+v", st)
	}

	// After Stop: commits are ignored, what was rendered stays readable, Sync returns.
	before := scrape(t, e, Selection{})
	if err := e.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CleanCluster("c1"); err != nil {
		t.Fatal(err)
	}
	if err := e.Sync(context.Background()); err != nil {
		t.Errorf("Sync after Stop: %v", err)
	}
	if d := diffLines(normalized(scrape(t, e, Selection{})), normalized(before)); d != "" {
		t.Errorf("the output changed after Stop:\n%s", d)
	}
}

// TestBoundedQueue: with MaxPending objects waiting (the renderer held up by a long
// scrape), a further write waits until the renderer catches up; nothing is lost.
func TestBoundedQueue(t *testing.T) {
	o := Options{MaxPending: 2}
	s, e := newObservedStore(t, o)
	syncExporter(t, e)
	objs := fixtures("c1", 2)
	pods := []runtime.Object{find(objs, "pods", "shop", "web-1"), find(objs, "pods", "shop", "report-28000"), find(objs, "pods", "kube-system", "pending-0")}
	e.mu.RLock() // a scrape in progress: the renderer cannot add the first shard
	apply(t, s, upsert(t, "c1", pods[0]))
	for { // until the renderer took it (and waits for the shard set)
		e.q.mu.Lock()
		n := len(e.q.pending)
		e.q.mu.Unlock()
		if n == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	apply(t, s, upsert(t, "c1", pods[1]), upsert(t, "c1", pods[2])) // 2 pending: the bound
	// A change of a pending object coalesces with it and does not wait.
	p := pods[1].DeepCopyObject().(*corev1.Pod)
	p.Status.Phase = corev1.PodFailed
	coalesced := make(chan struct{})
	go func() {
		defer close(coalesced)
		s.Upsert(record(t, "c1", p))
	}()
	select {
	case <-coalesced:
	case <-time.After(10 * time.Second):
		e.mu.RUnlock()
		t.Fatal("a change of a pending object waited for the renderer")
	}
	written := make(chan struct{})
	go func() {
		defer close(written)
		s.Upsert(record(t, "c1", find(objs, "deployments", "shop", "web")))
	}()
	select {
	case <-written:
		t.Error("a write beyond maxPending returned while the renderer was held up")
	case <-time.After(200 * time.Millisecond):
	}
	e.mu.RUnlock()
	<-written
	syncExporter(t, e)
	m := model{}
	for _, o := range []runtime.Object{pods[0], p, pods[2], find(objs, "deployments", "shop", "web")} {
		m.put(t, "c1", o)
	}
	checkOutput(t, "after the held-up renderer caught up", e, o, m, Selection{})
}

// TestConcurrentScrapesAndWrites: scrapes running while objects change always parse as one
// valid Prometheus text exposition (each family once, with its HELP and TYPE), and the
// final state is kube-state-metrics' (run with -race).
func TestConcurrentScrapesAndWrites(t *testing.T) {
	s, e := newObservedStore(t, Options{})
	m := model{}
	base := map[string][]runtime.Object{"c1": fixtures("c1", 3), "c2": fixtures("c2", 4), "c3": fixtures("c3", 5)}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				var out strings.Builder
				err := e.WriteTo(&out, Selection{})
				if err == nil {
					var p expfmt.TextParser
					_, err = p.TextToMetricFamilies(strings.NewReader(out.String()))
				}
				if err != nil {
					select {
					case errs <- err.Error():
					default:
					}
					return
				}
			}
		}()
	}
	for round := 0; round < 4; round++ {
		for _, c := range []string{"c1", "c2", "c3"} {
			for _, o := range base[c] {
				o = o.DeepCopyObject()
				a := o.(metav1.Object)
				a.SetResourceVersion(string(rune('a' + round)))
				a.SetLabels(map[string]string{"round": string(rune('a' + round))})
				apply(t, s, upsert(t, c, o))
				m.put(t, c, o)
			}
		}
		if round == 2 {
			if _, err := s.CleanCluster("c2"); err != nil {
				t.Fatal(err)
			}
			delete(m, "c2")
			delete(base, "c2")
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a concurrent scrape did not parse: %s", err)
	}
	syncExporter(t, e)
	checkOutput(t, "final", e, Options{}, m, Selection{})
}
