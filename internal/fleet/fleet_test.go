package fleet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// mediumConfig is big enough for the mix to settle (two clusters of 4,000 objects) and small
// enough for -race.
func mediumConfig() Config { return Config{Clusters: 2, ObjectsPerCluster: 4000, Seed: 7} }

var (
	fleetsMu sync.Mutex
	fleets   = map[Config]*Fleet{}
)

// fleetFor caches Generate(c) across tests (the fleets are read-only).
func fleetFor(c Config) *Fleet {
	fleetsMu.Lock()
	defer fleetsMu.Unlock()
	if f, ok := fleets[c]; ok {
		return f
	}
	f := Generate(c)
	fleets[c] = f
	return f
}

func testConfigs() []Config { return []Config{Small(), mediumConfig()} }

// --- generic JSON access ---

type doc = map[string]any

func decode(t testing.TB, o Object) doc {
	t.Helper()
	var d doc
	if err := json.Unmarshal(o.JSON, &d); err != nil {
		t.Fatalf("%s %s: invalid JSON: %v", o.Cluster, o.Kind, err)
	}
	return d
}

func get(d any, path ...string) any {
	for _, p := range path {
		m, ok := d.(map[string]any)
		if !ok {
			return nil
		}
		d = m[p]
	}
	return d
}

func str(d any, path ...string) string { s, _ := get(d, path...).(string); return s }
func obj(d any, path ...string) doc    { m, _ := get(d, path...).(map[string]any); return m }
func arr(d any, path ...string) []any  { a, _ := get(d, path...).([]any); return a }

func strMap(m doc) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k], _ = v.(string)
	}
	return out
}

func matches(selector, labels map[string]string) bool {
	for k, v := range selector {
		if lv, ok := labels[k]; !ok || lv != v {
			return false
		}
	}
	return true
}

// --- a per-cluster view of a fleet for reference checks ---

type entry struct {
	kind, ns, name, uid string
	labels              map[string]string
	d                   doc
}

type clusterView struct {
	name   string
	byKey  map[string]*entry // kind/ns/name
	byUID  map[string]*entry
	byKind map[string][]*entry
}

func key(kind, ns, name string) string { return kind + "/" + ns + "/" + name }

func (v *clusterView) lookup(kind, ns, name string) *entry { return v.byKey[key(kind, ns, name)] }

var (
	viewsMu    sync.Mutex
	viewsCache = map[*Fleet][]*clusterView{}
)

// cachedViews builds (once per fleet) the per-cluster views; duplicate keys or uids fail
// the test that builds them.
func cachedViews(t testing.TB, f *Fleet) []*clusterView {
	t.Helper()
	viewsMu.Lock()
	defer viewsMu.Unlock()
	if v, ok := viewsCache[f]; ok {
		return v
	}
	v := views(t, f)
	viewsCache[f] = v
	return v
}

func views(t testing.TB, f *Fleet) []*clusterView {
	t.Helper()
	var out []*clusterView
	idx := map[string]*clusterView{}
	for _, o := range f.Objects {
		v := idx[o.Cluster]
		if v == nil {
			v = &clusterView{name: o.Cluster, byKey: map[string]*entry{}, byUID: map[string]*entry{}, byKind: map[string][]*entry{}}
			idx[o.Cluster] = v
			out = append(out, v)
		}
		d := decode(t, o)
		e := &entry{kind: o.Kind, ns: str(d, "metadata", "namespace"), name: str(d, "metadata", "name"),
			uid: str(d, "metadata", "uid"), labels: strMap(obj(d, "metadata", "labels")), d: d}
		k := key(e.kind, e.ns, e.name)
		if v.byKey[k] != nil {
			t.Errorf("%s: duplicate key %s", o.Cluster, k)
		}
		v.byKey[k] = e
		if v.byUID[e.uid] != nil {
			t.Errorf("%s: duplicate uid %s (%s and %s)", o.Cluster, e.uid, k, key(v.byUID[e.uid].kind, v.byUID[e.uid].ns, v.byUID[e.uid].name))
		}
		v.byUID[e.uid] = e
		v.byKind[o.Kind] = append(v.byKind[o.Kind], e)
	}
	return out
}

