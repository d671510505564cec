package index

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/labels"
)

// fixture is a hand-built store holding the traps that break peer implementations: the
// same name in two namespaces and in three clusters ("c1" and its prefix "c10"), the same
// UIDs in two clusters, cluster-scoped objects, a label key that is another object's label
// value, objects lacking labels or a creation time, creation times on second boundaries, a
// CRD stored at two versions with one UID, controller and non-controller owners and an owner
// that is not stored.
type fixture struct {
	s     *Store
	byID  map[string]*Record
	idOf  map[Key]string
	order []string // every id, in identity order (hand-written)
}

func own(kind, name, uid string, controller bool) OwnerRef {
	return OwnerRef{APIVersion: "v1", Kind: kind, Name: name, UID: uid, Controller: controller}
}

func containers(kv ...string) map[string]any {
	var cs []any
	for i := 0; i+1 < len(kv); i += 2 {
		cs = append(cs, map[string]any{"name": kv[i], "image": kv[i+1]})
	}
	return map[string]any{"containers": cs}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	L := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	withNode := func(spec map[string]any, node string) map[string]any {
		spec["nodeName"] = node
		return spec
	}
	phase := func(p string) map[string]any { return map[string]any{"phase": p} }
	objs := map[string]ob{
		"c1:ns:ns-a": {cluster: "c1", gvr: gvrNS, kind: "Namespace", name: "ns-a", uid: "c1-ns-a", rv: "1", created: sec(0), labels: L("team", "web")},
		"c1:ns:ns-b": {cluster: "c1", gvr: gvrNS, kind: "Namespace", name: "ns-b", uid: "c1-ns-b", rv: "2", created: sec(0)},
		"c1:deploy:ns-a/web": {cluster: "c1", gvr: gvrDeploy, kind: "Deployment", ns: "ns-a", name: "web", uid: "d-web", rv: "9", created: sec(1),
			labels: L("app", "web", "tier", "fe"), spec: map[string]any{"replicas": 3}},
		"c1:deploy:ns-b/api": {cluster: "c1", gvr: gvrDeploy, kind: "Deployment", ns: "ns-b", name: "api", uid: "d-api", rv: "20", created: sec(2),
			labels: L("app", "api"), spec: map[string]any{"replicas": 1}, owners: []OwnerRef{own("Namespace", "ns-b", "c1-ns-b", false)}},
		"c1:rs:ns-a/web-rs": {cluster: "c1", gvr: gvrRS, kind: "ReplicaSet", ns: "ns-a", name: "web-rs", uid: "rs-web", rv: "10", created: sec(2),
			labels: L("app", "web", "pod-template-hash", "abc"), owners: []OwnerRef{own("Deployment", "web", "d-web", true)}},
		"c1:rs:ns-b/api-rs": {cluster: "c1", gvr: gvrRS, kind: "ReplicaSet", ns: "ns-b", name: "api-rs", uid: "rs-api", rv: "21", created: sec(3),
			labels: L("app", "api"), owners: []OwnerRef{own("Deployment", "api", "d-api", true)}},
		"c1:pod:ns-a/web-1": {cluster: "c1", gvr: gvrPods, kind: "Pod", ns: "ns-a", name: "web-1", uid: "p1", rv: "100", created: sec(3),
			labels: L("app", "web", "tier", "fe", "v", "9"), annotations: L("a.b/c", "x"),
			owners: []OwnerRef{own("ReplicaSet", "web-rs", "rs-web", true)},
			spec:   withNode(containers("nginx", "nginx:1.25", "sidecar", "envoy:1"), "n1"), status: phase("Running")},
		"c1:pod:ns-a/web-2": {cluster: "c1", gvr: gvrPods, kind: "Pod", ns: "ns-a", name: "web-2", uid: "p2", rv: "99", created: sec(4),
			labels: L("app", "web", "tier", "be", "v", "10"), annotations: L("a.b/c", "y"),
			owners: []OwnerRef{own("ReplicaSet", "web-rs", "rs-web", true), own("ConfigMap", "cfg", "cm-1", false)},
			spec:   containers("nginx", "nginx:1.26"), status: phase("Pending")},
		"c1:pod:ns-b/web-1": {cluster: "c1", gvr: gvrPods, kind: "Pod", ns: "ns-b", name: "web-1", uid: "p3", rv: "101", created: sec(4),
			labels: L("app", "api", "fe", "app"), owners: []OwnerRef{own("ReplicaSet", "api-rs", "rs-api", true)},
			spec: withNode(containers("api", "api:2"), "n2"), status: phase("Running")},
		"c1:pod:ns-b/api-1": {cluster: "c1", gvr: gvrPods, kind: "Pod", ns: "ns-b", name: "api-1", uid: "p4", rv: "8", created: sec(5),
			labels: L("web", "tier"), owners: []OwnerRef{own("ReplicaSet", "api-rs", "rs-api", true)},
			spec: map[string]any{"nodeName": "n1"}, status: phase("Succeeded")},
		"c1:pod:ns-a/orphan": {cluster: "c1", gvr: gvrPods, kind: "Pod", ns: "ns-a", name: "orphan", uid: "p5", rv: "5",
			owners: []OwnerRef{own("Job", "gone", "ghost-uid", false)}},
		"c1:w1:ns-a/wid": {cluster: "c1", gvr: gvrWidgetV1, kind: "Widget", ns: "ns-a", name: "wid", uid: "w-1", rv: "50", created: sec(6),
			labels: L("app", "web"), owners: []OwnerRef{own("Deployment", "web", "d-web", false)}},
		"c1:w2:ns-a/wid": {cluster: "c1", gvr: gvrWidgetV2, kind: "Widget", ns: "ns-a", name: "wid", uid: "w-1", rv: "50", created: sec(6),
			labels: L("app", "web"), owners: []OwnerRef{own("Deployment", "web", "d-web", false)}},
		"c2:ns:ns-a": {cluster: "c2", gvr: gvrNS, kind: "Namespace", name: "ns-a", uid: "c2-ns-a", rv: "3", created: sec(0)},
		"c2:deploy:ns-a/web": {cluster: "c2", gvr: gvrDeploy, kind: "Deployment", ns: "ns-a", name: "web", uid: "d-web", rv: "9", created: sec(1),
			labels: L("app", "web", "tier", "fe"), spec: map[string]any{"replicas": 2}},
		"c2:rs:ns-a/web-rs": {cluster: "c2", gvr: gvrRS, kind: "ReplicaSet", ns: "ns-a", name: "web-rs", uid: "rs-web", rv: "10", created: sec(2),
			labels: L("app", "web"), owners: []OwnerRef{own("Deployment", "web", "d-web", true)}},
		"c2:pod:ns-a/web-1": {cluster: "c2", gvr: gvrPods, kind: "Pod", ns: "ns-a", name: "web-1", uid: "p1", rv: "7", created: sec(3),
			labels: L("app", "web", "tier", "fe"), owners: []OwnerRef{own("ReplicaSet", "web-rs", "rs-web", true)},
			spec: withNode(containers("nginx", "nginx:1.25"), "n1"), status: phase("Running")},
		"c10:pod:ns-a/web-1": {cluster: "c10", gvr: gvrPods, kind: "Pod", ns: "ns-a", name: "web-1", uid: "q1", rv: "1000", created: sec(7),
			labels: L("app", "web"), status: phase("Failed")},
	}
	f := &fixture{s: newStore(t, Options{}), byID: map[string]*Record{}, idOf: map[Key]string{}}
	ids := make([]string, 0, len(objs))
	for id := range objs {
		ids = append(ids, id)
	}
	sort.Strings(ids) // insertion order must not matter
	for _, id := range ids {
		r := objs[id].record(t)
		f.byID[id] = r
		f.idOf[r.Key()] = id
		mustCreate(t, f.s, r)
	}
	f.order = []string{
		"c1:ns:ns-a", "c1:ns:ns-b",
		"c1:pod:ns-a/orphan", "c1:pod:ns-a/web-1", "c1:pod:ns-a/web-2", "c1:pod:ns-b/api-1", "c1:pod:ns-b/web-1",
		"c1:deploy:ns-a/web", "c1:deploy:ns-b/api", "c1:rs:ns-a/web-rs", "c1:rs:ns-b/api-rs",
		"c1:w1:ns-a/wid", "c1:w2:ns-a/wid",
		"c10:pod:ns-a/web-1",
		"c2:ns:ns-a", "c2:pod:ns-a/web-1", "c2:deploy:ns-a/web", "c2:rs:ns-a/web-rs",
	}
	if len(f.order) != len(objs) {
		t.Fatalf("fixture order lists %d of %d objects", len(f.order), len(objs))
	}
	return f
}

