package graph_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"testing"

	"github.com/clusterpedia-memgraph/memgraph/graph"
	"github.com/clusterpedia-memgraph/memgraph/index"
	"github.com/clusterpedia-memgraph/memgraph/internal/fleet"
)

// fakeSource is a hand-written Source: stored nodes with their owner links; dependents are
// reported in the order the nodes were added.
type fakeSource struct {
	order []graph.NodeID
	nodes map[graph.NodeID][]graph.OwnerLink
}

func newFake() *fakeSource { return &fakeSource{nodes: map[graph.NodeID][]graph.OwnerLink{}} }

func n1(uid string) graph.NodeID { return graph.NodeID{Cluster: "c1", UID: uid} }

// add stores uid (cluster c1) owned by owners; a "!" prefix marks the controller.
func (f *fakeSource) add(uid string, owners ...string) {
	id := n1(uid)
	if _, ok := f.nodes[id]; !ok {
		f.order = append(f.order, id)
	}
	links := []graph.OwnerLink{}
	for _, o := range owners {
		ctrl := o[0] == '!'
		if ctrl {
			o = o[1:]
		}
		links = append(links, graph.OwnerLink{Owner: n1(o), APIVersion: "v1", Kind: "K" + o, Name: "name-" + o, Controller: ctrl})
	}
	f.nodes[id] = links
}

func (f *fakeSource) Owners(id graph.NodeID) []graph.OwnerLink { return f.nodes[id] }
func (f *fakeSource) Exists(id graph.NodeID) bool              { _, ok := f.nodes[id]; return ok }
func (f *fakeSource) Dependents(id graph.NodeID, fn func(graph.NodeID) bool) {
	for _, d := range f.order {
		for _, l := range f.nodes[d] {
			if l.Owner == id {
				if !fn(d) {
					return
				}
				break
			}
		}
	}
}

// dag: R owns A (controller) and B; A owns C and D; B owns D too; C owns E. P is not
// stored and owns F. X and Y own each other; Z owns itself.
func dag() *fakeSource {
	f := newFake()
	f.add("R")
	f.add("A", "!R")
	f.add("B", "R")
	f.add("C", "!A")
	f.add("D", "!A", "B")
	f.add("E", "!C")
	f.add("F", "!P")
	f.add("X", "!Y")
	f.add("Y", "!X")
	f.add("Z", "Z")
	return f
}

func uids(ids []graph.NodeID) []string {
	out := []string{}
	for _, id := range ids {
		out = append(out, id.UID)
	}
	return out
}

func TestGeneration(t *testing.T) {
	f := dag()
	for _, tc := range []struct {
		roots []string
		gen   int
		want  []string
	}{
		{[]string{"R"}, 0, []string{"R"}},
		{[]string{"R"}, 1, []string{"A", "B"}},
		{[]string{"R"}, 2, []string{"C", "D"}}, // D has two owners in generation 1: once
		{[]string{"R"}, 3, []string{"E"}},
		{[]string{"R"}, 4, []string{}},
		{[]string{"A", "B"}, 1, []string{"C", "D"}},
		{[]string{"P"}, 1, []string{"F"}}, // a placeholder owner still has dependents
		{[]string{"P", "R"}, 1, []string{"F", "A", "B"}},
		{[]string{"nobody"}, 1, []string{}},
		{[]string{"X"}, 1, []string{"Y"}},
		{[]string{"R", "R"}, 1, []string{"A", "B"}},
		{[]string{"R", "R"}, 0, []string{"R"}}, // de-duplicated at every generation
		{[]string{"E"}, 1, []string{}},
	} {
		var roots []graph.NodeID
		for _, r := range tc.roots {
			roots = append(roots, n1(r))
		}
		if got := uids(graph.Generation(f, roots, tc.gen)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Generation(%v, %d) = %v, want %v", tc.roots, tc.gen, got, tc.want)
		}
	}
	// UIDs are per cluster: the same UID in another cluster is another node.
	other := graph.NodeID{Cluster: "c2", UID: "R"}
	if got := graph.Generation(f, []graph.NodeID{other}, 1); len(got) != 0 {
		t.Errorf("Generation crossed clusters: %v", got)
	}
}

