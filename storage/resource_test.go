package storage

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	genericstorage "k8s.io/apiserver/pkg/storage"
	storeerr "k8s.io/apiserver/pkg/storage/errors"
	"k8s.io/client-go/tools/cache"
	"k8s.io/kubernetes/pkg/apis/apps"
	"k8s.io/kubernetes/pkg/apis/core"

	internal "github.com/clusterpedia-io/api/clusterpedia"
	cpstorage "github.com/clusterpedia-io/clusterpedia/pkg/storage"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

func TestGet(t *testing.T) {
	fx := newFixture(t)
	t.Run("typed internal object", func(t *testing.T) {
		d := &apps.Deployment{}
		if err := fx.deployments.Get(bg, "c1", "ns-a", "web", d); err != nil {
			t.Fatal(err)
		}
		if d.Name != "web" || d.Namespace != "ns-a" || d.UID != "c1-deploy-web-uid" || d.Spec.Replicas != 2 ||
			d.Annotations[internal.ShadowAnnotationClusterName] != "c1" {
			t.Fatalf("got %+v", d.ObjectMeta)
		}
		// Decoded through the real storage codec: defaults applied on the way to the internal version.
		if d.Spec.Strategy.Type != apps.RollingUpdateDeploymentStrategyType {
			t.Errorf("strategy %q: defaulting did not run", d.Spec.Strategy.Type)
		}
	})
	t.Run("cluster-scoped", func(t *testing.T) {
		ns := &core.Namespace{}
		if err := fx.namespaces.Get(bg, "c2", "", "ns-b", ns); err != nil {
			t.Fatal(err)
		}
		if ns.Name != "ns-b" || ns.Status.Phase != core.NamespaceActive {
			t.Fatalf("got %+v", ns)
		}
	})
	t.Run("CRD into unstructured with GVK", func(t *testing.T) {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"})
		if err := fx.widgets.Get(bg, "c1", "ns-a", "w1", u); err != nil {
			t.Fatal(err)
		}
		if size, _, _ := unstructured.NestedInt64(u.Object, "spec", "size"); size != 3 || u.GetAPIVersion() != "example.com/v1" {
			t.Fatalf("got %v", u.Object)
		}
	})
	t.Run("wrong target type", func(t *testing.T) {
		err := fx.deployments.Get(bg, "c1", "ns-a", "web", &core.Pod{})
		if err == nil || genericstorage.IsNotFound(err) {
			t.Fatalf("Get into *core.Pod: %v", err)
		}
	})
	for _, tc := range []struct{ name, cluster, ns, n string }{
		{"unknown name", "c1", "ns-a", "nope"},
		{"wrong namespace", "c1", "ns-b", "web"},
		{"unknown cluster", "nope", "ns-a", "web"},
		{"other resource of the same name", "c1", "ns-a", "w1"},
	} {
		t.Run("not found: "+tc.name, func(t *testing.T) {
			err := fx.deployments.Get(bg, tc.cluster, tc.ns, tc.n, &apps.Deployment{})
			if !genericstorage.IsNotFound(err) {
				t.Fatalf("err = %v (%T), want an unwrapped KeyNotFound StorageError", err, err)
			}
			// What RESTStorage.Get does with it: a 404 for the resource.
			apiErr := storeerr.InterpretGetError(err, grDeployments, tc.n)
			if !apierrors.IsNotFound(apiErr) {
				t.Fatalf("InterpretGetError = %v, want 404", apiErr)
			}
		})
	}
}