// ids maps result items back to fixture ids.
func (f *fixture) ids(t *testing.T, items []*Record) []string {
	t.Helper()
	out := make([]string, 0, len(items))
	for _, r := range items {
		id, ok := f.idOf[r.Key()]
		if !ok {
			t.Fatalf("result holds an object that is not in the fixture: %v", r.Key())
		}
		out = append(out, id)
	}
	return out
}

// inIdentityOrder returns the given ids in the fixture's identity order.
func (f *fixture) inIdentityOrder(t *testing.T, ids []string) []string {
	t.Helper()
	want := map[string]bool{}
	for _, id := range ids {
		if _, ok := f.byID[id]; !ok {
			t.Fatalf("test bug: unknown fixture id %q", id)
		}
		want[id] = true
	}
	out := []string{}
	for _, id := range f.order {
		if want[id] {
			out = append(out, id)
		}
	}
	return out
}

func mustSelector(t testing.TB, s string) labels.Selector {
	t.Helper()
	sel, err := labels.Parse(s)
	if err != nil {
		t.Fatalf("labels.Parse(%q): %v", s, err)
	}
	return sel
}

func mustFields(t testing.TB, s string) []FieldRequirement {
	t.Helper()
	fs, err := ParseFieldSelector(s)
	if err != nil {
		t.Fatalf("ParseFieldSelector(%q): %v", s, err)
	}
	return fs
}

func tp(t time.Time) *time.Time { return &t }

func TestFixtureIdentityOrder(t *testing.T) {
	f := newFixture(t)
	res, err := f.s.List(&Query{})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.ids(t, res.Items); !reflect.DeepEqual(got, f.order) {
		t.Fatalf("default order is not the identity order:\n got %v\nwant %v", got, f.order)
	}
	// The hand-written order agrees with the tie-breaker of every ordering.
	for i := 1; i < len(f.order); i++ {
		a, b := f.byID[f.order[i-1]], f.byID[f.order[i]]
		if testIdentityLess(b, a) || !testIdentityLess(a, b) {
			t.Fatalf("fixture order: %s must sort before %s", f.order[i-1], f.order[i])
		}
	}
}

// testIdentityLess is the test's own identity order (cluster, group, version, resource,
// namespace, name).
func testIdentityLess(a, b *Record) bool {
	x := []string{a.Cluster, a.GVR.Group, a.GVR.Version, a.GVR.Resource, a.Namespace, a.Name}
	y := []string{b.Cluster, b.GVR.Group, b.GVR.Version, b.GVR.Resource, b.Namespace, b.Name}
	return lessStrings(x, y)
}

