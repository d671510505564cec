package index_test

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clusterpedia-memgraph/memgraph/graph"
	"github.com/clusterpedia-memgraph/memgraph/index"
	"github.com/clusterpedia-memgraph/memgraph/internal/fleet"
)

// --- helpers ---

func newRelStore(t testing.TB) (*index.Store, *index.Relations) {
	t.Helper()
	rel := index.NewRelations()
	s, err := index.New(index.Options{Hooks: []index.TxnHook{rel}})
	if err != nil {
		t.Fatal(err)
	}
	return s, rel
}

var smallFleet struct {
	once sync.Once
	f    *fleet.Fleet
	recs []*index.Record
	err  error
}

func smallRecords(t testing.TB) (*fleet.Fleet, []*index.Record) {
	t.Helper()
	smallFleet.once.Do(func() {
		smallFleet.f = fleet.Generate(fleet.Small())
		smallFleet.recs, smallFleet.err = smallFleet.f.Records()
	})
	if smallFleet.err != nil {
		t.Fatal(smallFleet.err)
	}
	out := make([]*index.Record, len(smallFleet.recs))
	for i, r := range smallFleet.recs {
		c := *r
		out[i] = &c
	}
	return smallFleet.f, out
}

func loadSmall(t testing.TB) (*fleet.Fleet, *index.Store, *index.Relations) {
	t.Helper()
	f, recs := smallRecords(t)
	s, rel := newRelStore(t)
	for _, r := range recs {
		if err := s.Create(r); err != nil {
			t.Fatal(err)
		}
	}
	return f, s, rel
}

func mustGet(t testing.TB, v *index.View, cluster string, gvr index.GVR, ns, name string) *graph.Node {
	t.Helper()
	n, ok := v.NodeByKey(index.Key{Cluster: cluster, GVR: gvr, Namespace: ns, Name: name})
	if !ok {
		t.Fatalf("%s %s %s/%s not stored", cluster, gvr, ns, name)
	}
	return n
}

func gvrOf(kind string) index.GVR {
	g, ok := fleet.GVRFor(kind)
	if !ok {
		panic(kind)
	}
	return g
}

func edgeString(e graph.Edge) string {
	s := fmt.Sprintf("%s %s -> %s", e.Rel, nodeString(e.From), nodeString(e.To))
	if e.Controller {
		s += " (controller)"
	}
	return s
}

func nodeString(n *graph.Node) string {
	s := n.Kind + " "
	if n.Namespace != "" {
		s += n.Namespace + "/"
	}
	s += n.Name
	if n.Placeholder {
		s += " [placeholder]"
	}
	if n.External {
		s += " [external]"
	}
	return s
}

func deps(src graph.RelSource, n *graph.Node, rels graph.RelSet) []string {
	var out []string
	src.Dependencies(n, rels, func(e graph.Edge) bool { out = append(out, edgeString(e)); return true })
	sort.Strings(out)
	return out
}

func dependents(src graph.RelSource, n *graph.Node, rels graph.RelSet) []string {
	var out []string
	src.Dependents(n, rels, func(e graph.Edge) bool { out = append(out, edgeString(e)); return true })
	sort.Strings(out)
	return out
}

func rels(rs ...graph.Relation) graph.RelSet {
	var s graph.RelSet
	for _, r := range rs {
		s = s.With(r)
	}
	return s
}

// objJSON builds a small object.
func objJSON(kind, ns, name, uid string, lbls map[string]string, extra string) []byte {
	m := map[string]any{"name": name, "uid": uid}
	if ns != "" {
		m["namespace"] = ns
	}
	if lbls != nil {
		m["labels"] = lbls
	}
	meta, _ := json.Marshal(m)
	s := `{"kind":"` + kind + `","metadata":` + string(meta)
	if extra != "" {
		s += "," + extra
	}
	return []byte(s + "}")
}