func TestWriteErrorContract(t *testing.T) {
	fx := newFixture(t)
	web := fx.find("c1", "Deployment", "web")

	err := fx.deployments.Create(bg, "c1", web.unstructured())
	if _, ok := err.(*genericstorage.StorageError); !ok || !genericstorage.IsExist(err) {
		t.Fatalf("Create of an existing key: %v (%T), want an unwrapped KeyExists StorageError", err, err)
	}

	missing := web
	missing.name = "missing"
	err = fx.deployments.Update(bg, "c1", missing.unstructured())
	if _, ok := err.(*genericstorage.StorageError); !ok || !genericstorage.IsNotFound(err) {
		t.Fatalf("Update of a missing key: %v (%T), want an unwrapped KeyNotFound StorageError", err, err)
	}
	if cpstorage.IsRecoverableException(err) {
		t.Fatal("NotFound must not be recoverable")
	}

	// Delete is idempotent.
	gone := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: "ns-a", Name: "missing"}}
	if err := fx.deployments.Delete(bg, "c1", gone); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}

	// Kind is required on Create (as internalstorage).
	noKind := missing.unstructured()
	noKind.SetKind("")
	if err := fx.deployments.Create(bg, "c1", noKind); err == nil || genericstorage.IsExist(err) {
		t.Fatalf("Create without kind: %v", err)
	}

	// A cancelled context is reported as such (the synchro drops the event silently).
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := fx.deployments.Create(ctx, "c1", missing.unstructured()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Create with a cancelled context: %v", err)
	}
}

func TestCreateUpdateDelete(t *testing.T) {
	f := newTestFactory(t, nil)
	deploys := resourceStorageFor(t, f, legacyConfig(t, grDeployments, true))
	o := obj{cluster: "c1", apiVersion: "apps/v1", kind: "Deployment", ns: "ns", name: "d", uid: "u1", rv: "10",
		created: "2024-01-01T00:00:00Z", labels: map[string]string{"app": "a"}, spec: map[string]any{"replicas": int64(1)}}
	if err := deploys.Create(bg, "c1", o.unstructured()); err != nil {
		t.Fatal(err)
	}
	rec, err := f.Store().Get(index.Key{Cluster: "c1", GVR: index.GVR{Group: "apps", Version: "v1", Resource: "deployments"}, Namespace: "ns", Name: "d"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Kind != "Deployment" || rec.UID != "u1" || rec.ResourceVersion != "10" || rec.Labels.Get("app") != "a" ||
		rec.Created.Format("2006-01-02T15:04:05Z07:00") != "2024-01-01T00:00:00Z" {
		t.Fatalf("record %+v", rec)
	}
	var stored map[string]any
	if err := json.Unmarshal(rec.Object, &stored); err != nil || stored["kind"] != "Deployment" || stored["apiVersion"] != "apps/v1" {
		t.Fatalf("stored JSON %s: %v", rec.Object, err)
	}

	// Mutating the written object afterwards does not change the store.
	u := o.unstructured()
	o.rv, o.labels = "11", map[string]string{"app": "b"}
	u2 := o.unstructured()
	if err := deploys.Update(bg, "c1", u2); err != nil {
		t.Fatal(err)
	}
	u2.SetLabels(map[string]string{"app": "mutated"})
	d := &apps.Deployment{}
	if err := deploys.Get(bg, "c1", "ns", "d", d); err != nil {
		t.Fatal(err)
	}
	if d.ResourceVersion != "11" || d.Labels["app"] != "b" {
		t.Fatalf("after update: rv %q labels %v", d.ResourceVersion, d.Labels)
	}

	// Update without a kind keeps the stored kind.
	u.SetKind("")
	u.SetResourceVersion("12")
	if err := deploys.Update(bg, "c1", u); err != nil {
		t.Fatal(err)
	}

	// A typed storage-version object (what convertToStorageVersion produces).
	typed := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "typed", UID: "u2", ResourceVersion: "20"},
	}
	if err := deploys.Create(bg, "c1", typed); err != nil {
		t.Fatal(err)
	}
	got := &apps.Deployment{}
	if err := deploys.Get(bg, "c1", "ns", "typed", got); err != nil || got.UID != "u2" {
		t.Fatalf("typed round trip: %v %+v", err, got.ObjectMeta)
	}

	// Delete with what ConvertDeletedObject returns.
	del, err := deploys.ConvertDeletedObject(cache.DeletedFinalStateUnknown{Key: "ns/d", Obj: "12"})
	if err != nil {
		t.Fatal(err)
	}
	if err := deploys.Delete(bg, "c1", del); err != nil {
		t.Fatal(err)
	}
	if err := deploys.Get(bg, "c1", "ns", "d", &apps.Deployment{}); !genericstorage.IsNotFound(err) {
		t.Fatalf("after delete: %v", err)
	}
	// Idempotent.
	if err := deploys.Delete(bg, "c1", del); err != nil {
		t.Fatal(err)
	}
}

