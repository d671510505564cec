package kubestatemetrics

import (
	"fmt"
	"reflect"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/kube-state-metrics/v2/pkg/builder"
	ksmtypes "k8s.io/kube-state-metrics/v2/pkg/builder/types"
	"k8s.io/kube-state-metrics/v2/pkg/metric"
	generator "k8s.io/kube-state-metrics/v2/pkg/metric_generator"
	"k8s.io/kube-state-metrics/v2/pkg/options"

	clientset "k8s.io/client-go/kubernetes"

	cpksm "github.com/clusterpedia-io/clusterpedia/pkg/kube_state_metrics"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// kind is one resource kube-state-metrics is produced for: the storage GVR memgraph holds
// its objects under (Clusterpedia's storage version, the version kube-state-metrics
// reads), and the typed object the generators take.
type kind struct {
	resource   string
	gvr        index.GVR
	kind       string
	namespaced bool
	newObject  func() metav1.Object
}

// kinds are the resources Clusterpedia v0.9.1's pkg/kube_state_metrics covers, sorted by
// resource name: the order kube-state-metrics writes its stores in, and the order of a
// scrape.
var kinds = []kind{
	{"cronjobs", index.GVR{Group: "batch", Version: "v1", Resource: "cronjobs"}, "CronJob", true, func() metav1.Object { return &batchv1.CronJob{} }},
	{"daemonsets", index.GVR{Group: "apps", Version: "v1", Resource: "daemonsets"}, "DaemonSet", true, func() metav1.Object { return &appsv1.DaemonSet{} }},
	{"deployments", index.GVR{Group: "apps", Version: "v1", Resource: "deployments"}, "Deployment", true, func() metav1.Object { return &appsv1.Deployment{} }},
	{"ingressclasses", index.GVR{Group: "networking.k8s.io", Version: "v1", Resource: "ingressclasses"}, "IngressClass", false, func() metav1.Object { return &networkingv1.IngressClass{} }},
	{"ingresses", index.GVR{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}, "Ingress", true, func() metav1.Object { return &networkingv1.Ingress{} }},
	{"jobs", index.GVR{Group: "batch", Version: "v1", Resource: "jobs"}, "Job", true, func() metav1.Object { return &batchv1.Job{} }},
	{"namespaces", index.GVR{Version: "v1", Resource: "namespaces"}, "Namespace", false, func() metav1.Object { return &corev1.Namespace{} }},
	{"nodes", index.GVR{Version: "v1", Resource: "nodes"}, "Node", false, func() metav1.Object { return &corev1.Node{} }},
	{"pods", index.GVR{Version: "v1", Resource: "pods"}, "Pod", true, func() metav1.Object { return &corev1.Pod{} }},
	{"replicasets", index.GVR{Group: "apps", Version: "v1", Resource: "replicasets"}, "ReplicaSet", true, func() metav1.Object { return &appsv1.ReplicaSet{} }},
	{"secrets", index.GVR{Version: "v1", Resource: "secrets"}, "Secret", true, func() metav1.Object { return &corev1.Secret{} }},
	{"services", index.GVR{Version: "v1", Resource: "services"}, "Service", true, func() metav1.Object { return &corev1.Service{} }},
	{"statefulsets", index.GVR{Group: "apps", Version: "v1", Resource: "statefulsets"}, "StatefulSet", true, func() metav1.Object { return &appsv1.StatefulSet{} }},
}

// numKinds is len(kinds).
const numKinds = 13

func init() {
	if len(kinds) != numKinds {
		panic(fmt.Sprintf("kubestatemetrics: %d kinds, numKinds is %d", len(kinds), numKinds))
	}
	if !sort.SliceIsSorted(kinds, func(i, j int) bool { return kinds[i].resource < kinds[j].resource }) {
		panic("kubestatemetrics: kinds are not sorted by resource")
	}
}

// Resources returns the resource names metrics can be produced for, sorted.
func Resources() []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = k.resource
	}
	return out
}

// GVRs returns the storage GVR of every covered resource, in Resources order.
func GVRs() []index.GVR {
	out := make([]index.GVR, len(kinds))
	for i, k := range kinds {
		out[i] = k.gvr
	}
	return out
}

// kindOf returns the index in kinds of a storage GVR, -1 when it is not covered. It is on
// the write path (every committed change): a switch on the resource name first.
func kindOf(g index.GVR) int {
	var i int
	switch g.Resource {
	case "cronjobs":
		i = 0
	case "daemonsets":
		i = 1
	case "deployments":
		i = 2
	case "ingressclasses":
		i = 3
	case "ingresses":
		i = 4
	case "jobs":
		i = 5
	case "namespaces":
		i = 6
	case "nodes":
		i = 7
	case "pods":
		i = 8
	case "replicasets":
		i = 9
	case "secrets":
		i = 10
	case "services":
		i = 11
	case "statefulsets":
		i = 12
	default:
		return -1
	}
	if kinds[i].gvr != g {
		return -1
	}
	return i
}

