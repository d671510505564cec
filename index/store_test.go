package index

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ---- shared test helpers (used by every test file of the package) ----

var (
	gvrPods     = GVR{Group: "", Version: "v1", Resource: "pods"}
	gvrPodsX    = GVR{Group: "", Version: "v1", Resource: "podsx"} // prefix trap for "pods"
	gvrNS       = GVR{Group: "", Version: "v1", Resource: "namespaces"}
	gvrDeploy   = GVR{Group: "apps", Version: "v1", Resource: "deployments"}
	gvrRS       = GVR{Group: "apps", Version: "v1", Resource: "replicasets"}
	gvrWidgetV1 = GVR{Group: "example.com", Version: "v1", Resource: "widgets"}
	gvrWidgetV2 = GVR{Group: "example.com", Version: "v2", Resource: "widgets"}
)

// t0 is the fixtures' epoch; creation times are whole seconds after it.
var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func sec(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

// ob describes a fixture object; record() renders it to JSON and parses it back with
// RecordFromJSON, so field selectors see exactly what the record holds.
type ob struct {
	cluster     string
	gvr         GVR
	kind        string
	ns, name    string
	uid, rv     string
	created     time.Time // zero: no creationTimestamp
	labels      map[string]string
	annotations map[string]string
	owners      []OwnerRef
	spec        map[string]any
	status      map[string]any
}

func (o ob) json() []byte {
	meta := map[string]any{"name": o.name}
	if o.ns != "" {
		meta["namespace"] = o.ns
	}
	if o.uid != "" {
		meta["uid"] = o.uid
	}
	if o.rv != "" {
		meta["resourceVersion"] = o.rv
	}
	if !o.created.IsZero() {
		meta["creationTimestamp"] = o.created.UTC().Format(time.RFC3339)
	}
	if o.labels != nil {
		meta["labels"] = o.labels
	}
	ann := map[string]string{"shadow.clusterpedia.io/cluster-name": o.cluster}
	for k, v := range o.annotations {
		ann[k] = v
	}
	meta["annotations"] = ann
	if len(o.owners) > 0 {
		var refs []map[string]any
		for _, r := range o.owners {
			m := map[string]any{"apiVersion": r.APIVersion, "kind": r.Kind, "name": r.Name, "uid": r.UID}
			if r.Controller {
				m["controller"] = true
			}
			refs = append(refs, m)
		}
		meta["ownerReferences"] = refs
	}
	kind := o.kind
	if kind == "" {
		kind = "Thing"
	}
	obj := map[string]any{"apiVersion": "v1", "kind": kind, "metadata": meta}
	if o.spec != nil {
		obj["spec"] = o.spec
	}
	if o.status != nil {
		obj["status"] = o.status
	}
	b, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	return b
}

func (o ob) record(tb testing.TB) *Record {
	tb.Helper()
	r, err := RecordFromJSON(o.cluster, o.gvr, o.json())
	if err != nil {
		tb.Fatalf("RecordFromJSON(%s/%s): %v", o.cluster, o.name, err)
	}
	return r
}

// rec is a minimal record (no JSON walk needed).
func rec(cluster string, gvr GVR, ns, name, uid, rv string) *Record {
	o := ob{cluster: cluster, gvr: gvr, ns: ns, name: name, uid: uid, rv: rv}
	r, err := RecordFromJSON(cluster, gvr, o.json())
	if err != nil {
		panic(err)
	}
	return r
}

func newStore(tb testing.TB, opts Options) *Store {
	tb.Helper()
	s, err := New(opts)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return s
}

func mustCreate(tb testing.TB, s *Store, rs ...*Record) {
	tb.Helper()
	for _, r := range rs {
		if err := s.Create(r); err != nil {
			tb.Fatalf("Create %v: %v", r.Key(), err)
		}
	}
}

func keyString(k Key) string {
	return fmt.Sprintf("%s|%s|%s|%s", k.Cluster, k.GVR, k.Namespace, k.Name)
}

func keysOf(rs []*Record) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, keyString(r.Key()))
	}
	return out
}

// allKeys lists every stored key of a view, sorted.
func allKeys(v *View) []string {
	var out []string
	v.All(func(r *Record) bool { out = append(out, keyString(r.Key())); return true })
	sort.Strings(out)
	return out
}

type recordingObserver struct {
	mu    sync.Mutex
	calls [][]Change
}

func (o *recordingObserver) Observe(ch []Change) {
	o.mu.Lock()
	o.calls = append(o.calls, append([]Change(nil), ch...))
	o.mu.Unlock()
}

func (o *recordingObserver) flat() []Change {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Change
	for _, c := range o.calls {
		out = append(out, c...)
	}
	return out
}

// ---- write path ----

