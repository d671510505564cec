package index

import (
	"math/rand"
	"sort"
	"strconv"
	"testing"
)

// weakKey has a hash with few distinct values, forcing deep tries and full collisions.
type weakKey struct {
	s    string
	bits uint
}

func (k weakKey) hash() uint64 {
	h := skey(k.s).hash()
	return h & (1<<k.bits - 1)
}

func checkAgainst[K pkey](t *testing.T, m *pmap[K, int], want map[K]int) {
	t.Helper()
	if m.len() != len(want) {
		t.Fatalf("len %d, want %d", m.len(), len(want))
	}
	for k, v := range want {
		got, ok := m.get(k)
		if !ok || got != v {
			t.Fatalf("get(%v) = %d, %v; want %d", k, got, ok, v)
		}
	}
	n := 0
	m.each(func(k K, v int) bool {
		n++
		if want[k] != v {
			t.Fatalf("each: %v = %d, want %d", k, v, want[k])
		}
		return true
	})
	if n != len(want) {
		t.Fatalf("each visited %d, want %d", n, len(want))
	}
}

func TestPmapRandomOpsAndSnapshots(t *testing.T) {
	for _, hb := range []uint{2, 7, 64} {
		rng := rand.New(rand.NewSource(int64(hb)))
		var m pmap[weakKey, int]
		model := map[weakKey]int{}
		type snap struct {
			m     pmap[weakKey, int]
			model map[weakKey]int
		}
		var snaps []snap
		for round := 0; round < 60; round++ {
			e := &pedit{}
			// Snapshot before this edit: it must never change afterwards.
			cp := map[weakKey]int{}
			for k, v := range model {
				cp[k] = v
			}
			snaps = append(snaps, snap{m, cp})
			for op := 0; op < 80; op++ {
				k := weakKey{strconv.Itoa(rng.Intn(300)), hb}
				if rng.Intn(3) == 0 {
					_, had := model[k]
					if got := m.del(e, k); got != had {
						t.Fatalf("del(%v) = %v, want %v", k, got, had)
					}
					delete(model, k)
				} else {
					v := rng.Int()
					_, had := model[k]
					if got := m.set(e, k, v); got == had {
						t.Fatalf("set(%v) added = %v, had = %v", k, got, had)
					}
					model[k] = v
				}
			}
			checkAgainst(t, &m, model)
		}
		for i := range snaps {
			checkAgainst(t, &snaps[i].m, snaps[i].model)
		}
	}
}

func TestPmapDeleteAllCollapses(t *testing.T) {
	var m pmap[skey, int]
	e := &pedit{}
	for i := 0; i < 5000; i++ {
		m.set(e, skey(strconv.Itoa(i)), i)
	}
	e2 := &pedit{}
	keys := m.keys()
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		if !m.del(e2, k) {
			t.Fatalf("del %s", k)
		}
	}
	if m.len() != 0 || m.root != nil {
		t.Fatalf("not empty: %d", m.len())
	}
	if m.del(e2, "x") {
		t.Fatal("del of a missing key")
	}
}

func TestPmapGetString(t *testing.T) {
	var m pmap[skey, int]
	e := &pedit{}
	for i := 0; i < 200; i++ {
		m.set(e, skey("k"+strconv.Itoa(i)), i)
	}
	for i := 0; i < 200; i++ {
		if v, ok := getString(&m, []byte("k"+strconv.Itoa(i))); !ok || v != i {
			t.Fatalf("getString k%d = %d %v", i, v, ok)
		}
	}
	if _, ok := getString(&m, []byte("nope")); ok {
		t.Fatal("found a missing key")
	}
	var empty pmap[skey, int]
	if _, ok := getString(&empty, []byte("x")); ok {
		t.Fatal("empty map")
	}
}

func TestPsetOwnership(t *testing.T) {
	e1 := &pedit{}
	s1 := editableSet[int](nil, e1)
	s1.m.set(e1, "a", 1)
	if editableSet(s1, e1) != s1 {
		t.Fatal("owner edit must reuse the set")
	}
	e2 := &pedit{}
	s2 := editableSet(s1, e2)
	s2.m.set(e2, "b", 2)
	if s1.len() != 1 || s2.len() != 2 {
		t.Fatalf("s1 %d s2 %d", s1.len(), s2.len())
	}
	var nilSet *pset[int]
	if nilSet.len() != 0 {
		t.Fatal("nil set len")
	}
}

func BenchmarkPmapSetInPlace(b *testing.B) {
	keys := make([]skey, b.N)
	for i := range keys {
		keys[i] = skey("pod-" + strconv.Itoa(i*7919))
	}
	var m pmap[skey, int]
	e := &pedit{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.set(e, keys[i], i)
	}
}

func BenchmarkPmapSetPathCopy(b *testing.B) {
	keys := make([]skey, b.N)
	for i := range keys {
		keys[i] = skey("pod-" + strconv.Itoa(i*7919))
	}
	var m pmap[skey, int]
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.set(&pedit{}, keys[i], i)
	}
}
