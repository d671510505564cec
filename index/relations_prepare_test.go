package index_test

import (
	"testing"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// TestPrepareThenChange: references prepared outside the write lock are used only for the
// JSON and metadata they were extracted from; a record changed after Prepare is extracted
// again (the graph then matches the brute-force oracle, which reads the stored JSON).
func TestPrepareThenChange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before *index.Record
		change func(r *index.Record, t *testing.T)
	}{
		{"service selector replaced",
			rec(t, "c1", "Service", "ns", "web", "svc", nil, `"spec":{"selector":{"app":"web"}}`),
			func(r *index.Record, t *testing.T) {
				r.Object = rec(t, "c1", "Service", "ns", "web", "svc", nil, `"spec":{"selector":{"app":"api"}}`).Object
			}},
		{"pod volume replaced",
			rec(t, "c1", "Pod", "ns", "p9", "u9", map[string]string{"app": "api"}, `"spec":{"nodeName":"n1","volumes":[{"name":"v","configMap":{"name":"cm-a"}}]}`),
			func(r *index.Record, t *testing.T) {
				r.Object = rec(t, "c1", "Pod", "ns", "p9", "u9", map[string]string{"app": "api"}, `"spec":{"nodeName":"n2","volumes":[{"name":"v","secret":{"secretName":"s-b"}}]}`).Object
			}},
		{"endpointslice service label changed",
			rec(t, "c1", "EndpointSlice", "ns", "web-x", "es", map[string]string{"kubernetes.io/service-name": "web"}, `"addressType":"IPv4"`),
			func(r *index.Record, t *testing.T) {
				r.Labels = index.LabelsFromMap(map[string]string{"kubernetes.io/service-name": "other"})
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, rel := newRelStore(t)
			for _, r := range []*index.Record{
				rec(t, "c1", "Pod", "ns", "p1", "u1", map[string]string{"app": "web"}, `"spec":{}`),
				rec(t, "c1", "Pod", "ns", "p2", "u2", map[string]string{"app": "api"}, `"spec":{}`),
				rec(t, "c1", "Service", "ns", "other", "svc2", nil, `"spec":{"selector":{"app":"x"}}`),
			} {
				if err := s.Create(r); err != nil {
					t.Fatal(err)
				}
			}
			s.Prepare(tc.before)
			tc.change(tc.before, t)
			if err := s.Create(tc.before); err != nil {
				t.Fatal(err)
			}
			checkRelations(t, s, rel)
		})
	}
}