func TestCreateExistingAndUpdateMissing(t *testing.T) {
	s := newStore(t, Options{})
	mustCreate(t, s, rec("c1", gvrPods, "ns", "a", "u1", "1"))

	err := s.Create(rec("c1", gvrPods, "ns", "a", "u2", "2"))
	if !errors.Is(err, ErrExists) {
		t.Fatalf("Create of an existing key: got %v, want ErrExists", err)
	}
	var ke *KeyError
	if !errors.As(err, &ke) {
		t.Fatalf("Create of an existing key: %T is not a *KeyError", err)
	}
	want := Key{Cluster: "c1", GVR: gvrPods, Namespace: "ns", Name: "a"}
	if ke.Key != want {
		t.Fatalf("KeyError.Key = %+v, want %+v", ke.Key, want)
	}
	if got, _ := s.Get(want); got.UID != "u1" {
		t.Fatalf("failed Create replaced the object: uid %q", got.UID)
	}

	for _, tc := range []struct {
		name string
		r    *Record
	}{
		{"other name", rec("c1", gvrPods, "ns", "b", "u3", "1")},
		{"other namespace", rec("c1", gvrPods, "ns2", "a", "u3", "1")},
		{"other cluster", rec("c10", gvrPods, "ns", "a", "u3", "1")},
		{"other resource", rec("c1", gvrPodsX, "ns", "a", "u3", "1")},
		{"cluster-scoped", rec("c1", gvrPods, "", "a", "u3", "1")},
	} {
		err := s.Update(tc.r)
		if !errors.Is(err, ErrNotFound) || !errors.As(err, &ke) || ke.Key != tc.r.Key() {
			t.Errorf("%s: Update of a missing key: got %v, want *KeyError{ErrNotFound, %v}", tc.name, err, tc.r.Key())
		}
		if _, err := s.Get(tc.r.Key()); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: failed Update stored the object (Get: %v)", tc.name, err)
		}
	}
	if _, err := s.Get(Key{Cluster: "c1", GVR: gvrPods, Namespace: "ns", Name: "zz"}); !errors.Is(err, ErrNotFound) || !errors.As(err, &ke) {
		t.Fatalf("Get of a missing key: %v", err)
	}
	if err := s.Update(rec("c1", gvrPods, "ns", "a", "u1", "5")); err != nil {
		t.Fatalf("Update of a stored key: %v", err)
	}
	if got, _ := s.Get(want); got.ResourceVersion != "5" {
		t.Fatalf("Update not visible: rv %q", got.ResourceVersion)
	}
}

func TestUpdateEventsFollowUID(t *testing.T) {
	ev := Event{UID: "e1", Namespace: "ns", Name: "a.1", ResourceVersion: "100", Object: []byte(`{}`)}
	for _, tc := range []struct {
		name       string
		write      func(s *Store, r *Record) error
		newUID     string
		wantEvents int
	}{
		{"update same uid keeps events", (*Store).Update, "u1", 1},
		{"update new uid drops events", (*Store).Update, "u2", 0},
		{"upsert same uid keeps events", (*Store).Upsert, "u1", 1},
		{"upsert new uid drops events", (*Store).Upsert, "u2", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, Options{})
			mustCreate(t, s, rec("c1", gvrPods, "ns", "a", "u1", "1"))
			if ok, err := s.RecordEvent("c1", "u1", ev); !ok || err != nil {
				t.Fatalf("RecordEvent = %v, %v", ok, err)
			}
			if err := tc.write(s, rec("c1", gvrPods, "ns", "a", tc.newUID, "2")); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(Key{"c1", gvrPods, "ns", "a"})
			if err != nil {
				t.Fatal(err)
			}
			if got.ResourceVersion != "2" || got.UID != tc.newUID {
				t.Fatalf("write not applied: %+v", got)
			}
			if len(got.Events) != tc.wantEvents {
				t.Fatalf("events = %d, want %d", len(got.Events), tc.wantEvents)
			}
			if tc.wantEvents == 1 && got.Events[0].ResourceVersion != "100" {
				t.Fatalf("kept event changed: %+v", got.Events[0])
			}
			rvs := s.View().ResourceVersions("c1")[gvrPods]
			if len(rvs.Events) != tc.wantEvents {
				t.Fatalf("ResourceVersions events = %v, want %d entries", rvs.Events, tc.wantEvents)
			}
		})
	}
}