func TestGenerationCyclesTerminate(t *testing.T) {
	f := dag()
	for _, root := range []string{"X", "Z"} {
		for _, gen := range []int{1, 2, 3, 50, 1000} {
			got := graph.Generation(f, []graph.NodeID{n1(root)}, gen)
			for _, id := range got {
				if id.UID != "X" && id.UID != "Y" && id.UID != "Z" {
					t.Fatalf("Generation(%s, %d) left the cycle: %v", root, gen, got)
				}
			}
			if len(got) > 2 {
				t.Fatalf("Generation(%s, %d) = %v: duplicates", root, gen, got)
			}
		}
	}
}

type step struct {
	Node, From  string
	Depth       int
	LinkKind    string
	Controller  bool
	Placeholder bool
}

func steps(in []graph.Step) []step {
	out := []step{}
	for _, s := range in {
		out = append(out, step{s.Node.UID, s.From.UID, s.Depth, s.Link.Kind, s.Link.Controller, s.Placeholder})
	}
	return out
}

func TestDescendants(t *testing.T) {
	f := dag()
	all := []step{
		{"A", "R", 1, "KR", true, false},
		{"B", "R", 1, "KR", false, false},
		{"C", "A", 2, "KA", true, false},
		{"D", "A", 2, "KA", true, false},
		{"E", "C", 3, "KC", true, false},
	}
	for _, tc := range []struct {
		start           string
		maxDepth, limit int
		want            []step
		truncated       bool
	}{
		{"R", 0, 0, all, false},
		{"R", 1, 0, all[:2], false},
		{"R", 2, 0, all[:4], false},
		{"R", 0, 5, all, false}, // the limit is exactly the size: not truncated
		{"R", 0, 4, all[:4], true},
		{"R", 0, 1, all[:1], true},
		{"R", 2, 4, all[:4], false}, // depth stops first
		{"B", 0, 0, []step{{"D", "B", 1, "KB", false, false}}, false},
		{"P", 0, 0, []step{{"F", "P", 1, "KP", true, false}}, false},
		{"X", 0, 0, []step{{"Y", "X", 1, "KX", true, false}}, false}, // the cycle ends at the start
		{"Z", 0, 0, []step{}, false},
		{"E", 0, 0, []step{}, false},
	} {
		got, trunc := graph.Descendants(f, n1(tc.start), tc.maxDepth, tc.limit)
		if !reflect.DeepEqual(steps(got), tc.want) || trunc != tc.truncated {
			t.Errorf("Descendants(%s, depth %d, limit %d) =\n %+v, %v\nwant\n %+v, %v", tc.start, tc.maxDepth, tc.limit, steps(got), trunc, tc.want, tc.truncated)
		}
	}
}

func TestAncestors(t *testing.T) {
	f := dag()
	for _, tc := range []struct {
		start           string
		maxDepth, limit int
		want            []step
		truncated       bool
	}{
		{"E", 0, 0, []step{{"C", "E", 1, "KC", true, false}, {"A", "C", 2, "KA", true, false}, {"R", "A", 3, "KR", true, false}}, false},
		{"E", 1, 0, []step{{"C", "E", 1, "KC", true, false}}, false},
		{"D", 0, 0, []step{{"A", "D", 1, "KA", true, false}, {"B", "D", 1, "KB", false, false}, {"R", "A", 2, "KR", true, false}}, false},
		{"D", 0, 1, []step{{"A", "D", 1, "KA", true, false}}, true},
		{"D", 0, 3, []step{{"A", "D", 1, "KA", true, false}, {"B", "D", 1, "KB", false, false}, {"R", "A", 2, "KR", true, false}}, false},
		{"F", 0, 0, []step{{"P", "F", 1, "KP", true, true}}, false}, // placeholder, not walked further
		{"X", 0, 0, []step{{"Y", "X", 1, "KY", true, false}}, false},
		{"Z", 0, 0, []step{}, false},
		{"R", 0, 0, []step{}, false},
		{"P", 0, 0, []step{}, false}, // a placeholder start has no owners
	} {
		got, trunc := graph.Ancestors(f, n1(tc.start), tc.maxDepth, tc.limit)
		if !reflect.DeepEqual(steps(got), tc.want) || trunc != tc.truncated {
			t.Errorf("Ancestors(%s, depth %d, limit %d) =\n %+v, %v\nwant\n %+v, %v", tc.start, tc.maxDepth, tc.limit, steps(got), trunc, tc.want, tc.truncated)
		}
	}
}

