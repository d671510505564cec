package graph

import (
	"math/rand"
	"strconv"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
)

func TestLabels(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]string
	}{
		{"empty", nil},
		{"one", map[string]string{"app": "web"}},
		{"several", map[string]string{"z": "1", "app": "web", "a.b/c": "", "pod-template-hash": "abc"}},
		{"prefix keys", map[string]string{"a": "1", "ab": "2", "a/b": "3", "": "empty key"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := LabelsFromMap(tc.in)
			if l.Len() != len(tc.in) {
				t.Fatalf("Len = %d, want %d", l.Len(), len(tc.in))
			}
			for k, v := range tc.in {
				if !l.Has(k) || l.Get(k) != v {
					t.Errorf("key %q: Has=%v Get=%q, want %q", k, l.Has(k), l.Get(k), v)
				}
				if got, ok := l.Lookup(k); !ok || got != v {
					t.Errorf("Lookup(%q) = %q, %v", k, got, ok)
				}
			}
			for _, k := range []string{"missing", "ap", "appx", "a/", "zz"} {
				if _, set := tc.in[k]; set {
					continue
				}
				if l.Has(k) || l.Get(k) != "" {
					t.Errorf("unset key %q reported as set", k)
				}
			}
			if got := l.Map(); len(got) != len(tc.in) || (len(tc.in) > 0 && labels.Set(got).String() != labels.Set(tc.in).String()) {
				t.Errorf("Map() = %v, want %v", got, tc.in)
			}
			if !l.Equal(LabelsFromMap(tc.in)) {
				t.Error("not Equal to a copy of itself")
			}
		})
	}
	if LabelsFromMap(map[string]string{"a": "1"}).Equal(LabelsFromMap(map[string]string{"a": "2"})) {
		t.Error("different values compare Equal")
	}
	if LabelsFromMap(map[string]string{"a": "1"}).Equal(LabelsFromMap(map[string]string{"b": "1"})) {
		t.Error("different keys compare Equal")
	}
}

// TestLabelsSelectors checks that selectors see a Labels exactly as they see the map it
// was built from, on random label sets and selectors.
func TestLabelsSelectors(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	keys := []string{"app", "tier", "env", "a.io/x", "k"}
	vals := []string{"web", "db", "", "1", "prod"}
	sels := []string{"", "app=web", "app!=web", "tier in (db,web)", "tier notin (db)", "env", "!env", "app=web,tier=db", "a.io/x=1", "k!=prod,!tier"}
	for i := 0; i < 2000; i++ {
		m := map[string]string{}
		for j := rng.Intn(len(keys) + 1); j > 0; j-- {
			m[keys[rng.Intn(len(keys))]] = vals[rng.Intn(len(vals))]
		}
		l := LabelsFromMap(m)
		for _, s := range sels {
			sel, err := labels.Parse(s)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := sel.Matches(l), sel.Matches(labels.Set(m)); got != want {
				t.Fatalf("set %v (#%s), selector %q: Labels %v, map %v", m, strconv.Itoa(i), s, got, want)
			}
		}
	}
}