func rec(t testing.TB, cluster, kind, ns, name, uid string, lbls map[string]string, extra string) *index.Record {
	t.Helper()
	gvr, ok := fleet.GVRFor(kind)
	if !ok {
		switch kind {
		case "ClusterRoleBinding":
			gvr = index.GVR{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}
		case "ClusterRole":
			gvr = index.GVR{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}
		default:
			t.Fatalf("kind %s", kind)
		}
	}
	r, err := index.RecordFromJSON(cluster, gvr, objJSON(kind, ns, name, uid, lbls, extra))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func withOwner(t testing.TB, r *index.Record, kind, name, uid string, controller bool) *index.Record {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal(r.Object, &obj); err != nil {
		t.Fatal(err)
	}
	api, _ := fleet.APIVersionFor(kind)
	obj["metadata"].(map[string]any)["ownerReferences"] = []any{map[string]any{"apiVersion": api, "kind": kind, "name": name, "uid": uid, "controller": controller}}
	b, _ := json.Marshal(obj)
	out, err := index.RecordFromJSON(r.Cluster, r.GVR, b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// --- the brute-force oracle ---

type bruteGraph struct {
	edges        map[string]bool            // edgeKey strings
	into         map[string]map[string]bool // target key → edge keys
	targets      map[string]*graph.Node     // every target node by key
	stats        index.RelationStats
	placeholders map[string]bool
}

func keyOf(n *graph.Node) string { return n.Key().String() }

func bruteEdgeKey(from, to *graph.Node, rel graph.Relation, ctrl bool) string {
	return fmt.Sprintf("%s|%s|%s|%v", keyOf(from), keyOf(to), rel, ctrl)
}

// brute recomputes every edge of the snapshot from scratch: ownerReferences, the
// extraction rules, and every selector evaluated against every Pod of its namespace.
func brute(v *index.View) *bruteGraph {
	type nameKey struct{ cluster, group, kind, ns, name string }
	byName := map[nameKey]*index.Record{}
	byUID := map[[2]string]*index.Record{}
	pods := map[[2]string][]*index.Record{}
	var all []*index.Record
	v.All(func(r *index.Record) bool {
		all = append(all, r)
		byName[nameKey{r.Cluster, r.GVR.Group, r.Kind, r.Namespace, r.Name}] = r
		byUID[[2]string{r.Cluster, r.UID}] = r
		if r.GVR.Group == "" && r.GVR.Resource == "pods" {
			pods[[2]string{r.Cluster, r.Namespace}] = append(pods[[2]string{r.Cluster, r.Namespace}], r)
		}
		return true
	})
	b := &bruteGraph{edges: map[string]bool{}, into: map[string]map[string]bool{}, targets: map[string]*graph.Node{}, placeholders: map[string]bool{}}
	add := func(from, to *graph.Node, rel graph.Relation, ctrl bool) {
		k := bruteEdgeKey(from, to, rel, ctrl)
		if b.edges[k] {
			return
		}
		b.edges[k] = true
		tk := keyOf(to)
		if b.into[tk] == nil {
			b.into[tk] = map[string]bool{}
		}
		b.into[tk][k] = true
		b.targets[tk] = to
		if rel != graph.RelOwner {
			b.stats.Edges[rel]++
		}
		if to.Placeholder {
			b.placeholders[tk] = true
		}
	}
	for _, r := range all {
		from := index.NodeOf(r)
		for i, o := range r.Owners {
			if o.UID == "" {
				continue
			}
			b.stats.Edges[graph.RelOwner]++
			dup := false
			for _, p := range r.Owners[:i] {
				dup = dup || p.UID == o.UID
			}
			if dup {
				continue
			}
			var to *graph.Node
			if or := byUID[[2]string{r.Cluster, o.UID}]; or != nil {
				to = index.NodeOf(or)
			} else {
				to = &graph.Node{Cluster: r.Cluster, UID: o.UID, Kind: o.Kind, Name: o.Name, Placeholder: true}
			}
			add(from, to, graph.RelOwner, o.Controller)
		}
		ex, _ := graph.Extract(graph.Object{Group: r.GVR.Group, Version: r.GVR.Version, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Labels: r.Labels}, r.Object)
		for _, ref := range ex.Refs {
			var to *graph.Node
			switch {
			case ref.External:
				to = &graph.Node{Cluster: r.Cluster, Group: ref.Group, Kind: ref.Kind, Name: ref.Name, External: true}
			case byName[nameKey{r.Cluster, ref.Group, ref.Kind, ref.Namespace, ref.Name}] != nil:
				to = index.NodeOf(byName[nameKey{r.Cluster, ref.Group, ref.Kind, ref.Namespace, ref.Name}])
			default:
				to = &graph.Node{Cluster: r.Cluster, Group: ref.Group, Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name, Placeholder: true}
			}
			add(from, to, ref.Rel, false)
		}
		if ex.Selector != nil {
			for _, p := range pods[[2]string{r.Cluster, r.Namespace}] {
				if ex.Selector.Matches(&p.Labels) {
					add(from, index.NodeOf(p), ex.Selector.Rel, false)
				}
			}
		}
	}
	b.stats.Placeholders = int64(len(b.placeholders))
	return b
}

// checkRelations compares the incrementally maintained graph with the oracle: every
// node's dependencies and dependents, and the counters.
func checkRelations(t testing.TB, s *index.Store, rel *index.Relations) {
	t.Helper()
	v := s.View()
	b := brute(v)
	src := v.Relations()
	got := map[string]bool{}
	v.All(func(r *index.Record) bool {
		n := index.NodeOf(r)
		src.Dependencies(n, graph.AllRelations, func(e graph.Edge) bool {
			k := bruteEdgeKey(e.From, e.To, e.Rel, e.Controller)
			if got[k] {
				t.Errorf("duplicate dependency edge %s", k)
			}
			got[k] = true
			return true
		})
		return true
	})
	for k := range b.edges {
		if !got[k] {
			t.Errorf("missing edge %s", k)
		}
	}
	for k := range got {
		if !b.edges[k] {
			t.Errorf("unexpected edge %s", k)
		}
	}
	for tk, want := range b.into {
		n := b.targets[tk]
		have := map[string]bool{}
		src.Dependents(n, graph.AllRelations, func(e graph.Edge) bool {
			have[bruteEdgeKey(e.From, e.To, e.Rel, e.Controller)] = true
			return true
		})
		if n.External {
			continue // external subjects are not indexed backwards
		}
		for k := range want {
			if !have[k] {
				t.Errorf("dependents of %s: missing %s", tk, k)
			}
		}
		for k := range have {
			if !want[k] {
				t.Errorf("dependents of %s: unexpected %s", tk, k)
			}
		}
	}
	st, ok := v.RelationStats()
	if !ok && len(b.edges) > 0 {
		t.Fatal("no relation stats")
	}
	if st != b.stats {
		t.Errorf("stats %+v\nwant  %+v", st, b.stats)
	}
	if rs := rel.Stats(); rs != st {
		t.Errorf("published stats %+v != snapshot stats %+v", rs, st)
	}
}

// --- tests ---

func TestRelationsSmallFleetMatchesOracle(t *testing.T) {
	_, s, rel := loadSmall(t)
	checkRelations(t, s, rel)
	st := rel.Stats()
	for r := graph.Relation(0); r < graph.NumRelations; r++ {
		if st.Edges[r] == 0 {
			t.Errorf("the small fleet has no %s edge", r)
		}
	}
	// The fleet's dangling ReplicaSet owners are the placeholders (one per cluster), plus
	// unsynced targets (e.g. the PriorityClass-free pods reference nothing missing).
	if st.Placeholders < 3 {
		t.Errorf("placeholders = %d, want >= 3 (one dangling owner per cluster)", st.Placeholders)
	}
}

func TestRelationsBatchedIngestMatchesOneByOne(t *testing.T) {
	_, recs := smallRecords(t)
	s, rel := newRelStore(t)
	// Reverse order inside big batches: dependents before what they depend on.
	for i := len(recs); i > 0; i -= 97 {
		lo := max(0, i-97)
		var muts []index.Mutation
		for j := i - 1; j >= lo; j-- {
			muts = append(muts, index.Mutation{Op: index.OpCreate, Record: recs[j]})
		}
		if err := s.Apply(muts); err != nil {
			t.Fatal(err)
		}
	}
	checkRelations(t, s, rel)
	_, s1, rel1 := loadSmall(t)
	if rel.Stats() != rel1.Stats() {
		t.Fatalf("batched %+v != one by one %+v", rel.Stats(), rel1.Stats())
	}
	_ = s1
}

func TestRelationsFleetEveryKind(t *testing.T) {
	f, s, _ := loadSmall(t)
	v := s.View()
	src := v.Relations()
	c := fleet.ClusterName(0)
	ns := fleet.SharedNamespaces[0]

	// Deployment → ReplicaSets → Pods (owner, controller).
	dep := mustGet(t, v, c, gvrOf("Deployment"), ns, "web")
	res := graph.Walk(src, dep, graph.WalkOptions{Direction: graph.Dependents, Depth: 5, Rels: rels(graph.RelOwner)})
	kinds := map[string]int{}
	for _, n := range res.Nodes[1:] {
		kinds[n.Kind]++
	}
	if kinds["ReplicaSet"] < 2 || kinds["Pod"] < 2 {
		t.Fatalf("deployment tree: %v", kinds)
	}
	for _, e := range res.Edges {
		if e.Rel != graph.RelOwner || !e.Controller {
			t.Fatalf("edge %s", edgeString(e))
		}
	}

	// Service → Pods (selector), EndpointSlice → Service, Ingress → Service.
	svc := mustGet(t, v, c, gvrOf("Service"), ns, "web")
	podEdges := deps(src, svc, rels(graph.RelServicePod))
	if len(podEdges) < 2 {
		t.Fatalf("service pods: %v", podEdges)
	}
	for _, e := range podEdges {
		if !strings.HasPrefix(e, "service-pod Service "+ns+"/web -> Pod "+ns+"/web-") {
			t.Fatalf("service edge %s", e)
		}
	}
	svcDeps := dependents(src, svc, graph.AllRelations)
	wantPrefix := []string{"endpointslice-service EndpointSlice " + ns + "/web-", "ingress-service Ingress " + ns + "/web -> Service " + ns + "/web", "owner EndpointSlice " + ns + "/web-"}
	for _, p := range wantPrefix {
		found := false
		for _, e := range svcDeps {
			found = found || strings.HasPrefix(e, p)
		}
		if !found {
			t.Errorf("service dependents %v lack %q", svcDeps, p)
		}
	}

	ing := mustGet(t, v, c, gvrOf("Ingress"), ns, "web")
	want := []string{
		"ingress-class Ingress " + ns + "/web -> IngressClass nginx",
		"ingress-service Ingress " + ns + "/web -> Service " + ns + "/web",
		"ingress-tls-secret Ingress " + ns + "/web -> Secret " + ns + "/web-tls",
	}
	if got := deps(src, ing, graph.AllRelations); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ingress deps:\n%s", strings.Join(got, "\n"))
	}

	hpa := mustGet(t, v, c, gvrOf("HorizontalPodAutoscaler"), ns, "web")
	if got := deps(src, hpa, graph.AllRelations); len(got) != 1 || got[0] != "hpa-target HorizontalPodAutoscaler "+ns+"/web -> Deployment "+ns+"/web" {
		t.Errorf("hpa deps %v", got)
	}
	pdb := mustGet(t, v, c, gvrOf("PodDisruptionBudget"), ns, "web")
	if got := deps(src, pdb, graph.AllRelations); len(got) != len(podEdges) {
		t.Errorf("pdb selects %d pods, the service %d", len(got), len(podEdges))
	}
	np := mustGet(t, v, c, gvrOf("NetworkPolicy"), ns, "web-allow-ingress")
	if got := deps(src, np, graph.AllRelations); len(got) != len(podEdges) {
		t.Errorf("networkpolicy selects %d pods, the service %d", len(got), len(podEdges))
	}
	deny := mustGet(t, v, c, gvrOf("NetworkPolicy"), ns, "default-deny-ingress")
	nsPods := len(f.Names(c, "Pod", ns))
	if got := deps(src, deny, graph.AllRelations); len(got) != nsPods {
		t.Errorf("default-deny selects %d pods, namespace has %d", len(got), nsPods)
	}

	// Pod → Node, ServiceAccount, ConfigMap (projected kube-root-ca.crt), owner.
	var pod *graph.Node
	src.Dependencies(svc, rels(graph.RelServicePod), func(e graph.Edge) bool { pod = e.To; return false })
	pd := strings.Join(deps(src, pod, graph.AllRelations), "\n")
	for _, w := range []string{"pod-node Pod ", "pod-serviceaccount Pod ", "-> ServiceAccount " + ns + "/web", "-> ConfigMap " + ns + "/kube-root-ca.crt", "owner Pod "} {
		if !strings.Contains(pd, w) {
			t.Errorf("pod deps lack %q:\n%s", w, pd)
		}
	}
	pdDependents := strings.Join(dependents(src, pod, graph.AllRelations), "\n")
	for _, w := range []string{"service-pod Service " + ns + "/web", "pdb-pod PodDisruptionBudget", "networkpolicy-pod NetworkPolicy " + ns + "/default-deny-ingress"} {
		if !strings.Contains(pdDependents, w) {
			t.Errorf("pod dependents lack %q:\n%s", w, pdDependents)
		}
	}

	// StatefulSet postgres: Pod → PVC → PV → StorageClass.
	pg := mustGet(t, v, c, gvrOf("Pod"), ns, "postgres-0")
	chain := graph.Walk(src, pg, graph.WalkOptions{Direction: graph.Dependencies, Depth: 3, Rels: rels(graph.RelPodPVC, graph.RelPVCPV, graph.RelPVStorageClass)})
	var kindsChain []string
	for _, n := range chain.Nodes {
		kindsChain = append(kindsChain, n.Kind)
	}
	if strings.Join(kindsChain, ">") != "Pod>PersistentVolumeClaim>PersistentVolume>StorageClass" {
		t.Errorf("storage chain %v", kindsChain)
	}
	for _, n := range chain.Nodes {
		if n.Placeholder {
			t.Errorf("storage chain placeholder %s", nodeString(n.Node))
		}
	}

	// Event → involved object; RoleBinding → Role and subject.
	evs := f.ByCluster(c)
	checkedEvent := false
	for _, o := range evs {
		if o.Kind != "Event" {
			continue
		}
		r, _ := index.RecordFromJSON(o.Cluster, o.GVR, o.JSON)
		n, _ := v.NodeByKey(r.Key())
		got := deps(src, n, graph.AllRelations)
		if len(got) != 1 || !strings.HasPrefix(got[0], "event-object Event ") || strings.Contains(got[0], "placeholder") {
			t.Errorf("event deps %v", got)
		}
		checkedEvent = true
		break
	}
	if !checkedEvent {
		t.Fatal("no event")
	}
	rb := mustGet(t, v, c, gvrOf("RoleBinding"), ns, "web")
	want = []string{
		"rolebinding-role RoleBinding " + ns + "/web -> Role " + ns + "/web",
		"rolebinding-subject RoleBinding " + ns + "/web -> ServiceAccount " + ns + "/web",
	}
	if got := deps(src, rb, graph.AllRelations); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rolebinding deps:\n%s", strings.Join(got, "\n"))
	}
	devs := mustGet(t, v, c, gvrOf("RoleBinding"), ns, "developers")
	if got := deps(src, devs, graph.AllRelations); len(got) != 2 || !strings.Contains(got[1], "[external]") {
		t.Errorf("developers deps %v", got)
	}
}

func TestRelationsPlaceholderThenResolution(t *testing.T) {
	s, rel := newRelStore(t)
	pod := rec(t, "c1", "Pod", "ns", "p", "pod-uid", map[string]string{"app": "a"},
		`"spec":{"nodeName":"n1","volumes":[{"name":"v","configMap":{"name":"late"}}]}`)
	pod = withOwner(t, pod, "ReplicaSet", "rs", "rs-uid", true)
	if err := s.Create(pod); err != nil {
		t.Fatal(err)
	}
	v := s.View()
	pn, _ := v.NodeByUID("c1", "pod-uid")
	want := []string{
		"owner Pod ns/p -> ReplicaSet ns/rs [placeholder] (controller)",
		"pod-configmap Pod ns/p -> ConfigMap ns/late [placeholder]",
		"pod-node Pod ns/p -> Node n1 [placeholder]",
	}
	if got := deps(v.Relations(), pn, graph.AllRelations); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("deps:\n%s", strings.Join(got, "\n"))
	}
	if st := rel.Stats(); st.Placeholders != 3 {
		t.Fatalf("placeholders %d, want 3", st.Placeholders)
	}
	checkRelations(t, s, rel)
	// The targets arrive: the same edges now point at the stored objects.
	for _, r := range []*index.Record{
		rec(t, "c1", "ConfigMap", "ns", "late", "cm-uid", nil, ""),
		rec(t, "c1", "Node", "", "n1", "node-uid", nil, ""),
		rec(t, "c1", "ReplicaSet", "ns", "rs", "rs-uid", nil, ""),
	} {
		if err := s.Create(r); err != nil {
			t.Fatal(err)
		}
	}
	v = s.View()
	want = []string{
		"owner Pod ns/p -> ReplicaSet ns/rs (controller)",
		"pod-configmap Pod ns/p -> ConfigMap ns/late",
		"pod-node Pod ns/p -> Node n1",
	}
	if got := deps(v.Relations(), pn, graph.AllRelations); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("deps after arrival:\n%s", strings.Join(got, "\n"))
	}
	cm, _ := v.NodeByUID("c1", "cm-uid")
	if got := dependents(v.Relations(), cm, graph.AllRelations); len(got) != 1 || got[0] != "pod-configmap Pod ns/p -> ConfigMap ns/late" {
		t.Fatalf("configmap dependents %v", got)
	}
	if st := rel.Stats(); st.Placeholders != 0 {
		t.Fatalf("placeholders %d, want 0", st.Placeholders)
	}
	checkRelations(t, s, rel)
	// And when the ConfigMap goes away again, it is a placeholder again.
	if _, err := s.Delete(index.Key{Cluster: "c1", GVR: gvrOf("ConfigMap"), Namespace: "ns", Name: "late"}); err != nil {
		t.Fatal(err)
	}
	if st := rel.Stats(); st.Placeholders != 1 {
		t.Fatalf("placeholders %d, want 1", st.Placeholders)
	}
	checkRelations(t, s, rel)
}