// ---- the same walks over an index.View ----

func record(t *testing.T, cluster string, gvr index.GVR, ns, name, uid string, owners ...[2]string) *index.Record {
	t.Helper()
	var refs []map[string]any
	for i, o := range owners {
		refs = append(refs, map[string]any{"apiVersion": "v1", "kind": "K" + o[0], "name": o[0], "uid": o[1], "controller": i == 0})
	}
	meta := map[string]any{"name": name, "uid": uid, "ownerReferences": refs}
	if ns != "" {
		meta["namespace"] = ns
	}
	b, err := json.Marshal(map[string]any{"kind": "K", "metadata": meta})
	if err != nil {
		t.Fatal(err)
	}
	r, err := index.RecordFromJSON(cluster, gvr, b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSourceOverView(t *testing.T) {
	s, err := index.New(index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	deploy := index.GVR{Group: "apps", Version: "v1", Resource: "deployments"}
	rs := index.GVR{Group: "apps", Version: "v1", Resource: "replicasets"}
	pods := index.GVR{Version: "v1", Resource: "pods"}
	w1 := index.GVR{Group: "example.com", Version: "v1", Resource: "widgets"}
	w2 := index.GVR{Group: "example.com", Version: "v2", Resource: "widgets"}
	for _, r := range []*index.Record{
		record(t, "c1", deploy, "ns", "d", "D"),
		record(t, "c1", rs, "ns", "rs", "RS", [2]string{"d", "D"}),
		record(t, "c1", pods, "ns", "p1", "P1", [2]string{"rs", "RS"}),
		record(t, "c1", pods, "ns", "p2", "P2", [2]string{"rs", "RS"}, [2]string{"ghost", "GHOST"}),
		// a dependent stored at two versions, with different owners per version
		record(t, "c1", w1, "ns", "w", "W", [2]string{"d", "D"}),
		record(t, "c1", w2, "ns", "w", "W", [2]string{"d", "D"}, [2]string{"d2", "D2"}),
		record(t, "c1", deploy, "ns", "d2", "D2"),
		record(t, "c1", pods, "ns", "wp", "WP", [2]string{"w", "W"}),
		// the same UIDs in another cluster
		record(t, "c2", deploy, "ns", "d", "D"),
		record(t, "c2", rs, "ns", "rs", "RS", [2]string{"d", "D"}),
	} {
		if err := s.Create(r); err != nil {
			t.Fatal(err)
		}
	}
	src := s.View().Graph()
	id := func(uid string) graph.NodeID { return graph.NodeID{Cluster: "c1", UID: uid} }

	var deps []string
	src.Dependents(id("D"), func(d graph.NodeID) bool { deps = append(deps, d.UID); return true })
	sort.Strings(deps)
	if !reflect.DeepEqual(deps, []string{"RS", "W"}) {
		t.Errorf("Dependents(D) = %v: a dependent at two versions must be reported once", deps)
	}
	n := 0
	src.Dependents(id("RS"), func(graph.NodeID) bool { n++; return false })
	if n != 1 {
		t.Errorf("Dependents did not stop when fn returned false (%d calls)", n)
	}
	var owners []string
	for _, l := range src.Owners(id("W")) {
		owners = append(owners, l.Owner.UID)
	}
	sort.Strings(owners)
	if !reflect.DeepEqual(owners, []string{"D", "D2"}) {
		t.Errorf("Owners(W) = %v: the union over stored versions, de-duplicated", owners)
	}
	if src.Owners(id("GHOST")) != nil || src.Exists(id("GHOST")) || !src.Exists(id("W")) {
		t.Errorf("placeholder GHOST / stored W misreported")
	}
	if src.Exists(graph.NodeID{Cluster: "c2", UID: "P1"}) {
		t.Errorf("Exists crossed clusters")
	}

	if got := uids(graph.Generation(src, []graph.NodeID{id("D")}, 1)); !sameSet(got, []string{"RS", "W"}) {
		t.Errorf("Generation(D, 1) = %v", got)
	}
	if got := uids(graph.Generation(src, []graph.NodeID{id("D")}, 2)); !sameSet(got, []string{"P1", "P2", "WP"}) {
		t.Errorf("Generation(D, 2) = %v", got)
	}
	if got := uids(graph.Generation(src, []graph.NodeID{id("GHOST")}, 1)); !sameSet(got, []string{"P2"}) {
		t.Errorf("Generation(GHOST, 1) = %v", got)
	}
	desc, trunc := graph.Descendants(src, id("D"), 0, 0)
	var got []string
	for _, st := range desc {
		got = append(got, fmt.Sprintf("%s@%d", st.Node.UID, st.Depth))
	}
	if trunc || !sameSet(got, []string{"RS@1", "W@1", "P1@2", "P2@2", "WP@2"}) {
		t.Errorf("Descendants(D) = %v, %v", got, trunc)
	}
	anc, _ := graph.Ancestors(src, id("P2"), 0, 0)
	got = nil
	for _, st := range anc {
		got = append(got, fmt.Sprintf("%s@%d/%v", st.Node.UID, st.Depth, st.Placeholder))
	}
	if !reflect.DeepEqual(got, []string{"RS@1/false", "GHOST@1/true", "D@2/false"}) {
		t.Errorf("Ancestors(P2) = %v", got)
	}
	// Snapshots: a graph taken before a write does not see it.
	if _, err := s.Delete(index.Key{Cluster: "c1", GVR: rs, Namespace: "ns", Name: "rs"}); err != nil {
		t.Fatal(err)
	}
	if !src.Exists(id("RS")) || s.View().Graph().Exists(id("RS")) {
		t.Errorf("graph source is not a snapshot")
	}
	anc, _ = graph.Ancestors(s.View().Graph(), id("P1"), 0, 0)
	if len(anc) != 1 || anc[0].Node.UID != "RS" || !anc[0].Placeholder {
		t.Errorf("after deleting RS, Ancestors(P1) = %+v", anc)
	}
}

func sameSet(a, b []string) bool {
	x := append([]string{}, a...)
	y := append([]string{}, b...)
	sort.Strings(x)
	sort.Strings(y)
	return reflect.DeepEqual(x, y)
}

// ---- the shared fleet ----

// TestFleetOwnerQueries ingests the small fleet and checks, for every Deployment, that an
// owner query with seniority 1 returns exactly its pods, computed independently from the
// records' ownerReferences (Deployment -> ReplicaSets -> Pods); also by owner name + GR +
// namespace, and for the dangling (never stored) ReplicaSet owners.
func TestFleetOwnerQueries(t *testing.T) {
	f := fleet.Generate(fleet.Small())
	recs, err := f.Records()
	if err != nil {
		t.Fatal(err)
	}
	s, err := index.New(index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(func() []index.Mutation {
		m := make([]index.Mutation, len(recs))
		for i, r := range recs {
			m[i] = index.Mutation{Op: index.OpCreate, Record: r}
		}
		return m
	}()); err != nil {
		t.Fatal(err)
	}
	podGVR, _ := fleet.GVRFor("Pod")
	depGVR, _ := fleet.GVRFor("Deployment")
	rsGVR, _ := fleet.GVRFor("ReplicaSet")

	type ck struct{ cluster, uid string }
	dependents := map[ck][]*index.Record{} // from the records, independently of the index
	for _, r := range recs {
		for _, o := range r.Owners {
			dependents[ck{r.Cluster, o.UID}] = append(dependents[ck{r.Cluster, o.UID}], r)
		}
	}
	keys := func(rs []*index.Record) []string {
		out := []string{}
		for _, r := range rs {
			out = append(out, r.Cluster+"/"+r.Namespace+"/"+r.Name)
		}
		sort.Strings(out)
		return out
	}
	v := s.View()
	deployments, withPods := 0, 0
	for _, d := range recs {
		if d.GVR != depGVR {
			continue
		}
		deployments++
		var want []*index.Record
		for _, rs := range dependents[ck{d.Cluster, d.UID}] {
			if rs.GVR != rsGVR {
				continue
			}
			for _, p := range dependents[ck{d.Cluster, rs.UID}] {
				if p.GVR == podGVR {
					want = append(want, p)
				}
			}
		}
		if len(want) > 0 {
			withPods++
		}
		pods := []index.TypeMatch{{Group: podGVR.Group, Version: podGVR.Version, Resource: podGVR.Resource}}
		for _, q := range []index.Query{
			{Clusters: []string{d.Cluster}, Types: pods, Owner: &index.OwnerQuery{UID: d.UID, Seniority: 1}},
			{Clusters: []string{d.Cluster}, Types: pods, Namespaces: []string{d.Namespace},
				Owner: &index.OwnerQuery{Name: d.Name, HasGR: true, Group: "apps", Resource: "deployments", Namespaces: []string{d.Namespace}, Seniority: 1}},
			{Types: pods, Owner: &index.OwnerQuery{UID: d.UID, Seniority: 1}}, // UIDs are unique in the fleet
		} {
			res, err := v.List(&q)
			if err != nil {
				t.Fatal(err)
			}
			if got := keys(res.Items); !reflect.DeepEqual(got, keys(want)) {
				t.Errorf("pods of deployment %s/%s/%s (%+v):\n got %v\nwant %v", d.Cluster, d.Namespace, d.Name, *q.Owner, got, keys(want))
			}
		}
	}
	if deployments == 0 || withPods == 0 {
		t.Fatalf("the fleet has %d deployments, %d with pods", deployments, withPods)
	}
	// Dangling controller owners: the orphan pod is found by the missing owner's UID, and
	// its ancestor walk reports the owner as a placeholder.
	for _, c := range f.Clusters() {
		for _, u := range f.DanglingOwnerUIDs(c) {
			res, err := v.List(&index.Query{Clusters: []string{c}, Owner: &index.OwnerQuery{UID: u}})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := keys(res.Items), keys(dependents[ck{c, u}]); len(want) == 0 || !reflect.DeepEqual(got, want) {
				t.Errorf("dependents of dangling owner %s/%s: got %v, want %v", c, u, got, want)
			}
			for _, p := range res.Items {
				anc, _ := graph.Ancestors(v.Graph(), graph.NodeID{Cluster: c, UID: p.UID}, 0, 0)
				if len(anc) != 1 || anc[0].Node.UID != u || !anc[0].Placeholder {
					t.Errorf("ancestors of orphan %s: %+v", p.Name, anc)
				}
			}
		}
	}
	// The descendant walk from each Deployment reaches exactly the objects below it.
	for _, d := range recs {
		if d.GVR != depGVR {
			continue
		}
		desc, trunc := graph.Descendants(v.Graph(), graph.NodeID{Cluster: d.Cluster, UID: d.UID}, 0, 0)
		want := map[string]bool{}
		var walk func(uid string)
		walk = func(uid string) {
			for _, r := range dependents[ck{d.Cluster, uid}] {
				if !want[r.UID] {
					want[r.UID] = true
					walk(r.UID)
				}
			}
		}
		walk(d.UID)
		got := map[string]bool{}
		for _, st := range desc {
			got[st.Node.UID] = true
		}
		if trunc || !reflect.DeepEqual(got, want) {
			t.Errorf("descendants of %s/%s/%s: %d nodes, want %d", d.Cluster, d.Namespace, d.Name, len(got), len(want))
		}
	}
}
