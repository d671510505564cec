package snapshot

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	badger "github.com/dgraph-io/badger/v4"
)

// buildDir leaves dir with a snapshot of several chunks plus a log of several entries, as
// a crashed process would, and returns the store content.
func buildDir(t *testing.T, dir string) []canonRecord {
	t.Helper()
	old := chunkTarget
	chunkTarget = 32 << 10
	defer func() { chunkTarget = old }()
	p, s, _ := openStore(t, testOpts(dir, t))
	for i := 0; i < 400; i++ {
		if err := genOp(21, i).apply(s); err != nil {
			t.Fatal(err)
		}
		if i == 250 {
			if err := p.Snapshot(); err != nil {
				t.Fatal(err)
			}
		}
		if i > 250 && i%40 == 0 {
			p.flushMu.Lock()
			p.wal.rotate = true // one log segment per 40 ops
			p.flushMu.Unlock()
			if err := p.flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := dump(s)
	p.abandon(true)
	return want
}

// editDB opens dir with plain badger and lets fn change it.
func editDB(t *testing.T, dir string, fn func(txn *badger.Txn) error) {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil).WithMetricsEnabled(false))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// keysWithPrefix lists the keys of dir under prefix, in order.
func keysWithPrefix(txn *badger.Txn, prefix []byte) [][]byte {
	var out [][]byte
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		out = append(out, it.Item().KeyCopy(nil))
	}
	return out
}

func getValue(t *testing.T, txn *badger.Txn, k []byte) []byte {
	it, err := txn.Get(k)
	if err != nil {
		t.Fatalf("get %q: %v", k, err)
	}
	v, err := it.ValueCopy(nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func currentGen(t *testing.T, txn *badger.Txn) uint64 {
	var m marker
	if err := openJSON(getValue(t, txn, keyMarker), &m, func() int { return m.Format }); err != nil {
		t.Fatal(err)
	}
	return m.Gen
}

// rewrite changes the value of k.
func rewrite(t *testing.T, txn *badger.Txn, k []byte, fn func(v []byte) []byte) error {
	return txn.Set(k, fn(getValue(t, txn, k)))
}

func flipBit(v []byte) []byte { v[len(v)/2] ^= 0x10; return v }

// resealJSON rewrites a sealed JSON value with one field changed and a valid CRC.
func resealJSON(t *testing.T, v []byte, field string, val any) []byte {
	var m map[string]any
	if err := json.Unmarshal(v[4:], &m); err != nil {
		t.Fatal(err)
	}
	m[field] = val
	return sealJSON(m)
}

func vlogFiles(t *testing.T, dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "*.vlog"))
	sort.Strings(m)
	if len(m) == 0 {
		t.Fatal("no value log files")
	}
	return m
}

