package snapshot

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// abandon simulates a crash of the process in-process: background work stops and badger is
// closed without a final snapshot. With flush, buffered commits are written first (what a
// flush tick would have done); without, they are lost as in a crash.
func (p *Persister) abandon(flush bool) {
	p.mu.Lock()
	started := p.started
	p.mu.Unlock()
	if started {
		close(p.stop)
		p.wg.Wait()
	}
	if flush {
		_ = p.flush()
	}
	p.snapMu.Lock()
	defer p.snapMu.Unlock()
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	_ = p.wal.closeAll(false)
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.dbMu.Lock()
	defer p.dbMu.Unlock()
	if p.db != nil {
		_ = p.db.Close()
		p.db = nil
	}
}

func testOpts(dir string, t testing.TB) Options {
	return Options{Dir: dir, FlushInterval: 20 * time.Millisecond, SnapshotInterval: time.Hour,
		Logf: func(f string, a ...any) { t.Logf(f, a...) }}
}

// openStore opens dir, builds a store observed by the persister, restores and starts it.
func openStore(t testing.TB, opts Options) (*Persister, *index.Store, RestoreResult) {
	t.Helper()
	p, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s, err := index.New(index.Options{Observers: []index.Observer{p}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Restore(s)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if err := p.Start(s); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return p, s, res
}

func closeStore(t testing.TB, p *Persister, s *index.Store) {
	t.Helper()
	s.Close()
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

var (
	gvrPods   = index.GVR{Version: "v1", Resource: "pods"}
	gvrDeploy = index.GVR{Group: "apps", Version: "v1", Resource: "deployments"}
	gvrCM     = index.GVR{Version: "v1", Resource: "configmaps"}
	testGVRs  = []index.GVR{gvrPods, gvrDeploy, gvrCM}
)

func kindOf(g index.GVR) string {
	switch g.Resource {
	case "pods":
		return "Pod"
	case "deployments":
		return "Deployment"
	}
	return "ConfigMap"
}

// makeRecord builds a record through index.RecordFromJSON from a small object JSON.
func makeRecord(rng *rand.Rand, cluster string, gvr index.GVR, ns, name string, rv uint64) *index.Record {
	labels := map[string]string{"app": fmt.Sprintf("app-%d", rng.Intn(5))}
	if rng.Intn(2) == 0 {
		labels["tier"] = []string{"web", "db", "cache"}[rng.Intn(3)]
	}
	md := map[string]any{
		"name": name, "namespace": ns, "uid": fmt.Sprintf("uid-%s-%s-%s-%s", cluster, gvr.Resource, ns, name),
		"resourceVersion":   fmt.Sprint(rv),
		"creationTimestamp": time.Date(2024, 1, 1+rng.Intn(28), rng.Intn(24), 0, 0, 0, time.UTC).Format(time.RFC3339),
		"labels":            labels,
		"annotations":       map[string]string{"shadow.clusterpedia.io/cluster-name": cluster},
	}
	if gvr == gvrPods && rng.Intn(3) > 0 {
		md["ownerReferences"] = []map[string]any{{"apiVersion": "apps/v1", "kind": "ReplicaSet",
			"name": "rs-" + name, "uid": fmt.Sprintf("uid-rs-%d", rng.Intn(10)), "controller": true}}
	}
	pad := strings.Repeat("x", rng.Intn(1500))
	obj := map[string]any{"apiVersion": "v1", "kind": kindOf(gvr), "metadata": md, "spec": map[string]any{"pad": pad}}
	if gvr.Group != "" {
		obj["apiVersion"] = gvr.Group + "/" + gvr.Version
	}
	data, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	r, err := index.RecordFromJSON(cluster, gvr, data)
	if err != nil {
		panic(err)
	}
	return r
}

// canonRecord is a record's comparable content (SyncedAt excluded; nil and empty equal).
type canonRecord struct {
	Key     string
	Kind    string
	UID     string
	RV      string
	Created string
	Labels  map[string]string
	Owners  []index.OwnerRef
	Events  []index.Event
	Object  string
}

func canon(r *index.Record) canonRecord {
	c := canonRecord{
		Key:  fmt.Sprintf("%s|%s|%s|%s", r.Cluster, r.GVR, r.Namespace, r.Name),
		Kind: r.Kind, UID: r.UID, RV: r.ResourceVersion, Object: string(r.Object),
		Created: r.Created.UTC().Format(time.RFC3339Nano),
	}
	if len(r.Labels) > 0 {
		c.Labels = r.Labels.Map()
	}
	if len(r.Owners) > 0 {
		c.Owners = r.Owners
	}
	for _, e := range r.Events {
		if len(e.Object) == 0 {
			e.Object = nil
		}
		c.Events = append(c.Events, e)
	}
	return c
}

// dump is the whole store content in identity order.
func dump(s *index.Store) []canonRecord {
	var out []canonRecord
	s.View().All(func(r *index.Record) bool { out = append(out, canon(r)); return true })
	return out
}

// diffStores describes the first differences between two dumps ("" when equal).
func diffDumps(got, want []canonRecord) string {
	gm := map[string]canonRecord{}
	for _, r := range got {
		gm[r.Key] = r
	}
	wm := map[string]canonRecord{}
	for _, r := range want {
		wm[r.Key] = r
	}
	var diffs []string
	for k, w := range wm {
		g, ok := gm[k]
		if !ok {
			diffs = append(diffs, "missing "+k)
			continue
		}
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		if string(gj) != string(wj) {
			diffs = append(diffs, fmt.Sprintf("differs %s: got rv %s events %d, want rv %s events %d", k, g.RV, len(g.Events), w.RV, len(w.Events)))
		}
	}
	for k := range gm {
		if _, ok := wm[k]; !ok {
			diffs = append(diffs, "unexpected "+k)
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 8 {
		diffs = append(diffs[:8], fmt.Sprintf("... %d differences", len(diffs)))
	}
	return strings.Join(diffs, "\n")
}

func storeSize(s *index.Store) int {
	n := 0
	for _, st := range s.View().Stats("") {
		n += int(st.Count)
	}
	return n
}

// corruptDirs lists the directories dir was moved aside to.
func corruptDirs(t testing.TB, dir string) []string {
	m, err := filepath.Glob(dir + ".corrupt-*")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustNotExist(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		t.Fatalf("%s exists", path)
	}
}

func newRng() *rand.Rand { return rand.New(rand.NewSource(1)) }