func TestUpsertAndDelete(t *testing.T) {
	obs := &recordingObserver{}
	s := newStore(t, Options{Observers: []Observer{obs}})
	k := Key{"c1", gvrPods, "ns", "a"}
	if err := s.Upsert(rec("c1", gvrPods, "ns", "a", "u1", "1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Upsert(rec("c1", gvrPods, "ns", "a", "u1", "2")); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(k); got == nil || got.ResourceVersion != "2" {
		t.Fatalf("Upsert did not replace: %+v", got)
	}
	ok, err := s.Delete(Key{"c1", gvrPods, "ns", "absent"})
	if ok || err != nil {
		t.Fatalf("Delete absent = %v, %v; want false, nil", ok, err)
	}
	ok, err = s.Delete(Key{"c10", gvrPods, "ns", "a"}) // same name, other cluster
	if ok || err != nil {
		t.Fatalf("Delete in another cluster = %v, %v; want false, nil", ok, err)
	}
	if ok, err = s.Delete(k); !ok || err != nil {
		t.Fatalf("Delete present = %v, %v; want true, nil", ok, err)
	}
	if _, err := s.Get(k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted object still readable: %v", err)
	}
	if ok, err = s.Delete(k); ok || err != nil {
		t.Fatalf("second Delete = %v, %v; want false, nil", ok, err)
	}
	var kinds []ChangeKind
	for _, c := range obs.flat() {
		kinds = append(kinds, c.Kind)
	}
	want := []ChangeKind{ChangeCreate, ChangeUpdate, ChangeDelete}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("observed %v, want %v (absent deletes must not notify)", kinds, want)
	}
}

// cleanFixture stores the same names in several clusters ("c1" and its prefix trap "c10")
// and GVRs ("pods" and its prefix trap "podsx").
func cleanFixture(t *testing.T, s *Store) {
	for _, c := range []string{"c1", "c10", "c2"} {
		for _, g := range []GVR{gvrPods, gvrPodsX, gvrDeploy, gvrNS} {
			ns := "ns"
			if g == gvrNS {
				ns = ""
			}
			for _, n := range []string{"a", "b"} {
				mustCreate(t, s, rec(c, g, ns, n, c+"-"+g.Resource+"-"+n, "1"))
			}
		}
	}
}

func TestCleanClusterAndResource(t *testing.T) {
	s := newStore(t, Options{})
	cleanFixture(t, s)
	before := allKeys(s.View())
	if len(before) != 24 {
		t.Fatalf("fixture has %d objects", len(before))
	}
	filter := func(keys []string, drop func(k string) bool) []string {
		var out []string
		for _, k := range keys {
			if !drop(k) {
				out = append(out, k)
			}
		}
		return out
	}
	hasPrefix := func(p string) func(string) bool {
		return func(k string) bool { return len(k) >= len(p) && k[:len(p)] == p }
	}

	n, err := s.CleanResource("c2", gvrPods)
	if err != nil || n != 2 {
		t.Fatalf("CleanResource(c2, pods) = %d, %v; want 2", n, err)
	}
	want := filter(before, hasPrefix("c2|v1/pods|"))
	if got := allKeys(s.View()); !reflect.DeepEqual(got, want) {
		t.Fatalf("after CleanResource(c2, pods):\n got %v\nwant %v", got, want)
	}
	n, err = s.CleanResource("c2", gvrPods)
	if err != nil || n != 0 {
		t.Fatalf("second CleanResource = %d, %v; want 0", n, err)
	}
	n, err = s.CleanResource("c1", gvrNS) // cluster-scoped
	if err != nil || n != 2 {
		t.Fatalf("CleanResource(c1, namespaces) = %d, %v; want 2", n, err)
	}
	want = filter(want, hasPrefix("c1|v1/namespaces|"))
	n, err = s.CleanCluster("c1")
	if err != nil || n != 6 {
		t.Fatalf("CleanCluster(c1) = %d, %v; want 6", n, err)
	}
	want = filter(want, hasPrefix("c1|"))
	if got := allKeys(s.View()); !reflect.DeepEqual(got, want) {
		t.Fatalf("after CleanCluster(c1):\n got %v\nwant %v", got, want)
	}
	if n, err = s.CleanCluster("nope"); err != nil || n != 0 {
		t.Fatalf("CleanCluster(unknown) = %d, %v", n, err)
	}
	if got := s.View().Clusters(); !reflect.DeepEqual(got, []string{"c10", "c2"}) {
		t.Fatalf("Clusters = %v", got)
	}
	checkStats(t, s.View())
	// The cleaned cluster accepts new objects again, with fresh stats.
	mustCreate(t, s, rec("c1", gvrPods, "ns", "a", "new", "1"))
	checkStats(t, s.View())
}

