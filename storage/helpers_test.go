package storage

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	internal "github.com/clusterpedia-io/api/clusterpedia"
	cpscheme "github.com/clusterpedia-io/api/clusterpedia/scheme"
	"github.com/clusterpedia-io/api/clusterpedia/v1beta1"
	resourceconfigfactory "github.com/clusterpedia-io/clusterpedia/pkg/runtime/resourceconfig/factory"
	cpstorage "github.com/clusterpedia-io/clusterpedia/pkg/storage"

	"github.com/clusterpedia-memgraph/memgraph/config"
)

// The real ResourceConfigFactory the apiserver and the synchro use: real codecs.
var configFactory = resourceconfigfactory.New()

var (
	grDeployments  = schema.GroupResource{Group: "apps", Resource: "deployments"}
	grReplicaSets  = schema.GroupResource{Group: "apps", Resource: "replicasets"}
	grDaemonSets   = schema.GroupResource{Group: "apps", Resource: "daemonsets"}
	grStatefulSets = schema.GroupResource{Group: "apps", Resource: "statefulsets"}
	grPods         = schema.GroupResource{Resource: "pods"}
	grNamespaces   = schema.GroupResource{Resource: "namespaces"}
	gvrWidgets     = schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
)

// legacyConfig is what the apiserver and the synchro build for a built-in resource.
func legacyConfig(t testing.TB, gr schema.GroupResource, namespaced bool) *cpstorage.ResourceStorageConfig {
	t.Helper()
	rc, err := configFactory.NewLegacyResourceConfig(gr, namespaced)
	if err != nil {
		t.Fatalf("NewLegacyResourceConfig(%s): %v", gr, err)
	}
	return &cpstorage.ResourceStorageConfig{ResourceConfig: *rc}
}

// crdConfig is what they build for a custom resource.
func crdConfig(t testing.TB, gvr schema.GroupVersionResource) *cpstorage.ResourceStorageConfig {
	t.Helper()
	rc, err := configFactory.NewUnstructuredConfig(gvr, true)
	if err != nil {
		t.Fatalf("NewUnstructuredConfig(%s): %v", gvr, err)
	}
	return &cpstorage.ResourceStorageConfig{ResourceConfig: *rc}
}

func newTestFactory(t testing.TB, extra *wiring) *StorageFactory {
	t.Helper()
	f, err := newFactory(testConfig(), extra)
	if err != nil {
		t.Fatalf("newFactory: %v", err)
	}
	t.Cleanup(func() { _ = f.Shutdown() })
	return f
}

// testConfig is the default configuration without the extension HTTP server (tests must
// not bind fixed ports).
func testConfig() *config.Config {
	c := config.Default()
	off := false
	c.Server.Enabled = &off
	return c
}

func resourceStorageFor(t testing.TB, f *StorageFactory, cfg *cpstorage.ResourceStorageConfig) cpstorage.ResourceStorage {
	t.Helper()
	rs, err := f.NewResourceStorage(cfg)
	if err != nil || rs == nil {
		t.Fatalf("NewResourceStorage(%s): %v, %v", cfg.StorageResource, rs, err)
	}
	return rs
}

// decodeListOptions builds ListOptions exactly as the apiserver's resolveListOptions does in
// binding-apiserver: DecodeParameters of the raw query, then the path namespace and cluster
// override, the owner/cluster check, and WithRemainingCount defaulting to true (the k8s
// RemainingItemCount gate is GA there).
func decodeListOptions(t testing.TB, rawQuery, cluster, namespace string) *internal.ListOptions {
	t.Helper()
	opts, err := tryDecodeListOptions(rawQuery, cluster, namespace)
	if err != nil {
		t.Fatalf("decode list options %q: %v", rawQuery, err)
	}
	return opts
}

func tryDecodeListOptions(rawQuery, cluster, namespace string) (*internal.ListOptions, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, err
	}
	opts := &internal.ListOptions{}
	if err := cpscheme.ParameterCodec.DecodeParameters(q, v1beta1.SchemeGroupVersion, opts); err != nil {
		return nil, err
	}
	if namespace != "" {
		opts.Namespaces = []string{namespace}
	}
	if cluster != "" {
		opts.ClusterNames = []string{cluster}
	}
	if (opts.OwnerUID != "" || opts.OwnerName != "") && len(opts.ClusterNames) != 1 {
		return nil, fmt.Errorf("If searching by owner uid or name, then the cluster must be specified")
	}
	if opts.WithRemainingCount == nil {
		enabled := true
		opts.WithRemainingCount = &enabled
	}
	return opts, nil
}

// decodeCollectionOptions is the collection REST's decoding (no path overrides, no owner
// check).
func decodeCollectionOptions(t testing.TB, rawQuery string) *internal.ListOptions {
	t.Helper()
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		t.Fatal(err)
	}
	opts := &internal.ListOptions{}
	if err := cpscheme.ParameterCodec.DecodeParameters(q, v1beta1.SchemeGroupVersion, opts); err != nil {
		t.Fatalf("decode %q: %v", rawQuery, err)
	}
	if opts.WithRemainingCount == nil {
		enabled := true
		opts.WithRemainingCount = &enabled
	}
	return opts
}

// obj is a compact description of a synced object.
type obj struct {
	cluster, apiVersion, kind, ns, name string
	uid, rv, created                    string
	labels                              map[string]string
	owner                               *ownerSpec
	spec, status                        map[string]any
}

type ownerSpec struct {
	apiVersion, kind, name, uid string
}

// unstructured renders o as the synchro hands it to Create/Update: an Unstructured with the
// cluster-name annotation injected.
func (o obj) unstructured() *unstructured.Unstructured {
	md := map[string]any{
		"name":            o.name,
		"uid":             o.uid,
		"resourceVersion": o.rv,
		"annotations":     map[string]any{internal.ShadowAnnotationClusterName: o.cluster},
	}
	if o.created != "" {
		md["creationTimestamp"] = o.created
	}
	if o.ns != "" {
		md["namespace"] = o.ns
	}
	if len(o.labels) > 0 {
		l := map[string]any{}
		for k, v := range o.labels {
			l[k] = v
		}
		md["labels"] = l
	}
	if o.owner != nil {
		md["ownerReferences"] = []any{map[string]any{
			"apiVersion": o.owner.apiVersion, "kind": o.owner.kind, "name": o.owner.name,
			"uid": o.owner.uid, "controller": true, "blockOwnerDeletion": true,
		}}
	}
	u := map[string]any{"apiVersion": o.apiVersion, "kind": o.kind, "metadata": md}
	if o.spec != nil {
		u["spec"] = runtime.DeepCopyJSONValue(o.spec)
	}
	if o.status != nil {
		u["status"] = runtime.DeepCopyJSONValue(o.status)
	}
	return &unstructured.Unstructured{Object: u}
}

// ids lists the items of a list as "cluster/namespace/name" (cluster from the
// shadow.clusterpedia.io/cluster-name annotation), in list order.
func ids(t testing.TB, list runtime.Object) []string {
	t.Helper()
	items, err := meta.ExtractList(list)
	if err != nil {
		t.Fatalf("ExtractList(%T): %v", list, err)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		m, err := meta.Accessor(it)
		if err != nil {
			t.Fatalf("Accessor(%T): %v", it, err)
		}
		out = append(out, m.GetAnnotations()[internal.ShadowAnnotationClusterName]+"/"+m.GetNamespace()+"/"+m.GetName())
	}
	return out
}

func sorted(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}

func join(s []string) string { return "[" + strings.Join(s, " ") + "]" }

var bg = context.Background()