func TestListFilters(t *testing.T) {
	f := newFixture(t)
	c1pods := []string{"c1:pod:ns-a/orphan", "c1:pod:ns-a/web-1", "c1:pod:ns-a/web-2", "c1:pod:ns-b/api-1", "c1:pod:ns-b/web-1"}
	allPods := append([]string{"c10:pod:ns-a/web-1", "c2:pod:ns-a/web-1"}, c1pods...)
	nsObjs := []string{"c1:ns:ns-a", "c1:ns:ns-b", "c2:ns:ns-a"}
	appWeb := []string{"c1:deploy:ns-a/web", "c1:rs:ns-a/web-rs", "c1:pod:ns-a/web-1", "c1:pod:ns-a/web-2", "c1:w1:ns-a/wid", "c1:w2:ns-a/wid",
		"c2:deploy:ns-a/web", "c2:rs:ns-a/web-rs", "c2:pod:ns-a/web-1", "c10:pod:ns-a/web-1"}
	noApp := []string{"c1:ns:ns-a", "c1:ns:ns-b", "c1:pod:ns-b/api-1", "c1:pod:ns-a/orphan", "c2:ns:ns-a"}
	apiApp := []string{"c1:deploy:ns-b/api", "c1:rs:ns-b/api-rs", "c1:pod:ns-b/web-1"}
	running := []string{"c1:pod:ns-a/web-1", "c1:pod:ns-b/web-1", "c2:pod:ns-a/web-1"}
	except := func(drop ...string) []string {
		d := map[string]bool{}
		for _, x := range drop {
			d[x] = true
		}
		var out []string
		for _, id := range f.order {
			if !d[id] {
				out = append(out, id)
			}
		}
		return out
	}
	cat := func(l ...[]string) []string {
		var out []string
		for _, x := range l {
			out = append(out, x...)
		}
		return out
	}
	plus2h := time.FixedZone("plus2", 2*3600)

	for _, tc := range []struct {
		name string
		q    Query
		want []string
	}{
		{"everything", Query{}, f.order},
		// clusters / namespaces / names
		{"cluster c1 (not its prefix c10)", Query{Clusters: []string{"c1"}}, f.order[:13]},
		{"clusters c2,c10", Query{Clusters: []string{"c2", "c10", "c2"}}, f.order[13:]},
		{"unknown cluster", Query{Clusters: []string{"c3"}}, nil},
		{"namespace ns-a excludes cluster-scoped", Query{Namespaces: []string{"ns-a"}}, []string{
			"c1:pod:ns-a/orphan", "c1:pod:ns-a/web-1", "c1:pod:ns-a/web-2", "c1:deploy:ns-a/web", "c1:rs:ns-a/web-rs", "c1:w1:ns-a/wid", "c1:w2:ns-a/wid",
			"c10:pod:ns-a/web-1", "c2:deploy:ns-a/web", "c2:rs:ns-a/web-rs", "c2:pod:ns-a/web-1"}},
		{"namespace ns-b", Query{Namespaces: []string{"ns-b"}}, []string{"c1:pod:ns-b/api-1", "c1:pod:ns-b/web-1", "c1:deploy:ns-b/api", "c1:rs:ns-b/api-rs"}},
		{"namespace \"\" = cluster-scoped", Query{Namespaces: []string{""}}, nsObjs},
		{"names via name index", Query{Names: []string{"web-1"}}, []string{"c1:pod:ns-a/web-1", "c1:pod:ns-b/web-1", "c10:pod:ns-a/web-1", "c2:pod:ns-a/web-1"}},
		{"names incl. cluster-scoped", Query{Names: []string{"web-1", "ns-a", "nope"}}, []string{"c1:pod:ns-a/web-1", "c1:pod:ns-b/web-1", "c10:pod:ns-a/web-1", "c2:pod:ns-a/web-1", "c1:ns:ns-a", "c2:ns:ns-a"}},
		{"names + cluster", Query{Names: []string{"web-1"}, Clusters: []string{"c1"}}, []string{"c1:pod:ns-a/web-1", "c1:pod:ns-b/web-1"}},
		{"names + namespace (exact lookups)", Query{Names: []string{"web-1"}, Namespaces: []string{"ns-a"}}, []string{"c1:pod:ns-a/web-1", "c10:pod:ns-a/web-1", "c2:pod:ns-a/web-1"}},
		{"names + namespaces", Query{Names: []string{"web-2", "web-1", "missing", "web-1"}, Namespaces: []string{"ns-b", "ns-a"}},
			[]string{"c1:pod:ns-a/web-1", "c1:pod:ns-a/web-2", "c1:pod:ns-b/web-1", "c10:pod:ns-a/web-1", "c2:pod:ns-a/web-1"}},
		{"names + namespaces + cluster + type", Query{Names: []string{"web", "web-rs"}, Namespaces: []string{"ns-a"}, Clusters: []string{"c2"}, Types: []TypeMatch{{Group: "apps"}}},
			[]string{"c2:deploy:ns-a/web", "c2:rs:ns-a/web-rs"}},
		// types
		{"type pods", Query{Types: []TypeMatch{{Version: "v1", Resource: "pods"}}}, allPods},
		{"type group apps", Query{Types: []TypeMatch{{Group: "apps"}}}, []string{"c1:deploy:ns-a/web", "c1:deploy:ns-b/api", "c1:rs:ns-a/web-rs", "c1:rs:ns-b/api-rs", "c2:deploy:ns-a/web", "c2:rs:ns-a/web-rs"}},
		{"type core group only", Query{Types: []TypeMatch{{Group: ""}}}, cat(allPods, nsObjs)},
		{"type group+version", Query{Types: []TypeMatch{{Group: "example.com", Version: "v2"}}}, []string{"c1:w2:ns-a/wid"}},
		{"type any group by resource", Query{Types: []TypeMatch{{AnyGroup: true, Resource: "widgets"}}}, []string{"c1:w1:ns-a/wid", "c1:w2:ns-a/wid"}},
		{"type any group by version", Query{Types: []TypeMatch{{AnyGroup: true, Version: "v1"}}}, except("c1:w2:ns-a/wid")},
		{"several types", Query{Types: []TypeMatch{{Resource: "namespaces"}, {Group: "apps", Resource: "deployments"}}}, cat(nsObjs, []string{"c1:deploy:ns-a/web", "c1:deploy:ns-b/api", "c2:deploy:ns-a/web"})},
		{"type matching nothing", Query{Types: []TypeMatch{{Group: "apps", Resource: "pods"}}}, nil},
		// label selectors
		{"label =", Query{Labels: mustSelector(t, "app=web")}, appWeb},
		{"label ==", Query{Labels: mustSelector(t, "app==api")}, apiApp},
		{"label != includes lacking", Query{Labels: mustSelector(t, "app!=web")}, cat(noApp, apiApp)},
		{"label in", Query{Labels: mustSelector(t, "app in (api,nothing)")}, apiApp},
		{"label notin includes lacking", Query{Labels: mustSelector(t, "app notin (web,api)")}, noApp},
		{"label exists (key that is a value elsewhere)", Query{Labels: mustSelector(t, "fe")}, []string{"c1:pod:ns-b/web-1"}},
		{"label exists web", Query{Labels: mustSelector(t, "web")}, []string{"c1:pod:ns-b/api-1"}},
		{"label !", Query{Labels: mustSelector(t, "!app")}, noApp},
		{"label gt numeric", Query{Labels: mustSelector(t, "v>9")}, []string{"c1:pod:ns-a/web-2"}},
		{"label lt numeric", Query{Labels: mustSelector(t, "v<10")}, []string{"c1:pod:ns-a/web-1"}},
		{"label gt excludes lacking", Query{Labels: mustSelector(t, "v>0")}, []string{"c1:pod:ns-a/web-1", "c1:pod:ns-a/web-2"}},
		{"labels ANDed", Query{Labels: mustSelector(t, "tier=fe,app=web")}, []string{"c1:deploy:ns-a/web", "c1:pod:ns-a/web-1", "c2:deploy:ns-a/web", "c2:pod:ns-a/web-1"}},
		{"label != other", Query{Labels: mustSelector(t, "tier!=be")}, except("c1:pod:ns-a/web-2")},
		{"label everything", Query{Labels: labels.Everything()}, f.order},
		{"label nothing", Query{Labels: labels.Nothing()}, nil},
		{"labels + namespace + cluster", Query{Labels: mustSelector(t, "app=web"), Namespaces: []string{"ns-a"}, Clusters: []string{"c1"}},
			[]string{"c1:deploy:ns-a/web", "c1:rs:ns-a/web-rs", "c1:pod:ns-a/web-1", "c1:pod:ns-a/web-2", "c1:w1:ns-a/wid", "c1:w2:ns-a/wid"}},
		{"labels + namespaces + names", Query{Labels: mustSelector(t, "app=web"), Namespaces: []string{"ns-a", "ns-b"}, Names: []string{"web-1"}},
			[]string{"c1:pod:ns-a/web-1", "c10:pod:ns-a/web-1", "c2:pod:ns-a/web-1"}},
		// field selectors
		{"field status.phase", Query{Fields: mustFields(t, "status.phase=Running")}, running},
		{"field != matches missing", Query{Fields: mustFields(t, "status.phase!=Running")}, except(running...)},
		{"field spec.nodeName", Query{Fields: mustFields(t, "spec.nodeName=n1")}, []string{"c1:pod:ns-a/web-1", "c1:pod:ns-b/api-1", "c2:pod:ns-a/web-1"}},
		{"field spec.nodeName !=", Query{Fields: mustFields(t, "spec.nodeName!=n1")}, except("c1:pod:ns-a/web-1", "c1:pod:ns-b/api-1", "c2:pod:ns-a/web-1")},
		{"field does not exist", Query{Fields: mustFields(t, "!spec.nodeName")}, except("c1:pod:ns-a/web-1", "c1:pod:ns-b/api-1", "c2:pod:ns-a/web-1", "c1:pod:ns-b/web-1")},
		{"field annotation with dots", Query{Fields: mustFields(t, "metadata.annotations['a.b/c']=x")}, []string{"c1:pod:ns-a/web-1"}},
		{"field annotation in", Query{Fields: mustFields(t, "metadata.annotations['a.b/c'] in (y,x)")}, []string{"c1:pod:ns-a/web-1", "c1:pod:ns-a/web-2"}},
		{"field cluster-name annotation", Query{Fields: mustFields(t, "metadata.annotations['shadow.clusterpedia.io/cluster-name']=c10")}, []string{"c10:pod:ns-a/web-1"}},
		{"field list any element", Query{Fields: mustFields(t, "spec.containers[].image=envoy:1")}, []string{"c1:pod:ns-a/web-1"}},
		{"field list any element, two clusters", Query{Fields: mustFields(t, "spec.containers[].image==nginx:1.25")}, []string{"c1:pod:ns-a/web-1", "c2:pod:ns-a/web-1"}},
		{"field list index", Query{Fields: mustFields(t, "spec.containers[1].name=sidecar")}, []string{"c1:pod:ns-a/web-1"}},
		{"field list wrong index", Query{Fields: mustFields(t, "spec.containers[0].name=sidecar")}, nil},
		{"field list != (no element equal)", Query{Fields: mustFields(t, "spec.containers[].name!=nginx")}, except("c1:pod:ns-a/web-1", "c1:pod:ns-a/web-2", "c2:pod:ns-a/web-1")},
		{"field list notin", Query{Fields: mustFields(t, "spec.containers[].name notin (nginx,api)")}, except("c1:pod:ns-a/web-1", "c1:pod:ns-a/web-2", "c2:pod:ns-a/web-1", "c1:pod:ns-b/web-1")},
		{"field number >", Query{Fields: mustFields(t, "spec.replicas>1")}, []string{"c1:deploy:ns-a/web", "c2:deploy:ns-a/web"}},
		{"field number <", Query{Fields: mustFields(t, "spec.replicas<3")}, []string{"c1:deploy:ns-b/api", "c2:deploy:ns-a/web"}},
		{"field number =", Query{Fields: mustFields(t, "spec.replicas=3")}, []string{"c1:deploy:ns-a/web"}},
		{"fields ANDed", Query{Fields: mustFields(t, "metadata.name=web-1,status.phase=Running")}, running},
		{"fields + labels", Query{Fields: mustFields(t, "status.phase=Running"), Labels: mustSelector(t, "app=web")}, []string{"c1:pod:ns-a/web-1", "c2:pod:ns-a/web-1"}},
		// fuzzy names
		{"fuzzy web", Query{FuzzyNames: []string{"web"}}, []string{"c1:pod:ns-a/web-1", "c1:pod:ns-a/web-2", "c1:pod:ns-b/web-1", "c1:deploy:ns-a/web", "c1:rs:ns-a/web-rs",
			"c10:pod:ns-a/web-1", "c2:deploy:ns-a/web", "c2:rs:ns-a/web-rs", "c2:pod:ns-a/web-1"}},
		{"fuzzy all values must match", Query{FuzzyNames: []string{"web", "-1"}}, []string{"c1:pod:ns-a/web-1", "c1:pod:ns-b/web-1", "c10:pod:ns-a/web-1", "c2:pod:ns-a/web-1"}},
		{"fuzzy case-sensitive", Query{FuzzyNames: []string{"WEB"}}, nil},
		{"fuzzy cluster-scoped", Query{FuzzyNames: []string{"ns-", "b"}}, []string{"c1:ns:ns-b"}},
		// since / before: [since, before)
		{"since", Query{Since: tp(sec(3))}, []string{"c1:rs:ns-b/api-rs", "c1:pod:ns-a/web-1", "c2:pod:ns-a/web-1", "c1:pod:ns-a/web-2", "c1:pod:ns-b/web-1",
			"c1:pod:ns-b/api-1", "c1:w1:ns-a/wid", "c1:w2:ns-a/wid", "c10:pod:ns-a/web-1"}},
		{"since in another zone", Query{Since: tp(sec(3).In(plus2h))}, []string{"c1:rs:ns-b/api-rs", "c1:pod:ns-a/web-1", "c2:pod:ns-a/web-1", "c1:pod:ns-a/web-2", "c1:pod:ns-b/web-1",
			"c1:pod:ns-b/api-1", "c1:w1:ns-a/wid", "c1:w2:ns-a/wid", "c10:pod:ns-a/web-1"}},
		{"since between seconds", Query{Since: tp(sec(3).Add(500 * time.Millisecond))}, []string{"c1:pod:ns-a/web-2", "c1:pod:ns-b/web-1",
			"c1:pod:ns-b/api-1", "c1:w1:ns-a/wid", "c1:w2:ns-a/wid", "c10:pod:ns-a/web-1"}},
		{"before is exclusive", Query{Before: tp(sec(2))}, []string{"c1:ns:ns-a", "c1:ns:ns-b", "c2:ns:ns-a", "c1:deploy:ns-a/web", "c2:deploy:ns-a/web"}},
		{"since+before", Query{Since: tp(sec(2)), Before: tp(sec(4))}, []string{"c1:deploy:ns-b/api", "c1:rs:ns-a/web-rs", "c2:rs:ns-a/web-rs",
			"c1:rs:ns-b/api-rs", "c1:pod:ns-a/web-1", "c2:pod:ns-a/web-1"}},
		{"since == before", Query{Since: tp(sec(4)), Before: tp(sec(4))}, nil},
		{"since epoch excludes missing timestamps", Query{Since: tp(time.Unix(0, 0))}, except("c1:pod:ns-a/orphan")},
		// owners
		{"owner uid seniority 0 (non-controller refs count)", Query{Clusters: []string{"c1"}, Owner: &OwnerQuery{UID: "d-web"}},
			[]string{"c1:rs:ns-a/web-rs", "c1:w1:ns-a/wid", "c1:w2:ns-a/wid"}},
		{"owner uid in every cluster", Query{Owner: &OwnerQuery{UID: "d-web"}}, []string{"c1:rs:ns-a/web-rs", "c1:w1:ns-a/wid", "c1:w2:ns-a/wid", "c2:rs:ns-a/web-rs"}},
		{"owner uid seniority 1", Query{Clusters: []string{"c1"}, Owner: &OwnerQuery{UID: "d-web", Seniority: 1}}, []string{"c1:pod:ns-a/web-1", "c1:pod:ns-a/web-2"}},
		{"owner uid seniority 1 two clusters", Query{Clusters: []string{"c2", "c1"}, Owner: &OwnerQuery{UID: "d-web", Seniority: 1}},
			[]string{"c1:pod:ns-a/web-1", "c1:pod:ns-a/web-2", "c2:pod:ns-a/web-1"}},
		{"owner uid seniority 1 + filters", Query{Owner: &OwnerQuery{UID: "d-web", Seniority: 1}, Types: []TypeMatch{{Version: "v1", Resource: "pods"}},
			Namespaces: []string{"ns-a"}, Labels: mustSelector(t, "tier=fe")}, []string{"c1:pod:ns-a/web-1", "c2:pod:ns-a/web-1"}},
		{"owner uid seniority 2", Query{Owner: &OwnerQuery{UID: "d-web", Seniority: 2}}, nil},
		{"owner uid non-controller only", Query{Owner: &OwnerQuery{UID: "cm-1"}}, []string{"c1:pod:ns-a/web-2"}},
		{"owner not stored (placeholder)", Query{Owner: &OwnerQuery{UID: "ghost-uid"}}, []string{"c1:pod:ns-a/orphan"}},
		{"owner unknown uid", Query{Owner: &OwnerQuery{UID: "nobody"}}, nil},
		{"owner uid in a cluster without it", Query{Clusters: []string{"c10"}, Owner: &OwnerQuery{UID: "d-web"}}, nil},
		{"owner uid wins over name", Query{Owner: &OwnerQuery{UID: "cm-1", Name: "web", HasGR: true, Group: "apps", Resource: "deployments"}}, []string{"c1:pod:ns-a/web-2"}},
		{"owner name + GR seniority 1", Query{Clusters: []string{"c1"}, Owner: &OwnerQuery{Name: "web", HasGR: true, Group: "apps", Resource: "deployments", Seniority: 1}},
			[]string{"c1:pod:ns-a/web-1", "c1:pod:ns-a/web-2"}},
		{"owner name in every cluster", Query{Owner: &OwnerQuery{Name: "web"}}, []string{"c1:rs:ns-a/web-rs", "c1:w1:ns-a/wid", "c1:w2:ns-a/wid", "c2:rs:ns-a/web-rs"}},
		{"owner name replicaset", Query{Owner: &OwnerQuery{Name: "web-rs", HasGR: true, Group: "apps", Resource: "replicasets"}},
			[]string{"c1:pod:ns-a/web-1", "c1:pod:ns-a/web-2", "c2:pod:ns-a/web-1"}},
		{"owner name wrong GR", Query{Owner: &OwnerQuery{Name: "web-rs", HasGR: true, Group: "apps", Resource: "deployments"}}, nil},
		{"owner name core GR", Query{Owner: &OwnerQuery{Name: "web-1", HasGR: true, Group: "", Resource: "pods"}}, nil},
		{"owner name namespace mismatch", Query{Owner: &OwnerQuery{Name: "web-rs", Namespaces: []string{"ns-b"}}}, nil},
		{"owner name namespace match", Query{Owner: &OwnerQuery{Name: "web-rs", Namespaces: []string{"ns-b", "ns-a"}}},
			[]string{"c1:pod:ns-a/web-1", "c1:pod:ns-a/web-2", "c2:pod:ns-a/web-1"}},
		{"owner name cluster-scoped always admitted", Query{Owner: &OwnerQuery{Name: "ns-b", Namespaces: []string{"ns-a"}}}, []string{"c1:deploy:ns-b/api"}},
		{"owner name seniority 2", Query{Owner: &OwnerQuery{Name: "ns-b", Seniority: 2}}, []string{"c1:pod:ns-b/web-1", "c1:pod:ns-b/api-1"}},
		{"owner name seniority 1 + since", Query{Owner: &OwnerQuery{Name: "web", Seniority: 1}, Since: tp(sec(4))}, []string{"c1:pod:ns-a/web-2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := f.inIdentityOrder(t, tc.want)
			for _, wc := range []bool{false, true} {
				q := tc.q
				q.WithRemainingCount = wc
				res, err := f.s.List(&q)
				if err != nil {
					t.Fatal(err)
				}
				if got := f.ids(t, res.Items); !reflect.DeepEqual(got, want) {
					t.Fatalf("\n got %v\nwant %v", got, want)
				}
				if res.Continue != "" {
					t.Fatalf("unlimited list returned a continue token %q", res.Continue)
				}
				if (res.RemainingCount != nil) != wc || (wc && *res.RemainingCount != 0) {
					t.Fatalf("RemainingCount = %v with WithRemainingCount=%v", res.RemainingCount, wc)
				}
			}
		})
	}
}

