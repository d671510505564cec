package storage

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericstorage "k8s.io/apiserver/pkg/storage"
	"k8s.io/kubernetes/pkg/apis/apps"

	cpstorage "github.com/clusterpedia-io/clusterpedia/pkg/storage"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "memgraph.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPersistenceRestart: with persistence on, a restarted factory serves what was written
// before Shutdown — GetResourceVersions included, so Clusterpedia's synchro rewrites nothing
// unchanged — and cleans persist too.
func TestPersistenceRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfgPath := writeConfig(t, "server:\n  enabled: false\npersistence:\n  enabled: true\n  dir: "+dir+"\n  syncMode: strict\n")
	open := func() *StorageFactory {
		t.Helper()
		f, err := NewStorageFactory(cfgPath)
		if err != nil {
			t.Fatalf("NewStorageFactory: %v", err)
		}
		return f.(*StorageFactory)
	}
	storagesOf := func(f *StorageFactory) map[string]cpstorage.ResourceStorage {
		return map[string]cpstorage.ResourceStorage{
			"Deployment":  resourceStorageFor(t, f, legacyConfig(t, grDeployments, true)),
			"ReplicaSet":  resourceStorageFor(t, f, legacyConfig(t, grReplicaSets, true)),
			"Pod":         resourceStorageFor(t, f, legacyConfig(t, grPods, true)),
			"Namespace":   resourceStorageFor(t, f, legacyConfig(t, grNamespaces, false)),
			"DaemonSet":   resourceStorageFor(t, f, legacyConfig(t, grDaemonSets, true)),
			"StatefulSet": resourceStorageFor(t, f, legacyConfig(t, grStatefulSets, true)),
			"Widget":      resourceStorageFor(t, f, crdConfig(t, gvrWidgets)),
		}
	}

	f1 := open()
	rs := storagesOf(f1)
	for _, o := range fixtureObjects() {
		if err := rs[o.kind].Create(bg, o.cluster, o.unstructured()); err != nil {
			t.Fatal(err)
		}
	}
	//nolint:staticcheck // nil context, as Clusterpedia calls it
	if err := rs["Deployment"].RecordEvent(nil, "c1", testEvent("ns-a", "web.1", "ev-1", "501", "c1-deploy-web-uid", "R")); err != nil {
		t.Fatal(err)
	}
	before := map[string]string{}
	for _, c := range []string{"c1", "c2"} {
		rvs, _ := f1.GetResourceVersions(bg, c)
		before[c] = rvsText(t, rvs)
	}

	// A second process on the same directory is refused (badger's lock); the first one is
	// unaffected.
	if f, err := NewStorageFactory(cfgPath); err == nil {
		_ = f.Shutdown()
		t.Fatal("a second factory opened the same persistence directory")
	}
	if err := f1.Shutdown(); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}

	f2 := open()
	for _, c := range []string{"c1", "c2"} {
		rvs, err := f2.GetResourceVersions(bg, c)
		if err != nil {
			t.Fatal(err)
		}
		if got := rvsText(t, rvs); got != before[c] {
			t.Fatalf("%s after restart:\n got %s\nwant %s", c, got, before[c])
		}
	}
	rs2 := storagesOf(f2)
	d := &apps.Deployment{}
	if err := rs2["Deployment"].Get(bg, "c2", "ns-b", "api", d); err != nil || d.UID != "c2-deploy-api-uid" {
		t.Fatalf("Get after restart: %v %+v", err, d.ObjectMeta)
	}
	list := podList()
	if err := rs2["Pod"].List(bg, list, decodeListOptions(t, "ownerUID=c1-deploy-web-uid&ownerSeniority=1", "c1", "")); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, list); join(got) != "[c1/ns-a/web-5d4-a c1/ns-a/web-5d4-b]" {
		t.Fatalf("owner query after restart: %v", got)
	}
	if err := f2.CleanCluster(bg, "c2"); err != nil {
		t.Fatal(err)
	}
	if err := f2.CleanClusterResource(bg, "c1", schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}); err != nil {
		t.Fatal(err)
	}
	if err := f2.Shutdown(); err != nil {
		t.Fatal(err)
	}

	f3 := open()
	defer f3.Shutdown()
	if rvs, _ := f3.GetResourceVersions(bg, "c2"); len(rvs) != 0 {
		t.Fatalf("cleaned cluster came back: %v", keysOf(rvs))
	}
	rvs, _ := f3.GetResourceVersions(bg, "c1")
	if _, ok := rvs[schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}]; ok || len(rvs) != 5 {
		t.Fatalf("c1 after restart: %v", keysOf(rvs))
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"})
	if err := storagesOf(f3)["Widget"].Get(bg, "c1", "ns-a", "w1", u); !genericstorage.IsNotFound(err) {
		t.Fatalf("cleaned widget: %v", err)
	}
}

