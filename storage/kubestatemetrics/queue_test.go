package kubestatemetrics

import (
	"fmt"
	"strings"
	"testing"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// TestQueueCoalescesAndOrders: what the renderer takes for a sequence of pushes —
// per-object coalescing at the first position, cleans and rebuilds superseding exactly the
// pending operations they cover, order kept.
func TestQueueCoalescesAndOrders(t *testing.T) {
	rec := func(rv string) *index.Record { return &index.Record{ResourceVersion: rv} }
	key := func(cluster string, k int, name string) objKey { return objKey{cluster, k, "ns", name} }
	type push struct {
		key    objKey
		rec    *index.Record // nil: delete
		marker opKind        // set: a marker for key.cluster (and key.kind)
	}
	show := func(ops []*op) string {
		var out []string
		for _, o := range ops {
			switch o.kind {
			case opUpsert:
				out = append(out, fmt.Sprintf("upsert %s/%d/%s@%s", o.key.cluster, o.key.kind, o.key.name, o.rec.ResourceVersion))
			case opDelete:
				out = append(out, fmt.Sprintf("delete %s/%d/%s", o.key.cluster, o.key.kind, o.key.name))
			case opCleanCluster:
				out = append(out, "clean "+o.key.cluster)
			case opCleanResource:
				out = append(out, fmt.Sprintf("clean %s/%d", o.key.cluster, o.key.kind))
			case opRebuild:
				out = append(out, "rebuild")
			}
		}
		return strings.Join(out, ", ")
	}
	cases := []struct {
		name   string
		pushes []push
		want   string
	}{
		{"updates coalesce at the first position", []push{
			{key: key("c1", 0, "a"), rec: rec("1")}, {key: key("c1", 0, "b"), rec: rec("2")}, {key: key("c1", 0, "a"), rec: rec("3")}},
			"upsert c1/0/a@3, upsert c1/0/b@2"},
		{"delete after upsert", []push{{key: key("c1", 0, "a"), rec: rec("1")}, {key: key("c1", 0, "a")}},
			"delete c1/0/a"},
		{"upsert after delete", []push{{key: key("c1", 0, "a")}, {key: key("c1", 0, "a"), rec: rec("2")}},
			"upsert c1/0/a@2"},
		{"clean cluster supersedes that cluster only", []push{
			{key: key("c1", 0, "a"), rec: rec("1")}, {key: key("c2", 0, "a"), rec: rec("2")}, {key: key("c1", 0, ""), marker: opCleanCluster},
			{key: key("c1", 0, "a"), rec: rec("3")}},
			"upsert c2/0/a@2, clean c1, upsert c1/0/a@3"},
		{"clean resource supersedes that kind only", []push{
			{key: key("c1", 0, "a"), rec: rec("1")}, {key: key("c1", 1, "a"), rec: rec("2")}, {key: key("c2", 0, "a"), rec: rec("3")},
			{key: key("c1", 0, ""), marker: opCleanResource}},
			"upsert c1/1/a@2, upsert c2/0/a@3, clean c1/0"},
		{"rebuild supersedes everything pending", []push{
			{key: key("c1", 0, "a"), rec: rec("1")}, {key: key("c2", 3, "b")}, {marker: opRebuild}, {key: key("c2", 3, "b"), rec: rec("4")}},
			"rebuild, upsert c2/3/b@4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := newQueue(100)
			q.mu.Lock()
			for _, p := range tc.pushes {
				if p.marker != 0 {
					q.pushMarker(&op{kind: p.marker, key: p.key})
				} else {
					q.pushObject(p.key, p.rec)
				}
			}
			q.mu.Unlock()
			if got := show(q.take(100, nil)); got != tc.want {
				t.Errorf("took %q, want %q", got, tc.want)
			}
			if len(q.pending) != 0 || q.len() != 0 {
				t.Errorf("after take: %d pending, %d queued", len(q.pending), q.len())
			}
		})
	}

	// Once taken, a later change of the same object queues anew (after what is queued).
	q := newQueue(100)
	q.mu.Lock()
	q.pushObject(key("c1", 0, "a"), rec("1"))
	q.mu.Unlock()
	first := show(q.take(100, nil))
	q.mu.Lock()
	q.pushObject(key("c1", 0, "b"), rec("2"))
	q.pushObject(key("c1", 0, "a"), rec("3"))
	q.mu.Unlock()
	if got := first + " | " + show(q.take(1, nil)) + " | " + show(q.take(1, nil)); got != "upsert c1/0/a@1 | upsert c1/0/b@2 | upsert c1/0/a@3" {
		t.Errorf("took %q", got)
	}
	// Closing releases barriers and makes take return nil.
	done := make(chan struct{})
	q.mu.Lock()
	q.pushMarker(&op{kind: opBarrier, done: done})
	q.mu.Unlock()
	q.close()
	<-done
	if ops := q.take(10, nil); ops != nil {
		t.Errorf("take after close = %v", ops)
	}
}