// --- tests ---

func TestDeterministic(t *testing.T) {
	for _, c := range testConfigs() {
		a, b := Generate(c), fleetFor(c)
		if len(a.Objects) != len(b.Objects) {
			t.Fatalf("%+v: %d vs %d objects", c, len(a.Objects), len(b.Objects))
		}
		for i := range a.Objects {
			x, y := a.Objects[i], b.Objects[i]
			if x.Cluster != y.Cluster || x.GVR != y.GVR || x.Kind != y.Kind || !bytes.Equal(x.JSON, y.JSON) {
				t.Fatalf("%+v: object %d differs:\n%s\n%s", c, i, x.JSON, y.JSON)
			}
		}
	}
	c := Small()
	base := fleetFor(c)
	c.Seed++
	other := Generate(c)
	same := 0
	n := min(len(base.Objects), len(other.Objects))
	for i := 0; i < n; i++ {
		if bytes.Equal(base.Objects[i].JSON, other.Objects[i].JSON) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("seed %d and %d: %d of %d objects byte-identical", c.Seed-1, c.Seed, same, n)
	}
}

func TestSizing(t *testing.T) {
	for _, c := range testConfigs() {
		f := fleetFor(c)
		want := make([]string, c.Clusters)
		for i := range want {
			want[i] = ClusterName(i)
		}
		if got := f.Clusters(); !reflect.DeepEqual(got, want) {
			t.Fatalf("%+v: clusters %v, want %v", c, got, want)
		}
		for _, cl := range f.Clusters() {
			counts := f.CountByKind(cl)
			total := 0
			for _, k := range Kinds() {
				total += counts[k]
				if counts[k] == 0 {
					t.Errorf("%+v %s: no %s", c, cl, k)
				}
			}
			if len(counts) != len(Kinds()) {
				t.Errorf("%+v %s: unexpected kinds in %v", c, cl, counts)
			}
			tol := c.ObjectsPerCluster / 10
			if total < c.ObjectsPerCluster-tol || total > c.ObjectsPerCluster+tol {
				t.Errorf("%+v %s: %d objects, want %d±%d", c, cl, total, c.ObjectsPerCluster, tol)
			}
			share := float64(counts["Pod"]) / float64(total)
			minShare := 0.42
			if c.ObjectsPerCluster < 1000 {
				minShare = 0.33 // the fixed per-cluster baseline weighs more
			}
			if share < minShare || share > 0.62 {
				t.Errorf("%+v %s: pods are %.0f%% of the objects", c, cl, 100*share)
			}
			if got, want := counts["Namespace"], len(systemNamespaces)+appNamespaceCount(c); got != want {
				t.Errorf("%+v %s: %d namespaces, want %d", c, cl, got, want)
			}
			if got, want := counts["Node"], nodeCount(c); got != want {
				t.Errorf("%+v %s: %d nodes, want %d", c, cl, got, want)
			}
			if got, want := counts["Event"], eventCount(c); got < want {
				t.Errorf("%+v %s: %d events, want >= %d", c, cl, got, want)
			}
			t.Logf("%+v %s: %d objects, %.0f%% pods, %v", c, cl, total, 100*share, counts)
		}
	}
}

func TestPodJSONSize(t *testing.T) {
	for _, c := range testConfigs() {
		pods := fleetFor(c).ByKind("Pod")
		var n int
		for _, p := range pods {
			n += len(p.JSON)
		}
		avg := n / len(pods)
		t.Logf("%+v: %d pods, average %d bytes", c, len(pods), avg)
		if avg < 1500 || avg > 2500 {
			t.Errorf("%+v: average pod JSON %d bytes, want 1500..2500", c, avg)
		}
	}
}