func TestRelationsSameTransactionOrderDoesNotMatter(t *testing.T) {
	for _, podFirst := range []bool{true, false} {
		s, rel := newRelStore(t)
		pod := rec(t, "c1", "Pod", "ns", "p", "pu", nil, `"spec":{"volumes":[{"name":"v","secret":{"secretName":"sec"}}]}`)
		sec := rec(t, "c1", "Secret", "ns", "sec", "su", nil, `"data":{"password":"c2VjcmV0"}`)
		muts := []index.Mutation{{Op: index.OpCreate, Record: pod}, {Op: index.OpCreate, Record: sec}}
		if !podFirst {
			muts[0], muts[1] = muts[1], muts[0]
		}
		if err := s.Apply(muts); err != nil {
			t.Fatal(err)
		}
		if st := rel.Stats(); st.Placeholders != 0 || st.Edges[graph.RelPodSecret] != 1 {
			t.Fatalf("podFirst=%v: %+v", podFirst, st)
		}
		checkRelations(t, s, rel)
	}
}

func TestRelationsLabelChangeMovesPodOutOfService(t *testing.T) {
	s, rel := newRelStore(t)
	svc := rec(t, "c1", "Service", "ns", "web", "svc", nil, `"spec":{"selector":{"app":"web"}}`)
	pdb := rec(t, "c1", "PodDisruptionBudget", "ns", "web", "pdb", nil, `"spec":{"selector":{"matchExpressions":[{"key":"app","operator":"In","values":["web","api"]}]}}`)
	p1 := rec(t, "c1", "Pod", "ns", "p1", "u1", map[string]string{"app": "web"}, `"spec":{}`)
	p2 := rec(t, "c1", "Pod", "ns", "p2", "u2", map[string]string{"app": "web"}, `"spec":{}`)
	other := rec(t, "c1", "Pod", "other", "p3", "u3", map[string]string{"app": "web"}, `"spec":{}`)
	for _, r := range []*index.Record{p1, svc, p2, other, pdb} {
		if err := s.Create(r); err != nil {
			t.Fatal(err)
		}
	}
	sv := func() []string {
		v := s.View()
		n, _ := v.NodeByUID("c1", "svc")
		return deps(v.Relations(), n, graph.AllRelations)
	}
	if got := sv(); len(got) != 2 {
		t.Fatalf("service pods %v (a pod of another namespace must not match)", got)
	}
	checkRelations(t, s, rel)
	// p1 becomes app=api: out of the Service, still in the PDB (In web,api).
	moved := rec(t, "c1", "Pod", "ns", "p1", "u1", map[string]string{"app": "api"}, `"spec":{}`)
	if err := s.Update(moved); err != nil {
		t.Fatal(err)
	}
	if got := sv(); len(got) != 1 || !strings.HasSuffix(got[0], "Pod ns/p2") {
		t.Fatalf("after relabel: %v", got)
	}
	v := s.View()
	pn, _ := v.NodeByUID("c1", "u1")
	if got := dependents(v.Relations(), pn, graph.AllRelations); len(got) != 1 || !strings.HasPrefix(got[0], "pdb-pod ") {
		t.Fatalf("p1 dependents %v", got)
	}
	checkRelations(t, s, rel)
	// The Service's selector changes to app=api: now it selects p1 only.
	if err := s.Update(rec(t, "c1", "Service", "ns", "web", "svc", nil, `"spec":{"selector":{"app":"api"}}`)); err != nil {
		t.Fatal(err)
	}
	if got := sv(); len(got) != 1 || !strings.HasSuffix(got[0], "Pod ns/p1") {
		t.Fatalf("after selector change: %v", got)
	}
	checkRelations(t, s, rel)
	// The Service loses its selector.
	if err := s.Update(rec(t, "c1", "Service", "ns", "web", "svc", nil, `"spec":{}`)); err != nil {
		t.Fatal(err)
	}
	if got := sv(); len(got) != 0 {
		t.Fatalf("selectorless service: %v", got)
	}
	checkRelations(t, s, rel)
}

