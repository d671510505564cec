package index_test

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// batches feeds recs to Store.Load n at a time.
func batches(recs []*index.Record, n int) func() ([]*index.Record, error) {
	return func() ([]*index.Record, error) {
		if len(recs) == 0 {
			return nil, io.EOF
		}
		b := recs[:min(n, len(recs))]
		recs = recs[len(b):]
		return b, nil
	}
}

// dump describes every stored record and what the UID lookups find.
func dump(v *index.View) []string {
	var out []string
	v.All(func(r *index.Record) bool {
		out = append(out, fmt.Sprintf("%s/%s/%s/%s uid=%s rv=%s owners=%v labels=%v events=%d byUID=%d dependents=%d",
			r.Cluster, r.GVR, r.Namespace, r.Name, r.UID, r.ResourceVersion, r.Owners, r.Labels, len(r.Events),
			len(v.ByUID(r.Cluster, r.UID)), len(v.Dependents(r.Cluster, r.UID))))
		return true
	})
	for _, st := range v.Stats("") {
		out = append(out, fmt.Sprintf("stats %+v", st))
	}
	return out
}

// TestLoadEqualsApply: a store filled with Load equals one filled with Apply — records,
// stats, UID and owner lookups, the relationship graph (checked against the brute-force
// oracle) — whatever the input order, including the same identity twice; and with the
// hook applying these large batches one cluster per goroutine.
func TestLoadEqualsApply(t *testing.T) {
	for _, parallel := range []bool{false, true} {
		t.Run(fmt.Sprintf("by-cluster=%v", parallel), func(t *testing.T) {
			if parallel {
				defer index.SetParallelApplyMin(index.SetParallelApplyMin(1))
			}
			loadEqualsApply(t)
		})
	}
}

func loadEqualsApply(t *testing.T) {
	_, recs := smallRecords(t)
	sorted := append([]*index.Record(nil), recs...)
	sort.SliceStable(sorted, func(i, j int) bool { return fmt.Sprint(sorted[i].Key()) < fmt.Sprint(sorted[j].Key()) })
	reversed := append([]*index.Record(nil), sorted...)
	for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
		reversed[i], reversed[j] = reversed[j], reversed[i]
	}
	// The first Pod again, later, with a new UID and no owners: the second one wins.
	var again *index.Record
	for _, r := range sorted {
		if r.GVR.Resource == "pods" && len(r.Owners) > 0 {
			c := *r
			c.UID, c.Owners, c.ResourceVersion = "replaced-uid", nil, "999"
			again = &c
			break
		}
	}
	clone := func(in []*index.Record) []*index.Record {
		out := make([]*index.Record, len(in))
		for i, r := range in {
			c := *r
			out[i] = &c
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		input []*index.Record
		batch int
	}{
		{"generated order", recs, 64},
		{"identity order", sorted, 1000},
		{"reverse order", reversed, 7},
		{"same identity twice", append(append([]*index.Record(nil), sorted...), again), 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, wantRel := newRelStore(t)
			var muts []index.Mutation
			for _, r := range clone(tc.input) {
				muts = append(muts, index.Mutation{Op: index.OpUpsert, Record: r})
			}
			if err := want.Apply(muts); err != nil {
				t.Fatal(err)
			}
			got, gotRel := newRelStore(t)
			n, err := got.Load(batches(clone(tc.input), tc.batch))
			if err != nil || n != len(tc.input) {
				t.Fatalf("Load = %d, %v; want %d", n, err, len(tc.input))
			}
			checkRelations(t, got, gotRel)
			if st := gotRel.Status(); st.Failures != 0 {
				t.Fatalf("graph update failed: %+v", st)
			}
			if gotRel.Stats() != wantRel.Stats() {
				t.Errorf("relation stats: Load %+v, Apply %+v", gotRel.Stats(), wantRel.Stats())
			}
			g, w := dump(got.View()), dump(want.View())
			if len(g) != len(w) {
				t.Fatalf("Load stored %d lines, Apply %d", len(g), len(w))
			}
			for i := range g {
				if g[i] != w[i] {
					t.Fatalf("line %d:\nLoad  %s\nApply %s", i, g[i], w[i])
				}
			}
		})
	}
}

// TestLoadIsAllOrNothing: a failing source or an invalid record commits nothing, and the
// store stays usable.
func TestLoadIsAllOrNothing(t *testing.T) {
	boom := errors.New("chunk 3 is damaged")
	for _, tc := range []struct {
		name string
		next func(recs []*index.Record) func() ([]*index.Record, error)
		want string
	}{
		{"source fails", func(recs []*index.Record) func() ([]*index.Record, error) {
			calls := 0
			return func() ([]*index.Record, error) {
				calls++
				if calls == 3 {
					return nil, boom
				}
				return recs[(calls-1)*10 : calls*10], nil
			}
		}, boom.Error()},
		{"invalid record", func(recs []*index.Record) func() ([]*index.Record, error) {
			return batches([]*index.Record{recs[0], {Cluster: "c", GVR: index.GVR{Version: "v1", Resource: "pods"}}}, 1)
		}, "record needs cluster, version, resource and name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, recs := smallRecords(t) // a store owns the records written to it
			s, _ := newRelStore(t)
			if err := s.Create(recs[len(recs)-1]); err != nil {
				t.Fatal(err)
			}
			before := dump(s.View())
			_, err := s.Load(tc.next(recs))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load error = %v, want %q", err, tc.want)
			}
			if after := dump(s.View()); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("a failed Load changed the store:\n%v\nbefore:\n%v", after, before)
			}
			if err := s.Create(recs[1]); err != nil {
				t.Fatalf("store unusable after a failed Load: %v", err)
			}
		})
	}
}