// TestRecords: every object converts with index.RecordFromJSON and the record carries the
// object's identity, labels and owners; metadata invariants hold.
func TestRecords(t *testing.T) {
	lo, hi := Now().Add(-91*24*time.Hour), Now()
	for _, c := range testConfigs() {
		f := fleetFor(c)
		recs, err := f.Records()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != len(f.Objects) {
			t.Fatalf("%d records for %d objects", len(recs), len(f.Objects))
		}
		lastRV := map[string]int64{}
		for i, r := range recs {
			o := f.Objects[i]
			d := decode(t, o)
			where := fmt.Sprintf("%s %s %s/%s", o.Cluster, o.Kind, r.Namespace, r.Name)
			if r.Cluster != o.Cluster || r.GVR != o.GVR || r.Kind != o.Kind || &r.Object[0] != &o.JSON[0] {
				t.Fatalf("%s: record %+v does not match object", where, r)
			}
			if gvr, ok := GVRFor(o.Kind); !ok || gvr != o.GVR {
				t.Errorf("%s: GVR %v, want %v", where, o.GVR, gvr)
			}
			if av, _ := APIVersionFor(o.Kind); str(d, "apiVersion") != av {
				t.Errorf("%s: apiVersion %q, want %q", where, str(d, "apiVersion"), av)
			}
			if r.Name == "" || r.UID == "" || r.Name != str(d, "metadata", "name") || r.Namespace != str(d, "metadata", "namespace") || r.UID != str(d, "metadata", "uid") {
				t.Errorf("%s: identity %q/%q/%q", where, r.Namespace, r.Name, r.UID)
			}
			if (r.Namespace != "") != Namespaced(o.Kind) {
				t.Errorf("%s: namespace %q for namespaced=%v", where, r.Namespace, Namespaced(o.Kind))
			}
			if len(r.UID) != 36 || r.UID[14] != '4' || strings.Count(r.UID, "-") != 4 {
				t.Errorf("%s: uid %q is not uuid-shaped", where, r.UID)
			}
			if !reflect.DeepEqual(r.Labels.Map(), strMap(obj(d, "metadata", "labels"))) {
				t.Errorf("%s: labels %v", where, r.Labels)
			}
			refs := arr(d, "metadata", "ownerReferences")
			if len(r.Owners) != len(refs) {
				t.Errorf("%s: %d owners, JSON has %d", where, len(r.Owners), len(refs))
			}
			for j, ref := range refs {
				want := index.OwnerRef{APIVersion: str(ref, "apiVersion"), Kind: str(ref, "kind"), Name: str(ref, "name"), UID: str(ref, "uid"), Controller: get(ref, "controller") == true}
				if r.Owners[j] != want || !want.Controller {
					t.Errorf("%s: owner %+v, want controller %+v", where, r.Owners[j], want)
				}
			}
			if got := str(d, "metadata", "annotations", ClusterNameAnnotation); got != o.Cluster {
				t.Errorf("%s: %s annotation %q", where, ClusterNameAnnotation, got)
			}
			if r.Created.Before(lo) || r.Created.After(hi) {
				t.Errorf("%s: creationTimestamp %v outside the 90 days before %v", where, r.Created, hi)
			}
			var rv int64
			if _, err := fmt.Sscan(r.ResourceVersion, &rv); err != nil || fmt.Sprint(rv) != r.ResourceVersion {
				t.Errorf("%s: resourceVersion %q is not decimal", where, r.ResourceVersion)
			}
			if rv <= lastRV[o.Cluster] {
				t.Errorf("%s: resourceVersion %d not above %d", where, rv, lastRV[o.Cluster])
			}
			lastRV[o.Cluster] = rv
		}
	}
}

func TestUIDsUnique(t *testing.T) {
	for _, c := range testConfigs() {
		f := fleetFor(c)
		seen := map[string]string{}
		for _, o := range f.Objects {
			_, _, uid := objectIdentity(o.JSON)
			if prev, ok := seen[uid]; ok {
				t.Errorf("uid %s used in %s and %s", uid, prev, o.Cluster)
			}
			seen[uid] = o.Cluster
		}
		for _, cl := range f.Clusters() {
			for _, u := range f.DanglingOwnerUIDs(cl) {
				if _, ok := seen[u]; ok {
					t.Errorf("%s: dangling owner uid %s belongs to an object", cl, u)
				}
			}
		}
		cachedViews(t, f) // reports duplicate keys and uids per cluster
	}
}