func TestRelationsDeletingOwnerLeavesPlaceholder(t *testing.T) {
	f, s, rel := loadSmall(t)
	c := fleet.ClusterName(1)
	ns := fleet.SharedNamespaces[1]
	v := s.View()
	dep := mustGet(t, v, c, gvrOf("Deployment"), ns, "web")
	tree := graph.Walk(v.Relations(), dep, graph.WalkOptions{Direction: graph.Dependents, Depth: 1, Rels: rels(graph.RelOwner)})
	if len(tree.Nodes) < 2 {
		t.Fatal("no replicasets")
	}
	before := rel.Stats().Placeholders
	if _, err := s.Delete(index.Key{Cluster: c, GVR: gvrOf("Deployment"), Namespace: ns, Name: "web"}); err != nil {
		t.Fatal(err)
	}
	v = s.View()
	rs := tree.Nodes[1].Node
	got := deps(v.Relations(), rs, rels(graph.RelOwner))
	if len(got) != 1 || got[0] != "owner ReplicaSet "+ns+"/"+rs.Name+" -> Deployment "+ns+"/web [placeholder] (controller)" {
		t.Fatalf("after deleting the owner: %v", got)
	}
	// The placeholder still lists its dependents (the ReplicaSets) and the HPA's target
	// is a placeholder too.
	ph := &graph.Node{Cluster: c, Group: "apps", Kind: "Deployment", Namespace: ns, Name: "web", UID: dep.UID, Placeholder: true}
	if got := dependents(v.Relations(), ph, graph.AllRelations); len(got) != len(tree.Nodes)-1+1 {
		t.Fatalf("placeholder dependents: %v", got)
	}
	if st := rel.Stats(); st.Placeholders != before+2 {
		t.Fatalf("placeholders %d, want %d (owner uid + hpa target)", st.Placeholders, before+2)
	}
	checkRelations(t, s, rel)
	_ = f
}

