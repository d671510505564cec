package storage

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	cpstorage "github.com/clusterpedia-io/clusterpedia/pkg/storage"

	"github.com/clusterpedia-memgraph/memgraph/storage/kubestatemetrics"
)

// exporterOf returns the kube-state-metrics exporter the factory wired, nil when off.
func exporterOf(f *StorageFactory) *kubestatemetrics.Exporter {
	for _, o := range f.w.observers {
		if e, ok := o.(*kubestatemetrics.Exporter); ok {
			return e
		}
	}
	return nil
}

func sortedLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// TestKubeStateMetricsWiring: with kubeStateMetrics enabled, objects written through the
// adapter as Clusterpedia's synchro writes them are served on the extension port at both
// paths and follow deletes and cleans; after a restart with persistence the restored store
// is rendered again, identically. Off by default.
func TestKubeStateMetricsWiring(t *testing.T) {
	if e := exporterOf(newTestFactory(t, nil)); e != nil {
		t.Fatal("kube-state-metrics is on by default")
	}
	cfgPath := writeConfig(t, fmt.Sprintf(`server:
  listenAddress: 127.0.0.1:0
persistence:
  enabled: true
  dir: %s
  syncMode: strict
kubeStateMetrics:
  enabled: true
  metricLabelsAllowlist:
    pods: [app]
`, filepath.Join(t.TempDir(), "data")))
	open := func() (*StorageFactory, *kubestatemetrics.Exporter, string) {
		t.Helper()
		f, err := NewStorageFactory(cfgPath)
		if err != nil {
			t.Fatalf("NewStorageFactory: %v", err)
		}
		sf := f.(*StorageFactory)
		e := exporterOf(sf)
		if e == nil || sf.server == nil {
			t.Fatal("kube-state-metrics or the extension server not wired")
		}
		return sf, e, "http://" + sf.server.Addr()
	}
	scrape := func(e *kubestatemetrics.Exporter, url string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
		}
		return string(b)
	}

	f1, e1, base := open()
	storages := map[string]cpstorage.ResourceStorage{
		"Deployment":  resourceStorageFor(t, f1, legacyConfig(t, grDeployments, true)),
		"ReplicaSet":  resourceStorageFor(t, f1, legacyConfig(t, grReplicaSets, true)),
		"Pod":         resourceStorageFor(t, f1, legacyConfig(t, grPods, true)),
		"Namespace":   resourceStorageFor(t, f1, legacyConfig(t, grNamespaces, false)),
		"DaemonSet":   resourceStorageFor(t, f1, legacyConfig(t, grDaemonSets, true)),
		"StatefulSet": resourceStorageFor(t, f1, legacyConfig(t, grStatefulSets, true)),
		"Widget":      resourceStorageFor(t, f1, crdConfig(t, gvrWidgets)),
	}
	objs := fixtureObjects()
	for _, o := range objs {
		if err := storages[o.kind].Create(bg, o.cluster, o.unstructured()); err != nil {
			t.Fatal(err)
		}
	}
	fleet := scrape(e1, base+kubestatemetrics.FleetPath)
	series := map[string]string{ // kind → a series every fixture object of that kind has
		"Deployment":  `kube_deployment_created{cluster="%s",namespace="%s",deployment="%s"}`,
		"ReplicaSet":  `kube_replicaset_created{cluster="%s",namespace="%s",replicaset="%s"}`,
		"Pod":         `kube_pod_labels{cluster="%s",namespace="%s",pod="%s",uid="%s",label_app="%s"} 1`,
		"Namespace":   `kube_namespace_status_phase{cluster="%s",namespace="%[3]s",phase="Active"} 1`,
		"DaemonSet":   `kube_daemonset_created{cluster="%s",namespace="%s",daemonset="%s"}`,
		"StatefulSet": `kube_statefulset_created{cluster="%s",namespace="%s",statefulset="%s"}`,
	}
	line := func(o obj) string {
		if o.kind == "Pod" {
			return fmt.Sprintf(series[o.kind], o.cluster, o.ns, o.name, o.uid, o.labels["app"])
		}
		return fmt.Sprintf(series[o.kind], o.cluster, o.ns, o.name)
	}
	for _, o := range objs {
		if o.kind == "Widget" {
			continue
		}
		if !strings.Contains(fleet, line(o)) {
			t.Errorf("%s lacks %s", kubestatemetrics.FleetPath, line(o))
		}
	}
	if strings.Contains(fleet, "widget") {
		t.Error("custom resources have kube-state-metrics series")
	}
	for _, phase := range []string{`pod="web-5d4-a",uid="c1-pod-web-5d4-a-uid",phase="Running"} 1`, `pod="web-5d4-b",uid="c1-pod-web-5d4-b-uid",phase="Pending"} 1`} {
		if !strings.Contains(fleet, phase) {
			t.Errorf("no kube_pod_status_phase ...%s", phase)
		}
	}
	c2 := scrape(e1, base+"/clusters/c2/metrics")
	if strings.Contains(c2, `cluster="c1"`) || !strings.Contains(c2, `cluster="c2"`) {
		t.Errorf("/clusters/c2/metrics holds other clusters' series or none of c2's")
	}
	seriesOf := func(text, cluster string) []string {
		var out []string
		for _, l := range sortedLines(text) {
			if strings.Contains(l, `{cluster="`+cluster+`"`) {
				out = append(out, l)
			}
		}
		return out
	}
	if got, want := seriesOf(c2, "c2"), seriesOf(fleet, "c2"); len(got) == 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the series of /clusters/c2/metrics are not the c2 series of the fleet (%d lines, want %d)", len(got), len(want))
	}

	// A delete and a clean as the synchro sends them.
	gone := objs[0]
	for _, o := range objs {
		if o.kind == "Pod" && o.cluster == "c1" {
			gone = o
			break
		}
	}
	deleted, err := storages["Pod"].ConvertDeletedObject(gone.unstructured())
	if err != nil {
		t.Fatal(err)
	}
	if err := storages["Pod"].Delete(bg, gone.cluster, deleted); err != nil {
		t.Fatal(err)
	}
	if err := f1.CleanCluster(bg, "c2"); err != nil {
		t.Fatal(err)
	}
	fleet = scrape(e1, base+kubestatemetrics.FleetPath)
	if strings.Contains(fleet, `pod="`+gone.name+`"`) || strings.Contains(fleet, `cluster="c2"`) {
		t.Errorf("the deleted pod or the cleaned cluster still has series")
	}
	if !strings.Contains(fleet, `cluster="c1"`) {
		t.Error("c1 lost its series")
	}
	before := sortedLines(fleet)
	if err := f1.Shutdown(); err != nil {
		t.Fatal(err)
	}

	f2, e2, base2 := open()
	defer f2.Shutdown()
	if got := sortedLines(scrape(e2, base2+kubestatemetrics.FleetPath)); strings.Join(got, "\n") != strings.Join(before, "\n") {
		t.Errorf("after the restart: %d lines, before %d", len(got), len(before))
	}
	// The restored factory follows new writes.
	pod := objs[0]
	for _, o := range objs {
		if o.kind == "Pod" && o.cluster == "c1" && o.name != gone.name {
			pod = o
			break
		}
	}
	pod.status = map[string]any{"phase": "Failed"}
	pod.rv = "9999"
	if err := resourceStorageFor(t, f2, legacyConfig(t, grPods, true)).Update(bg, pod.cluster, pod.unstructured()); err != nil {
		t.Fatal(err)
	}
	if got := scrape(e2, base2+kubestatemetrics.FleetPath); !strings.Contains(got, `pod="`+pod.name+`",uid="`+pod.uid+`",phase="Failed"} 1`) {
		t.Errorf("the update after the restart is not rendered")
	}
}