func TestListInvalidQueries(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name string
		q    Query
	}{
		{"before < since", Query{Since: tp(sec(4)), Before: tp(sec(3))}},
		{"unknown orderby", Query{OrderBy: []OrderBy{{Field: "bogus"}}}},
		{"orderby with desc inside the field", Query{OrderBy: []OrderBy{{Field: "name desc"}}}},
		{"orderby raw SQL", Query{OrderBy: []OrderBy{{Field: "JSON_EXTRACT(object,'$.status.podIP')"}}}},
		{"second orderby unknown", Query{OrderBy: []OrderBy{{Field: OrderName}, {Field: "owner_uid"}}}},
		{"owner without uid or name", Query{Owner: &OwnerQuery{Seniority: 1}}},
		{"negative seniority", Query{Owner: &OwnerQuery{UID: "d-web", Seniority: -1}}},
		{"field requirement without path", Query{Fields: []FieldRequirement{{Op: FieldExists}}}},
		{"field requirement bad op", Query{Fields: []FieldRequirement{{Path: []FieldSegment{{Name: "a"}}, Op: "~"}}}},
		{"field > non-integer", Query{Fields: []FieldRequirement{{Path: []FieldSegment{{Name: "a"}}, Op: FieldGreater, Values: []string{"x"}}}}},
		{"negative offset", Query{Continue: "-3", Limit: 2}},
		{"NUL in cluster", Query{Clusters: []string{"c\x001"}}},
		{"NUL in name", Query{Names: []string{"a\x00"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.s.List(&tc.q)
			if !IsInvalidQuery(err) {
				t.Fatalf("got %v, %v; want an InvalidQueryError", res, err)
			}
		})
	}
}

