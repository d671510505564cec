package snapshot

import (
	"math/rand"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

func TestRecordCodecRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var recs []*index.Record
	for i := 0; i < 50; i++ {
		recs = append(recs, makeRecord(rng, "c1", testGVRs[i%3], "ns", "n"+string(rune('a'+i%26)), uint64(i)))
	}
	recs[0].Events = []index.Event{{UID: "e1", Namespace: "ns", Name: "x.1", ResourceVersion: "7", Object: []byte(`{}`)}}
	recs[1].Events = []index.Event{} // empty, not nil: must survive
	recs[2].Created = time.Time{}
	recs[3].Created = time.Unix(1700000000, 123456789).UTC()
	strs := map[string]string{}
	for _, r := range recs {
		var e encoder
		e.record(r)
		d := decoder{b: e.b, strs: strs}
		got := d.record()
		if d.err != nil || len(d.b) != 0 {
			t.Fatalf("decode: %v (%d left)", d.err, len(d.b))
		}
		if !reflect.DeepEqual(canon(got), canon(r)) || (got.Events == nil) != (r.Events == nil) || !got.Created.Equal(r.Created) {
			t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, r)
		}
		// Every truncation is an error, never a panic.
		for n := 0; n < len(e.b); n++ {
			d := decoder{b: e.b[:n]}
			if d.record(); d.err == nil {
				t.Fatalf("truncated record of %d/%d bytes decoded", n, len(e.b))
			}
		}
	}
}

// TestRoundTrip writes through every kind of mutation, shuts down cleanly, and restores.
func TestRoundTrip(t *testing.T) {
	for _, mode := range []string{SyncInterval, SyncStrict} {
		t.Run(mode, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "db")
			opts := testOpts(dir, t)
			opts.SyncMode = mode
			p, s, res := openStore(t, opts)
			if res.Outcome != RestoreEmpty {
				t.Fatalf("first start: outcome %q", res.Outcome)
			}
			n := 1500
			if mode == SyncStrict {
				n = 300
			}
			for i := 0; i < n; i++ {
				if err := genOp(7, i).apply(s); err != nil {
					t.Fatal(err)
				}
				if i == n/2 {
					if err := p.Snapshot(); err != nil {
						t.Fatal(err)
					}
				}
			}
			want := dump(s)
			wantRV := s.View().ResourceVersions("c1")
			closeStore(t, p, s)

			p, s, res = openStore(t, opts)
			defer closeStore(t, p, s)
			if res.Outcome != RestoreOK || res.Objects != len(want) || res.LogCommits != 0 {
				t.Fatalf("restore after clean shutdown: %+v (want %d objects, no log)", res, len(want))
			}
			if d := diffDumps(dump(s), want); d != "" {
				t.Fatal(d)
			}
			if got := s.View().ResourceVersions("c1"); !reflect.DeepEqual(got, wantRV) {
				t.Fatalf("resource versions differ")
			}
		})
	}
}

