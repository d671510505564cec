package index

import (
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// TestNamespacesSkipScan: the namespaces of one (cluster, GVR) are found by seeking past
// each one, including namespaces that are prefixes of others and a prefix-trap GVR.
func TestNamespacesSkipScan(t *testing.T) {
	s := newStore(t, Options{})
	nss := []string{"a", "a-b", "ab", "b", "kube-system", "kube-system-x"}
	for _, ns := range nss {
		mustCreate(t, s, rec("c1", gvrPods, ns, "web", "u-"+ns, "1"), rec("c1", gvrPods, ns, "web-2", "u2-"+ns, "1"))
	}
	mustCreate(t, s, rec("c1", gvrPodsX, "zz", "web", "ux", "1"), rec("c2", gvrPods, "other", "web", "uo", "1"),
		rec("c1", gvrNS, "", "n1", "un", "1"))
	v := s.View()
	tests := []struct {
		cluster string
		gvr     GVR
		want    []string
	}{
		{"c1", gvrPods, nss},
		{"c1", gvrPodsX, []string{"zz"}},
		{"c2", gvrPods, []string{"other"}},
		{"c1", gvrNS, []string{""}},
		{"c3", gvrPods, nil},
		{"c2", gvrNS, nil},
	}
	for _, tc := range tests {
		var got []string
		v.namespaces(tc.cluster, tc.gvr, func(ns string) bool { got = append(got, ns); return true })
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("namespaces(%s, %s) = %q, want %q", tc.cluster, tc.gvr, got, tc.want)
		}
	}
	// Stopping early stops.
	n := 0
	v.namespaces("c1", gvrPods, func(string) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("callback ran %d times after asking to stop at 2", n)
	}

	// Name lookups without a namespace go through the skip scan.
	res, err := v.List(&Query{Types: []TypeMatch{{Version: "v1", Resource: "pods"}}, Names: []string{"web-2", "absent"}, Clusters: []string{"c1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != len(nss) {
		t.Fatalf("names query returned %d items, want %d", len(res.Items), len(nss))
	}
	for _, r := range res.Items {
		if r.Name != "web-2" || r.GVR != gvrPods {
			t.Errorf("unexpected item %v", r.Key())
		}
	}
}

// TestFindByKind: references by (group, kind, namespace, name) resolve through the
// registry's kinds, at any stored version, never across clusters or namespaces.
func TestFindByKind(t *testing.T) {
	s := newStore(t, Options{})
	dep := func(version string) GVR { return GVR{Group: "apps", Version: version, Resource: "deployments"} }
	mustCreate(t, s,
		ob{cluster: "c1", gvr: dep("v1"), kind: "Deployment", ns: "ns", name: "web", uid: "d1"}.record(t),
		ob{cluster: "c1", gvr: dep("v1beta1"), kind: "Deployment", ns: "ns", name: "only-beta", uid: "d2"}.record(t),
		ob{cluster: "c2", gvr: dep("v1"), kind: "Deployment", ns: "ns", name: "other", uid: "d3"}.record(t))
	v := s.View()
	tests := []struct {
		cluster string
		t       tkey
		wantUID string
	}{
		{"c1", tkey{"apps", "Deployment", "ns", "web"}, "d1"},
		{"c1", tkey{"apps", "Deployment", "ns", "only-beta"}, "d2"},
		{"c1", tkey{"apps", "Deployment", "other-ns", "web"}, ""},
		{"c1", tkey{"", "Deployment", "ns", "web"}, ""},
		{"c1", tkey{"apps", "StatefulSet", "ns", "web"}, ""},
		{"c2", tkey{"apps", "Deployment", "ns", "web"}, ""},
		{"c9", tkey{"apps", "Deployment", "ns", "web"}, ""},
		{"c1", tkey{"apps", "Deployment", "ns\x00", "web"}, ""},
	}
	for _, tc := range tests {
		got := ""
		if r := findByKind(v.txn, v.reg, tc.cluster, tc.t); r != nil {
			got = r.UID
		}
		if got != tc.wantUID {
			t.Errorf("findByKind(%s, %+v) = %q, want %q", tc.cluster, tc.t, got, tc.wantUID)
		}
	}
}

// TestLabelsValidated: the store takes labels sorted and unique, and says so otherwise.
func TestLabelsValidated(t *testing.T) {
	s := newStore(t, Options{})
	tests := []struct {
		name    string
		labels  Labels
		wantErr string
	}{
		{"sorted", LabelsFromMap(map[string]string{"b": "2", "a": "1"}), ""},
		{"unsorted", Labels{"b", "2", "a", "1"}, "not sorted"},
		{"duplicate", Labels{"a", "1", "a", "2"}, "not sorted or not unique"},
		{"odd", Labels{"a", "1", "b"}, "odd number"},
	}
	for i, tc := range tests {
		r := rec("c1", gvrPods, "ns", "p"+string(rune('a'+i)), "u", "1")
		r.Labels = tc.labels
		err := s.Create(r)
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.wantErr)
		}
	}
}

// TestRelationsServeOneStore: a relationship hook binds to the store built with it.
func TestRelationsServeOneStore(t *testing.T) {
	rel := NewRelations()
	newStore(t, Options{Hooks: []TxnHook{rel}})
	if _, err := New(Options{Hooks: []TxnHook{rel}}); err == nil || !strings.Contains(err.Error(), "already attached") {
		t.Fatalf("second store with the same hook: %v", err)
	}
	if _, err := New(Options{Hooks: []TxnHook{NewRelations(), NewRelations()}}); err == nil || !strings.Contains(err.Error(), "runs one") {
		t.Fatalf("two Relations hooks in one store: %v", err)
	}
	twice := NewRelations()
	if _, err := New(Options{Hooks: []TxnHook{twice, twice}}); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Fatalf("one Relations hook listed twice: %v", err)
	}
	// A hook that was never attached refuses to run instead of keeping its graph nowhere.
	if err := NewRelations().Apply(nil, nil); err == nil || !strings.Contains(err.Error(), "not attached") {
		t.Fatalf("Apply of an unattached hook: %v", err)
	}
}

// TestLabelsNotWrittenInPlace: interning label keys never writes into the caller's slice,
// which may be shared with a stored record that readers use concurrently.
func TestLabelsNotWrittenInPlace(t *testing.T) {
	s := newStore(t, Options{})
	first := rec("c1", gvrPods, "ns", "a", "ua", "1")
	first.Labels = Labels{string([]byte("app")), "web"}
	mustCreate(t, s, first) // "app" is interned now
	shared := Labels{string([]byte("app")), "api"}
	orig := unsafe.StringData(shared[0])
	second := rec("c1", gvrPods, "ns", "b", "ub", "1")
	second.Labels = shared
	mustCreate(t, s, second)
	if unsafe.StringData(shared[0]) != orig {
		t.Fatal("the store wrote an interned key into the caller's label slice")
	}
	got, err := s.Get(second.Key())
	if err != nil || got.Labels.Get("app") != "api" {
		t.Fatalf("stored labels %v, %v", got, err)
	}
	if unsafe.StringData(got.Labels[0]) != unsafe.StringData(first.Labels[0]) {
		t.Error("the stored key is not the interned one")
	}
}