func TestConvertDeletedObject(t *testing.T) {
	f := newTestFactory(t, nil)
	pods := resourceStorageFor(t, f, legacyConfig(t, grPods, true))
	nss := resourceStorageFor(t, f, legacyConfig(t, grNamespaces, false))
	pod := obj{cluster: "c1", apiVersion: "v1", kind: "Pod", ns: "ns", name: "p", uid: "u", rv: "5"}.unstructured()
	for _, tc := range []struct {
		name     string
		rs       cpstorage.ResourceStorage
		in       interface{}
		ns, n    string
		wantFail bool
	}{
		{"unstructured", pods, pod, "ns", "p", false},
		{"typed storage-version object", pods, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p2"}}, "ns", "p2", false},
		{"tombstone with an RV string", pods, cache.DeletedFinalStateUnknown{Key: "ns/p3", Obj: "123"}, "ns", "p3", false},
		{"tombstone with an object", pods, cache.DeletedFinalStateUnknown{Key: "ns/p", Obj: pod}, "ns", "p", false},
		{"cluster-scoped tombstone", nss, cache.DeletedFinalStateUnknown{Key: "ns-a", Obj: "7"}, "", "ns-a", false},
		{"pointer tombstone is not an object", pods, &cache.DeletedFinalStateUnknown{Key: "ns/p", Obj: "1"}, "", "", true},
		{"bad tombstone key", pods, cache.DeletedFinalStateUnknown{Key: "a/b/c", Obj: "1"}, "", "", true},
		{"not an object", pods, 42, "", "", true},
		{"nil", pods, nil, "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.rs.ConvertDeletedObject(tc.in)
			if tc.wantFail {
				if err == nil {
					t.Fatalf("got %v, want an error", out)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m, err := meta.Accessor(out)
			if err != nil {
				t.Fatal(err)
			}
			if m.GetNamespace() != tc.ns || m.GetName() != tc.n {
				t.Fatalf("got %s/%s, want %s/%s", m.GetNamespace(), m.GetName(), tc.ns, tc.n)
			}
			// The synchro keys the queue with MetaNamespaceKeyFunc.
			if key, err := cache.MetaNamespaceKeyFunc(out); err != nil || key != namespacedName(tc.ns, tc.n) {
				t.Fatalf("queue key %q, %v", key, err)
			}
		})
	}
}

func testEvent(ns, name, uid, rv string, involved types.UID, reason string) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid), ResourceVersion: rv},
		InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Namespace: ns, Name: "web", UID: involved},
		Reason:         reason,
		Message:        "message of " + name,
		Type:           corev1.EventTypeNormal,
	}
}