// TestReferences: every ownerReference, selector and name reference resolves within its
// cluster, except the documented dangling owners.
func TestReferences(t *testing.T) {
	for _, c := range append(testConfigs(), Config{Clusters: 1, ObjectsPerCluster: 0, Seed: 3}) {
		f := fleetFor(c)
		for _, v := range cachedViews(t, f) {
			checkCluster(t.Errorf, f, v)
		}
	}
}

// TestReferenceCheckerCatchesBreakage makes sure checkCluster is not vacuous: broken
// references in a copy of a fleet are reported.
func TestReferenceCheckerCatchesBreakage(t *testing.T) {
	src := fleetFor(Small())
	f := &Fleet{Config: src.Config, Objects: append([]Object(nil), src.ByCluster(ClusterName(0))...)}
	breaks := []struct{ kind, old, new string }{
		{"Pod", `"configMapKeyRef":{"name":"`, `"configMapKeyRef":{"name":"x`},
		{"EndpointSlice", `"targetRef":{"kind":"Pod","namespace":"`, `"targetRef":{"kind":"Pod","namespace":"x`},
		{"ReplicaSet", `"ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"`, `"ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"x`},
		{"PersistentVolume", `"claimRef":{"apiVersion":"v1","kind":"PersistentVolumeClaim","name":"`, `"claimRef":{"apiVersion":"v1","kind":"PersistentVolumeClaim","name":"x`},
		{"Event", `"involvedObject":{"kind":"`, `"involvedObject":{"kind":"X`},
		{"Service", `"selector":{"app":"`, `"selector":{"app":"x`},
	}
	for _, b := range breaks {
		done := false
		for i, o := range f.Objects {
			if o.Kind == b.kind && bytes.Contains(o.JSON, []byte(b.old)) {
				f.Objects[i].JSON = bytes.Replace(o.JSON, []byte(b.old), []byte(b.new), 1)
				done = true
				break
			}
		}
		if !done {
			t.Fatalf("no %s contains %s", b.kind, b.old)
		}
	}
	var reports []string
	report := func(format string, args ...any) { reports = append(reports, fmt.Sprintf(format, args...)) }
	for _, v := range views(t, f) {
		checkCluster(report, f, v)
	}
	for _, want := range []string{"references missing ConfigMap", "endpoint targetRef", "ReplicaSet", "claimRef", "references missing X", "selects no pod"} {
		found := false
		for _, r := range reports {
			found = found || strings.Contains(r, want)
		}
		if !found {
			t.Errorf("breakage %q not reported; reports: %q", want, reports)
		}
	}
}

