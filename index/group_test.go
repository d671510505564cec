package index

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	memdb "github.com/hashicorp/go-memdb"
)

// holdWriteLock holds the store's write lock; releaseAfter(n) waits until n single writes
// are queued behind it, then releases it.
func holdWriteLock(t *testing.T, s *Store) (releaseAfter func(n int)) {
	t.Helper()
	held, done := make(chan struct{}), make(chan struct{})
	go s.ViewWith(func(*View) { close(held); <-done })
	<-held
	return func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			s.pendingMu.Lock()
			queued := len(s.pending)
			s.pendingMu.Unlock()
			if queued >= n {
				break
			}
			if time.Now().After(deadline) {
				close(done)
				t.Fatalf("only %d of %d writes queued", queued, n)
			}
			time.Sleep(time.Millisecond)
		}
		close(done)
	}
}

// TestGroupCommit: single-object writes queued while the write lock is held commit in
// one transaction, each with its own outcome.
func TestGroupCommit(t *testing.T) {
	obs := &recordingObserver{}
	s := newStore(t, Options{Observers: []Observer{obs}})
	mustCreate(t, s, rec("c1", gvrPods, "ns", "existing", "u0", "1"), rec("c1", gvrPods, "ns", "doomed", "u9", "1"))
	obs.calls = nil

	type write struct {
		name    string
		do      func() error
		wantErr error
	}
	writes := []write{
		{"create new", func() error { return s.Create(rec("c1", gvrPods, "ns", "new-1", "u1", "1")) }, nil},
		{"create existing", func() error { return s.Create(rec("c1", gvrPods, "ns", "existing", "ux", "1")) }, ErrExists},
		{"update missing", func() error { return s.Update(rec("c1", gvrPods, "ns", "missing", "uy", "1")) }, ErrNotFound},
		{"update existing", func() error { return s.Update(rec("c1", gvrPods, "ns", "existing", "u0", "2")) }, nil},
		{"upsert", func() error { return s.Upsert(rec("c2", gvrDeploy, "ns", "d", "u2", "1")) }, nil},
		{"delete", func() error {
			_, err := s.Delete(Key{Cluster: "c1", GVR: gvrPods, Namespace: "ns", Name: "doomed"})
			return err
		}, nil},
		{"invalid", func() error { return s.Create(&Record{Cluster: "c1", GVR: gvrPods, Name: ""}) }, errors.New("record needs")},
	}
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("bulk-%02d", i)
		writes = append(writes, write{name, func() error { return s.Create(rec("c1", gvrPods, "bulk", name, "b"+name, "1")) }, nil})
	}
	releaseAfter := holdWriteLock(t, s)
	errs := make([]error, len(writes))
	var wg sync.WaitGroup
	for i := range writes {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = writes[i].do() }()
	}
	releaseAfter(len(writes))
	wg.Wait()

	for i, w := range writes {
		switch {
		case w.wantErr == nil && errs[i] != nil:
			t.Errorf("%s: %v", w.name, errs[i])
		case w.wantErr != nil && errs[i] == nil:
			t.Errorf("%s: no error, want %v", w.name, w.wantErr)
		case w.wantErr == ErrExists || w.wantErr == ErrNotFound:
			if !errors.Is(errs[i], w.wantErr) {
				t.Errorf("%s: %v, want %v", w.name, errs[i], w.wantErr)
			}
		}
	}
	if len(obs.calls) != 1 {
		t.Fatalf("%d commits observed, want the whole queue in one", len(obs.calls))
	}
	if got, want := len(obs.calls[0]), len(writes)-3; got != want {
		t.Errorf("the commit carried %d changes, want %d", got, want)
	}
	v := s.View()
	keys := allKeys(v)
	want := []string{"c1|v1/pods|ns|existing", "c1|v1/pods|ns|new-1", "c2|apps/v1/deployments|ns|d"}
	for i := 0; i < 20; i++ {
		want = append(want, fmt.Sprintf("c1|v1/pods|bulk|bulk-%02d", i))
	}
	sort.Strings(want)
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Errorf("stored %v\nwant %v", keys, want)
	}
	if r, _ := v.Get(Key{Cluster: "c1", GVR: gvrPods, Namespace: "ns", Name: "existing"}); r == nil || r.ResourceVersion != "2" {
		t.Errorf("existing was not updated: %+v", r)
	}
	checkStats(t, v)
}