func TestRecordAndInjectEvents(t *testing.T) {
	fx := newFixture(t)
	// RecordEvent is called with a nil context by Clusterpedia's event synchro.
	//nolint:staticcheck // nil context on purpose
	if err := fx.deployments.RecordEvent(nil, "c1", testEvent("ns-a", "web.1", "ev-1", "501", "c1-deploy-web-uid", "ScalingReplicaSet")); err != nil {
		t.Fatal(err)
	}
	//nolint:staticcheck
	if err := fx.deployments.RecordEvent(nil, "c1", testEvent("ns-a", "web.2", "ev-2", "502", "c1-deploy-web-uid", "Other")); err != nil {
		t.Fatal(err)
	}
	// Same event UID again: replaced, not duplicated.
	//nolint:staticcheck
	if err := fx.deployments.RecordEvent(nil, "c1", testEvent("ns-a", "web.1", "ev-1", "503", "c1-deploy-web-uid", "ScalingReplicaSet")); err != nil {
		t.Fatal(err)
	}
	//nolint:staticcheck
	if err := fx.widgets.RecordEvent(nil, "c1", testEvent("ns-a", "w1.1", "ev-3", "504", "c1-w1-uid", "Synced")); err != nil {
		t.Fatal(err)
	}
	// No involved UID: rejected like internalstorage. Unknown involved object: nothing to do.
	//nolint:staticcheck
	if err := fx.deployments.RecordEvent(nil, "c1", testEvent("ns-a", "x", "ev-x", "1", "", "R")); err == nil {
		t.Fatal("event without involvedObject.uid accepted")
	}
	//nolint:staticcheck
	if err := fx.deployments.RecordEvent(nil, "c1", testEvent("ns-a", "y", "ev-y", "1", "no-such-uid", "R")); err != nil {
		t.Fatal(err)
	}
	//nolint:staticcheck
	if err := fx.deployments.RecordEvent(nil, "c1", nil); err == nil {
		t.Fatal("nil event accepted")
	}

	// The events are reported for restart.
	rvs, err := fx.f.GetResourceVersions(bg, "c1")
	if err != nil {
		t.Fatal(err)
	}
	dep := rvs[schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}]
	if dep.Events["ns-a/web.1"] != "503" || dep.Events["ns-a/web.2"] != "502" || len(dep.Events) != 2 {
		t.Fatalf("deployment event RVs %v", dep.Events)
	}

	decodeEvents := func(t *testing.T, m metav1.Object) []corev1.Event {
		t.Helper()
		v, ok := m.GetAnnotations()[internal.ShadowAnnotationEvents]
		if !ok {
			return nil
		}
		var evs []corev1.Event
		if err := json.Unmarshal([]byte(v), &evs); err != nil {
			t.Fatalf("events annotation %q: %v", v, err)
		}
		return evs
	}
	checkWeb := func(t *testing.T, items []metav1.Object) {
		t.Helper()
		for _, m := range items {
			evs := decodeEvents(t, m)
			if m.GetName() != "web" || m.GetAnnotations()[internal.ShadowAnnotationClusterName] != "c1" {
				if evs != nil {
					t.Errorf("%s has events %v", m.GetName(), evs)
				}
				continue
			}
			if len(evs) != 2 || evs[0].Reason != "ScalingReplicaSet" || evs[0].ResourceVersion != "503" || evs[1].Reason != "Other" ||
				evs[0].Kind != "Event" || evs[0].APIVersion != "v1" {
				t.Errorf("web events %+v", evs)
			}
		}
	}
	metas := func(t *testing.T, list runtime.Object) []metav1.Object {
		items, err := meta.ExtractList(list)
		if err != nil {
			t.Fatal(err)
		}
		var out []metav1.Object
		for _, it := range items {
			m, err := meta.Accessor(it)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
		return out
	}
	const inject = "labelSelector=search.clusterpedia.io/inject-events=true"
	for _, tc := range []struct {
		name, query string
		rs          cpstorage.ResourceStorage
		newList     func() runtime.Object
		wantEvents  bool
	}{
		{"typed list", inject, fx.deployments, deploymentList, true},
		{"typed list, only metadata (memgraph keeps the events)", inject + "&onlyMetadata=true", fx.deployments, deploymentList, true},
		{"without inject-events", "", fx.deployments, deploymentList, false},
		{"inject-events=false", "labelSelector=search.clusterpedia.io/inject-events=false", fx.deployments, deploymentList, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list := tc.newList()
			if err := tc.rs.List(bg, list, decodeListOptions(t, tc.query, "", "")); err != nil {
				t.Fatal(err)
			}
			items := metas(t, list)
			if len(items) != 4 {
				t.Fatalf("%d items", len(items))
			}
			if tc.wantEvents {
				checkWeb(t, items)
				return
			}
			for _, m := range items {
				if evs := decodeEvents(t, m); evs != nil {
					t.Errorf("%s: unexpected events %v", m.GetName(), evs)
				}
			}
		})
	}
	for _, q := range []string{inject, inject + "&onlyMetadata=true"} {
		t.Run("unstructured list "+q, func(t *testing.T) {
			list := widgetList()
			if err := fx.widgets.List(bg, list, decodeListOptions(t, q, "", "")); err != nil {
				t.Fatal(err)
			}
			for _, m := range metas(t, list) {
				evs := decodeEvents(t, m)
				if m.GetName() == "w1" {
					if len(evs) != 1 || evs[0].Reason != "Synced" {
						t.Errorf("w1 events %+v", evs)
					}
				} else if evs != nil {
					t.Errorf("%s events %+v", m.GetName(), evs)
				}
			}
		})
	}
	// Events survive an update of the same object, not a recreation with a new UID.
	web := fx.find("c1", "Deployment", "web")
	web.rv = "900"
	if err := fx.deployments.Update(bg, "c1", web.unstructured()); err != nil {
		t.Fatal(err)
	}
	if rvs, _ := fx.f.GetResourceVersions(bg, "c1"); len(rvs[schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}].Events) != 2 {
		t.Fatal("events lost by an update")
	}
}