func checkCluster(report func(format string, args ...any), f *Fleet, v *clusterView) {
	errf := func(e *entry, format string, args ...any) {
		report("%s %s %s/%s: %s", v.name, e.kind, e.ns, e.name, fmt.Sprintf(format, args...))
	}
	need := func(e *entry, kind, ns, name string) *entry {
		x := v.lookup(kind, ns, name)
		if x == nil {
			errf(e, "references missing %s %s/%s", kind, ns, name)
		}
		return x
	}
	podsMatching := func(ns string, sel map[string]string) int {
		n := 0
		for _, p := range v.byKind["Pod"] {
			if p.ns == ns && matches(sel, p.labels) {
				n++
			}
		}
		return n
	}
	dangling := map[string]int{}
	for _, u := range f.DanglingOwnerUIDs(v.name) {
		dangling[u] = 0
	}
	if len(dangling) == 0 {
		report("%s: no dangling owner uids", v.name)
	}

	for _, e := range v.byUID {
		// ownerReferences
		for _, ref := range arr(e.d, "metadata", "ownerReferences") {
			uid := str(ref, "uid")
			o := v.byUID[uid]
			if o == nil {
				if _, ok := dangling[uid]; ok && e.kind == "Pod" {
					dangling[uid]++
					if v.lookup("ReplicaSet", e.ns, str(ref, "name")) != nil || !strings.HasPrefix(e.name, str(ref, "name")+"-") ||
						e.labels["pod-template-hash"] != strings.TrimPrefix(str(ref, "name"), e.labels["app"]+"-") {
						errf(e, "orphan pod does not look like a pod of missing ReplicaSet %s", str(ref, "name"))
					}
					continue
				}
				errf(e, "ownerReference %v does not resolve", ref)
				continue
			}
			if o.kind != str(ref, "kind") || o.name != str(ref, "name") || o.ns != e.ns {
				errf(e, "ownerReference %v resolves to %s %s/%s", ref, o.kind, o.ns, o.name)
			}
			if av, _ := APIVersionFor(o.kind); av != str(ref, "apiVersion") {
				errf(e, "ownerReference apiVersion %q", str(ref, "apiVersion"))
			}
			if sel := strMap(obj(o.d, "spec", "selector", "matchLabels")); sel != nil && !matches(sel, e.labels) {
				errf(e, "owner %s %s selector %v does not select labels %v", o.kind, o.name, sel, e.labels)
			}
		}
		// workload selectors select their own template
		if tl := strMap(obj(e.d, "spec", "template", "metadata", "labels")); tl != nil {
			sel := strMap(obj(e.d, "spec", "selector", "matchLabels"))
			if len(sel) == 0 || !matches(sel, tl) {
				errf(e, "selector %v does not select template labels %v", sel, tl)
			}
		}
		switch e.kind {
		case "Pod":
			for _, l := range []string{"app", "tier", "team", "version"} {
				if e.labels[l] == "" {
					errf(e, "no %s label", l)
				}
			}
			spec := obj(e.d, "spec")
			vols := map[string]bool{}
			for _, vol := range arr(spec, "volumes") {
				vols[str(vol, "name")] = true
				if n := str(vol, "configMap", "name"); n != "" {
					need(e, "ConfigMap", e.ns, n)
				}
				if n := str(vol, "secret", "secretName"); n != "" {
					need(e, "Secret", e.ns, n)
				}
				if n := str(vol, "persistentVolumeClaim", "claimName"); n != "" {
					need(e, "PersistentVolumeClaim", e.ns, n)
				}
				for _, src := range arr(vol, "projected", "sources") {
					if n := str(src, "configMap", "name"); n != "" {
						need(e, "ConfigMap", e.ns, n)
					}
				}
			}
			for _, ctr := range arr(spec, "containers") {
				for _, m := range arr(ctr, "volumeMounts") {
					if !vols[str(m, "name")] {
						errf(e, "volumeMount %s has no volume", str(m, "name"))
					}
				}
				for _, env := range arr(ctr, "env") {
					if r := obj(env, "valueFrom", "configMapKeyRef"); r != nil {
						if cm := need(e, "ConfigMap", e.ns, str(r, "name")); cm != nil && get(cm.d, "data", str(r, "key")) == nil {
							errf(e, "configMapKeyRef %v: no such key", r)
						}
					}
					if r := obj(env, "valueFrom", "secretKeyRef"); r != nil {
						if s := need(e, "Secret", e.ns, str(r, "name")); s != nil && get(s.d, "data", str(r, "key")) == nil {
							errf(e, "secretKeyRef %v: no such key", r)
						}
					}
				}
				for _, ef := range arr(ctr, "envFrom") {
					if n := str(ef, "configMapRef", "name"); n != "" {
						need(e, "ConfigMap", e.ns, n)
					}
					if n := str(ef, "secretRef", "name"); n != "" {
						need(e, "Secret", e.ns, n)
					}
				}
			}
			need(e, "ServiceAccount", e.ns, str(spec, "serviceAccountName"))
			for _, ps := range arr(spec, "imagePullSecrets") {
				need(e, "Secret", e.ns, str(ps, "name"))
			}
			phase := str(e.d, "status", "phase")
			if n := str(spec, "nodeName"); n != "" {
				need(e, "Node", "", n)
			} else if phase != "Pending" {
				errf(e, "%s pod without nodeName", phase)
			}
			if phase == "Running" && (str(e.d, "status", "podIP") == "" || str(e.d, "status", "hostIP") == "") {
				errf(e, "running pod without podIP/hostIP")
			}
		case "Service":
			sel := strMap(obj(e.d, "spec", "selector"))
			if len(sel) == 0 || podsMatching(e.ns, sel) == 0 {
				errf(e, "selector %v selects no pod", sel)
			}
		case "EndpointSlice":
			svc := need(e, "Service", e.ns, e.labels["kubernetes.io/service-name"])
			if svc != nil && (len(arr(e.d, "metadata", "ownerReferences")) != 1 || str(arr(e.d, "metadata", "ownerReferences")[0], "uid") != svc.uid) {
				errf(e, "not owned by its Service")
			}
			for _, ep := range arr(e.d, "endpoints") {
				p := v.byUID[str(ep, "targetRef", "uid")]
				if p == nil || p.kind != "Pod" || p.name != str(ep, "targetRef", "name") || p.ns != e.ns || str(ep, "targetRef", "namespace") != e.ns {
					errf(e, "endpoint targetRef %v does not resolve", get(ep, "targetRef"))
				} else if str(p.d, "status", "podIP") != str(arr(ep, "addresses")[0]) || (svc != nil && !matches(strMap(obj(svc.d, "spec", "selector")), p.labels)) {
					errf(e, "endpoint %v does not match pod %s", ep, p.name)
				}
			}
		case "StatefulSet":
			need(e, "Service", e.ns, str(e.d, "spec", "serviceName"))
		case "HorizontalPodAutoscaler":
			need(e, str(e.d, "spec", "scaleTargetRef", "kind"), e.ns, str(e.d, "spec", "scaleTargetRef", "name"))
		case "PodDisruptionBudget":
			if sel := strMap(obj(e.d, "spec", "selector", "matchLabels")); len(sel) == 0 || podsMatching(e.ns, sel) == 0 {
				errf(e, "selector %v selects no pod", sel)
			}
		case "NetworkPolicy":
			if sel := strMap(obj(e.d, "spec", "podSelector", "matchLabels")); len(sel) > 0 && podsMatching(e.ns, sel) == 0 {
				errf(e, "podSelector %v selects no pod", sel)
			}
		case "Ingress":
			need(e, "IngressClass", "", str(e.d, "spec", "ingressClassName"))
			for _, tls := range arr(e.d, "spec", "tls") {
				need(e, "Secret", e.ns, str(tls, "secretName"))
			}
			for _, rule := range arr(e.d, "spec", "rules") {
				for _, p := range arr(rule, "http", "paths") {
					need(e, "Service", e.ns, str(p, "backend", "service", "name"))
				}
			}
		case "PersistentVolumeClaim":
			need(e, "StorageClass", "", str(e.d, "spec", "storageClassName"))
			if pv := need(e, "PersistentVolume", "", str(e.d, "spec", "volumeName")); pv != nil {
				cr := obj(pv.d, "spec", "claimRef")
				if str(cr, "uid") != e.uid || str(cr, "name") != e.name || str(cr, "namespace") != e.ns {
					errf(e, "PV %s claimRef %v does not point back", pv.name, cr)
				}
			}
		case "PersistentVolume":
			need(e, "StorageClass", "", str(e.d, "spec", "storageClassName"))
			cr := obj(e.d, "spec", "claimRef")
			if pvc := need(e, "PersistentVolumeClaim", str(cr, "namespace"), str(cr, "name")); pvc != nil && pvc.uid != str(cr, "uid") {
				errf(e, "claimRef uid %s, PVC has %s", str(cr, "uid"), pvc.uid)
			}
		case "RoleBinding":
			need(e, str(e.d, "roleRef", "kind"), e.ns, str(e.d, "roleRef", "name"))
			for _, s := range arr(e.d, "subjects") {
				if str(s, "kind") == "ServiceAccount" {
					need(e, "ServiceAccount", str(s, "namespace"), str(s, "name"))
				}
			}
		case "ServiceAccount":
			for _, ps := range arr(e.d, "imagePullSecrets") {
				need(e, "Secret", e.ns, str(ps, "name"))
			}
		case "CronJob":
			for _, a := range arr(e.d, "status", "active") {
				if j := need(e, "Job", e.ns, str(a, "name")); j != nil && j.uid != str(a, "uid") {
					errf(e, "active job uid mismatch")
				}
			}
		case "Event":
			io := obj(e.d, "involvedObject")
			if x := need(e, str(io, "kind"), str(io, "namespace"), str(io, "name")); x != nil && x.uid != str(io, "uid") {
				errf(e, "involvedObject uid %s, object has %s", str(io, "uid"), x.uid)
			}
			if str(io, "namespace") != e.ns {
				errf(e, "event in another namespace than its object")
			}
		case "DaemonSet":
			nodes := map[string]int{}
			for _, p := range v.byKind["Pod"] {
				for _, ref := range arr(p.d, "metadata", "ownerReferences") {
					if str(ref, "uid") == e.uid {
						nodes[str(p.d, "spec", "nodeName")]++
					}
				}
			}
			if len(nodes) != len(v.byKind["Node"]) {
				errf(e, "pods on %d nodes, cluster has %d", len(nodes), len(v.byKind["Node"]))
			}
			for n, k := range nodes {
				if k != 1 {
					errf(e, "%d pods on node %s", k, n)
				}
			}
		case "ReplicaSet":
			if len(arr(e.d, "metadata", "ownerReferences")) != 1 {
				errf(e, "ReplicaSet without a Deployment owner")
			}
		}
	}
	for u, n := range dangling {
		if n != 1 {
			report("%s: dangling owner uid %s referenced by %d pods, want 1", v.name, u, n)
		}
	}
	oldRS := 0
	for _, rs := range v.byKind["ReplicaSet"] {
		if get(rs.d, "spec", "replicas") == float64(0) {
			oldRS++
		}
	}
	if oldRS == 0 {
		report("%s: no old ReplicaSet scaled to 0", v.name)
	}
	phases := map[string]int{}
	for _, p := range v.byKind["Pod"] {
		phases[str(p.d, "status", "phase")]++
	}
	if phases["Running"] < len(v.byKind["Pod"])*8/10 || phases["Succeeded"] == 0 {
		report("%s: pod phases %v", v.name, phases)
	}
}

