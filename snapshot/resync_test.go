package snapshot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/clusterpedia-memgraph/memgraph/index"
	"github.com/clusterpedia-memgraph/memgraph/internal/fleet"
)

// syncObject is one object of a (re)listed cluster state: a record, or an event recorded
// on its involved object.
type syncObject struct {
	rec         *index.Record
	event       *index.Event
	involvedUID string
	cluster     string
}

// fleetState turns a fleet into records and events (Event objects are recorded on their
// involved object, as Clusterpedia's event synchro does).
func fleetState(t testing.TB, f *fleet.Fleet) []syncObject {
	var out []syncObject
	for _, o := range f.Objects {
		if o.Kind == "Event" {
			var ev struct {
				Metadata struct {
					Namespace, Name, UID, ResourceVersion string
				}
				InvolvedObject struct{ UID string } `json:"involvedObject"`
			}
			if err := json.Unmarshal(o.JSON, &ev); err != nil {
				t.Fatal(err)
			}
			out = append(out, syncObject{cluster: o.Cluster, involvedUID: ev.InvolvedObject.UID, event: &index.Event{
				UID: ev.Metadata.UID, Namespace: ev.Metadata.Namespace, Name: ev.Metadata.Name,
				ResourceVersion: ev.Metadata.ResourceVersion, Object: o.JSON}})
			continue
		}
		r, err := index.RecordFromJSON(o.Cluster, o.GVR, o.JSON)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, syncObject{cluster: o.Cluster, rec: r})
	}
	return out
}

func cloneRecord(r *index.Record) *index.Record { c := *r; return &c }