// Reference semantics (contract §5.7): seniority n selects the dependents of level n, where
// level 0 = the owners' direct dependents and level k = the dependents of level k-1 — an
// object belongs to a level when SOME ownership path of that exact length reaches it.
func TestListOwnerSeniorityMultiplePathLengths(t *testing.T) {
	s := newStore(t, Options{})
	o := func(name, uid string, owners ...string) *Record {
		var refs []OwnerRef
		for _, u := range owners {
			refs = append(refs, own("Thing", u, u, len(refs) == 0))
		}
		return ob{cluster: "c1", gvr: gvrPods, ns: "ns", name: name, uid: uid, rv: "1", owners: refs}.record(t)
	}
	// A owns B and C; B owns C (C is one and two generations below A); C owns D.
	// X and Y own each other (a cycle).
	mustCreate(t, s, o("a", "A"), o("b", "B", "A"), o("c", "C", "A", "B"), o("d", "D", "C"),
		o("x", "X", "Y"), o("y", "Y", "X"))
	for _, tc := range []struct {
		uid       string
		seniority int
		want      []string
	}{
		{"A", 0, []string{"b", "c"}},
		{"A", 1, []string{"c", "d"}}, // C via A→B→C, D via A→C→D
		{"A", 2, []string{"d"}},      // D via A→B→C→D
		{"A", 3, nil},
		{"X", 0, []string{"y"}},
		{"X", 1, []string{"x"}},
		{"X", 2, []string{"y"}},
		{"X", 5, []string{"x"}},
	} {
		t.Run(fmt.Sprintf("%s/%d", tc.uid, tc.seniority), func(t *testing.T) {
			res, err := s.List(&Query{Owner: &OwnerQuery{UID: tc.uid, Seniority: tc.seniority}, WithRemainingCount: true})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res.Items {
				got = append(got, r.Name)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("owner %s seniority %d: got %v, want %v", tc.uid, tc.seniority, got, tc.want)
			}
		})
	}
}