func TestGetResourceVersions(t *testing.T) {
	fx := newFixture(t)
	rvs, err := fx.f.GetResourceVersions(context.TODO(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	want := map[schema.GroupVersionResource]map[string]string{
		{Version: "v1", Resource: "namespaces"}:                    {"ns-a": "9", "ns-b": "10"},
		{Group: "apps", Version: "v1", Resource: "deployments"}:    {"ns-a/web": "11", "ns-b/api": "15"},
		{Group: "apps", Version: "v1", Resource: "replicasets"}:    {"ns-a/web-5d4": "12", "ns-b/api-7f8": "16"},
		{Version: "v1", Resource: "pods"}:                          {"ns-a/web-5d4-a": "13", "ns-a/web-5d4-b": "14", "ns-b/api-7f8-a": "17"},
		{Group: "apps", Version: "v1", Resource: "daemonsets"}:     {"ns-b/logs": "18"},
		{Group: "example.com", Version: "v1", Resource: "widgets"}: {"ns-a/w1": "19"},
	}
	if len(rvs) != len(want) {
		t.Fatalf("GVRs %v, want %v", keysOf(rvs), want)
	}
	for gvr, w := range want {
		got, ok := rvs[gvr]
		if !ok {
			t.Fatalf("missing %s", gvr)
		}
		if got.Events == nil {
			t.Errorf("%s: nil events map", gvr)
		}
		if len(got.Resources) != len(w) {
			t.Errorf("%s: %v, want %v", gvr, got.Resources, w)
		}
		for k, v := range w {
			// The informer type-asserts string.
			if s, ok := got.Resources[k].(string); !ok || s != v {
				t.Errorf("%s %s = %#v, want string %q", gvr, k, got.Resources[k], v)
			}
		}
	}
	// The maps are adopted and mutated by the synchro: they must be fresh.
	pods := rvs[schema.GroupVersionResource{Version: "v1", Resource: "pods"}]
	pods.Resources["ns-a/web-5d4-a"] = "mutated"
	delete(pods.Resources, "ns-a/web-5d4-b")
	pods.Events["x"] = "y"
	again, _ := fx.f.GetResourceVersions(bg, "c1")
	p2 := again[schema.GroupVersionResource{Version: "v1", Resource: "pods"}]
	if p2.Resources["ns-a/web-5d4-a"] != "13" || len(p2.Resources) != 3 || len(p2.Events) != 0 {
		t.Fatalf("store affected by mutating the returned maps: %v %v", p2.Resources, p2.Events)
	}
	if none, err := fx.f.GetResourceVersions(bg, "nope"); err != nil || len(none) != 0 {
		t.Fatalf("unknown cluster: %v %v", none, err)
	}
}

func keysOf(m map[schema.GroupVersionResource]cpstorage.ClusterResourceVersions) []string {
	var out []string
	for k := range m {
		out = append(out, k.String())
	}
	return sorted(out)
}

func TestCleanClusterAndResource(t *testing.T) {
	fx := newFixture(t)
	podsGVR := schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	if err := fx.f.CleanClusterResource(context.TODO(), "c1", podsGVR); err != nil {
		t.Fatal(err)
	}
	if err := fx.f.CleanClusterResource(context.TODO(), "c1", podsGVR); err != nil {
		t.Fatalf("idempotent: %v", err)
	}
	list := &core.PodList{}
	if err := fx.pods.List(bg, list, decodeListOptions(t, "", "", "")); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, list); join(got) != "[c2/ns-a/web-5d4-a c2/ns-a/web-5d4-b c2/ns-b/api-7f8-a]" {
		t.Fatalf("pods after CleanClusterResource(c1, pods): %v", got)
	}
	rvs, _ := fx.f.GetResourceVersions(bg, "c1")
	if _, ok := rvs[podsGVR]; ok {
		t.Fatal("GetResourceVersions still reports cleaned pods")
	}
	if _, ok := rvs[schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}]; !ok {
		t.Fatal("other resources of c1 were cleaned too")
	}

	if err := fx.f.CleanCluster(context.TODO(), "c2"); err != nil {
		t.Fatal(err)
	}
	if err := fx.f.CleanCluster(context.TODO(), "c2"); err != nil {
		t.Fatalf("idempotent: %v", err)
	}
	if err := fx.f.CleanCluster(context.TODO(), "never-synced"); err != nil {
		t.Fatal(err)
	}
	dl := &apps.DeploymentList{}
	if err := fx.deployments.List(bg, dl, decodeListOptions(t, "", "", "")); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, dl); join(got) != "[c1/ns-a/web c1/ns-b/api]" {
		t.Fatalf("deployments after CleanCluster(c2): %v", got)
	}
	if rvs, _ := fx.f.GetResourceVersions(bg, "c2"); len(rvs) != 0 {
		t.Fatalf("c2 still has %v", keysOf(rvs))
	}
}

