package index_test

import (
	memdb "github.com/hashicorp/go-memdb"

	"testing"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// TestPrepareThenChange: references prepared outside the write lock are used only for the
// JSON and metadata they were extracted from; a record changed after Prepare is extracted
// again (the graph then matches the brute-force oracle, which reads the stored JSON).
func TestPrepareThenChange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before *index.Record
		change func(r *index.Record, t *testing.T)
	}{
		{"service selector replaced",
			rec(t, "c1", "Service", "ns", "web", "svc", nil, `"spec":{"selector":{"app":"web"}}`),
			func(r *index.Record, t *testing.T) {
				r.Object = rec(t, "c1", "Service", "ns", "web", "svc", nil, `"spec":{"selector":{"app":"api"}}`).Object
			}},
		{"pod volume replaced",
			rec(t, "c1", "Pod", "ns", "p9", "u9", map[string]string{"app": "api"}, `"spec":{"nodeName":"n1","volumes":[{"name":"v","configMap":{"name":"cm-a"}}]}`),
			func(r *index.Record, t *testing.T) {
				r.Object = rec(t, "c1", "Pod", "ns", "p9", "u9", map[string]string{"app": "api"}, `"spec":{"nodeName":"n2","volumes":[{"name":"v","secret":{"secretName":"s-b"}}]}`).Object
			}},
		{"endpointslice service label changed",
			rec(t, "c1", "EndpointSlice", "ns", "web-x", "es", map[string]string{"kubernetes.io/service-name": "web"}, `"addressType":"IPv4"`),
			func(r *index.Record, t *testing.T) {
				r.Labels = index.LabelsFromMap(map[string]string{"kubernetes.io/service-name": "other"})
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, rel := newRelStore(t)
			for _, r := range []*index.Record{
				rec(t, "c1", "Pod", "ns", "p1", "u1", map[string]string{"app": "web"}, `"spec":{}`),
				rec(t, "c1", "Pod", "ns", "p2", "u2", map[string]string{"app": "api"}, `"spec":{}`),
				rec(t, "c1", "Service", "ns", "other", "svc2", nil, `"spec":{"selector":{"app":"x"}}`),
			} {
				if err := s.Create(r); err != nil {
					t.Fatal(err)
				}
			}
			s.Prepare(tc.before)
			tc.change(tc.before, t)
			if err := s.Create(tc.before); err != nil {
				t.Fatal(err)
			}
			checkRelations(t, s, rel)
		})
	}
}

// wrappedHook wraps a hook the way instrumentation does.
type wrappedHook struct {
	index.TxnHook
	calls int
}

func (h *wrappedHook) Unwrap() index.TxnHook { return h.TxnHook }

func (h *wrappedHook) Apply(txn *memdb.Txn, ch []index.Change) error {
	h.calls++
	return h.TxnHook.Apply(txn, ch)
}

// TestWrappedRelationsHook: a Relations hook behind a wrapper with Unwrap is attached to
// the store's registry (name references resolve: the graph matches the oracle). It runs
// on its own goroutine after each commit, so the wrapper's Apply is never called.
func TestWrappedRelationsHook(t *testing.T) {
	rel := index.NewRelations()
	w := &wrappedHook{TxnHook: rel}
	s, err := index.New(index.Options{Hooks: []index.TxnHook{w}})
	if err != nil {
		t.Fatal(err)
	}
	_, recs := smallRecords(t)
	for _, r := range recs {
		if err := s.Create(r); err != nil {
			t.Fatal(err)
		}
	}
	if w.calls != 0 {
		t.Fatalf("the wrapper saw %d transactions, want none", w.calls)
	}
	checkRelations(t, s, rel)
}
