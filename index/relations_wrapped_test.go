package index_test

import (
	memdb "github.com/hashicorp/go-memdb"

	"testing"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

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