func TestFactoryBasics(t *testing.T) {
	f := newTestFactory(t, nil)
	if v := f.GetSupportedRequestVerbs(); join(v) != "[get list]" {
		t.Fatalf("verbs %v", v)
	}
	if err := f.PrepareCluster("c1"); err != nil {
		t.Fatal(err)
	}
	rs := resourceStorageFor(t, f, legacyConfig(t, grPods, true))
	cfg := rs.GetStorageConfig()
	if cfg.StorageResource != (schema.GroupVersionResource{Version: "v1", Resource: "pods"}) || cfg.MemoryResource.Version != "__internal" {
		t.Fatalf("config %+v", cfg.ResourceConfig)
	}
	cfg.StorageResource.Resource = "mutated"
	if rs.GetStorageConfig().StorageResource.Resource != "pods" {
		t.Fatal("GetStorageConfig exposes internal state")
	}
	w, err := rs.Watch(bg, &internal.ListOptions{})
	if w != nil || !apierrors.IsMethodNotSupported(err) {
		t.Fatalf("Watch = %v, %v; want MethodNotSupported", w, err)
	}
	if _, err := f.NewResourceStorage(nil); err == nil {
		t.Fatal("nil config accepted")
	}
	bad := legacyConfig(t, grPods, true)
	bad.Codec = nil
	if _, err := f.NewResourceStorage(bad); err == nil {
		t.Fatal("config without codec accepted")
	}
}