func TestCorruption(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(t *testing.T, dir string)
		reason string // substring of RestoreResult.Reason
	}{
		{"header missing", func(t *testing.T, dir string) {
			editDB(t, dir, func(txn *badger.Txn) error { return txn.Delete(headerKey(currentGen(t, txn))) })
		}, "header of snapshot generation"},
		{"marker bit flip", func(t *testing.T, dir string) {
			editDB(t, dir, func(txn *badger.Txn) error { return rewrite(t, txn, keyMarker, flipBit) })
		}, "checksum mismatch"},
		{"header bit flip", func(t *testing.T, dir string) {
			editDB(t, dir, func(txn *badger.Txn) error { return rewrite(t, txn, headerKey(currentGen(t, txn)), flipBit) })
		}, "checksum mismatch"},
		{"header newer format", func(t *testing.T, dir string) {
			editDB(t, dir, func(txn *badger.Txn) error {
				return rewrite(t, txn, headerKey(currentGen(t, txn)), func(v []byte) []byte { return resealJSON(t, v, "format", FormatVersion+1) })
			})
		}, "newer memgraph"},
		{"marker newer format", func(t *testing.T, dir string) {
			editDB(t, dir, func(txn *badger.Txn) error {
				return rewrite(t, txn, keyMarker, func(v []byte) []byte { return resealJSON(t, v, "format", FormatVersion+1) })
			})
		}, "newer memgraph"},
		{"chunk bit flip", func(t *testing.T, dir string) {
			editDB(t, dir, func(txn *badger.Txn) error { return rewrite(t, txn, chunkKey(currentGen(t, txn), 1), flipBit) })
		}, "chunk 1: corrupt data: checksum mismatch"},
		{"chunk truncated", func(t *testing.T, dir string) {
			editDB(t, dir, func(txn *badger.Txn) error {
				return rewrite(t, txn, chunkKey(currentGen(t, txn), 2), func(v []byte) []byte { return v[:len(v)/2] })
			})
		}, "chunk 2: corrupt data"},
		{"first chunk missing", func(t *testing.T, dir string) {
			editDB(t, dir, func(txn *badger.Txn) error { return txn.Delete(chunkKey(currentGen(t, txn), 0)) })
		}, "chunk 0 missing"},
		{"last chunk missing", func(t *testing.T, dir string) {
			editDB(t, dir, func(txn *badger.Txn) error {
				ks := keysWithPrefix(txn, chunkPrefix(currentGen(t, txn)))
				return txn.Delete(ks[len(ks)-1])
			})
		}, "chunks found, the header says"},
		{"chunk newer version", func(t *testing.T, dir string) {
			editDB(t, dir, func(txn *badger.Txn) error {
				return rewrite(t, txn, chunkKey(currentGen(t, txn), 0), func(v []byte) []byte {
					v = v[:len(v)-4]
					v[0] = chunkVersion + 1
					return sealCRC(v)
				})
			})
		}, "newer memgraph"},
		{"log bit flip", func(t *testing.T, dir string) {
			editFile(t, segmentFiles(t, dir)[0], func(b []byte) []byte { return flipBit(b) })
		}, "checksum mismatch"},
		{"log segment missing", func(t *testing.T, dir string) {
			if err := os.Remove(segmentFiles(t, dir)[1]); err != nil {
				t.Fatal(err)
			}
		}, "are missing"},
		{"log segment truncated (not the last)", func(t *testing.T, dir string) {
			editFile(t, segmentFiles(t, dir)[1], func(b []byte) []byte { return b[:len(b)-100] })
		}, "truncated at offset"},
		{"log segment header damaged", func(t *testing.T, dir string) {
			editFile(t, segmentFiles(t, dir)[0], func(b []byte) []byte { b[3] ^= 1; return b })
		}, "bad header"},
		{"log segment newer version", func(t *testing.T, dir string) {
			editFile(t, segmentFiles(t, dir)[0], func(b []byte) []byte {
				binary.LittleEndian.PutUint32(b[8:], walVersion+1)
				binary.LittleEndian.PutUint32(b[20:], checksum(b[:20]))
				return b
			})
		}, "newer memgraph"},
		{"log record newer version", func(t *testing.T, dir string) {
			editFile(t, segmentFiles(t, dir)[0], func(b []byte) []byte {
				p := b[walHeaderSize+8:]
				n := binary.LittleEndian.Uint32(b[walHeaderSize:])
				p[0] = entryVersion + 1
				binary.LittleEndian.PutUint32(b[walHeaderSize+4:], checksum(p[:n]))
				return b
			})
		}, "newer memgraph"},
		{"value log truncated", func(t *testing.T, dir string) {
			for _, f := range vlogFiles(t, dir) {
				fi, _ := os.Stat(f)
				if err := os.Truncate(f, fi.Size()/3); err != nil {
					t.Fatal(err)
				}
			}
		}, ""},
		{"value log bit flips", func(t *testing.T, dir string) {
			for _, f := range vlogFiles(t, dir) {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				for i := 4096; i < len(b); i += 4096 {
					b[i] ^= 0x04
				}
				if err := os.WriteFile(f, b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}, ""},
		{"manifest garbage", func(t *testing.T, dir string) {
			f := filepath.Join(dir, "MANIFEST")
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for i := 8; i < len(b); i++ {
				b[i] ^= 0xff
			}
			if err := os.WriteFile(f, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"tables deleted", func(t *testing.T, dir string) {
			m, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
			m2, _ := filepath.Glob(filepath.Join(dir, "*.mem"))
			for _, f := range append(m, m2...) {
				if err := os.Remove(f); err != nil {
					t.Fatal(err)
				}
			}
		}, ""},
	}
	template := filepath.Join(t.TempDir(), "template")
	if want := buildDir(t, template); len(want) == 0 {
		t.Fatal("nothing stored")
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "db")
			copyDir(t, template, dir)
			tc.break_(t, dir)

			p, s, res := openStore(t, testOpts(dir, t))
			if res.Outcome != RestoreCorrupt {
				t.Fatalf("outcome %q (%+v), want %q", res.Outcome, res, RestoreCorrupt)
			}
			if !strings.Contains(res.Reason, tc.reason) {
				t.Fatalf("reason %q does not mention %q", res.Reason, tc.reason)
			}
			if n := storeSize(s); n != 0 {
				t.Fatalf("partial load: %d objects", n)
			}
			moved := corruptDirs(t, dir)
			if len(moved) != 1 || res.MovedTo != moved[0] {
				t.Fatalf("moved aside to %q, found %v", res.MovedTo, moved)
			}
			if st := p.Status(); st.Restore.Outcome != RestoreCorrupt {
				t.Fatalf("status %+v", st.Restore)
			}
			t.Logf("reason: %s", res.Reason)
			// The fresh directory works: resync, restart, restore.
			for i := 0; i < 100; i++ {
				if err := genOp(99, i).apply(s); err != nil {
					t.Fatal(err)
				}
			}
			again := dump(s)
			closeStore(t, p, s)
			p, s, res = openStore(t, testOpts(dir, t))
			defer closeStore(t, p, s)
			if res.Outcome != RestoreOK {
				t.Fatalf("restart after recovery: %+v", res)
			}
			if d := diffDumps(dump(s), again); d != "" {
				t.Fatal(d)
			}
		})
	}
}