func TestSharedNames(t *testing.T) {
	for _, c := range testConfigs() {
		f := fleetFor(c)
		clustersWith := map[string]map[string]bool{} // deployment name -> clusters
		for _, cl := range f.Clusters() {
			for _, ns := range SharedNamespaces {
				for _, kind := range []string{"Deployment", "Service", "Ingress", "HorizontalPodAutoscaler"} {
					if _, ok := f.Find(cl, kind, ns, SharedName); !ok {
						t.Errorf("%s: no %s %s/%s", cl, kind, ns, SharedName)
					}
				}
				if _, ok := f.Find(cl, "Deployment", ns, "api"); !ok {
					t.Errorf("%s: no Deployment %s/api", cl, ns)
				}
			}
			nsOf := map[string]int{}
			for _, n := range f.Names(cl, "Deployment", "") {
				nsOf[n]++
				if clustersWith[n] == nil {
					clustersWith[n] = map[string]bool{}
				}
				clustersWith[n][cl] = true
			}
			if nsOf[SharedName] < 2 {
				t.Errorf("%s: Deployment %s in %d namespaces", cl, SharedName, nsOf[SharedName])
			}
		}
		multi := 0
		for _, cls := range clustersWith {
			if len(cls) > 1 {
				multi++
			}
		}
		if len(clustersWith[SharedName]) != c.Clusters || multi < 2 {
			t.Errorf("%+v: %d deployment names shared across clusters", c, multi)
		}
	}
}