func TestNewStorageFactory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, path, wantErr string
	}{
		{"empty path = defaults", "", ""},
		{"valid file", write("ok.yaml", "server:\n  enabled: false\ngraph:\n  maxDepth: 5\n"), ""},
		{"missing file", filepath.Join(dir, "nope.yaml"), "nope.yaml"},
		{"unknown key", write("bad.yaml", "bogus: 1\n"), "bogus"},
		{"bad value", write("bad2.yaml", "persistence:\n  enabled: true\n"), "persistence.dir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.path == "" {
				// The defaults serve the extension API on 127.0.0.1:8790.
				ln, err := net.Listen("tcp", "127.0.0.1:8790")
				if err != nil {
					t.Skipf("default port busy: %v", err)
				}
				ln.Close()
			}
			f, err := NewStorageFactory(tc.path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				if f != nil {
					t.Fatal("factory returned with an error")
				}
				return
			}
			if err != nil || f == nil {
				t.Fatalf("NewStorageFactory: %v", err)
			}
			if err := f.Shutdown(); err != nil {
				t.Fatal(err)
			}
		})
	}
	if Name != "memgraph" {
		t.Fatalf("Name = %q", Name)
	}
}

func TestShutdown(t *testing.T) {
	var stops []string
	extra := &wiring{starters: []starter{
		{"one", func(*index.Store) (func(context.Context) error, error) {
			return func(context.Context) error { stops = append(stops, "one"); return nil }, nil
		}},
		{"two", func(*index.Store) (func(context.Context) error, error) {
			return func(context.Context) error { stops = append(stops, "two"); return errors.New("boom") }, nil
		}},
	}}
	f := newTestFactory(t, extra)
	if !f.Ready() {
		t.Fatal("not ready after construction")
	}
	deploys := resourceStorageFor(t, f, legacyConfig(t, grDeployments, true))
	o := obj{cluster: "c1", apiVersion: "apps/v1", kind: "Deployment", ns: "ns", name: "d", uid: "u", rv: "1"}
	if err := deploys.Create(bg, "c1", o.unstructured()); err != nil {
		t.Fatal(err)
	}

	err := f.Shutdown()
	if err == nil || !strings.Contains(err.Error(), "boom") || join(stops) != "[two one]" {
		t.Fatalf("Shutdown = %v, stops %v (want reverse order and the error)", err, stops)
	}
	if err2 := f.Shutdown(); err2 != err || len(stops) != 2 {
		t.Fatalf("second Shutdown = %v, stops %v", err2, stops)
	}
	if f.Ready() {
		t.Fatal("ready after Shutdown")
	}

	// Writes after Shutdown fail with a plain (not recoverable, not Exist/NotFound) error.
	o2 := o
	o2.name = "d2"
	for name, err := range map[string]error{
		"create":         deploys.Create(bg, "c1", o2.unstructured()),
		"update":         deploys.Update(bg, "c1", o.unstructured()),
		"delete":         deploys.Delete(bg, "c1", o.unstructured()),
		"event":          deploys.RecordEvent(nil, "c1", testEvent("ns", "e", "e", "1", "u", "R")), //nolint:staticcheck
		"clean cluster":  f.CleanCluster(bg, "c1"),
		"clean resource": f.CleanClusterResource(bg, "c1", schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}),
	} {
		if !errors.Is(err, ErrShutdown) || cpstorage.IsRecoverableException(err) || genericstorage.IsExist(err) || genericstorage.IsNotFound(err) {
			t.Errorf("%s after Shutdown: %v", name, err)
		}
	}
	// Reads keep working.
	if err := deploys.Get(bg, "c1", "ns", "d", &apps.Deployment{}); err != nil {
		t.Fatalf("Get after Shutdown: %v", err)
	}
	if rvs, err := f.GetResourceVersions(bg, "c1"); err != nil || len(rvs) != 1 {
		t.Fatalf("GetResourceVersions after Shutdown: %v %v", rvs, err)
	}
}