// TestExtensionServer: the configured server starts with the factory, serves readiness and
// memgraph's private metrics (never the default registry), and stops at Shutdown.
func TestExtensionServer(t *testing.T) {
	f, err := NewStorageFactory(writeConfig(t, "server:\n  listenAddress: 127.0.0.1:0\n"))
	if err != nil {
		t.Fatal(err)
	}
	sf := f.(*StorageFactory)
	if sf.server == nil || sf.server.Addr() == "" {
		t.Fatal("extension server not started")
	}
	base := "http://" + sf.server.Addr()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz = %d %s", code, body)
	}
	deploys := resourceStorageFor(t, sf, legacyConfig(t, grDeployments, true))
	o := obj{cluster: "c1", apiVersion: "apps/v1", kind: "Deployment", ns: "ns", name: "d", uid: "u", rv: "1"}
	if err := deploys.Create(bg, "c1", o.unstructured()); err != nil {
		t.Fatal(err)
	}
	if err := deploys.List(bg, deploymentList(), decodeListOptions(t, "", "", "")); err != nil {
		t.Fatal(err)
	}
	code, body := get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		`memgraph_objects{cluster="c1",group="apps",resource="deployments",version="v1"} 1`,
		`memgraph_write_duration_seconds_count{operation="create"} 1`,
		`memgraph_query_duration_seconds_count{operation="list"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "memgraph_") {
			t.Errorf("%s registered in the default registry", mf.GetName())
		}
	}
	if err := f.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(base + "/readyz"); err == nil {
		t.Fatal("server still serving after Shutdown")
	}
}

// TestWiringFailureReleasesResources: a factory that fails to start (port taken) releases
// the persistence directory, so the next attempt succeeds.
func TestWiringFailureReleasesResources(t *testing.T) {
	blocker, err := NewStorageFactory(writeConfig(t, "server:\n  listenAddress: 127.0.0.1:0\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Shutdown()
	taken := blocker.(*StorageFactory).server.Addr()
	dir := filepath.Join(t.TempDir(), "data")
	bad := writeConfig(t, "server:\n  listenAddress: "+taken+"\npersistence:\n  enabled: true\n  dir: "+dir+"\n")
	if f, err := NewStorageFactory(bad); err == nil {
		_ = f.Shutdown()
		t.Fatal("started on a taken port")
	}
	good := writeConfig(t, "server:\n  enabled: false\npersistence:\n  enabled: true\n  dir: "+dir+"\n")
	f, err := NewStorageFactory(good)
	if err != nil {
		t.Fatalf("directory not released by the failed start: %v", err)
	}
	if err := f.Shutdown(); err != nil {
		t.Fatal(err)
	}
}

// rvsText renders GetResourceVersions output deterministically, with value types.
func rvsText(t *testing.T, rvs map[schema.GroupVersionResource]cpstorage.ClusterResourceVersions) string {
	out := map[string]map[string]string{}
	for gvr, v := range rvs {
		m := map[string]string{}
		for k, rv := range v.Resources {
			m["resource "+k] = fmt.Sprintf("%T %v", rv, rv)
		}
		for k, rv := range v.Events {
			m["event "+k] = fmt.Sprintf("%T %v", rv, rv)
		}
		out[gvr.String()] = m
	}
	return mustJSON(t, out)
}