// fullSync writes a state into an empty store.
func fullSync(t testing.TB, s *index.Store, state []syncObject) {
	for _, o := range state {
		if o.rec != nil {
			if err := s.Create(cloneRecord(o.rec)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, o := range state {
		if o.event != nil {
			if _, err := s.RecordEvent(o.cluster, o.involvedUID, *o.event); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// resync is Clusterpedia's restart path (contract §4.4): seed from GetResourceVersions,
// then Create unknown keys, Update when the listed RV is greater, skip equal ones, Delete
// keys that were not listed; the same for events. It returns the storage calls made.
func resync(t testing.TB, s *index.Store, state []syncObject) (calls int) {
	rvs := map[string]map[index.GVR]index.ResourceVersions{}
	for _, c := range s.View().Clusters() {
		rvs[c] = s.View().ResourceVersions(c)
	}
	rvOf := func(v string) uint64 { n, _ := strconv.ParseUint(v, 10, 64); return n }
	for _, o := range state {
		if o.rec == nil {
			continue
		}
		r := o.rec
		m := rvs[r.Cluster][r.GVR].Resources
		stored, known := m[r.NamespacedName()]
		switch {
		case !known:
			calls++
			if err := s.Create(cloneRecord(r)); err != nil {
				t.Fatal(err)
			}
		case rvOf(r.ResourceVersion) > rvOf(stored):
			calls++
			if err := s.Update(cloneRecord(r)); err != nil {
				t.Fatal(err)
			}
		}
		delete(m, r.NamespacedName())
	}
	for c, byGVR := range rvs {
		for gvr, v := range byGVR {
			for key := range v.Resources {
				ns, name := "", key
				if i := bytes.IndexByte([]byte(key), '/'); i >= 0 {
					ns, name = key[:i], key[i+1:]
				}
				calls++
				if _, err := s.Delete(index.Key{Cluster: c, GVR: gvr, Namespace: ns, Name: name}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// Events: recorded again only when new or changed.
	seen := map[string]string{}
	for c, byGVR := range rvs {
		for _, v := range byGVR {
			for k, rv := range v.Events {
				seen[c+"|"+k] = rv
			}
		}
	}
	for _, o := range state {
		if o.event == nil {
			continue
		}
		k := o.cluster + "|" + o.event.Namespace + "/" + o.event.Name
		if rv, ok := seen[k]; ok && rv == o.event.ResourceVersion {
			continue
		}
		calls++
		if _, err := s.RecordEvent(o.cluster, o.involvedUID, *o.event); err != nil {
			t.Fatal(err)
		}
	}
	return calls
}

// relist derives the member clusters' state after the downtime: every 20th object changed
// (higher resourceVersion, new label), every 33rd gone, 50 new objects per cluster.
func relist(t testing.TB, state []syncObject) (out []syncObject, changes int) {
	added := map[string]int{}
	for i, o := range state {
		if o.rec == nil {
			out = append(out, o)
			continue
		}
		r := o.rec
		switch {
		case i%33 == 5:
			changes++
			continue
		case i%20 == 3:
			var obj map[string]any
			if err := json.Unmarshal(r.Object, &obj); err != nil {
				t.Fatal(err)
			}
			md := obj["metadata"].(map[string]any)
			md["resourceVersion"] = strconv.FormatUint(uint64(1_000_000+i), 10)
			labels, _ := md["labels"].(map[string]any)
			if labels == nil {
				labels = map[string]any{}
			}
			labels["relisted"] = "changed"
			md["labels"] = labels
			data, _ := json.Marshal(obj)
			nr, err := index.RecordFromJSON(r.Cluster, r.GVR, data)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, syncObject{cluster: o.cluster, rec: nr})
			changes++
		default:
			out = append(out, o)
		}
		if r.GVR.Resource == "configmaps" && added[r.Cluster] < 50 {
			var obj map[string]any
			_ = json.Unmarshal(r.Object, &obj)
			md := obj["metadata"].(map[string]any)
			md["name"] = fmt.Sprintf("%s-new-%d", md["name"], i)
			md["uid"] = fmt.Sprintf("new-uid-%d", i)
			md["resourceVersion"] = strconv.Itoa(2_000_000 + i)
			data, _ := json.Marshal(obj)
			nr, err := index.RecordFromJSON(r.Cluster, r.GVR, data)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, syncObject{cluster: o.cluster, rec: nr})
			added[r.Cluster]++
			changes++
		}
	}
	return out, changes
}

// TestRestartThenResync: restore, then feed the relisted state through Clusterpedia's
// resync algorithm; the result equals a fresh full sync, and unchanged objects cost no
// storage call.
func TestRestartThenResync(t *testing.T) {
	f := fleet.Generate(fleet.Small())
	state := fleetState(t, f)
	dir := filepath.Join(t.TempDir(), "db")
	opts := testOpts(dir, t)
	p, s, _ := openStore(t, opts)
	fullSync(t, s, state)
	before := map[string]map[index.GVR]index.ResourceVersions{}
	for _, c := range s.View().Clusters() {
		before[c] = s.View().ResourceVersions(c)
	}
	want := dump(s)
	// Half the data in the snapshot, the rest only in the log, then a crash.
	if err := p.Snapshot(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CleanCluster(f.Clusters()[2]); err != nil {
		t.Fatal(err)
	}
	var third []syncObject
	for _, o := range state {
		if o.cluster == f.Clusters()[2] {
			third = append(third, o)
		}
	}
	fullSync(t, s, third)
	p.abandon(true)

	p, s, res := openStore(t, opts)
	defer closeStore(t, p, s)
	if res.Outcome != RestoreOK || res.LogCommits == 0 {
		t.Fatalf("%+v", res)
	}
	if d := diffDumps(dump(s), want); d != "" {
		t.Fatal(d)
	}
	for c, rv := range before {
		if got := s.View().ResourceVersions(c); !reflect.DeepEqual(got, rv) {
			t.Fatalf("cluster %s: restored resource versions differ", c)
		}
	}
	if calls := resync(t, s, state); calls != 0 {
		t.Fatalf("resync of an unchanged fleet made %d storage calls", calls)
	}

	relisted, changes := relist(t, state)
	calls := resync(t, s, relisted)
	fresh, _ := index.New(index.Options{})
	fullSync(t, fresh, relisted)
	if d := diffDumps(dump(s), dump(fresh)); d != "" {
		t.Fatalf("restored+resynced differs from a fresh full sync:\n%s", d)
	}
	if calls != changes {
		t.Fatalf("resync made %d storage calls for %d changed/added/removed objects", calls, changes)
	}
	t.Logf("%d objects restored; resync touched %d (changed, added, removed) and skipped the rest", res.Objects, calls)
}