func TestMissingDirectoryStartsEmpty(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	buildDir(t, dir)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	p, s, res := openStore(t, testOpts(dir, t))
	defer closeStore(t, p, s)
	if res.Outcome != RestoreEmpty || storeSize(s) != 0 {
		t.Fatalf("%+v", res)
	}
}

// TestInterruptedSnapshotIgnored: chunks of a snapshot that never got its marker (crash
// mid-snapshot) are ignored and cleaned up.
func TestInterruptedSnapshotIgnored(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	want := buildDir(t, dir)
	editDB(t, dir, func(txn *badger.Txn) error {
		g := currentGen(t, txn) + 1
		if err := txn.Set(chunkKey(g, 0), []byte("half-written")); err != nil {
			return err
		}
		return txn.Set(chunkKey(g, 1), []byte("half-written"))
	})
	p, s, res := openStore(t, testOpts(dir, t))
	if res.Outcome != RestoreOK {
		t.Fatalf("%+v", res)
	}
	if d := diffDumps(dump(s), want); d != "" {
		t.Fatal(d)
	}
	if err := s.Upsert(makeRecord(newRng(), "c0", gvrCM, "x", "y", 5)); err != nil {
		t.Fatal(err)
	}
	closeStore(t, p, s)
	editDB(t, dir, func(txn *badger.Txn) error {
		for _, k := range keysWithPrefix(txn, prefixSnap) {
			if g := binary.BigEndian.Uint64(k[1:9]); g != currentGen(t, txn) {
				return errors.New("a superseded or interrupted generation was not cleaned up")
			}
		}
		if segs := segmentFilesNoFail(dir); len(segs) != 0 {
			return fmt.Errorf("log segments left after the final snapshot: %v", segs)
		}
		return nil
	})
}

func segmentFilesNoFail(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, walPrefix+"*"+walSuffix))
	sort.Strings(m)
	return m
}

func segmentFiles(t *testing.T, dir string) []string {
	m := segmentFilesNoFail(dir)
	if len(m) < 3 {
		t.Fatalf("want at least 3 log segments, have %v", m)
	}
	return m
}

func editFile(t *testing.T, path string, fn func([]byte) []byte) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, fn(b), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestTornLogTail: a crash in the middle of the last log write loses that write only; the
// restore is a prefix and the next start works.
func TestTornLogTail(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	buildDir(t, dir)
	segs := segmentFiles(t, dir)
	lastSeg := segs[len(segs)-1]
	fi, _ := os.Stat(lastSeg)
	prev := 1 << 30
	for _, cut := range []int64{fi.Size() - 7, walHeaderSize + 3} {
		if err := os.Truncate(lastSeg, cut); err != nil {
			t.Fatal(err)
		}
		p, _, res := openStore(t, testOpts(dir, t))
		if res.Outcome != RestoreOK || res.LogCommits >= prev {
			t.Fatalf("cut at %d: %+v", cut, res)
		}
		prev = res.LogCommits
		t.Logf("cut at %d: %d objects, %d commits replayed", cut, res.Objects, res.LogCommits)
		p.abandon(false)
		fi, err := os.Stat(lastSeg)
		switch {
		case cut < walHeaderSize+8 && err == nil:
			t.Fatalf("a segment without a complete record was kept")
		case cut > walHeaderSize+8 && (err != nil || fi.Size() >= cut):
			t.Fatalf("torn tail not cut: %v %v", fi, err)
		}
	}
	if m := corruptDirs(t, dir); len(m) != 0 {
		t.Fatalf("moved aside: %v", m)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
