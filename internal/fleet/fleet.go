// Package fleet generates a deterministic, synthetic multi-cluster Kubernetes fleet: the
// objects Clusterpedia would have synced from N member clusters, as the JSON it stores
// (compact, no managedFields, every object annotated with
// shadow.clusterpedia.io/cluster-name). memgraph's tests and benchmarks (engine, graph,
// persistence, adapter, kube-state-metrics) share it so they all run against the same
// realistic data.
//
// # What a cluster holds
//
// Cluster i is named ClusterName(i) ("cluster-00", ...). Its objects, in generation order:
//   - StorageClasses "standard" (default) and "fast-ssd", IngressClass "nginx", Nodes
//     "node-general-NNN"/"node-highmem-NNN" (one per ~200 objects, at least 3; the same names
//     in every cluster);
//   - Namespaces: the system ones (default, kube-system, kube-public, kube-node-lease) and
//     3..16 application namespaces. The first application namespaces are the same in every
//     cluster ("shop", "payments", "platform", ...); the last one varies per cluster. Every
//     namespace has ServiceAccount "default" and ConfigMap "kube-root-ca.crt"; application
//     namespaces also Secret "regcred", NetworkPolicy "default-deny-ingress", Role
//     "developer" and RoleBinding "developers";
//   - kube-system: DaemonSets kube-proxy and fluent-bit (one Pod per Node, spec.nodeName
//     set), Deployments coredns (Service "kube-dns") and metrics-server;
//   - applications, each labelled app/tier/team/version: Deployment -> ReplicaSet (plus
//     0-2 old ReplicaSets scaled to 0) -> Pods; StatefulSet -> Pods with one PVC each, bound
//     to a PersistentVolume, plus a headless Service "<app>-headless"; CronJob -> 1-3 Jobs
//     -> one Pod each; standalone Jobs -> Pod. Around them: Service (selector = the app's
//     app and tier labels) with one EndpointSlice (label kubernetes.io/service-name,
//     controller ownerReference to the Service, endpoints targeting the pods), ConfigMap
//     "<app>-config", Secret "<app>-secret", ServiceAccount "<app>" with Role and
//     RoleBinding, HorizontalPodAutoscaler and PodDisruptionBudget "<app>", NetworkPolicy
//     "<app>-allow-ingress", Ingress "<app>" with TLS Secret "<app>-tls";
//   - Events about generated Pods and Deployments (~5 % of the objects).
//
// Pods are about half of the objects (~50 % in Bench, ~40 % in Small where the fixed
// per-cluster baseline weighs more); a pod's JSON is about 2.2 KB on average.
//
// # Guarantees tests can rely on
//
//   - Determinism: Generate(c) is byte-identical for the same Config (math/rand seeded
//     from Config.Seed only; a fixed reference time, see Now). A different Seed gives
//     different objects.
//   - Every uid is unique within the fleet. resourceVersions are decimal strings strictly
//     increasing in Objects order within a cluster. creationTimestamps lie in the 90 days
//     before Now.
//   - Every (cluster, GVR, namespace, name) is unique.
//   - Every ownerReference, selector and name reference (volumes, env, serviceAccountName,
//     imagePullSecrets, nodeName, PVC volumeName/PV claimRef, storageClassName,
//     ingressClassName, Ingress backends and TLS secrets, HPA scaleTargetRef, RoleBinding
//     roleRef and ServiceAccount subjects, Event involvedObject) resolves to an object of
//     the same cluster — except the dangling owners: DanglingOwnerUIDs lists, per
//     cluster, the ReplicaSet UIDs that orphan Running pods of a Deployment app name as
//     their controller although no such ReplicaSet exists (a deleted old rollout whose
//     pods were orphaned).
//   - Shared names: in every cluster, Deployment SharedName ("web") exists in the first two
//     application namespaces ("shop" and "payments"), as does Deployment "api"; in "shop"
//     also StatefulSet "postgres", CronJob "report" and a Job "migrate-<n>". Web always
//     has an old ReplicaSet, a Service, an EndpointSlice, an Ingress, an HPA, a PDB, a
//     NetworkPolicy and its own ServiceAccount with a Role. Other application names recur
//     across namespaces and clusters at random.
package fleet

