package snapshot

import (
	"testing"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// TestCodecLabels: labels round-trip sorted, and pairs written in any order (snapshots
// written while the store kept labels in a map) decode into the same sorted set.
func TestCodecLabels(t *testing.T) {
	tests := []struct {
		name   string
		labels index.Labels
		want   map[string]string
	}{
		{"none", nil, nil},
		{"sorted", index.LabelsFromMap(map[string]string{"a": "1", "b": "2", "c": ""}), map[string]string{"a": "1", "b": "2", "c": ""}},
		{"map order", index.Labels{"tier", "fe", "app", "web", "a.io/x", "1"}, map[string]string{"app": "web", "tier": "fe", "a.io/x": "1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var e encoder
			e.record(&index.Record{Cluster: "c", GVR: index.GVR{Version: "v1", Resource: "pods"}, Name: "p", Labels: tc.labels, Object: []byte(`{}`)})
			d := decoder{b: e.b, strs: map[string]string{}}
			r := d.record()
			if d.err != nil {
				t.Fatal(d.err)
			}
			if !r.Labels.Equal(index.LabelsFromMap(tc.want)) {
				t.Fatalf("decoded labels %v, want %v", r.Labels, tc.want)
			}
			for k, v := range tc.want {
				if r.Labels.Get(k) != v {
					t.Errorf("Get(%q) = %q, want %q", k, r.Labels.Get(k), v)
				}
			}
		})
	}
}
