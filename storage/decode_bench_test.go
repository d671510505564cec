package storage

import (
	"sync"
	"testing"

	"k8s.io/kubernetes/pkg/apis/core"

	"github.com/clusterpedia-memgraph/memgraph/index"
	"github.com/clusterpedia-memgraph/memgraph/internal/fleet"
)

// decodeBenchPods are the stored JSON of a small fleet's pods, as the adapter stores them
// (encoded by the pods' storage codec).
var decodeBenchPods struct {
	once sync.Once
	recs []*index.Record
}

func benchPodRecords(b *testing.B) []*index.Record {
	b.Helper()
	decodeBenchPods.once.Do(func() {
		fl := fleet.Generate(fleet.Config{Clusters: 2, ObjectsPerCluster: 2000, Seed: 3})
		for _, o := range fl.ByKind("Pod") {
			r, err := index.RecordFromJSON(o.Cluster, o.GVR, o.JSON)
			if err != nil {
				panic(err)
			}
			decodeBenchPods.recs = append(decodeBenchPods.recs, r)
		}
	})
	return decodeBenchPods.recs
}

// BenchmarkDecodePod compares the ways of turning one stored Pod into the internal core.Pod
// the apiserver asks for: the storage codec (what internalstorage does, and what memgraph
// did before), and memgraph's decoder (typedDecoder: a case-sensitive json-iterator decode
// into the storage version, then the scheme's defaulting and conversion).
func BenchmarkDecodePod(b *testing.B) {
	recs := benchPodRecords(b)
	cfg := legacyConfig(b, grPods, true)
	b.Run("Path=codec", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, _, err := cfg.Codec.Decode(recs[i%len(recs)].Object, nil, &core.Pod{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Path=memgraph", func(b *testing.B) {
		rd := renderer{codec: cfg.Codec, typed: newTypedDecoder(&cfg.ResourceConfig)}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if err := rd.into(recs[i%len(recs)], &core.Pod{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Path=deepcopy", func(b *testing.B) {
		p := &core.Pod{}
		if _, _, err := cfg.Codec.Decode(recs[0].Object, nil, p); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_ = p.DeepCopy()
		}
	})
}