import (
	"encoding/json"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// ClusterNameAnnotation is the annotation Clusterpedia puts on every stored object; every
// generated object carries it with its cluster's name.
const ClusterNameAnnotation = "shadow.clusterpedia.io/cluster-name"

// SharedName is the Deployment (and Service, Ingress, HPA, ...) name present in the first two
// application namespaces of every cluster.
const SharedName = "web"

// SharedNamespaces are the application namespaces present in every cluster, both holding
// Deployments SharedName and "api".
var SharedNamespaces = [2]string{"shop", "payments"}

// Config sizes a fleet.
type Config struct {
	Clusters          int   // number of member clusters, named "cluster-00", "cluster-01", ...
	ObjectsPerCluster int   // approximate total objects per cluster (all kinds); the mix below scales to it
	Seed              int64 // same Config => byte-identical output
}

// Small is a fleet for unit tests: 3 clusters of ~300 objects.
func Small() Config { return Config{Clusters: 3, ObjectsPerCluster: 300, Seed: 1} }

// Bench is a fleet for benchmarks: 10 clusters of 20,000 objects (~200k objects, ~100k
// pods, ~340 MB of JSON). Generating it costs about 5 CPU-seconds, spread over
// GOMAXPROCS.
func Bench() Config { return Config{Clusters: 10, ObjectsPerCluster: 20_000, Seed: 1} }

// Object is one generated object.
type Object struct {
	Cluster string
	GVR     index.GVR // storage GVR: pods = {"" v1 pods}, deployments = {apps v1 deployments}, ...
	Kind    string
	JSON    []byte // the full object JSON as Clusterpedia would store it
}

// Fleet is a generated fleet: Objects grouped by cluster (in cluster order), and within a
// cluster in creation order (owners before the objects they own; resourceVersions
// increasing).
type Fleet struct {
	Config  Config
	Objects []Object
}

// ClusterName is the name of the i-th cluster: "cluster-00", "cluster-01", ...
func ClusterName(i int) string { return fmt.Sprintf("cluster-%02d", i) }

// Now is the fixed reference time of every fleet: creation timestamps lie in the 90 days
// before it, Events in the hour before it.
func Now() time.Time { return refTime }

// Generate builds the fleet described by c. Clusters are generated in parallel, each from
// its own seeded random source, so the result does not depend on scheduling. A cluster
// always gets a baseline (system namespaces, 3 application namespaces, 3 nodes, the
// shared applications: ~150 objects) even when ObjectsPerCluster is smaller.
func Generate(c Config) *Fleet {
	f := &Fleet{Config: c}
	if c.Clusters <= 0 {
		return f
	}
	parts := make([][]Object, c.Clusters)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range parts {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			parts[i] = genCluster(c, i)
		}(i)
	}
	wg.Wait()
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	f.Objects = make([]Object, 0, n)
	for i, p := range parts {
		f.Objects = append(f.Objects, p...)
		parts[i] = nil
	}
	return f
}

