package index_test

import (
	"encoding/json"
	"runtime"
	"testing"

	"github.com/clusterpedia-memgraph/memgraph/internal/fleet"
)

// BenchmarkObjectRepresentation measures what the store's object representation costs: the
// raw JSON memgraph keeps versus a cached decoded object (the generic map form a cache of
// decoded objects would hold), in heap bytes per pod and in the time to produce it.
func BenchmarkObjectRepresentation(b *testing.B) {
	f := fleet.Generate(fleet.Config{Clusters: 1, ObjectsPerCluster: 4000, Seed: 3})
	pods := f.ByKind("Pod")
	var jsonBytes int
	for _, p := range pods {
		jsonBytes += len(p.JSON)
	}
	b.Run("raw-json", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			p := pods[i%len(pods)]
			cp := make([]byte, len(p.JSON))
			copy(cp, p.JSON)
			runtime.KeepAlive(cp)
		}
		b.ReportMetric(float64(jsonBytes)/float64(len(pods)), "heap-B/pod")
	})
	b.Run("decoded-map", func(b *testing.B) {
		b.ReportAllocs()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		held := make([]map[string]any, len(pods))
		for i, p := range pods {
			if err := json.Unmarshal(p.JSON, &held[i]); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perPod := float64(after.HeapAlloc-before.HeapAlloc) / float64(len(pods))
		runtime.KeepAlive(held)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			var m map[string]any
			if err := json.Unmarshal(pods[i%len(pods)].JSON, &m); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(perPod, "heap-B/pod")
	})
}