// failingHook fails every transaction that writes an object named bad.
type failingHook struct{ bad string }

func (failingHook) Tables() map[string]*memdb.TableSchema { return nil }
func (h failingHook) Apply(_ *memdb.Txn, changes []Change) error {
	for _, c := range changes {
		if c.New != nil && c.New.Name == h.bad {
			return errors.New("hook refuses " + h.bad)
		}
	}
	return nil
}

// TestGroupCommitFallsBackAlone: when the group transaction fails for a reason that is
// not one write's precondition (here a hook), every write is committed alone and only the
// failing one fails.
func TestGroupCommitFallsBackAlone(t *testing.T) {
	obs := &recordingObserver{}
	s := newStore(t, Options{Observers: []Observer{obs}, Hooks: []TxnHook{failingHook{bad: "bad"}}})
	names := []string{"a", "b", "bad", "c"}
	releaseAfter := holdWriteLock(t, s)
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.Create(rec("c1", gvrPods, "ns", n, "u"+n, "1")) }()
	}
	releaseAfter(len(names))
	wg.Wait()
	for i, n := range names {
		if (n == "bad") != (errs[i] != nil) {
			t.Errorf("%s: error %v", n, errs[i])
		}
	}
	if got := fmt.Sprint(allKeys(s.View())); got != "[c1|v1/pods|ns|a c1|v1/pods|ns|b c1|v1/pods|ns|c]" {
		t.Errorf("stored %s", got)
	}
	if len(obs.calls) != 3 {
		t.Errorf("%d commits observed, want 3 (one per successful write)", len(obs.calls))
	}
}

// TestGroupCommitConcurrent: many writers, random overlapping keys; every write gets the
// outcome a serial execution in commit order would give, and the store equals the
// observers' replay.
func TestGroupCommitConcurrent(t *testing.T) {
	obs := &recordingObserver{}
	s := newStore(t, Options{Observers: []Observer{obs}, Hooks: []TxnHook{NewRelations()}})
	const writers, per = 8, 300
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				name := fmt.Sprintf("p%d", (w*7+i)%50)
				switch i % 3 {
				case 0:
					err := s.Create(rec("c1", gvrPods, "ns", name, "u"+name, fmt.Sprint(i)))
					if err != nil && !errors.Is(err, ErrExists) {
						t.Error(err)
					}
				case 1:
					err := s.Update(rec("c1", gvrPods, "ns", name, "u"+name, fmt.Sprint(i)))
					if err != nil && !errors.Is(err, ErrNotFound) {
						t.Error(err)
					}
				case 2:
					if _, err := s.Delete(Key{Cluster: "c1", GVR: gvrPods, Namespace: "ns", Name: name}); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	// Replay the observed changes: the result must be the store's content.
	model := map[string]bool{}
	for _, c := range obs.flat() {
		switch c.Kind {
		case ChangeCreate:
			if model[c.New.Name] {
				t.Fatalf("create of stored %s observed", c.New.Name)
			}
			model[c.New.Name] = true
		case ChangeUpdate:
			if !model[c.New.Name] {
				t.Fatalf("update of absent %s observed", c.New.Name)
			}
		case ChangeDelete:
			if !model[c.Old.Name] {
				t.Fatalf("delete of absent %s observed", c.Old.Name)
			}
			delete(model, c.Old.Name)
		}
	}
	var want []string
	for n := range model {
		want = append(want, "c1|v1/pods|ns|"+n)
	}
	sort.Strings(want)
	if got := allKeys(s.View()); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("store %v\nreplay %v", got, want)
	}
	checkStats(t, s.View())
}