// TestShutdownDuringWrites: binding-apiserver does not wait for the synchromanager, so writes
// race with Shutdown. None may panic or corrupt; each either succeeds or fails with
// ErrShutdown.
func TestShutdownDuringWrites(t *testing.T) {
	f, err := newFactory(testConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	pods := resourceStorageFor(t, f, legacyConfig(t, grPods, true))
	var wg sync.WaitGroup
	var mu sync.Mutex
	okWrites := map[string]bool{}
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				o := obj{cluster: "c1", apiVersion: "v1", kind: "Pod", ns: "ns", name: nameN("p", w*1000+i), uid: nameN("u", w*1000+i), rv: "1"}
				err := pods.Create(bg, "c1", o.unstructured())
				switch {
				case err == nil:
					mu.Lock()
					okWrites["ns/"+o.name] = true
					mu.Unlock()
				case errors.Is(err, ErrShutdown):
				default:
					t.Errorf("write %s: %v", o.name, err)
				}
				if i%20 == 0 {
					_ = pods.List(bg, &core.PodList{}, &internal.ListOptions{})
				}
			}
		}(w)
	}
	if err := f.Shutdown(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	rvs, err := f.GetResourceVersions(bg, "c1")
	if err != nil {
		t.Fatal(err)
	}
	got := rvs[schema.GroupVersionResource{Version: "v1", Resource: "pods"}].Resources
	if len(got) != len(okWrites) {
		t.Fatalf("store holds %d pods, %d writes succeeded", len(got), len(okWrites))
	}
	for k := range okWrites {
		if _, ok := got[k]; !ok {
			t.Fatalf("acknowledged write %s missing", k)
		}
	}
}

func nameN(p string, n int) string { return p + "-" + strconv.Itoa(n) }

// TestInstrumentation: the adapter reports every call to the configured observers.
func TestInstrumentation(t *testing.T) {
	var mu sync.Mutex
	writes, queries := map[string]int{}, map[string]int{}
	var changes []index.ChangeKind
	extra := &wiring{
		observers: []index.Observer{observerFunc(func(cs []index.Change) {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range cs {
				changes = append(changes, c.Kind)
			}
		})},
		observeWrite: func(op string, _ index.GVR, _ time.Duration, err error) {
			mu.Lock()
			writes[op]++
			mu.Unlock()
		},
		observeQuery: func(op string, _ index.GVR, _ time.Duration, n int, err error) {
			mu.Lock()
			queries[op]++
			mu.Unlock()
		},
	}
	f := newTestFactory(t, extra)
	pods := resourceStorageFor(t, f, legacyConfig(t, grPods, true))
	o := obj{cluster: "c1", apiVersion: "v1", kind: "Pod", ns: "ns", name: "p", uid: "u", rv: "1"}
	_ = pods.Create(bg, "c1", o.unstructured())
	_ = pods.Update(bg, "c1", o.unstructured())
	_ = pods.Get(bg, "c1", "ns", "p", &core.Pod{})
	_ = pods.List(bg, &core.PodList{}, nil)
	_ = pods.Delete(bg, "c1", o.unstructured())
	_ = f.CleanCluster(bg, "c1")
	mu.Lock()
	defer mu.Unlock()
	if writes["create"] != 1 || writes["update"] != 1 || writes["delete"] != 1 || writes["clean_cluster"] != 1 ||
		queries["get"] != 1 || queries["list"] != 1 {
		t.Fatalf("writes %v queries %v", writes, queries)
	}
	if len(changes) != 4 || changes[0] != index.ChangeCreate || changes[1] != index.ChangeUpdate || changes[2] != index.ChangeDelete {
		t.Fatalf("observed changes %v", changes)
	}
}

type observerFunc func([]index.Change)

func (f observerFunc) Observe(cs []index.Change) { f(cs) }
