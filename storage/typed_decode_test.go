package storage

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kubernetes/pkg/apis/core"

	cpscheme "github.com/clusterpedia-io/clusterpedia/pkg/runtime/scheme"
	cpstorage "github.com/clusterpedia-io/clusterpedia/pkg/storage"

	"github.com/clusterpedia-memgraph/memgraph/index"
	"github.com/clusterpedia-memgraph/memgraph/internal/fleet"
)

// storedForm encodes o as the adapter stores it: the synchro's Unstructured through the
// resource's codec.
func storedForm(t testing.TB, cfg *cpstorage.ResourceStorageConfig, data []byte) []byte {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := cfg.Codec.Encode(u, &buf); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// TestTypedDecoderMatchesCodec: for every object of every kind of a fleet, the typed decoder
// applies (it is what makes List fast) and produces exactly what the storage codec produces,
// into the internal type the apiserver passes and into the storage version; the unstructured
// decode (collection items) produces exactly what Unstructured.UnmarshalJSON produces; the
// metadata-only decode produces exactly the object's metadata.
func TestTypedDecoderMatchesCodec(t *testing.T) {
	fl := fleet.Generate(fleet.Config{Clusters: 2, ObjectsPerCluster: 600, Seed: 11})
	for _, kind := range fleet.Kinds() {
		g, _ := fleet.GVRFor(kind)
		rc, err := configFactory.NewConfig(schema.GroupVersionResource{Group: g.Group, Version: g.Version, Resource: g.Resource}, fleet.Namespaced(kind))
		if err != nil {
			t.Fatal(err)
		}
		cfg := &cpstorage.ResourceStorageConfig{ResourceConfig: *rc}
		d := newTypedDecoder(&cfg.ResourceConfig)
		if d == nil {
			t.Fatalf("%s: no typed decoder for a built-in resource", kind)
		}
		objs := fl.ByKind(kind)
		if len(objs) == 0 {
			t.Fatalf("fleet has no %s", kind)
		}
		for _, o := range objs {
			data := storedForm(t, cfg, o.JSON)
			for _, gv := range []schema.GroupVersion{rc.MemoryResource.GroupVersion(), rc.StorageResource.GroupVersion()} {
				newObj := func() runtime.Object {
					obj, err := cpscheme.LegacyResourceScheme.New(gv.WithKind(kind))
					if err != nil {
						t.Fatal(err)
					}
					return obj
				}
				want, got := newObj(), newObj()
				if _, _, err := cfg.Codec.Decode(data, nil, want); err != nil {
					t.Fatalf("%s codec: %v", kind, err)
				}
				ok, err := d.decode(data, kind, got)
				if !ok || err != nil {
					t.Fatalf("%s into %s: typed decoder declined (%v, %v)", kind, gv, ok, err)
				}
				if !reflect.DeepEqual(want, got) {
					t.Fatalf("%s into %s differs:\ncodec: %s\ntyped: %s", kind, gv, mustJSON(t, want), mustJSON(t, got))
				}
			}
			want, got := &unstructured.Unstructured{}, &unstructured.Unstructured{}
			if err := want.UnmarshalJSON(data); err != nil {
				t.Fatal(err)
			}
			if err := decodeUnstructured(data, got); err != nil || !reflect.DeepEqual(want, got) {
				t.Fatalf("%s unstructured (%v):\nUnmarshalJSON:      %#v\ndecodeUnstructured: %#v", kind, err, want.Object, got.Object)
			}
			var raw struct {
				Metadata metav1.ObjectMeta `json:"metadata"`
			}
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatal(err)
			}
			var md metav1.ObjectMeta
			if err := decodeObjectMeta(data, &md); err != nil || !reflect.DeepEqual(md, raw.Metadata) {
				t.Fatalf("%s metadata (%v):\nencoding/json: %s\ndecodeObjectMeta: %s", kind, err, mustJSON(t, raw.Metadata), mustJSON(t, md))
			}
		}
	}
}

