package graph

import (
	"fmt"
	"strings"
	"testing"
)

// fakeSource is an in-memory RelSource over explicit edges.
type fakeSource struct {
	nodes map[string]*Node
	edges []Edge
}

func newFake() *fakeSource { return &fakeSource{nodes: map[string]*Node{}} }

func (f *fakeSource) node(kind, name string) *Node {
	if n, ok := f.nodes[kind+"/"+name]; ok {
		return n
	}
	n := &Node{Cluster: "c", Kind: kind, Namespace: "ns", Name: name, UID: kind + "-" + name}
	f.nodes[kind+"/"+name] = n
	return n
}

func (f *fakeSource) edge(from, to *Node, rel Relation) {
	f.edges = append(f.edges, Edge{From: from, To: to, Rel: rel, Controller: rel == RelOwner})
}

func (f *fakeSource) Dependencies(n *Node, rels RelSet, fn func(Edge) bool) bool {
	// reversed on purpose: Walk must sort
	for i := len(f.edges) - 1; i >= 0; i-- {
		e := f.edges[i]
		if e.From.Key() == n.Key() && rels.Has(e.Rel) && !fn(e) {
			return false
		}
	}
	return true
}

func (f *fakeSource) Dependents(n *Node, rels RelSet, fn func(Edge) bool) bool {
	for _, e := range f.edges {
		if e.To.Key() == n.Key() && rels.Has(e.Rel) && !fn(e) {
			return false
		}
	}
	return true
}

func describe(res WalkResult) string {
	var b strings.Builder
	for _, n := range res.Nodes {
		fmt.Fprintf(&b, "%d:%s/%s ", n.Depth, n.Kind, n.Name)
	}
	b.WriteString("|")
	for _, e := range res.Edges {
		fmt.Fprintf(&b, " %s>%s(%s)", e.From.Name, e.To.Name, e.Rel)
	}
	if res.Truncated {
		b.WriteString(" TRUNCATED")
	}
	return b.String()
}

func fixtureGraph() (*fakeSource, *Node) {
	f := newFake()
	d := f.node("Deployment", "web")
	rs := f.node("ReplicaSet", "web-1")
	p1, p2 := f.node("Pod", "web-1-a"), f.node("Pod", "web-1-b")
	svc := f.node("Service", "web")
	cm := f.node("ConfigMap", "cfg")
	f.edge(rs, d, RelOwner)
	f.edge(p2, rs, RelOwner)
	f.edge(p1, rs, RelOwner)
	f.edge(svc, p1, RelServicePod)
	f.edge(svc, p2, RelServicePod)
	f.edge(p1, cm, RelPodConfigMap)
	f.edge(p2, cm, RelPodConfigMap)
	return f, d
}

func TestWalkDirectionsDepthAndOrder(t *testing.T) {
	f, d := fixtureGraph()
	cases := []struct {
		o    WalkOptions
		want string
	}{
		{WalkOptions{Direction: Dependents, Depth: 5},
			"0:Deployment/web 1:ReplicaSet/web-1 2:Pod/web-1-a 2:Pod/web-1-b 3:Service/web | web-1>web(owner) web-1-a>web-1(owner) web-1-b>web-1(owner) web>web-1-a(service-pod) web>web-1-b(service-pod)"},
		{WalkOptions{Direction: Dependents, Depth: 1},
			"0:Deployment/web 1:ReplicaSet/web-1 | web-1>web(owner)"},
		{WalkOptions{Direction: Dependencies, Depth: 3},
			"0:Deployment/web |"},
		{WalkOptions{Direction: Dependents, Depth: 5, Rels: RelSet(0).With(RelOwner)},
			"0:Deployment/web 1:ReplicaSet/web-1 2:Pod/web-1-a 2:Pod/web-1-b | web-1>web(owner) web-1-a>web-1(owner) web-1-b>web-1(owner)"},
		{WalkOptions{Direction: Both, Depth: 3},
			"0:Deployment/web 1:ReplicaSet/web-1 2:Pod/web-1-a 2:Pod/web-1-b 3:Service/web 3:ConfigMap/cfg | web-1>web(owner) web-1-a>web-1(owner) web-1-b>web-1(owner) web>web-1-a(service-pod) web-1-a>cfg(pod-configmap) web>web-1-b(service-pod) web-1-b>cfg(pod-configmap)"},
		{WalkOptions{Direction: Both, Depth: 3, MaxNodes: 3},
			"0:Deployment/web 1:ReplicaSet/web-1 2:Pod/web-1-a | web-1>web(owner) web-1-a>web-1(owner) TRUNCATED"},
		{WalkOptions{Direction: Dependents, Depth: 0},
			"0:Deployment/web 1:ReplicaSet/web-1 | web-1>web(owner)"},
	}
	for _, c := range cases {
		if got := describe(Walk(f, d, c.o)); got != c.want {
			t.Errorf("%+v:\n got %s\nwant %s", c.o, got, c.want)
		}
	}
}

func TestWalkCyclesTerminate(t *testing.T) {
	f := newFake()
	a, b, c := f.node("X", "a"), f.node("X", "b"), f.node("X", "c")
	f.edge(a, b, RelOwner)
	f.edge(b, c, RelOwner)
	f.edge(c, a, RelOwner)
	res := Walk(f, a, WalkOptions{Direction: Both, Depth: 50})
	if len(res.Nodes) != 3 || len(res.Edges) != 3 {
		t.Fatalf("%s", describe(res))
	}
}

func TestParseHelpers(t *testing.T) {
	s, err := ParseRelSet(" owner , pod-node ")
	if err != nil || !s.Has(RelOwner) || !s.Has(RelPodNode) || s.Has(RelPodPVC) {
		t.Fatalf("%v %v", s, err)
	}
	if s.String() != "owner,pod-node" {
		t.Fatalf("String %q", s.String())
	}
	for _, all := range []string{"", "all", ",", "owner,all"} {
		if s, err := ParseRelSet(all); err != nil || s != AllRelations {
			t.Fatalf("%q: %v %v", all, s, err)
		}
	}
	if _, err := ParseRelSet("owner,nope,zzz"); err == nil || !strings.Contains(err.Error(), "nope, zzz") {
		t.Fatalf("%v", err)
	}
	for _, d := range []Direction{Dependencies, Dependents, Both} {
		if p, ok := ParseDirection(d.String()); !ok || p != d {
			t.Fatal(d)
		}
	}
	if _, ok := ParseDirection("up"); ok {
		t.Fatal("up")
	}
	if Relation(200).String() != "Relation(200)" || GroupOf("apps/v1") != "apps" || GroupOf("v1") != "" || VersionOf("apps/v1") != "v1" || VersionOf("v1") != "v1" {
		t.Fatal("helpers")
	}
	if r, cs, ok := ResourceFor("", "Node"); !ok || !cs || r != "nodes" {
		t.Fatal("ResourceFor")
	}
	if k, ok := KindFor("apps", "deployments"); !ok || k != "Deployment" {
		t.Fatal("KindFor")
	}
	for _, r := range Relations() {
		if p, ok := ParseRelation(r.String()); !ok || p != r {
			t.Fatal(r)
		}
	}
	k := (&Node{Cluster: "c", Kind: "ConfigMap", Namespace: "", Name: "x"}).Key().String()
	if k != "c/core/ConfigMap/-/x" {
		t.Fatal(k)
	}
}