func lessStrings(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// checkStats recomputes Stats from the records of the view.
func checkStats(t *testing.T, v *View) {
	t.Helper()
	want := map[statsKey]ResourceStat{}
	v.All(func(r *Record) bool {
		k := statsKey{r.Cluster, r.GVR}
		st := want[k]
		st.Cluster, st.GVR = r.Cluster, r.GVR
		st.Count++
		st.Bytes += int64(len(r.Object))
		want[k] = st
		return true
	})
	got := v.Stats("")
	if len(got) != len(want) {
		t.Fatalf("Stats has %d rows, records say %d: %+v", len(got), len(want), got)
	}
	for i, st := range got {
		if w := want[statsKey{st.Cluster, st.GVR}]; st != w {
			t.Fatalf("Stats row %+v, records say %+v", st, w)
		}
		if i > 0 {
			p := got[i-1]
			pk := []string{p.Cluster, p.GVR.Group, p.GVR.Version, p.GVR.Resource}
			sk := []string{st.Cluster, st.GVR.Group, st.GVR.Version, st.GVR.Resource}
			if !lessStrings(pk, sk) {
				t.Fatalf("Stats not in (cluster, GVR) order: %+v before %+v", p, st)
			}
		}
	}
	for _, c := range v.Clusters() {
		for _, st := range v.Stats(c) {
			if st.Cluster != c {
				t.Fatalf("Stats(%q) returned %+v", c, st)
			}
		}
	}
	checkUIDRefs(t, v)
}

func TestRecordEvent(t *testing.T) {
	s := newStore(t, Options{})
	mustCreate(t, s,
		rec("c1", gvrWidgetV1, "ns", "w", "uw", "1"),
		rec("c1", gvrWidgetV2, "ns", "w", "uw", "1"), // the same object at a second version
		rec("c2", gvrWidgetV1, "ns", "w", "uw", "1"), // the same UID in another cluster
		rec("c1", gvrPods, "ns", "p", "up", "1"),
	)
	ev := func(uid, rv string) Event {
		return Event{UID: uid, Namespace: "ns", Name: "ev-" + uid, ResourceVersion: rv, Object: []byte(`{"rv":"` + rv + `"}`)}
	}
	steps := []struct {
		cluster, uid string
		ev           Event
		wantOK       bool
	}{
		{"c1", "uw", ev("e1", "10"), true},
		{"c1", "uw", ev("e2", "11"), true},
		{"c1", "uw", ev("e1", "12"), true}, // replaces e1 in place
		{"c1", "nobody", ev("e3", "13"), false},
		{"c3", "uw", ev("e4", "14"), false}, // no such cluster
	}
	for _, st := range steps {
		ok, err := s.RecordEvent(st.cluster, st.uid, st.ev)
		if err != nil || ok != st.wantOK {
			t.Fatalf("RecordEvent(%s, %s, %s) = %v, %v; want %v", st.cluster, st.uid, st.ev.UID, ok, err, st.wantOK)
		}
	}
	if _, err := s.RecordEvent("c1", "", ev("e5", "1")); err == nil {
		t.Fatal("RecordEvent without an involved UID must fail")
	}
	for _, g := range []GVR{gvrWidgetV1, gvrWidgetV2} {
		r, err := s.Get(Key{"c1", g, "ns", "w"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range r.Events {
			got = append(got, e.UID+"@"+e.ResourceVersion)
		}
		if want := []string{"e1@12", "e2@11"}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s events = %v, want %v", g, got, want)
		}
		rv := s.View().ResourceVersions("c1")[g]
		if want := map[string]string{"ns/ev-e1": "12", "ns/ev-e2": "11"}; !reflect.DeepEqual(rv.Events, want) {
			t.Errorf("%s ResourceVersions events = %v, want %v", g, rv.Events, want)
		}
	}
	for _, k := range []Key{{"c2", gvrWidgetV1, "ns", "w"}, {"c1", gvrPods, "ns", "p"}} {
		if r, _ := s.Get(k); len(r.Events) != 0 {
			t.Errorf("%v got events it is not involved in: %+v", k, r.Events)
		}
	}
	checkStats(t, s.View())
}

func TestApplyAtomic(t *testing.T) {
	for _, tc := range []struct {
		name    string
		muts    []Mutation
		wantErr error
	}{
		{"duplicate create", []Mutation{
			{Op: OpCreate, Record: rec("c1", gvrPods, "ns", "new1", "n1", "1")},
			{Op: OpDelete, Key: Key{"c1", gvrPods, "ns", "a"}},
			{Op: OpCreate, Record: rec("c1", gvrPods, "ns", "b", "dup", "1")},
		}, ErrExists},
		{"update missing after clean", []Mutation{
			{Op: OpCleanCluster, Key: Key{Cluster: "c1"}},
			{Op: OpUpsert, Record: rec("c9", gvrPods, "ns", "x", "x", "1")},
			{Op: OpUpdate, Record: rec("c1", gvrPods, "ns", "zz", "zz", "1")},
		}, ErrNotFound},
		{"create twice in the batch", []Mutation{
			{Op: OpRecordEvent, Key: Key{Cluster: "c1"}, InvolvedUID: "c1-pods-a", Event: &Event{UID: "e", Name: "e"}},
			{Op: OpCreate, Record: rec("c9", gvrPods, "ns", "x", "x", "1")},
			{Op: OpCreate, Record: rec("c9", gvrPods, "ns", "x", "x", "1")},
		}, ErrExists},
		{"invalid record", []Mutation{
			{Op: OpCleanResource, Key: Key{Cluster: "c2", GVR: gvrDeploy}},
			{Op: OpCreate, Record: &Record{Cluster: "c1", GVR: gvrPods, Name: ""}},
		}, nil},
		{"unknown op", []Mutation{
			{Op: OpDelete, Key: Key{"c1", gvrPods, "ns", "a"}},
			{Op: MutationOp(99)},
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := &recordingObserver{}
			s := newStore(t, Options{Observers: []Observer{obs}})
			cleanFixture(t, s)
			before := allKeys(s.View())
			beforeStats := s.View().Stats("")
			beforeRV := s.View().ResourceVersions("c1")
			nCalls := len(obs.calls)
			err := s.Apply(tc.muts)
			if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("Apply = %v, want an error (%v)", err, tc.wantErr)
			}
			if got := allKeys(s.View()); !reflect.DeepEqual(got, before) {
				t.Fatalf("failed batch changed the store:\n got %v\nwant %v", got, before)
			}
			if got := s.View().Stats(""); !reflect.DeepEqual(got, beforeStats) {
				t.Fatalf("failed batch changed stats")
			}
			if got := s.View().ResourceVersions("c1"); !reflect.DeepEqual(got, beforeRV) {
				t.Fatalf("failed batch changed resource versions / events")
			}
			if len(obs.calls) != nCalls {
				t.Fatalf("observers were told about a failed batch: %+v", obs.calls[nCalls:])
			}
		})
	}
}

func TestApplyBatch(t *testing.T) {
	obs := &recordingObserver{}
	s := newStore(t, Options{Observers: []Observer{obs}})
	cleanFixture(t, s)
	obs.calls = nil
	err := s.Apply([]Mutation{
		{Op: OpCreate, Record: rec("c1", gvrPods, "ns", "c", "c1-pods-c", "1")},
		{Op: OpUpdate, Record: rec("c1", gvrPods, "ns", "a", "c1-pods-a", "2")},
		{Op: OpDelete, Key: Key{"c1", gvrPods, "ns", "b"}},
		{Op: OpRecordEvent, Key: Key{Cluster: "c1"}, InvolvedUID: "c1-pods-c", Event: &Event{UID: "e", Namespace: "ns", Name: "e", ResourceVersion: "7"}},
		{Op: OpCleanResource, Key: Key{Cluster: "c2", GVR: gvrPodsX}},
		{Op: OpDelete, Key: Key{"c1", gvrPods, "ns", "absent"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(obs.calls) != 1 {
		t.Fatalf("a batch must be observed as one call, got %d", len(obs.calls))
	}
	var kinds []ChangeKind
	for _, c := range obs.calls[0] {
		kinds = append(kinds, c.Kind)
	}
	want := []ChangeKind{ChangeCreate, ChangeUpdate, ChangeDelete, ChangeEvent, ChangeCleanResource}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("changes %v, want %v", kinds, want)
	}
	if c := obs.calls[0][4]; c.Removed != 2 || c.Cluster != "c2" || c.GVR != gvrPodsX {
		t.Fatalf("clean change %+v", c)
	}
	r, _ := s.Get(Key{"c1", gvrPods, "ns", "c"})
	if r == nil || len(r.Events) != 1 {
		t.Fatalf("event recorded on an object created in the same batch: %+v", r)
	}
	checkStats(t, s.View())
}

// A clean in a batch must remove objects created earlier in the same batch, including in a
// (cluster, GVR) pair that did not exist before the batch.
func TestApplyCreateThenCleanInOneBatch(t *testing.T) {
	for _, tc := range []struct {
		name  string
		clean Mutation
	}{
		{"clean cluster", Mutation{Op: OpCleanCluster, Key: Key{Cluster: "c9"}}},
		{"clean resource", Mutation{Op: OpCleanResource, Key: Key{Cluster: "c9", GVR: gvrPods}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, Options{})
			mustCreate(t, s, rec("c1", gvrPods, "ns", "a", "a", "1"))
			err := s.Apply([]Mutation{
				{Op: OpCreate, Record: rec("c9", gvrPods, "ns", "x", "x", "1")},
				tc.clean,
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := allKeys(s.View()); !reflect.DeepEqual(got, []string{"c1|v1/pods|ns|a"}) {
				t.Errorf("objects left after create+clean in one batch: %v", got)
			}
			checkStats(t, s.View())
		})
	}
}

func TestClose(t *testing.T) {
	s := newStore(t, Options{})
	mustCreate(t, s, rec("c1", gvrPods, "ns", "a", "u", "1"))
	v := s.View()
	s.Close()
	s.Close() // idempotent
	r := rec("c1", gvrPods, "ns", "b", "u2", "1")
	for name, err := range map[string]error{
		"create": s.Create(r),
		"update": s.Update(rec("c1", gvrPods, "ns", "a", "u", "2")),
		"upsert": s.Upsert(r),
		"apply":  s.Apply([]Mutation{{Op: OpCreate, Record: r}}),
		"delete": func() error { _, err := s.Delete(Key{"c1", gvrPods, "ns", "a"}); return err }(),
		"clean":  func() error { _, err := s.CleanCluster("c1"); return err }(),
		"cleanr": func() error { _, err := s.CleanResource("c1", gvrPods); return err }(),
		"event":  func() error { _, err := s.RecordEvent("c1", "u", Event{UID: "e"}); return err }(),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if got := allKeys(s.View()); !reflect.DeepEqual(got, []string{"c1|v1/pods|ns|a"}) {
		t.Fatalf("reads after Close: %v", got)
	}
	if got, err := v.Get(Key{"c1", gvrPods, "ns", "a"}); err != nil || got.ResourceVersion != "1" {
		t.Fatalf("old view after Close: %v %v", got, err)
	}
}

func TestObserversCommitOrder(t *testing.T) {
	obs := &recordingObserver{}
	s := newStore(t, Options{Observers: []Observer{obs, &recordingObserver{}}})
	a1 := rec("c1", gvrPods, "ns", "a", "u", "1")
	a2 := rec("c1", gvrPods, "ns", "a", "u", "2")
	b := rec("c1", gvrDeploy, "ns", "b", "ub", "1")
	mustCreate(t, s, a1, b)
	if err := s.Update(a2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordEvent("c1", "u", Event{UID: "e"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(a2.Key()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CleanCluster("c1"); err != nil {
		t.Fatal(err)
	}
	ch := obs.flat()
	type step struct {
		kind     ChangeKind
		old, new string // rv of Old / New ("-" for nil)
	}
	rv := func(r *Record) string {
		if r == nil {
			return "-"
		}
		return r.Name + "@" + r.ResourceVersion + "#" + strconv.Itoa(len(r.Events))
	}
	var got []step
	for _, c := range ch {
		got = append(got, step{c.Kind, rv(c.Old), rv(c.New)})
	}
	want := []step{
		{ChangeCreate, "-", "a@1#0"},
		{ChangeCreate, "-", "b@1#0"},
		{ChangeUpdate, "a@1#0", "a@2#0"},
		{ChangeEvent, "a@2#0", "a@2#1"},
		{ChangeDelete, "a@2#1", "-"},
		{ChangeCleanCluster, "-", "-"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("changes\n got %+v\nwant %+v", got, want)
	}
	if last := ch[len(ch)-1]; last.Removed != 1 || last.Cluster != "c1" {
		t.Fatalf("clean change %+v", last)
	}
}

// Under concurrent writers, every observed update of a key starts from the record the
// previous observed change of that key produced: observers see commit order.
func TestObserversCommitOrderConcurrent(t *testing.T) {
	obs := &recordingObserver{}
	s := newStore(t, Options{Observers: []Observer{obs}})
	const writers, perWriter = 8, 60
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				name := fmt.Sprintf("k%d", i%3)
				if i%7 == 6 {
					if _, err := s.Delete(Key{"c1", gvrPods, "ns", name}); err != nil {
						t.Error(err)
					}
					continue
				}
				if err := s.Upsert(rec("c1", gvrPods, "ns", name, "u", fmt.Sprintf("%d", w*1000+i))); err != nil {
					t.Error(err)
				}
			}
		}(w)
	}
	wg.Wait()
	last := map[string]*Record{}
	for i, c := range obs.flat() {
		var k string
		if c.New != nil {
			k = c.New.Name
		} else {
			k = c.Old.Name
		}
		if c.Old != last[k] {
			t.Fatalf("change %d (%v %s): Old is not the previously committed record", i, c.Kind, k)
		}
		if (c.Kind == ChangeCreate) != (c.Old == nil) {
			t.Fatalf("change %d: kind %v with Old %v", i, c.Kind, c.Old)
		}
		last[k] = c.New
	}
	for k, r := range last {
		got, err := s.Get(Key{"c1", gvrPods, "ns", k})
		if r == nil {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("%s: last change was a delete but Get = %v, %v", k, got, err)
			}
		} else if got != r {
			t.Fatalf("%s: store holds %+v, last observed %+v", k, got, r)
		}
	}
}

func TestViewIsSnapshot(t *testing.T) {
	s := newStore(t, Options{})
	cleanFixture(t, s)
	v := s.View()
	keys := allKeys(v)
	stats := v.Stats("")
	res, err := v.List(&Query{Clusters: []string{"c1"}})
	if err != nil {
		t.Fatal(err)
	}
	listed := keysOf(res.Items)

	mustCreate(t, s, rec("c1", gvrPods, "ns", "zz", "zz", "1"))
	if err := s.Update(rec("c1", gvrPods, "ns", "a", "c1-pods-a", "99")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(Key{"c1", gvrPods, "ns", "b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CleanCluster("c2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordEvent("c1", "c1-pods-a", Event{UID: "e"}); err != nil {
		t.Fatal(err)
	}

	if got := allKeys(v); !reflect.DeepEqual(got, keys) {
		t.Fatalf("old view sees writes: %v", got)
	}
	if got := v.Stats(""); !reflect.DeepEqual(got, stats) {
		t.Fatalf("old view stats changed")
	}
	res, err = v.List(&Query{Clusters: []string{"c1"}})
	if err != nil || !reflect.DeepEqual(keysOf(res.Items), listed) {
		t.Fatalf("old view list changed: %v %v", keysOf(res.Items), err)
	}
	if r, _ := v.Get(Key{"c1", gvrPods, "ns", "a"}); r.ResourceVersion != "1" || len(r.Events) != 0 {
		t.Fatalf("old view sees update: %+v", r)
	}
	nv := s.View()
	if r, _ := nv.Get(Key{"c1", gvrPods, "ns", "a"}); r.ResourceVersion != "99" || len(r.Events) != 1 {
		t.Fatalf("new view misses update: %+v", r)
	}
	if got := len(allKeys(nv)); got != 24-8+1-1 {
		t.Fatalf("new view has %d objects", got)
	}
}

// Readers on snapshots run concurrently with writers (run with -race). Every batch writes
// the same generation into every object of a group, so a consistent snapshot never sees
// mixed generations, and the stats of a snapshot always match its records.
func TestConcurrentReadersAndWriters(t *testing.T) {
	s := newStore(t, Options{})
	const group = 5
	batch := func(gen int, c string) []Mutation {
		var m []Mutation
		for i := 0; i < group; i++ {
			m = append(m, Mutation{Op: OpUpsert, Record: rec(c, gvrPods, "ns", fmt.Sprintf("o%d", i), "u", strconv.Itoa(gen))})
		}
		if gen%5 == 4 {
			m = append(m, Mutation{Op: OpCleanResource, Key: Key{Cluster: c, GVR: gvrPods}})
		}
		return m
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w, c := range []string{"c1", "c2"} {
		wg.Add(1)
		go func(w int, c string) {
			defer wg.Done()
			for gen := 1; gen <= 150; gen++ {
				if err := s.Apply(batch(gen, c)); err != nil {
					t.Error(err)
					return
				}
			}
		}(w, c)
	}
	var readers sync.WaitGroup
	var reads atomic.Int64
	for r := 0; r < 4; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for !stop.Load() || reads.Load() < 50 {
				v := s.View()
				res, err := v.List(&Query{OrderBy: []OrderBy{{Field: OrderResourceVersion, Desc: true}}, WithRemainingCount: true, Limit: 3, WithContinue: true})
				if err != nil {
					t.Error(err)
					return
				}
				total := int64(len(res.Items)) + *res.RemainingCount
				var n int64
				gens := map[string]string{}
				v.All(func(r *Record) bool {
					n++
					if g, ok := gens[r.Cluster]; ok && g != r.ResourceVersion {
						t.Errorf("snapshot mixes generations in %s: %s and %s", r.Cluster, g, r.ResourceVersion)
					}
					gens[r.Cluster] = r.ResourceVersion
					return true
				})
				var statCount int64
				for _, st := range v.Stats("") {
					statCount += st.Count
				}
				if n != total || n != statCount || n%group != 0 {
					t.Errorf("snapshot: %d records, list total %d, stats %d", n, total, statCount)
				}
				reads.Add(1)
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	readers.Wait()
	checkStats(t, s.View())
}

func TestStatsThroughWrites(t *testing.T) {
	s := newStore(t, Options{})
	big := ob{cluster: "c1", gvr: gvrPods, ns: "ns", name: "a", uid: "u", rv: "2", annotations: map[string]string{"x": "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"}}.record(t)
	small := rec("c1", gvrPods, "ns", "a", "u", "1")
	steps := []func() error{
		func() error { return s.Create(small) },
		func() error { return s.Create(rec("c1", gvrPods, "", "cs", "u2", "1")) },
		func() error { return s.Create(rec("c1", gvrDeploy, "ns", "a", "u3", "1")) },
		func() error { return s.Create(rec("c2", gvrPods, "ns", "a", "u", "1")) },
		func() error { return s.Update(big) },
		func() error {
			_, err := s.RecordEvent("c1", "u", Event{UID: "e", Object: []byte("0123456789")})
			return err
		},
		func() error { return s.Upsert(rec("c1", gvrPods, "ns", "a", "u", "3")) },
		func() error { _, err := s.Delete(Key{"c1", gvrPods, "", "cs"}); return err },
		func() error { _, err := s.CleanResource("c1", gvrDeploy); return err },
		func() error { _, err := s.Delete(Key{"c1", gvrPods, "ns", "a"}); return err },
		func() error { return s.Create(rec("c1", gvrPods, "ns", "b", "u", "1")) },
		func() error { _, err := s.CleanCluster("c2"); return err },
	}
	for i, st := range steps {
		if err := st(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		checkStats(t, s.View())
	}
	got := s.View().Stats("")
	if len(got) != 1 || got[0].Cluster != "c1" || got[0].GVR != gvrPods || got[0].Count != 1 {
		t.Fatalf("final stats %+v", got)
	}
}

func TestResourceVersions(t *testing.T) {
	s := newStore(t, Options{})
	mustCreate(t, s,
		rec("c1", gvrPods, "ns", "a", "ua", "10"),
		rec("c1", gvrPods, "ns2", "a", "ua2", "11"),
		rec("c1", gvrNS, "", "ns", "un", "12"),
		rec("c1", gvrDeploy, "ns", "d", "ud", "13"),
		rec("c10", gvrPods, "ns", "z", "uz", "14"),
	)
	if _, err := s.RecordEvent("c1", "ua", Event{UID: "e1", Namespace: "ns", Name: "a.1", ResourceVersion: "20"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordEvent("c1", "un", Event{UID: "e2", Namespace: "default", Name: "ns.1", ResourceVersion: "21"}); err != nil {
		t.Fatal(err)
	}
	want := map[GVR]ResourceVersions{
		gvrPods:   {Resources: map[string]string{"ns/a": "10", "ns2/a": "11"}, Events: map[string]string{"ns/a.1": "20"}},
		gvrNS:     {Resources: map[string]string{"ns": "12"}, Events: map[string]string{"default/ns.1": "21"}},
		gvrDeploy: {Resources: map[string]string{"ns/d": "13"}, Events: map[string]string{}},
	}
	got := s.View().ResourceVersions("c1")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ResourceVersions(c1)\n got %+v\nwant %+v", got, want)
	}
	// The caller adopts and mutates the maps: the next call must not see that.
	got[gvrPods].Resources["ns/a"] = "mutated"
	got[gvrPods].Resources["ns/new"] = "1"
	got[gvrDeploy].Events["x/y"] = "1"
	delete(got, gvrNS)
	if again := s.View().ResourceVersions("c1"); !reflect.DeepEqual(again, want) {
		t.Fatalf("ResourceVersions shares state with a previous result:\n got %+v\nwant %+v", again, want)
	}
	// Only GVRs with data.
	if _, err := s.Delete(Key{"c1", gvrDeploy, "ns", "d"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.View().ResourceVersions("c1")[gvrDeploy]; ok {
		t.Fatal("a GVR without objects is still reported")
	}
	if got := s.View().ResourceVersions("nope"); len(got) != 0 {
		t.Fatalf("unknown cluster: %+v", got)
	}
	if got := s.View().ResourceVersions("c10"); !reflect.DeepEqual(got, map[GVR]ResourceVersions{
		gvrPods: {Resources: map[string]string{"ns/z": "14"}, Events: map[string]string{}}}) {
		t.Fatalf("ResourceVersions(c10) = %+v", got)
	}
}

func TestRecordFromJSON(t *testing.T) {
	r := ob{cluster: "c1", gvr: gvrPods, kind: "Pod", ns: "ns", name: "a", uid: "u", rv: "7", created: sec(3),
		labels: map[string]string{"app": "x"},
		owners: []OwnerRef{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: "r1", Controller: true}, {Kind: "X", Name: "x", UID: "r2"}},
	}.record(t)
	want := &Record{Cluster: "c1", GVR: gvrPods, Kind: "Pod", Namespace: "ns", Name: "a", UID: "u", ResourceVersion: "7",
		Created: sec(3), Labels: LabelsFromMap(map[string]string{"app": "x"}),
		Owners: []OwnerRef{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: "r1", Controller: true}, {Kind: "X", Name: "x", UID: "r2"}},
		Object: r.Object}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("RecordFromJSON\n got %+v\nwant %+v", r, want)
	}
	if r.ControllerUID() != "r1" {
		t.Fatalf("ControllerUID = %q", r.ControllerUID())
	}
	for _, bad := range []string{`{`, `{"metadata":{}}`, `{"metadata":{"name":"a","creationTimestamp":"yesterday"}}`} {
		if _, err := RecordFromJSON("c1", gvrPods, []byte(bad)); err == nil {
			t.Errorf("RecordFromJSON(%s) accepted", bad)
		}
	}
}