// TestTypedDecoderDeclines: the cases the typed decoder leaves to the codec.
func TestTypedDecoderDeclines(t *testing.T) {
	pods := legacyConfig(t, grPods, true)
	d := newTypedDecoder(&pods.ResourceConfig)
	good := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}`
	for _, tc := range []struct {
		name, data, kind string
		into             runtime.Object
	}{
		{"unstructured target", good, "Pod", &unstructured.Unstructured{}},
		{"other kind", good, "Pod", &core.Service{}},
		{"record kind differs", good, "Service", &core.Pod{}},
		{"apiVersion not the storage version", `{"apiVersion":"v2","kind":"Pod"}`, "Pod", &core.Pod{}},
		{"kind missing", `{"apiVersion":"v1","metadata":{"name":"p"}}`, "Pod", &core.Pod{}},
		{"malformed", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":1}}`, "Pod", &core.Pod{}},
		{"invalid UTF-8", "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"\xff\"}}", "Pod", &core.Pod{}},
		{"trailing data", good + `{}`, "Pod", &core.Pod{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ok, err := d.decode([]byte(tc.data), tc.kind, tc.into); ok || err != nil {
				t.Fatalf("decode = %v, %v; want declined", ok, err)
			}
		})
	}
	if d := newTypedDecoder(&crdConfig(t, gvrWidgets).ResourceConfig); d != nil {
		t.Fatal("typed decoder for a custom resource")
	}
	type withAny struct {
		A []map[string]any `json:"a"`
	}
	type plain struct {
		T metav1.Time       `json:"t"`
		M map[string]string `json:"m"`
	}
	if exactlyDecodable(reflect.TypeOf(withAny{})) || !exactlyDecodable(reflect.TypeOf(plain{})) {
		t.Fatal("exactlyDecodable: interface{} fields must decline, plain types must not")
	}
}

// FuzzTypedDecoder: whatever the stored bytes, the renderer's decode (typed decoder with
// the codec as fallback) gives what the codec gives — the same object, or an error when the
// codec fails.
func FuzzTypedDecoder(f *testing.F) {
	pods := legacyConfig(f, grPods, true)
	for _, o := range fleet.Generate(fleet.Config{Clusters: 1, ObjectsPerCluster: 200, Seed: 5}).ByKind("Pod")[:3] {
		f.Add(storedForm(f, pods, o.JSON))
	}
	for _, s := range []string{
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","creationTimestamp":null},"spec":{"containers":null}}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","creationTimestamp":"2024-01-01T00:00:00+02:00"}}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","name":"b","labels":{"x":"1"},"labels":{"y":"2"}}}`,
		`{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"a"}],"containers":[{"image":"b"}]}}`,
		`{"apiVersion":"v1","kind":"Pod","Metadata":{"name":"p"},"spec":{"priority":1.0}}`,
		`{"apiVersion":"v1","kind":"Pod","spec":{"overhead":{"cpu":"100m"},"terminationGracePeriodSeconds":"3"}}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"\u00e9\ud800"},"status":{"startTime":"x"}}`,
		`{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"ports":[{"containerPort":99999999999}]}]}}`,
	} {
		f.Add([]byte(s))
	}
	rd := renderer{codec: pods.Codec, typed: newTypedDecoder(&pods.ResourceConfig)}
	f.Fuzz(func(t *testing.T, data []byte) {
		want := &core.Pod{}
		_, _, wantErr := pods.Codec.Decode(data, nil, want)
		got := &core.Pod{}
		gotErr := rd.decode(recordOf(data, "Pod"), got)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("codec error %v, renderer error %v", wantErr, gotErr)
		}
		if wantErr == nil && !reflect.DeepEqual(want, got) {
			t.Fatalf("differs:\ncodec:    %s\nrenderer: %s", mustJSON(t, want), mustJSON(t, got))
		}
		if wantErr != nil && !strings.Contains(gotErr.Error(), wantErr.Error()) {
			t.Fatalf("codec error %q, renderer error %q", wantErr, gotErr)
		}
	})
}

func recordOf(data []byte, kind string) *index.Record {
	return &index.Record{Kind: kind, GVR: index.GVR{Version: "v1", Resource: "pods"}, Object: data}
}

// FuzzDecodeUnstructured: decodeUnstructured gives what Unstructured.UnmarshalJSON gives —
// the same content (int64/float64 numbers included), or an error when it fails.
func FuzzDecodeUnstructured(f *testing.F) {
	for _, o := range fleet.Generate(fleet.Config{Clusters: 1, ObjectsPerCluster: 200, Seed: 5}).ByKind("Deployment")[:2] {
		f.Add(o.JSON)
	}
	for _, s := range []string{
		`{"kind":"X","a":[1,1.5,-0,1e3,9223372036854775807,9223372036854775808,1e400],"b":null,"c":true}`,
		`{"kind":"X","k":1,"k":"two","m":{},"l":[]}`,
		`{"apiVersion":"v1","metadata":{}}`,
		`{"kind":7}`,
		`{"kind":"X","s":"\u00e9\ud83d\ude00\ud800x\u2028"}`,
		`{"kind":"X"} {}`,
		`{"kind":"X","items":[{"kind":"Y"}]}`,
		`[{"kind":"X"}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, got := &unstructured.Unstructured{}, &unstructured.Unstructured{}
		wantErr := want.UnmarshalJSON(data)
		gotErr := decodeUnstructured(data, got)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("UnmarshalJSON error %v, decodeUnstructured error %v", wantErr, gotErr)
		}
		if wantErr == nil && !reflect.DeepEqual(want.Object, got.Object) {
			t.Fatalf("differs:\nUnmarshalJSON:      %#v\ndecodeUnstructured: %#v", want.Object, got.Object)
		}
	})
}