// Records converts every object with index.RecordFromJSON, in Objects order. The records
// share the objects' JSON bytes.
func (f *Fleet) Records() ([]*index.Record, error) {
	out := make([]*index.Record, len(f.Objects))
	errs := make([]error, len(f.Objects))
	workers := runtime.GOMAXPROCS(0)
	chunk := (len(f.Objects) + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < len(f.Objects); lo += chunk {
		hi := min(lo+chunk, len(f.Objects))
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				o := &f.Objects[i]
				r, err := index.RecordFromJSON(o.Cluster, o.GVR, o.JSON)
				if err != nil {
					errs[i] = fmt.Errorf("fleet object %d (%s %s): %w", i, o.Cluster, o.Kind, err)
					continue
				}
				out[i] = r
			}
		}(lo, hi)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ByKind returns the objects of one kind ("Pod", "Deployment", ...), in Objects order.
func (f *Fleet) ByKind(kind string) []Object {
	var out []Object
	for _, o := range f.Objects {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

// ByCluster returns the objects of one cluster, in Objects order.
func (f *Fleet) ByCluster(cluster string) []Object {
	var out []Object
	for _, o := range f.Objects {
		if o.Cluster == cluster {
			out = append(out, o)
		}
	}
	return out
}

// Clusters returns the cluster names, in order.
func (f *Fleet) Clusters() []string {
	var out []string
	for _, o := range f.Objects {
		if len(out) == 0 || out[len(out)-1] != o.Cluster {
			out = append(out, o.Cluster)
		}
	}
	return out
}

// TotalJSONBytes is the summed size of every object's JSON.
func (f *Fleet) TotalJSONBytes() int64 {
	var n int64
	for _, o := range f.Objects {
		n += int64(len(o.JSON))
	}
	return n
}

// CountByKind returns how many objects of each kind the fleet (cluster == "") or one
// cluster holds.
func (f *Fleet) CountByKind(cluster string) map[string]int {
	out := map[string]int{}
	for _, o := range f.Objects {
		if cluster == "" || o.Cluster == cluster {
			out[o.Kind]++
		}
	}
	return out
}

// Namespaces returns the sorted names of the cluster's Namespace objects.
func (f *Fleet) Namespaces(cluster string) []string {
	return f.Names(cluster, "Namespace", "")
}

// AppNamespaces returns the sorted application (non-system) namespaces of a cluster: the
// ones holding Deployments, StatefulSets, CronJobs and Jobs besides kube-system.
func (f *Fleet) AppNamespaces(cluster string) []string {
	var out []string
	for _, ns := range f.Namespaces(cluster) {
		system := false
		for _, s := range systemNamespaces {
			system = system || s == ns
		}
		if !system {
			out = append(out, ns)
		}
	}
	return out
}

// Nodes returns the sorted names of the cluster's Nodes.
func (f *Fleet) Nodes(cluster string) []string {
	return f.Names(cluster, "Node", "")
}

// Names returns the sorted names of the objects of a kind in a cluster; namespace ""
// means all namespaces (names may then repeat, once per namespace).
func (f *Fleet) Names(cluster, kind, namespace string) []string {
	var out []string
	for _, o := range f.Objects {
		if o.Cluster != cluster || o.Kind != kind {
			continue
		}
		ns, name, _ := objectIdentity(o.JSON)
		if namespace == "" || ns == namespace {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Find returns the object of a kind with that namespace/name in a cluster.
func (f *Fleet) Find(cluster, kind, namespace, name string) (Object, bool) {
	for _, o := range f.Objects {
		if o.Cluster != cluster || o.Kind != kind {
			continue
		}
		if ns, n, _ := objectIdentity(o.JSON); ns == namespace && n == name {
			return o, true
		}
	}
	return Object{}, false
}

// DanglingOwnerUIDs returns the UIDs of the ReplicaSets that orphan pods of the cluster
// reference as their controller although they do not exist: one per 5,000 objects per
// cluster (at least 1). Each is referenced by exactly one Running pod named
// "<deployment>-<hash>-<suffix>" of a Deployment app in an application namespace, whose
// pod-template-hash label is that missing ReplicaSet's hash. Every other ownerReference
// resolves. The UIDs are derived from the Config, so this works for any Fleet whose
// Objects came from Generate(f.Config).
func (f *Fleet) DanglingOwnerUIDs(cluster string) []string {
	for i := 0; i < f.Config.Clusters; i++ {
		if ClusterName(i) != cluster {
			continue
		}
		n := danglingCount(f.Config)
		out := make([]string, n)
		for k := range out {
			out[k] = uuidFor(f.Config.Seed, i, danglingSeqBase+uint64(k))
		}
		return out
	}
	return nil
}

// objectIdentity reads metadata.namespace, metadata.name and metadata.uid of an object.
func objectIdentity(data []byte) (namespace, name, uid string) {
	var m struct {
		Metadata struct {
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
			UID       string `json:"uid"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return "", "", ""
	}
	return m.Metadata.Namespace, m.Metadata.Name, m.Metadata.UID
}
