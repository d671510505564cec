package index

import (
	"fmt"
	"sort"
	"testing"
)

// checkUIDRefs checks TableUIDRefs against the records: exactly one row per record with a
// UID and one per distinct owner UID of each record, each naming a stored identity.
func checkUIDRefs(t *testing.T, v *View) {
	t.Helper()
	want := map[string]bool{}
	v.All(func(r *Record) bool {
		for _, row := range uidRefsOf(r, idKey(r.cid, r.gid, r.Namespace, r.Name)) {
			want[string(row.key)] = true
		}
		return true
	})
	it, err := v.uids.Get(TableUIDRefs, "id")
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for raw := it.Next(); raw != nil; raw = it.Next() {
		row := raw.(*uidRef)
		if !want[string(row.key)] {
			t.Fatalf("uid_refs row %q names no record that has it", row.key)
		}
		if rec, _ := v.txn.First(TableRecords, IndexID, row.identity()); rec == nil {
			t.Fatalf("uid_refs row %q names a missing record", row.key)
		}
		got++
	}
	if got != len(want) {
		t.Fatalf("uid_refs has %d rows, the records need %d", got, len(want))
	}
}

func names(recs []*Record) []string {
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.Cluster+"/"+r.GVR.Resource+"/"+r.Namespace+"/"+r.Name)
	}
	sort.Strings(out)
	return out
}

// TestUIDRefsFollowWrites: lookups by UID and by owner UID after every kind of write
// (create, update keeping or changing UID and owners, delete, clean resource, clean
// cluster), with the same UIDs in two clusters.
func TestUIDRefsFollowWrites(t *testing.T) {
	pods := GVR{Version: "v1", Resource: "pods"}
	rs := GVR{Group: "apps", Version: "v1", Resource: "replicasets"}
	owned := func(cluster, name, uid string, owners ...string) *Record {
		r := rec(cluster, pods, "ns", name, uid, "1")
		for _, o := range owners {
			r.Owners = append(r.Owners, OwnerRef{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: o, UID: o})
		}
		return r
	}
	s := newStore(t, Options{})
	type step struct {
		name  string
		write func() error
		// want: "cluster uid" → names by UID; "cluster owner:uid" → names of dependents
		want map[string][]string
	}
	steps := []step{
		{"create", func() error {
			for _, r := range []*Record{
				rec("c1", rs, "ns", "rs-a", "rs-a", "1"), rec("c2", rs, "ns", "rs-a", "rs-a", "1"),
				owned("c1", "p1", "u1", "rs-a"), owned("c1", "p2", "u2", "rs-a", "rs-a"), owned("c2", "p1", "u1", "rs-a"),
			} {
				if err := s.Create(r); err != nil {
					return err
				}
			}
			return nil
		}, map[string][]string{
			"c1 u1": {"c1/pods/ns/p1"}, "c2 u1": {"c2/pods/ns/p1"}, "c1 rs-a": {"c1/replicasets/ns/rs-a"},
			"c1 owner:rs-a": {"c1/pods/ns/p1", "c1/pods/ns/p2"}, "c2 owner:rs-a": {"c2/pods/ns/p1"},
		}},
		{"update keeping UID and owners", func() error { return s.Update(owned("c1", "p1", "u1", "rs-a")) },
			map[string][]string{"c1 u1": {"c1/pods/ns/p1"}, "c1 owner:rs-a": {"c1/pods/ns/p1", "c1/pods/ns/p2"}}},
		{"update changing UID and owner", func() error { return s.Update(owned("c1", "p1", "u9", "rs-b")) },
			map[string][]string{"c1 u1": nil, "c1 u9": {"c1/pods/ns/p1"}, "c1 owner:rs-a": {"c1/pods/ns/p2"},
				"c1 owner:rs-b": {"c1/pods/ns/p1"}, "c2 u1": {"c2/pods/ns/p1"}}},
		{"update dropping owners", func() error { return s.Update(owned("c1", "p2", "u2")) },
			map[string][]string{"c1 owner:rs-a": nil, "c1 u2": {"c1/pods/ns/p2"}}},
		{"delete", func() error { _, err := s.Delete(Key{"c1", pods, "ns", "p1"}); return err },
			map[string][]string{"c1 u9": nil, "c1 owner:rs-b": nil, "c2 owner:rs-a": {"c2/pods/ns/p1"}}},
		{"clean resource", func() error { _, err := s.CleanResource("c2", pods); return err },
			map[string][]string{"c2 u1": nil, "c2 owner:rs-a": nil, "c2 rs-a": {"c2/replicasets/ns/rs-a"}}},
		{"clean cluster", func() error { _, err := s.CleanCluster("c1"); return err },
			map[string][]string{"c1 u2": nil, "c1 rs-a": nil, "c2 rs-a": {"c2/replicasets/ns/rs-a"}}},
	}
	for _, st := range steps {
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		v := s.View()
		checkUIDRefs(t, v)
		for q, want := range st.want {
			var cluster, uid string
			fmt.Sscan(q, &cluster, &uid)
			var got []string
			if len(uid) > 6 && uid[:6] == "owner:" {
				got = names(v.Dependents(cluster, uid[6:]))
			} else {
				got = names(v.ByUID(cluster, uid))
			}
			if fmt.Sprint(got) != fmt.Sprint(append([]string{}, want...)) {
				t.Errorf("%s: %s = %v, want %v", st.name, q, got, want)
			}
		}
	}
}