func TestRelationsSameNamesInTwoClustersStaySeparate(t *testing.T) {
	_, s, _ := loadSmall(t)
	v := s.View()
	src := v.Relations()
	ns := fleet.SharedNamespaces[0]
	var podSets [2][]string
	for i := 0; i < 2; i++ {
		c := fleet.ClusterName(i)
		svc := mustGet(t, v, c, gvrOf("Service"), ns, "web")
		res := graph.Walk(src, svc, graph.WalkOptions{Direction: graph.Both, Depth: 3})
		for _, n := range res.Nodes {
			if n.Cluster != c {
				t.Fatalf("walk from %s reached %s in %s", c, nodeString(n.Node), n.Cluster)
			}
		}
		for _, e := range deps(src, svc, rels(graph.RelServicePod)) {
			podSets[i] = append(podSets[i], e)
		}
	}
	if len(podSets[0]) == 0 || len(podSets[1]) == 0 {
		t.Fatal("no pods")
	}
	// Same names in both clusters, but edges are per cluster: an object created in
	// cluster-00 never resolves a reference of cluster-01.
	s2, rel2 := newRelStore(t)
	p := rec(t, "a", "Pod", "ns", "p", "same-uid", nil, `"spec":{"volumes":[{"name":"v","configMap":{"name":"cm"}}]}`)
	cm := rec(t, "b", "ConfigMap", "ns", "cm", "same-uid-2", nil, "")
	p2 := rec(t, "b", "Pod", "ns", "p", "same-uid", nil, `"spec":{}`)
	for _, r := range []*index.Record{p, cm, p2} {
		if err := s2.Create(r); err != nil {
			t.Fatal(err)
		}
	}
	v2 := s2.View()
	pn, _ := v2.NodeByUID("a", "same-uid")
	if got := deps(v2.Relations(), pn, graph.AllRelations); len(got) != 1 || !strings.Contains(got[0], "[placeholder]") {
		t.Fatalf("cross-cluster resolution: %v", got)
	}
	if st := rel2.Stats(); st.Placeholders != 1 {
		t.Fatalf("placeholders %d", st.Placeholders)
	}
	checkRelations(t, s2, rel2)
}