// An owner found by name that is stored at two versions (one UID) must not duplicate its
// dependents; a dependent stored at two versions is listed once per version.
func TestListOwnerStoredAtTwoVersions(t *testing.T) {
	s := newStore(t, Options{})
	w := func(g GVR, owners ...OwnerRef) *Record {
		return ob{cluster: "c1", gvr: g, kind: "Widget", ns: "ns", name: "wid", uid: "w", rv: "1", owners: owners}.record(t)
	}
	p := func(name, uid string, owners ...OwnerRef) *Record {
		return ob{cluster: "c1", gvr: gvrPods, kind: "Pod", ns: "ns", name: name, uid: uid, rv: "1", owners: owners}.record(t)
	}
	mustCreate(t, s,
		w(gvrWidgetV1), w(gvrWidgetV2),
		p("p1", "p1", own("Widget", "wid", "w", true)),
		p("p2", "p2", own("Widget", "wid", "w", true), own("Widget", "wid", "w", false)), // duplicated ref
		p("p3", "p3", own("Pod", "p1", "p1", true)),
	)
	for _, tc := range []struct {
		name string
		o    OwnerQuery
		want []string
	}{
		{"by name", OwnerQuery{Name: "wid"}, []string{"p1", "p2"}},
		{"by name and GR", OwnerQuery{Name: "wid", HasGR: true, Group: "example.com", Resource: "widgets"}, []string{"p1", "p2"}},
		{"by uid", OwnerQuery{UID: "w"}, []string{"p1", "p2"}},
		{"by name seniority 1", OwnerQuery{Name: "wid", Seniority: 1}, []string{"p3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, lim := range []int64{0, 1} {
				res, err := s.List(&Query{Owner: &tc.o, Limit: lim, WithRemainingCount: true})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, r := range res.Items {
					got = append(got, r.Name)
				}
				n := int64(len(got)) + *res.RemainingCount
				if lim == 0 && !reflect.DeepEqual(got, tc.want) || n != int64(len(tc.want)) {
					t.Fatalf("limit %d: got %v (+%d remaining), want %v", lim, got, *res.RemainingCount, tc.want)
				}
			}
		})
	}
	// A dependent stored at two versions: both records are listed (type filter decides).
	mustCreate(t, s, ob{cluster: "c1", gvr: gvrWidgetV1, ns: "ns", name: "child", uid: "ch", owners: []OwnerRef{own("Pod", "p1", "p1", true)}}.record(t),
		ob{cluster: "c1", gvr: gvrWidgetV2, ns: "ns", name: "child", uid: "ch", owners: []OwnerRef{own("Pod", "p1", "p1", true)}}.record(t))
	res, err := s.List(&Query{Owner: &OwnerQuery{UID: "p1"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(res.Items); !reflect.DeepEqual(got, []string{"c1|v1/pods|ns|p3", "c1|example.com/v1/widgets|ns|child", "c1|example.com/v2/widgets|ns|child"}) {
		t.Fatalf("dependents of p1: %v", got)
	}
}

// orderedIDs sorts ids by the order keys with the test's own comparator, identity last.
func (f *fixture) sortBy(ids []string, keys []OrderBy) []string {
	out := append([]string(nil), ids...)
	sort.SliceStable(out, func(i, j int) bool {
		return testCompare(keys, f.byID[out[i]], f.byID[out[j]]) < 0
	})
	return out
}

func TestListOrderBy(t *testing.T) {
	f := newFixture(t)
	c1pods := Query{Clusters: []string{"c1"}, Types: []TypeMatch{{Version: "v1", Resource: "pods"}}}
	const (
		orphan = "c1:pod:ns-a/orphan"
		aw1    = "c1:pod:ns-a/web-1"
		aw2    = "c1:pod:ns-a/web-2"
		bapi   = "c1:pod:ns-b/api-1"
		bw1    = "c1:pod:ns-b/web-1"
	)
	ob := func(spec string) []OrderBy {
		var out []OrderBy
		for _, p := range strings.Split(spec, ",") {
			f := strings.Fields(p)
			out = append(out, OrderBy{Field: f[0], Desc: len(f) > 1})
		}
		return out
	}
	for _, tc := range []struct {
		order string
		q     Query
		want  []string
	}{
		{"name", c1pods, []string{bapi, orphan, aw1, bw1, aw2}},
		{"name desc", c1pods, []string{aw2, aw1, bw1, orphan, bapi}},
		{"created_at", c1pods, []string{orphan, aw1, aw2, bw1, bapi}},
		{"created_at desc", c1pods, []string{bapi, aw2, bw1, aw1, orphan}},
		{"resource_version", c1pods, []string{orphan, bapi, aw2, aw1, bw1}},
		{"resource_version desc", c1pods, []string{bw1, aw1, aw2, bapi, orphan}},
		{"namespace desc,name", c1pods, []string{bapi, bw1, orphan, aw1, aw2}},
		{"uid", c1pods, []string{aw1, aw2, bw1, bapi, orphan}},
		{"kind desc", c1pods, []string{orphan, aw1, aw2, bapi, bw1}},
		{"cluster desc,name", Query{Types: c1pods.Types}, []string{"c2:pod:ns-a/web-1", "c10:pod:ns-a/web-1", bapi, orphan, aw1, bw1, aw2}},
		{"name,cluster desc", Query{Names: []string{"web-1"}}, []string{"c2:pod:ns-a/web-1", "c10:pod:ns-a/web-1", aw1, bw1}},
		{"version desc,resource", Query{Clusters: []string{"c1"}, FuzzyNames: []string{"w"}}, []string{"c1:w2:ns-a/wid", "c1:deploy:ns-a/web", aw1, aw2, bw1, "c1:rs:ns-a/web-rs", "c1:w1:ns-a/wid"}},
		{"group desc,namespace", Query{Clusters: []string{"c1"}, FuzzyNames: []string{"w"}}, []string{"c1:w1:ns-a/wid", "c1:w2:ns-a/wid", "c1:deploy:ns-a/web", "c1:rs:ns-a/web-rs", aw1, aw2, bw1}},
		{"created_at desc", Query{Owner: &OwnerQuery{UID: "d-web", Seniority: 1}}, []string{aw2, aw1, "c2:pod:ns-a/web-1"}},
	} {
		t.Run(tc.order, func(t *testing.T) {
			q := tc.q
			q.OrderBy = ob(tc.order)
			res, err := f.s.List(&q)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.ids(t, res.Items); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("orderby %s\n got %v\nwant %v", tc.order, got, tc.want)
			}
		})
	}
	// Every field, both directions, over the whole fixture, against the test's comparator.
	fields := []string{OrderCluster, OrderNamespace, OrderName, OrderCreatedAt, OrderResourceVersion, OrderGroup, OrderVersion, OrderResource, OrderKind, OrderUID}
	for i, fld := range fields {
		for _, desc := range []bool{false, true} {
			for _, second := range []string{"", fields[(i+3)%len(fields)]} {
				keys := []OrderBy{{Field: fld, Desc: desc}}
				if second != "" {
					keys = append(keys, OrderBy{Field: second, Desc: !desc})
				}
				res, err := f.s.List(&Query{OrderBy: keys})
				if err != nil {
					t.Fatal(err)
				}
				if got, want := f.ids(t, res.Items), f.sortBy(f.order, keys); !reflect.DeepEqual(got, want) {
					t.Errorf("orderby %+v\n got %v\nwant %v", keys, got, want)
				}
			}
		}
	}
}

// testCompare is the test's own implementation of the documented order: keys in priority
// order (resource_version numeric, non-numeric as 0, then as text), identity as tie-breaker.
func testCompare(keys []OrderBy, a, b *Record) int {
	for _, k := range keys {
		var c int
		switch k.Field {
		case OrderCluster:
			c = strings.Compare(a.Cluster, b.Cluster)
		case OrderNamespace:
			c = strings.Compare(a.Namespace, b.Namespace)
		case OrderName:
			c = strings.Compare(a.Name, b.Name)
		case OrderCreatedAt:
			c = a.Created.Compare(b.Created)
		case OrderResourceVersion:
			x, y := testRV(a.ResourceVersion), testRV(b.ResourceVersion)
			switch {
			case x < y:
				c = -1
			case x > y:
				c = 1
			default:
				c = strings.Compare(a.ResourceVersion, b.ResourceVersion)
			}
		case OrderGroup:
			c = strings.Compare(a.GVR.Group, b.GVR.Group)
		case OrderVersion:
			c = strings.Compare(a.GVR.Version, b.GVR.Version)
		case OrderResource:
			c = strings.Compare(a.GVR.Resource, b.GVR.Resource)
		case OrderKind:
			c = strings.Compare(a.Kind, b.Kind)
		case OrderUID:
			c = strings.Compare(a.UID, b.UID)
		default:
			panic("test bug: order field " + k.Field)
		}
		if k.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	switch {
	case testIdentityLess(a, b):
		return -1
	case testIdentityLess(b, a):
		return 1
	}
	return 0
}

func testRV(s string) uint64 {
	var n uint64
	if s == "" {
		return 0
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0
		}
		n = n*10 + d
	}
	return n
}
