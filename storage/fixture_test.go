package storage

import (
	"fmt"
	"testing"

	cpstorage "github.com/clusterpedia-io/clusterpedia/pkg/storage"
)

// fixture is the contract §13 acceptance fixture: clusters c1 and c2; namespaces ns-a and
// ns-b; in each cluster a Deployment "web" (ns-a, app=web,tier=fe, 2 replicas → ReplicaSet →
// 2 Pods) and "api" (ns-b, app=api → ReplicaSet → 1 Pod); cluster-scoped Namespaces; a CRD
// widgets.example.com/v1 with one object per cluster; a DaemonSet in c1 and a StatefulSet
// in c2 (workloads collection).
type fixture struct {
	f *StorageFactory

	deployments, replicasets, pods, namespaces, daemonsets, statefulsets, widgets cpstorage.ResourceStorage

	objs []obj
}

func uidOf(cluster, what string) string { return cluster + "-" + what + "-uid" }

func fixtureObjects() []obj {
	var out []obj
	rv := 8 // crosses 9 → 10: numeric and lexical orders differ
	next := func() string { rv++; return fmt.Sprint(rv) }
	for ci, c := range []string{"c1", "c2"} {
		day := func(base string) string { return fmt.Sprintf("%s%d", base, 10+ci) }
		for _, ns := range []string{"ns-a", "ns-b"} {
			out = append(out, obj{cluster: c, apiVersion: "v1", kind: "Namespace", name: ns, uid: uidOf(c, "ns-"+ns),
				rv: next(), created: day("2023-12-") + "T00:00:00Z", status: map[string]any{"phase": "Active"}})
		}
		type app struct {
			name, ns, created string
			labels            map[string]string
			pods              []string
			phases            []string
			containers        []any
		}
		apps := []app{
			{name: "web", ns: "ns-a", created: day("2024-01-") + "T00:00:00Z",
				labels: map[string]string{"app": "web", "tier": "fe", "rank": "3"},
				pods:   []string{"web-5d4-a", "web-5d4-b"}, phases: []string{"Running", "Pending"},
				containers: []any{map[string]any{"name": "app", "image": "nginx"}, map[string]any{"name": "sidecar", "image": "envoy"}}},
			{name: "api", ns: "ns-b", created: day("2024-06-") + "T00:00:00Z",
				labels: map[string]string{"app": "api", "rank": "1"},
				pods:   []string{"api-7f8-a"}, phases: []string{"Running"},
				containers: []any{map[string]any{"name": "app", "image": "api"}}},
		}
		for _, a := range apps {
			depUID := uidOf(c, "deploy-"+a.name)
			out = append(out, obj{cluster: c, apiVersion: "apps/v1", kind: "Deployment", ns: a.ns, name: a.name, uid: depUID,
				rv: next(), created: a.created, labels: a.labels,
				spec: map[string]any{"replicas": int64(len(a.pods)),
					"selector": map[string]any{"matchLabels": map[string]any{"app": a.name}},
					"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": a.name}},
						"spec": map[string]any{"containers": a.containers}}},
				status: map[string]any{"replicas": int64(len(a.pods)), "readyReplicas": int64(len(a.pods))}})
			rsName := a.pods[0][:len(a.pods[0])-2]
			rsUID := uidOf(c, "rs-"+a.name)
			out = append(out, obj{cluster: c, apiVersion: "apps/v1", kind: "ReplicaSet", ns: a.ns, name: rsName, uid: rsUID,
				rv: next(), created: a.created[:len(a.created)-3] + "05Z", labels: map[string]string{"app": a.name},
				owner: &ownerSpec{"apps/v1", "Deployment", a.name, depUID},
				spec:  map[string]any{"replicas": int64(len(a.pods)), "selector": map[string]any{"matchLabels": map[string]any{"app": a.name}}}})
			for i, p := range a.pods {
				out = append(out, obj{cluster: c, apiVersion: "v1", kind: "Pod", ns: a.ns, name: p, uid: uidOf(c, "pod-"+p),
					rv: next(), created: a.created[:len(a.created)-3] + fmt.Sprintf("%02dZ", 10+i), labels: map[string]string{"app": a.name},
					owner:  &ownerSpec{"apps/v1", "ReplicaSet", rsName, rsUID},
					spec:   map[string]any{"nodeName": "node-1", "containers": a.containers},
					status: map[string]any{"phase": a.phases[i]}})
			}
		}
		if c == "c1" {
			out = append(out, obj{cluster: c, apiVersion: "apps/v1", kind: "DaemonSet", ns: "ns-b", name: "logs", uid: uidOf(c, "ds-logs"),
				rv: next(), created: "2024-02-01T00:00:00Z", labels: map[string]string{"app": "logs"},
				spec: map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"app": "logs"}}}})
			out = append(out, obj{cluster: c, apiVersion: "example.com/v1", kind: "Widget", ns: "ns-a", name: "w1", uid: uidOf(c, "w1"),
				rv: next(), created: "2024-03-01T00:00:00Z", labels: map[string]string{"app": "web"}, spec: map[string]any{"size": int64(3)}})
		} else {
			out = append(out, obj{cluster: c, apiVersion: "apps/v1", kind: "StatefulSet", ns: "ns-a", name: "db", uid: uidOf(c, "sts-db"),
				rv: next(), created: "2024-02-02T00:00:00Z", labels: map[string]string{"app": "db"},
				spec: map[string]any{"serviceName": "db", "selector": map[string]any{"matchLabels": map[string]any{"app": "db"}}}})
			out = append(out, obj{cluster: c, apiVersion: "example.com/v1", kind: "Widget", ns: "ns-b", name: "w2", uid: uidOf(c, "w2"),
				rv: next(), created: "2024-03-02T00:00:00Z", labels: map[string]string{"app": "api"}, spec: map[string]any{"size": int64(5)}})
		}
	}
	return out
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := newTestFactory(t, nil)
	fx := &fixture{
		f:            f,
		deployments:  resourceStorageFor(t, f, legacyConfig(t, grDeployments, true)),
		replicasets:  resourceStorageFor(t, f, legacyConfig(t, grReplicaSets, true)),
		pods:         resourceStorageFor(t, f, legacyConfig(t, grPods, true)),
		namespaces:   resourceStorageFor(t, f, legacyConfig(t, grNamespaces, false)),
		daemonsets:   resourceStorageFor(t, f, legacyConfig(t, grDaemonSets, true)),
		statefulsets: resourceStorageFor(t, f, legacyConfig(t, grStatefulSets, true)),
		widgets:      resourceStorageFor(t, f, crdConfig(t, gvrWidgets)),
		objs:         fixtureObjects(),
	}
	for _, o := range fx.objs {
		if err := fx.storageFor(o.kind).Create(bg, o.cluster, o.unstructured()); err != nil {
			t.Fatalf("Create %s %s/%s/%s: %v", o.kind, o.cluster, o.ns, o.name, err)
		}
	}
	return fx
}

func (fx *fixture) storageFor(kind string) cpstorage.ResourceStorage {
	switch kind {
	case "Deployment":
		return fx.deployments
	case "ReplicaSet":
		return fx.replicasets
	case "Pod":
		return fx.pods
	case "Namespace":
		return fx.namespaces
	case "DaemonSet":
		return fx.daemonsets
	case "StatefulSet":
		return fx.statefulsets
	case "Widget":
		return fx.widgets
	}
	panic("no storage for " + kind)
}

// find returns the fixture object.
func (fx *fixture) find(cluster, kind, name string) obj {
	for _, o := range fx.objs {
		if o.cluster == cluster && o.kind == kind && o.name == name {
			return o
		}
	}
	panic(fmt.Sprintf("no fixture object %s %s %s", cluster, kind, name))
}