func TestRelationsCleanClusterAndResource(t *testing.T) {
	_, s, rel := loadSmall(t)
	c := fleet.ClusterName(2)
	if _, err := s.CleanResource(c, gvrOf("ConfigMap")); err != nil {
		t.Fatal(err)
	}
	checkRelations(t, s, rel)
	if _, err := s.CleanResource(c, gvrOf("Pod")); err != nil {
		t.Fatal(err)
	}
	checkRelations(t, s, rel)
	if _, err := s.CleanCluster(fleet.ClusterName(0)); err != nil {
		t.Fatal(err)
	}
	checkRelations(t, s, rel)
	for _, cl := range []string{fleet.ClusterName(1), c} {
		if _, err := s.CleanCluster(cl); err != nil {
			t.Fatal(err)
		}
	}
	if st := rel.Stats(); st != (index.RelationStats{}) {
		t.Fatalf("empty store stats %+v", st)
	}
}

// TestRelationsRandomMutations applies random creates, updates (labels, selectors,
// references), deletes, recreations with new UIDs and events, in batches, checking the
// graph against the oracle after every batch.
// TestRelationsRandomMutations: random writes (with cleans anywhere in a transaction), the
// graph checked against the oracle after each commit, and — held — after the hook applied
// up to 8 commits in one batch, as it does when writes outpace it.
func TestRelationsRandomMutations(t *testing.T) {
	for _, held := range []bool{false, true} {
		t.Run(fmt.Sprintf("batched=%v", held), func(t *testing.T) { randomRelationMutations(t, held) })
	}
}

