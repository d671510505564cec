package storage

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	cpscheme "github.com/clusterpedia-io/clusterpedia/pkg/runtime/scheme"
	cpstorage "github.com/clusterpedia-io/clusterpedia/pkg/storage"

	"github.com/clusterpedia-memgraph/memgraph/index"
	"github.com/clusterpedia-memgraph/memgraph/internal/fleet"
)

// TestFleet writes a generated multi-cluster fleet through the adapter exactly as the
// synchro would (unstructured objects, the real storage configs, events through RecordEvent)
// and reads it back through every path.
func TestFleet(t *testing.T) {
	fl := fleet.Generate(fleet.Small())
	f := newTestFactory(t, nil)

	storages := map[index.GVR]cpstorage.ResourceStorage{}
	kinds := map[index.GVR]string{}
	for _, kind := range fleet.Kinds() {
		g, _ := fleet.GVRFor(kind)
		cfg, err := configFactory.NewConfig(schema.GroupVersionResource{Group: g.Group, Version: g.Version, Resource: g.Resource}, fleet.Namespaced(kind))
		if err != nil {
			t.Fatal(err)
		}
		if toIndexGVR(cfg.StorageResource) != g {
			t.Fatalf("%s: Clusterpedia stores %s, the fleet generates %s", kind, cfg.StorageResource, g)
		}
		storages[g] = resourceStorageFor(t, f, &cpstorage.ResourceStorageConfig{ResourceConfig: *cfg})
		kinds[g] = kind
	}

	// Write every cluster concurrently (one goroutine per cluster, as synchros are), with
	// readers running alongside.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readerErr error
	var readerMu sync.Mutex
	readerOpts := decodeListOptions(t, "limit=20&fieldSelector=status.phase=Running", "", "")
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			err := storages[index.GVR{Version: "v1", Resource: "pods"}].List(bg, podList(), readerOpts)
			if err != nil {
				readerMu.Lock()
				readerErr = err
				readerMu.Unlock()
				return
			}
		}
	}()
	var events sync.Map // cluster → []*corev1.Event
	for _, c := range fl.Clusters() {
		wg.Add(1)
		go func(c string) {
			defer wg.Done()
			var evs []*corev1.Event
			for _, o := range fl.ByCluster(c) {
				u := &unstructured.Unstructured{}
				if err := u.UnmarshalJSON(o.JSON); err != nil {
					t.Errorf("%s: %v", o.Kind, err)
					return
				}
				if err := storages[o.GVR].Create(bg, c, u); err != nil {
					t.Errorf("Create %s %s/%s: %v", o.Kind, u.GetNamespace(), u.GetName(), err)
					return
				}
				if o.Kind == "Event" {
					ev := &corev1.Event{}
					if err := json.Unmarshal(o.JSON, ev); err != nil {
						t.Error(err)
						return
					}
					evs = append(evs, ev)
				}
			}
			for _, ev := range evs {
				//nolint:staticcheck // Clusterpedia passes a nil context
				if err := storages[index.GVR{Version: "v1", Resource: "pods"}].RecordEvent(nil, c, ev); err != nil {
					t.Errorf("RecordEvent %s: %v", ev.Name, err)
				}
			}
			events.Store(c, evs)
		}(c)
	}
	wg.Wait()
	close(stop)
	readerMu.Lock()
	if readerErr != nil {
		t.Fatalf("concurrent reader: %v", readerErr)
	}
	readerMu.Unlock()
	if t.Failed() {
		t.FailNow()
	}

	t.Run("resource versions", func(t *testing.T) {
		for _, c := range fl.Clusters() {
			rvs, err := f.GetResourceVersions(bg, c)
			if err != nil {
				t.Fatal(err)
			}
			counts := fl.CountByKind(c)
			total := 0
			for gvr, v := range rvs {
				kind := kinds[toIndexGVR(gvr)]
				if len(v.Resources) != counts[kind] {
					t.Errorf("%s %s: %d RVs, %d objects", c, gvr, len(v.Resources), counts[kind])
				}
				total += len(v.Resources)
			}
			if total != len(fl.ByCluster(c)) {
				t.Errorf("%s: %d RVs for %d objects", c, total, len(fl.ByCluster(c)))
			}
			// Every event whose involved object is stored is reported.
			evs, _ := events.Load(c)
			recorded := 0
			for _, v := range rvs {
				recorded += len(v.Events)
			}
			if len(evs.([]*corev1.Event)) > 0 && recorded == 0 {
				t.Errorf("%s: no event resource versions reported", c)
			}
			for _, o := range fl.ByCluster(c)[:20] {
				u := &unstructured.Unstructured{}
				_ = u.UnmarshalJSON(o.JSON)
				key := namespacedName(u.GetNamespace(), u.GetName())
				gvr := schema.GroupVersionResource{Group: o.GVR.Group, Version: o.GVR.Version, Resource: o.GVR.Resource}
				if got := rvs[gvr].Resources[key]; got != u.GetResourceVersion() {
					t.Errorf("%s %s %s: rv %#v, want %q", c, gvr, key, got, u.GetResourceVersion())
				}
			}
		}
	})

	t.Run("every kind decodes into its internal list", func(t *testing.T) {
		for g, rs := range storages {
			cfg := rs.GetStorageConfig()
			kind := kinds[g]
			list, err := cpscheme.LegacyResourceScheme.New(cfg.MemoryResource.GroupVersion().WithKind(kind + "List"))
			if err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
			if err := rs.List(bg, list, decodeListOptions(t, "", "", "")); err != nil {
				t.Fatalf("List %s: %v", kind, err)
			}
			if n := meta.LenList(list); n != fl.CountByKind("")[kind] {
				t.Errorf("%s: %d items, want %d", kind, n, fl.CountByKind("")[kind])
			}
		}
	})

	t.Run("paging over every pod", func(t *testing.T) {
		want := fl.CountByKind("")["Pod"]
		var got []string
		token := ""
		for page := 0; page <= want; page++ {
			q := "limit=37&withContinue=true"
			if token != "" {
				q += "&continue=" + token
			}
			list := podList()
			if err := storages[index.GVR{Version: "v1", Resource: "pods"}].List(bg, list, decodeListOptions(t, q, "", "")); err != nil {
				t.Fatal(err)
			}
			got = append(got, ids(t, list)...)
			if r := remaining(t, list); r == nil || *r != int64(want-len(got)) {
				t.Fatalf("page %d: remaining %v, want %d", page, r, want-len(got))
			}
			if token = continueOf(t, list); token == "" {
				break
			}
		}
		if len(got) != want {
			t.Fatalf("%d pods paged, want %d", len(got), want)
		}
		if !sort.StringsAreSorted(got) {
			t.Fatal("pages are not in identity order")
		}
		seen := map[string]bool{}
		for _, id := range got {
			if seen[id] {
				t.Fatalf("%s paged twice", id)
			}
			seen[id] = true
		}
	})

	t.Run("field selector agrees with the JSON", func(t *testing.T) {
		want := 0
		for _, o := range fl.ByKind("Pod") {
			var p struct {
				Status struct{ Phase string } `json:"status"`
			}
			_ = json.Unmarshal(o.JSON, &p)
			if p.Status.Phase == "Running" {
				want++
			}
		}
		list := podList()
		if err := storages[index.GVR{Version: "v1", Resource: "pods"}].List(bg, list, decodeListOptions(t, "fieldSelector=status.phase=Running", "", "")); err != nil {
			t.Fatal(err)
		}
		if n := meta.LenList(list); n != want || want == 0 {
			t.Fatalf("%d running pods listed, %d in the fleet", n, want)
		}
	})

	t.Run("owner search over the fleet", func(t *testing.T) {
		c := fl.Clusters()[0]
		dep, ok := fl.Find(c, "Deployment", fleet.SharedNamespaces[0], fleet.SharedName)
		if !ok {
			t.Fatal("no shared deployment")
		}
		u := &unstructured.Unstructured{}
		_ = u.UnmarshalJSON(dep.JSON)
		list := podList()
		q := fmt.Sprintf("ownerUID=%s&ownerSeniority=1", u.GetUID())
		if err := storages[index.GVR{Version: "v1", Resource: "pods"}].List(bg, list, decodeListOptions(t, q, c, "")); err != nil {
			t.Fatal(err)
		}
		if meta.LenList(list) == 0 {
			t.Fatal("no pods found under the shared deployment")
		}
		items, _ := meta.ExtractList(list)
		for _, it := range items {
			m, _ := meta.Accessor(it)
			if len(m.GetOwnerReferences()) == 0 || m.GetOwnerReferences()[0].Kind != "ReplicaSet" {
				t.Errorf("pod %s owners %v", m.GetName(), m.GetOwnerReferences())
			}
		}
	})

	t.Run("clean a cluster", func(t *testing.T) {
		c := fl.Clusters()[1]
		if err := f.CleanCluster(bg, c); err != nil {
			t.Fatal(err)
		}
		if rvs, _ := f.GetResourceVersions(bg, c); len(rvs) != 0 {
			t.Fatalf("%s still holds %d GVRs", c, len(rvs))
		}
		list := podList()
		if err := storages[index.GVR{Version: "v1", Resource: "pods"}].List(bg, list, decodeListOptions(t, "", "", "")); err != nil {
			t.Fatal(err)
		}
		if n := meta.LenList(list); n != fl.CountByKind("")["Pod"]-fl.CountByKind(c)["Pod"] {
			t.Fatalf("%d pods after cleaning %s", n, c)
		}
	})
}