// TestCrashInProcess restores snapshot + log after an abandoned process, with cleans in
// the log.
func TestCrashInProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	opts := testOpts(dir, t)
	p, s, _ := openStore(t, opts)
	for i := 0; i < 800; i++ {
		if err := genOp(3, i).apply(s); err != nil {
			t.Fatal(err)
		}
		if i == 300 || i == 600 {
			if err := p.Snapshot(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.CleanCluster("c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CleanResource("c2", gvrPods); err != nil {
		t.Fatal(err)
	}
	if err := s.Upsert(makeRecord(rand.New(rand.NewSource(1)), "c2", gvrCM, "ns0", "after-clean", 99999)); err != nil {
		t.Fatal(err)
	}
	want := dump(s)
	p.abandon(true)

	p, s, res := openStore(t, opts)
	defer closeStore(t, p, s)
	if res.Outcome != RestoreOK || res.LogCommits == 0 {
		t.Fatalf("restore: %+v", res)
	}
	if d := diffDumps(dump(s), want); d != "" {
		t.Fatal(d)
	}
	for _, r := range want {
		if strings.HasPrefix(r.Key, "c1|") || strings.HasPrefix(r.Key, "c2|v1/pods|") {
			t.Fatalf("cleaned %s came back", r.Key)
		}
	}
	if rv := s.View().ResourceVersions("c1"); len(rv) != 0 {
		t.Fatalf("cleaned cluster reports resource versions: %v", rv)
	}
}

func TestLogOnlyNoSnapshot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	opts := testOpts(dir, t)
	p, s, _ := openStore(t, opts)
	for i := 0; i < 500; i++ {
		if err := genOp(11, i).apply(s); err != nil {
			t.Fatal(err)
		}
	}
	want := dump(s)
	p.abandon(true)
	p, s, res := openStore(t, opts)
	defer closeStore(t, p, s)
	if res.Outcome != RestoreOK || res.SnapshotObjects != 0 {
		t.Fatalf("restore: %+v", res)
	}
	if d := diffDumps(dump(s), want); d != "" {
		t.Fatal(d)
	}
}

func TestLockSecondOpenFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	opts := testOpts(dir, t)
	p, s, _ := openStore(t, opts)
	_, err := Open(opts)
	if err == nil || !strings.Contains(err.Error(), "another memgraph process is using "+dir) {
		t.Fatalf("second Open: %v", err)
	}
	if m := corruptDirs(t, dir); len(m) != 0 {
		t.Fatalf("a lock conflict moved data aside: %v", m)
	}
	closeStore(t, p, s)
	p, s, _ = openStore(t, opts) // released on Close
	closeStore(t, p, s)
}

func TestNotObserver(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	opts := testOpts(dir, t)
	p, s, _ := openStore(t, opts)
	if err := genOp(1, 0).apply(s); err != nil {
		t.Fatal(err)
	}
	if err := s.Upsert(makeRecord(rand.New(rand.NewSource(1)), "c0", gvrCM, "a", "b", 1)); err != nil {
		t.Fatal(err)
	}
	closeStore(t, p, s)
	p, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	bare, _ := index.New(index.Options{})
	if _, err := p.Restore(bare); err != ErrNotObserver {
		t.Fatalf("Restore into a store without the observer: %v", err)
	}
	if storeSize(bare) != 0 {
		t.Fatal("store not emptied")
	}
}

func TestCloseIdempotentAndLateWrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	p, s, _ := openStore(t, testOpts(dir, t))
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	// Wrong order (store still open): the write is counted, nothing crashes.
	if err := s.Upsert(makeRecord(rand.New(rand.NewSource(1)), "c0", gvrCM, "a", "b", 1)); err != nil {
		t.Fatal(err)
	}
	if st := p.Status(); st.DroppedAfterClose != 1 {
		t.Fatalf("DroppedAfterClose = %d", st.DroppedAfterClose)
	}
	if err := p.Snapshot(); err == nil {
		t.Fatal("Snapshot after Close succeeded")
	}
}

// TestSnapshotWhileWriting: writers keep going during snapshots; the restore equals the
// final state.
func TestSnapshotWhileWriting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	opts := testOpts(dir, t)
	p, s, _ := openStore(t, opts)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 5; i++ {
			if err := p.Snapshot(); err != nil {
				t.Error(err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	i := 0
	for ; ; i++ {
		if err := genOp(5, i).apply(s); err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
		default:
			continue
		}
		break
	}
	st := p.Status()
	if st.Snapshots == 0 || st.SnapshotFailures != 0 {
		t.Fatalf("status %+v", st)
	}
	t.Logf("%d writes during 5 snapshots; last blocked writers %s, took %s", i, st.LastSnapshotBlocked, st.LastSnapshotDuration)
	want := dump(s)
	p.abandon(true)
	p, s, res := openStore(t, opts)
	defer closeStore(t, p, s)
	if d := diffDumps(dump(s), want); d != "" {
		t.Fatalf("%+v\n%s", res, d)
	}
}