func randomRelationMutations(t *testing.T, held bool) {
	rng := rand.New(rand.NewSource(7))
	s, rel := newRelStore(t)
	var release func()
	apps := []string{"a", "b", "c"}
	nss := []string{"n1", "n2"}
	uidSeq := 0
	uid := func() string { uidSeq++; return fmt.Sprintf("u%d", uidSeq) }
	randLabels := func() map[string]string {
		return map[string]string{"app": apps[rng.Intn(3)], "tier": []string{"fe", "be"}[rng.Intn(2)]}
	}
	gen := func() *index.Record {
		ns := nss[rng.Intn(2)]
		switch rng.Intn(9) {
		case 0, 1, 2:
			extra := fmt.Sprintf(`"spec":{"nodeName":"node%d","serviceAccountName":"sa%d","volumes":[{"name":"c","configMap":{"name":"cm%d"}}]}`, rng.Intn(3), rng.Intn(2), rng.Intn(3))
			r := rec(t, "c1", "Pod", ns, fmt.Sprintf("pod%d", rng.Intn(12)), uid(), randLabels(), extra)
			if rng.Intn(2) == 0 {
				r = withOwner(t, r, "ReplicaSet", "rs", fmt.Sprintf("rs%d", rng.Intn(3)), true)
			}
			return r
		case 3:
			return rec(t, "c1", "Service", ns, fmt.Sprintf("svc%d", rng.Intn(4)), uid(), nil, fmt.Sprintf(`"spec":{"selector":{"app":%q}}`, apps[rng.Intn(3)]))
		case 4:
			return rec(t, "c1", "NetworkPolicy", ns, fmt.Sprintf("np%d", rng.Intn(3)), uid(), nil, []string{`"spec":{"podSelector":{}}`, `"spec":{"podSelector":{"matchLabels":{"tier":"fe"}}}`, `"spec":{"podSelector":{"matchExpressions":[{"key":"app","operator":"NotIn","values":["a"]}]}}`}[rng.Intn(3)])
		case 5:
			return rec(t, "c1", "ConfigMap", ns, fmt.Sprintf("cm%d", rng.Intn(3)), uid(), nil, "")
		case 6:
			return rec(t, "c1", "Node", "", fmt.Sprintf("node%d", rng.Intn(3)), uid(), nil, "")
		case 7:
			return rec(t, "c1", "ReplicaSet", ns, "rs", fmt.Sprintf("rs%d", rng.Intn(3)), nil, "")
		default:
			return rec(t, "c1", "Event", ns, fmt.Sprintf("ev%d", rng.Intn(5)), uid(), nil, fmt.Sprintf(`"involvedObject":{"kind":"Pod","namespace":%q,"name":"pod%d"}`, ns, rng.Intn(12)))
		}
	}
	for round := 0; round < 120; round++ {
		var muts []index.Mutation
		for i := 0; i < 1+rng.Intn(6); i++ {
			r := gen()
			switch rng.Intn(5) {
			case 0:
				muts = append(muts, index.Mutation{Op: index.OpDelete, Key: r.Key()})
			case 1:
				// keep the stored UID: an in-place update
				if old, err := s.Get(r.Key()); err == nil {
					cp := *r
					cp.UID = old.UID
					var obj map[string]any
					json.Unmarshal(cp.Object, &obj)
					obj["metadata"].(map[string]any)["uid"] = old.UID
					b, _ := json.Marshal(obj)
					nr, _ := index.RecordFromJSON(cp.Cluster, cp.GVR, b)
					r = nr
				}
				muts = append(muts, index.Mutation{Op: index.OpUpsert, Record: r})
			default:
				muts = append(muts, index.Mutation{Op: index.OpUpsert, Record: r})
			}
		}
		if rng.Intn(20) == 0 { // anywhere: later writes of the batch must survive the rebuild
			at := rng.Intn(len(muts) + 1)
			muts = append(muts[:at], append([]index.Mutation{{Op: index.OpCleanResource, Key: index.Key{Cluster: "c1", GVR: gvrOf("Pod")}}}, muts[at:]...)...)
		}
		if held && release == nil {
			release = index.HoldRelations(rel)
		}
		if err := s.Apply(muts); err != nil {
			t.Fatal(err)
		}
		if rng.Intn(4) == 0 {
			if _, err := s.RecordEvent("c1", fmt.Sprintf("u%d", rng.Intn(uidSeq+1)), index.Event{UID: "e", Name: "e", Object: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
		}
		if release != nil {
			if rng.Intn(8) != 0 {
				continue // the next commit joins the batch
			}
			release()
			release = nil
		}
		checkRelations(t, s, rel)
		if t.Failed() {
			t.Fatalf("round %d", round)
		}
	}
}

func TestRelationsAbortedTransactionLeavesNoTrace(t *testing.T) {
	s, rel := newRelStore(t)
	if err := s.Create(rec(t, "c1", "Service", "ns", "web", "svc", nil, `"spec":{"selector":{"app":"web"}}`)); err != nil {
		t.Fatal(err)
	}
	before := rel.Stats()
	err := s.Apply([]index.Mutation{
		{Op: index.OpCreate, Record: rec(t, "c1", "Pod", "ns", "p", "pu", map[string]string{"app": "web"}, `"spec":{"nodeName":"n"}`)},
		{Op: index.OpCreate, Record: rec(t, "c1", "Service", "ns", "web", "svc", nil, `"spec":{}`)}, // exists: the batch fails
	})
	if err == nil {
		t.Fatal("expected ErrExists")
	}
	if rel.Stats() != before {
		t.Fatalf("stats changed by an aborted batch: %+v", rel.Stats())
	}
	checkRelations(t, s, rel)
}

func TestRelationsWithoutHook(t *testing.T) {
	s, err := index.New(index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rs := rec(t, "c1", "ReplicaSet", "ns", "rs", "rs-uid", nil, "")
	p := withOwner(t, rec(t, "c1", "Pod", "ns", "p", "pu", nil, `"spec":{"nodeName":"n"}`), "ReplicaSet", "rs", "rs-uid", true)
	for _, r := range []*index.Record{rs, p} {
		if err := s.Create(r); err != nil {
			t.Fatal(err)
		}
	}
	v := s.View()
	n, _ := v.NodeByUID("c1", "rs-uid")
	if got := dependents(v.Relations(), n, graph.AllRelations); len(got) != 1 {
		t.Fatalf("owner edges work without the hook: %v", got)
	}
	if _, ok := v.RelationStats(); ok {
		t.Fatal("no stats without the hook")
	}
}

// TestRelationsConcurrentReadersAndWriters walks the graph from many goroutines while
// Pods move between Services: every walk sees one consistent snapshot (run with -race).
func TestRelationsConcurrentReadersAndWriters(t *testing.T) {
	_, s, rel := loadSmall(t)
	c := fleet.ClusterName(0)
	ns := fleet.SharedNamespaces[0]
	v := s.View()
	svc := mustGet(t, v, c, gvrOf("Service"), ns, "web")
	var pods []*index.Record
	v.Scan(c, gvrOf("Pod"), func(r *index.Record) bool {
		if r.Namespace == ns && r.Labels.Get("app") == "web" {
			pods = append(pods, r)
		}
		return true
	})
	if len(pods) == 0 {
		t.Fatal("no pods")
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				v := s.View()
				res := graph.Walk(v.Relations(), svc, graph.WalkOptions{Direction: graph.Both, Depth: 3, MaxNodes: 500})
				st, _ := v.RelationStats()
				// Within one snapshot the Service's pod edges equal what its counter says
				// about this namespace at most.
				n := 0
				for _, e := range res.Edges {
					if e.Rel == graph.RelServicePod {
						n++
					}
				}
				if int64(n) > st.Edges[graph.RelServicePod] {
					t.Errorf("walk saw %d service edges, snapshot counts %d", n, st.Edges[graph.RelServicePod])
					return
				}
			}
		}()
	}
	for round := 0; round < 40; round++ {
		for _, p := range pods {
			cp := *p
			lbls := p.Labels.Map()
			if lbls == nil {
				lbls = map[string]string{}
			}
			if round%2 == 0 {
				lbls["app"] = "moved"
			}
			cp.Labels = index.LabelsFromMap(lbls)
			cp.Object = append([]byte(nil), p.Object...)
			if err := s.Update(&cp); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(stop)
	wg.Wait()
	checkRelations(t, s, rel)
}

// TestRelationsRecoverFromPanic: a batch whose application panics neither reaches the
// writer nor loses the graph: the hook rebuilds it from the commit's records (matching the
// oracle), counts the failure and keeps applying later commits.
func TestRelationsRecoverFromPanic(t *testing.T) {
	_, recs := smallRecords(t)
	s, rel := newRelStore(t)
	index.FailRelationsOn(rel, func(ch *index.Change) bool { return ch.New != nil && ch.New.Name == recs[len(recs)/2].Name })
	for _, r := range recs {
		if err := s.Create(r); err != nil {
			t.Fatalf("a write failed because the graph update panicked: %v", err)
		}
	}
	checkRelations(t, s, rel)
	st := rel.Status()
	if st.Failures < 1 || !strings.Contains(st.LastError, "panicked") || st.Lag != 0 {
		t.Fatalf("status after a panic: %+v", st)
	}
	before := st.Failures
	if _, err := s.Delete(recs[0].Key()); err != nil {
		t.Fatal(err)
	}
	checkRelations(t, s, rel)
	if rel.Status().Failures != before {
		t.Fatalf("a later commit failed too: %+v", rel.Status())
	}
}

// TestRelationsReadersWaitForTheirCommit: a graph reader gets the graph of its own commit
// once the hook has applied it; when the hook is behind for longer than the reader waits,
// the reader gets the newest graph with that graph's own records — never a graph paired
// with records it has not seen.
func TestRelationsReadersWaitForTheirCommit(t *testing.T) {
	s, rel := newRelStore(t)
	svc := rec(t, "c1", "Service", "ns", "web", "svc", nil, `"spec":{"selector":{"app":"web"}}`)
	pod := rec(t, "c1", "Pod", "ns", "p1", "u1", map[string]string{"app": "web"}, `"spec":{}`)
	if err := s.Create(svc); err != nil {
		t.Fatal(err)
	}
	rel.Stats() // the Service is in the graph
	release := index.HoldRelations(rel)
	if err := s.Create(pod); err != nil {
		t.Fatal(err)
	}
	old := index.SetGraphWait(50 * time.Millisecond)
	v := s.View()
	src := v.Relations() // the hook is held: times out, gets the graph before the Pod
	index.SetGraphWait(old)
	svcNode := mustGet(t, v, "c1", gvrOf("Service"), "ns", "web")
	if got := dependencies(src, svcNode); len(got) != 0 {
		t.Fatalf("held graph already has %v", got)
	}
	if lag := rel.Status().Lag; lag != 1 {
		t.Fatalf("lag %d, want 1", lag)
	}
	release()
	if got := dependencies(v.Relations(), svcNode); len(got) != 1 || !strings.Contains(got[0], "p1") {
		t.Fatalf("after release: %v", got)
	}
	checkRelations(t, s, rel)
}

func dependencies(src graph.RelSource, n *graph.Node) []string {
	var out []string
	src.Dependencies(n, graph.AllRelations, func(e graph.Edge) bool { out = append(out, e.To.Name); return true })
	return out
}

// TestRelationsBackPressure: when the graph falls behind by more than the allowed backlog,
// writers wait for it instead of growing the queue; they go on once it catches up.
func TestRelationsBackPressure(t *testing.T) {
	_, recs := smallRecords(t)
	recs = recs[:40]
	s, rel := newRelStore(t)
	defer index.SetGraphQueueMax(index.SetGraphQueueMax(10))
	release := index.HoldRelations(rel)
	var written atomic.Int64
	done := make(chan error, 1)
	go func() {
		for _, r := range recs {
			if err := s.Create(r); err != nil {
				done <- err
				return
			}
			written.Add(1)
		}
		done <- nil
	}()
	time.Sleep(200 * time.Millisecond)
	if n := written.Load(); n >= int64(len(recs)) || n < 10 {
		t.Fatalf("%d of %d writes done while the graph was held: want the writer blocked after the backlog of 10", n, len(recs))
	}
	release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the writer did not go on after the graph caught up")
	}
	checkRelations(t, s, rel)
}