func TestHelpers(t *testing.T) {
	c := Small()
	f := fleetFor(c)
	cl := ClusterName(1)
	nss := f.Namespaces(cl)
	if !sort.StringsAreSorted(nss) || len(nss) != len(systemNamespaces)+appNamespaceCount(c) {
		t.Errorf("Namespaces = %v", nss)
	}
	app := f.AppNamespaces(cl)
	if len(app) != appNamespaceCount(c) || !contains(app, SharedNamespaces[0]) || !contains(app, SharedNamespaces[1]) || contains(app, "kube-system") {
		t.Errorf("AppNamespaces = %v", app)
	}
	nodes := f.Nodes(cl)
	if len(nodes) != nodeCount(c) || !sort.StringsAreSorted(nodes) {
		t.Errorf("Nodes = %v", nodes)
	}
	if !reflect.DeepEqual(nodes, f.Nodes(ClusterName(0))) {
		t.Errorf("node names differ between clusters")
	}
	var total int64
	n := 0
	for _, k := range Kinds() {
		for _, o := range f.ByKind(k) {
			if o.Kind != k {
				t.Fatalf("ByKind(%s) returned a %s", k, o.Kind)
			}
			total += int64(len(o.JSON))
			n++
		}
	}
	if n != len(f.Objects) || total != f.TotalJSONBytes() {
		t.Errorf("ByKind covers %d objects / %d bytes, fleet has %d / %d", n, total, len(f.Objects), f.TotalJSONBytes())
	}
	if got := len(f.ByCluster(cl)); got != f.CountByKind(cl)["Pod"]+sumExcept(f.CountByKind(cl), "Pod") {
		t.Errorf("ByCluster: %d", got)
	}
	o, ok := f.Find(cl, "Namespace", "", "kube-system")
	if !ok || o.Cluster != cl || o.GVR != (index.GVR{Version: "v1", Resource: "namespaces"}) {
		t.Errorf("Find(kube-system) = %+v, %v", o, ok)
	}
	if _, ok := f.Find(cl, "Deployment", "kube-system", SharedName); ok {
		t.Errorf("Find found a web deployment in kube-system")
	}
	if d := f.DanglingOwnerUIDs(cl); len(d) != danglingCount(c) {
		t.Errorf("DanglingOwnerUIDs = %v", d)
	}
	if d := f.DanglingOwnerUIDs("nope"); d != nil {
		t.Errorf("DanglingOwnerUIDs(unknown) = %v", d)
	}
	if g := Generate(Config{}); len(g.Objects) != 0 || g.Clusters() != nil {
		t.Errorf("empty config generated %d objects", len(g.Objects))
	}
	b := Bench()
	if b.Clusters != 10 || b.ObjectsPerCluster != 20_000 {
		t.Errorf("Bench() = %+v", b)
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func sumExcept(m map[string]int, skip string) int {
	n := 0
	for k, v := range m {
		if k != skip {
			n += v
		}
	}
	return n
}

// TestSmapMarshal: the reflection-free map encoder writes exactly what encoding/json does.
func TestSmapMarshal(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	alphabet := []string{"a", "b", "Z", "-", "/", ".", "<", ">", "&", "\"", "\\", "\n", "\t", "\x01", "é", "\u2028", "\xff", "日"}
	word := func() string {
		var sb strings.Builder
		for i := rng.Intn(6); i >= 0; i-- {
			sb.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		return sb.String()
	}
	for i := 0; i < 2000; i++ {
		m := map[string]string{}
		for j := rng.Intn(20); j > 0; j-- {
			m[word()] = word()
		}
		want, _ := json.Marshal(m)
		got, err := json.Marshal(struct {
			M smap `json:"m"`
		}{m})
		if err != nil || string(got) != `{"m":`+string(want)+`}` {
			t.Fatalf("smap %q: got %s, want %s (%v)", m, got, want, err)
		}
	}
}

func TestUUIDInjective(t *testing.T) {
	seen := map[string]bool{}
	for cl := 0; cl < 4; cl++ {
		for seq := uint64(0); seq < 20000; seq++ {
			u := uuidFor(42, cl, seq)
			if seen[u] {
				t.Fatalf("uuid collision at cluster %d seq %d", cl, seq)
			}
			seen[u] = true
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	c := Bench()
	b.ReportAllocs()
	var f *Fleet
	for i := 0; i < b.N; i++ {
		f = Generate(c)
	}
	b.ReportMetric(float64(len(f.Objects)), "objects")
	b.ReportMetric(float64(f.TotalJSONBytes())/(1<<20), "MB")
}