func kindByResource(resource string) int {
	for i := range kinds {
		if kinds[i].resource == resource {
			return i
		}
	}
	return -1
}

// FamilyOptions selects and shapes the metric families, as kube-state-metrics' flags do.
type FamilyOptions struct {
	// Resources to produce metrics for (nil: all).
	Resources []string
	// MetricAllowlist / MetricDenylist / MetricOptInList: --metric-allowlist,
	// --metric-denylist, --metric-opt-in-list.
	MetricAllowlist, MetricDenylist, MetricOptInList []string
	// LabelsAllowlist / AnnotationsAllowlist: --metric-labels-allowlist,
	// --metric-annotations-allowlist (resource or "*" → names or "*").
	LabelsAllowlist, AnnotationsAllowlist map[string][]string
}

// kindFamilies are the filtered family generators of one kind and their headers.
type kindFamilies struct {
	generators []generator.FamilyGenerator
	headers    []string
}

// buildFamilies returns, per kind (nil when the resource is not enabled), the
// kube-state-metrics v2.13.0 family generators with the allow/deny/opt-in filter applied.
//
// The generators come from kube-state-metrics' own builder — the functions Clusterpedia's
// MetricsStoreBuilder reaches, but called with the labels and annotations allowlists
// (Clusterpedia passes none) — and the family filter is Clusterpedia's
// NewFamilyGeneratorFilter (kube-state-metrics' allow/deny list plus its opt-in filter).
func buildFamilies(o FamilyOptions) ([numKinds]*kindFamilies, error) {
	var out [numKinds]*kindFamilies
	resources := o.Resources
	if len(resources) == 0 {
		resources = Resources()
	}
	for _, r := range resources {
		if kindByResource(r) < 0 {
			return out, fmt.Errorf("resource %q is not covered (supported: %v)", r, Resources())
		}
	}
	filter, err := cpksm.NewFamilyGeneratorFilter(&cpksm.MetricsStoreBuilderConfig{
		MetricAllowlist: metricSet(o.MetricAllowlist),
		MetricDenylist:  metricSet(o.MetricDenylist),
		MetricOptInList: metricSet(o.MetricOptInList),
	})
	if err != nil {
		return out, err
	}
	byType := map[reflect.Type]int{}
	for i, k := range kinds {
		byType[reflect.TypeOf(k.newObject())] = i
	}
	b := builder.NewBuilder()
	if err := b.WithEnabledResources(resources); err != nil {
		return out, err
	}
	b.WithFamilyGeneratorFilter(filter)
	if err := b.WithAllowLabels(o.LabelsAllowlist); err != nil {
		return out, fmt.Errorf("labels allowlist: %w", err)
	}
	if err := b.WithAllowAnnotations(o.AnnotationsAllowlist); err != nil {
		return out, fmt.Errorf("annotations allowlist: %w", err)
	}
	var unexpected []string
	b.WithGenerateStoresFunc(ksmtypes.BuildStoresFunc(func(families []generator.FamilyGenerator, expectedType interface{},
		_ func(clientset.Interface, string, string) cache.ListerWatcher, _ bool) []cache.Store {
		i, ok := byType[reflect.TypeOf(expectedType)]
		if !ok {
			unexpected = append(unexpected, fmt.Sprintf("%T", expectedType))
			return nil
		}
		gens := generator.FilterFamilyGenerators(filter, families)
		out[i] = &kindFamilies{generators: gens, headers: generator.ExtractMetricFamilyHeaders(gens)}
		return nil
	}))
	// Builds nothing but calls the function above once per enabled resource.
	b.BuildStores()
	if len(unexpected) > 0 {
		return out, fmt.Errorf("kube-state-metrics built stores for unexpected types %v", unexpected)
	}
	for _, r := range resources {
		if out[kindByResource(r)] == nil {
			return out, fmt.Errorf("kube-state-metrics has no generators for %q", r)
		}
	}
	return out, nil
}

func metricSet(names []string) options.MetricSet {
	s := options.MetricSet{}
	for _, n := range names {
		s[n] = struct{}{}
	}
	return s
}

// generateFunc renders the families of one object with the cluster label first, exactly
// as Clusterpedia's MetricsStoreBuilder composes them for a member cluster.
func generateFunc(cluster string, gens []generator.FamilyGenerator) func(obj interface{}) []metric.FamilyInterface {
	return func(obj interface{}) []metric.FamilyInterface {
		families := make([]metric.FamilyInterface, len(gens))
		for i := range gens {
			f := gens[i].Generate(obj)
			for _, m := range f.Metrics {
				keys := make([]string, 0, len(m.LabelKeys)+1)
				m.LabelKeys = append(append(keys, "cluster"), m.LabelKeys...)
				values := make([]string, 0, len(m.LabelValues)+1)
				m.LabelValues = append(append(values, cluster), m.LabelValues...)
			}
			families[i] = f
		}
		return families
	}
}
