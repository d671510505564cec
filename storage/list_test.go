package storage

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	storeerr "k8s.io/apiserver/pkg/storage/errors"
	"k8s.io/kubernetes/pkg/apis/apps"
	"k8s.io/kubernetes/pkg/apis/core"

	internal "github.com/clusterpedia-io/api/clusterpedia"
	cpstorage "github.com/clusterpedia-io/clusterpedia/pkg/storage"
)

func podList() runtime.Object        { return &core.PodList{} }
func deploymentList() runtime.Object { return &apps.DeploymentList{} }
func namespaceList() runtime.Object  { return &core.NamespaceList{} }
func widgetList() runtime.Object {
	l := &unstructured.UnstructuredList{}
	l.SetAPIVersion("example.com/v1")
	l.SetKind("WidgetList")
	return l
}

// statusCode is the HTTP code the apiserver answers for a List error
// (storeerr.InterpretListError, as RESTStorage.List does).
func statusCode(err error, gr schema.GroupResource) int32 {
	err = storeerr.InterpretListError(err, gr)
	if s, ok := err.(apierrors.APIStatus); ok {
		return s.Status().Code
	}
	return http.StatusInternalServerError
}

type listCase struct {
	name               string
	storage            func(*fixture) cpstorage.ResourceStorage
	newList            func() runtime.Object
	query              string
	cluster, namespace string // path cluster / namespace
	want               []string
	wantCode           int32
	wantMsg            string
	check              func(t *testing.T, list runtime.Object)
}

var (
	deploymentsOf = func(fx *fixture) cpstorage.ResourceStorage { return fx.deployments }
	podsOf        = func(fx *fixture) cpstorage.ResourceStorage { return fx.pods }
	widgetsOf     = func(fx *fixture) cpstorage.ResourceStorage { return fx.widgets }
	namespacesOf  = func(fx *fixture) cpstorage.ResourceStorage { return fx.namespaces }
)

func remaining(t *testing.T, list runtime.Object) *int64 {
	t.Helper()
	lm, err := meta.ListAccessor(list)
	if err != nil {
		t.Fatal(err)
	}
	return lm.GetRemainingItemCount()
}

func continueOf(t *testing.T, list runtime.Object) string {
	t.Helper()
	lm, err := meta.ListAccessor(list)
	if err != nil {
		t.Fatal(err)
	}
	return lm.GetContinue()
}

func wantRemaining(n int64) func(t *testing.T, list runtime.Object) {
	return func(t *testing.T, list runtime.Object) {
		t.Helper()
		if r := remaining(t, list); r == nil || *r != n {
			t.Errorf("remainingItemCount = %v, want %d", r, n)
		}
	}
}

func TestList(t *testing.T) {
	fx := newFixture(t)
	allDeploys := []string{"c1/ns-a/web", "c1/ns-b/api", "c2/ns-a/web", "c2/ns-b/api"}
	webPodsC1 := []string{"c1/ns-a/web-5d4-a", "c1/ns-a/web-5d4-b"}
	cases := []listCase{
		// --- clusters, namespaces, names (§5.5) ---
		{name: "multi-cluster list", storage: deploymentsOf, newList: deploymentList, want: allDeploys,
			check: func(t *testing.T, l runtime.Object) {
				wantRemaining(0)(t, l) // WithRemainingCount defaults to true in binding-apiserver
				if c := continueOf(t, l); c != "" {
					t.Errorf("continue = %q without withContinue", c)
				}
				for _, d := range l.(*apps.DeploymentList).Items {
					if d.Annotations[internal.ShadowAnnotationClusterName] == "" {
						t.Errorf("%s lacks the cluster-name annotation", d.Name)
					}
				}
			}},
		{name: "clusters query", storage: deploymentsOf, newList: deploymentList, query: "clusters=c1",
			want: []string{"c1/ns-a/web", "c1/ns-b/api"}},
		{name: "clusters search label", storage: deploymentsOf, newList: deploymentList,
			query: "labelSelector=search.clusterpedia.io/clusters=c1", want: []string{"c1/ns-a/web", "c1/ns-b/api"}},
		{name: "clusters search label operator ignored by clusterpedia", storage: deploymentsOf, newList: deploymentList,
			query: "labelSelector=search.clusterpedia.io/clusters!=c1", want: []string{"c1/ns-a/web", "c1/ns-b/api"}},
		{name: "path cluster", storage: deploymentsOf, newList: deploymentList, cluster: "c2",
			want: []string{"c2/ns-a/web", "c2/ns-b/api"}},
		{name: "path beats query", storage: deploymentsOf, newList: deploymentList, cluster: "c1", query: "clusters=c2",
			want: []string{"c1/ns-a/web", "c1/ns-b/api"}},
		{name: "several clusters", storage: deploymentsOf, newList: deploymentList, query: "clusters=c2,c1,nope", want: allDeploys},
		{name: "unknown cluster", storage: deploymentsOf, newList: deploymentList, query: "clusters=nope", want: []string{}},
		{name: "namespaces and names", storage: deploymentsOf, newList: deploymentList, query: "namespaces=ns-a&names=web",
			want: []string{"c1/ns-a/web", "c2/ns-a/web"}},
		{name: "names only", storage: deploymentsOf, newList: deploymentList, query: "names=api,nope",
			want: []string{"c1/ns-b/api", "c2/ns-b/api"}},
		{name: "path namespace", storage: deploymentsOf, newList: deploymentList, namespace: "ns-b",
			want: []string{"c1/ns-b/api", "c2/ns-b/api"}},
		{name: "namespace filter excludes cluster-scoped", storage: namespacesOf, newList: namespaceList, query: "namespaces=ns-a", want: []string{}},
		{name: "cluster-scoped list", storage: namespacesOf, newList: namespaceList, cluster: "c1",
			want: []string{"c1//ns-a", "c1//ns-b"}},

		// --- label selector (§5.10), Kubernetes semantics ---
		{name: "label equality and != ", storage: deploymentsOf, newList: deploymentList, query: "labelSelector=app=web,tier!=be",
			want: []string{"c1/ns-a/web", "c2/ns-a/web"}},
		{name: "label != matches objects lacking the key", storage: deploymentsOf, newList: deploymentList, query: "labelSelector=tier!=fe",
			want: []string{"c1/ns-b/api", "c2/ns-b/api"}},
		{name: "label notin matches objects lacking the key", storage: deploymentsOf, newList: deploymentList,
			query: "labelSelector=tier notin (fe)", want: []string{"c1/ns-b/api", "c2/ns-b/api"}},
		{name: "label in", storage: deploymentsOf, newList: deploymentList, query: "labelSelector=app in (api,x)",
			want: []string{"c1/ns-b/api", "c2/ns-b/api"}},
		{name: "label exists", storage: deploymentsOf, newList: deploymentList, query: "labelSelector=tier",
			want: []string{"c1/ns-a/web", "c2/ns-a/web"}},
		{name: "label does not exist", storage: deploymentsOf, newList: deploymentList, query: "labelSelector=!tier",
			want: []string{"c1/ns-b/api", "c2/ns-b/api"}},
		{name: "label gt is evaluated (internalstorage ignores it)", storage: deploymentsOf, newList: deploymentList,
			query: "labelSelector=rank>2", want: []string{"c1/ns-a/web", "c2/ns-a/web"}},
		{name: "label lt", storage: deploymentsOf, newList: deploymentList, query: "labelSelector=rank<2",
			want: []string{"c1/ns-b/api", "c2/ns-b/api"}},

		// --- extra labels (§5.11) ---
		{name: "fuzzy name", storage: deploymentsOf, newList: deploymentList,
			query: "labelSelector=internalstorage.clusterpedia.io/fuzzy-name=e", want: []string{"c1/ns-a/web", "c2/ns-a/web"}},
		{name: "fuzzy name in = contains all", storage: podsOf, newList: podList, cluster: "c1",
			query: "labelSelector=internalstorage.clusterpedia.io/fuzzy-name in (5d4,4-b)", want: []string{"c1/ns-a/web-5d4-b"}},
		{name: "fuzzy name is case-sensitive", storage: deploymentsOf, newList: deploymentList,
			query: "labelSelector=internalstorage.clusterpedia.io/fuzzy-name=WEB", want: []string{}},
		{name: "fuzzy name with a negative operator", storage: deploymentsOf, newList: deploymentList,
			query: "labelSelector=internalstorage.clusterpedia.io/fuzzy-name!=e", wantCode: 400, wantMsg: "internalstorage.clusterpedia.io/fuzzy-name"},
		{name: "unknown extra label", storage: deploymentsOf, newList: deploymentList,
			query: "labelSelector=internalstorage.clusterpedia.io/other=x", wantCode: 400, wantMsg: `"internalstorage.clusterpedia.io/other"`},
		{name: "unknown extra label of another prefix", storage: deploymentsOf, newList: deploymentList,
			query: "labelSelector=app=web,foo.clusterpedia.io/bar", wantCode: 400, wantMsg: `"foo.clusterpedia.io/bar"`},

		// --- enhanced field selector (§5.13) ---
		{name: "field equality", storage: podsOf, newList: podList, query: "fieldSelector=status.phase=Running",
			want: []string{"c1/ns-a/web-5d4-a", "c1/ns-b/api-7f8-a", "c2/ns-a/web-5d4-a", "c2/ns-b/api-7f8-a"}},
		{name: "field annotation with bracket-quoted key", storage: deploymentsOf, newList: deploymentList,
			query: "fieldSelector=metadata.annotations['shadow.clusterpedia.io/cluster-name']=c2", want: []string{"c2/ns-a/web", "c2/ns-b/api"}},
		{name: "field number as text", storage: deploymentsOf, newList: deploymentList, query: "fieldSelector=status.replicas=2",
			want: []string{"c1/ns-a/web", "c2/ns-a/web"}},
		{name: "field gt", storage: deploymentsOf, newList: deploymentList, query: "fieldSelector=status.replicas>1",
			want: []string{"c1/ns-a/web", "c2/ns-a/web"}},
		{name: "field notin matches missing", storage: podsOf, newList: podList, cluster: "c1",
			query: "fieldSelector=status.phase notin (Running)", want: []string{"c1/ns-a/web-5d4-b"}},
		{name: "field != ", storage: podsOf, newList: podList, query: "fieldSelector=spec.nodeName!=node-1", want: []string{}},
		{name: "field exists / not exists", storage: podsOf, newList: podList, cluster: "c1",
			query: "fieldSelector=spec.nodeName,!status.podIP", want: []string{"c1/ns-a/web-5d4-a", "c1/ns-a/web-5d4-b", "c1/ns-b/api-7f8-a"}},
		{name: "field list any element", storage: podsOf, newList: podList, cluster: "c1",
			query: "fieldSelector=spec.containers[].name=sidecar", want: webPodsC1},
		{name: "field list index", storage: podsOf, newList: podList, cluster: "c1",
			query: "fieldSelector=spec.containers[1].name=sidecar", want: webPodsC1},
		{name: "field list index 0", storage: podsOf, newList: podList, cluster: "c1",
			query: "fieldSelector=spec.containers[0].name=sidecar", want: []string{}},
		{name: "field negative list index", storage: podsOf, newList: podList,
			query: "fieldSelector=spec.containers[-1].name=x", wantCode: 400, wantMsg: "fieldSelector"},

		// --- since / before (§5.8): [since, before) on creationTimestamp ---
		{name: "since", storage: deploymentsOf, newList: deploymentList, query: "since=2024-03-01",
			want: []string{"c1/ns-b/api", "c2/ns-b/api"}},
		{name: "before is exclusive", storage: deploymentsOf, newList: deploymentList, query: "before=2024-01-11",
			want: []string{"c1/ns-a/web"}},
		{name: "since is inclusive (unix seconds)", storage: deploymentsOf, newList: deploymentList, query: "since=1718064000",
			want: []string{"c2/ns-b/api"}},
		{name: "since and before", storage: deploymentsOf, newList: deploymentList, query: "since=2024-01-10&before=2024-06-11",
			want: []string{"c1/ns-a/web", "c1/ns-b/api", "c2/ns-a/web"}},
		{name: "since/before search labels", storage: deploymentsOf, newList: deploymentList,
			query: "labelSelector=search.clusterpedia.io/since=2024-01-11,search.clusterpedia.io/before=2024-06-10",
			want:  []string{"c2/ns-a/web"}},

		// --- orderby (§5.6) ---
		{name: "orderby name desc, cluster", storage: deploymentsOf, newList: deploymentList, query: "orderby=name desc,cluster",
			want: []string{"c1/ns-a/web", "c2/ns-a/web", "c1/ns-b/api", "c2/ns-b/api"}},
		{name: "orderby search label", storage: deploymentsOf, newList: deploymentList,
			query: "labelSelector=search.clusterpedia.io/orderby=created_at_desc",
			want:  []string{"c2/ns-b/api", "c1/ns-b/api", "c2/ns-a/web", "c1/ns-a/web"}},
		{name: "orderby resource_version is numeric", storage: namespacesOf, newList: namespaceList, query: "orderby=resource_version desc",
			want: []string{"c2//ns-b", "c2//ns-a", "c1//ns-b", "c1//ns-a"}},
		{name: "orderby unknown field", storage: deploymentsOf, newList: deploymentList, query: "orderby=foo",
			wantCode: 400, wantMsg: "orderby"},
		{name: "orderby raw SQL", storage: deploymentsOf, newList: deploymentList, query: "orderby=JSON_EXTRACT(object,'$.status')",
			wantCode: 400, wantMsg: "orderby"},

		// --- limit / continue / remaining (§5.9) ---
		{name: "limit with continue", storage: deploymentsOf, newList: deploymentList, query: "limit=2&withContinue=true",
			want: allDeploys[:2], check: func(t *testing.T, l runtime.Object) {
				wantRemaining(2)(t, l)
				if continueOf(t, l) == "" {
					t.Error("no continue token")
				}
			}},
		{name: "limit without withContinue", storage: deploymentsOf, newList: deploymentList, query: "limit=3",
			want: allDeploys[:3], check: func(t *testing.T, l runtime.Object) {
				wantRemaining(1)(t, l)
				if c := continueOf(t, l); c != "" {
					t.Errorf("continue = %q", c)
				}
			}},
		{name: "no token when the last page is exactly full", storage: deploymentsOf, newList: deploymentList,
			query: "limit=4&withContinue=true", want: allDeploys, check: func(t *testing.T, l runtime.Object) {
				if c := continueOf(t, l); c != "" {
					t.Errorf("continue = %q on the last page", c)
				}
			}},
		{name: "withRemainingCount=false", storage: deploymentsOf, newList: deploymentList, query: "limit=1&withRemainingCount=false",
			want: allDeploys[:1], check: func(t *testing.T, l runtime.Object) {
				if r := remaining(t, l); r != nil {
					t.Errorf("remainingItemCount = %d", *r)
				}
			}},
		{name: "decimal continue is an offset", storage: deploymentsOf, newList: deploymentList, query: "limit=1&continue=3",
			want: allDeploys[3:], check: wantRemaining(0)},
		{name: "offset via search labels", storage: deploymentsOf, newList: deploymentList,
			query: "labelSelector=search.clusterpedia.io/limit=2,search.clusterpedia.io/offset=2", want: allDeploys[2:], check: wantRemaining(0)},
		{name: "offset past the end", storage: deploymentsOf, newList: deploymentList, query: "continue=10",
			want: []string{}, check: wantRemaining(0)},
		{name: "malformed continue", storage: deploymentsOf, newList: deploymentList, query: "continue=garbage!",
			wantCode: 400, wantMsg: "continue"},

		// --- owner (§5.7) ---
		{name: "owner uid seniority 1", storage: podsOf, newList: podList, cluster: "c1",
			query: "ownerUID=c1-deploy-web-uid&ownerSeniority=1", want: webPodsC1},
		{name: "owner uid seniority 0", storage: podsOf, newList: podList, cluster: "c1",
			query: "ownerUID=c1-rs-web-uid", want: webPodsC1},
		{name: "owner uid search label", storage: podsOf, newList: podList, cluster: "c1",
			query: "labelSelector=search.clusterpedia.io/owner-uid=c1-rs-web-uid", want: webPodsC1},
		{name: "owner uid of another cluster", storage: podsOf, newList: podList, cluster: "c2",
			query: "ownerUID=c1-rs-web-uid", want: []string{}},
		{name: "owner name and GR", storage: podsOf, newList: podList, cluster: "c1", namespace: "ns-a",
			query: "ownerName=web&ownerGR=deployments.apps&ownerSeniority=1", want: webPodsC1},
		{name: "owner name of a replicaset", storage: podsOf, newList: podList, cluster: "c2",
			query: "ownerName=web-5d4", want: []string{"c2/ns-a/web-5d4-a", "c2/ns-a/web-5d4-b"}},
		{name: "owner name with a non-matching GR", storage: podsOf, newList: podList, cluster: "c1",
			query: "ownerName=web&ownerGR=replicasets.apps&ownerSeniority=1", want: []string{}},
		{name: "owner uid wins over name", storage: podsOf, newList: podList, cluster: "c1",
			query: "ownerUID=c1-rs-api-uid&ownerName=web-5d4", want: []string{"c1/ns-b/api-7f8-a"}},
		{name: "owner with other filters", storage: podsOf, newList: podList, cluster: "c1",
			query: "ownerUID=c1-deploy-web-uid&ownerSeniority=1&fieldSelector=status.phase=Pending", want: []string{"c1/ns-a/web-5d4-b"}},
		{name: "owner negative seniority", storage: podsOf, newList: podList, cluster: "c1",
			query: "ownerUID=c1-rs-web-uid&ownerSeniority=-1", wantCode: 400, wantMsg: "ownerSeniority"},

		// --- output shapes (§6) ---
		{name: "only metadata into a typed list", storage: deploymentsOf, newList: deploymentList, query: "onlyMetadata=true&clusters=c1",
			want: []string{"c1/ns-a/web", "c1/ns-b/api"}, check: func(t *testing.T, l runtime.Object) {
				for _, d := range l.(*apps.DeploymentList).Items {
					if !reflect.DeepEqual(d.Spec, apps.DeploymentSpec{}) || d.Kind != "" || d.UID == "" || d.Labels["app"] == "" {
						t.Errorf("metadata-only item %s: spec %+v kind %q uid %q labels %v", d.Name, d.Spec, d.Kind, d.UID, d.Labels)
					}
				}
			}},
		{name: "storage-version typed list", storage: podsOf, newList: func() runtime.Object { return &corev1.PodList{} },
			query: "clusters=c2&namespaces=ns-b", want: []string{"c2/ns-b/api-7f8-a"}, check: func(t *testing.T, l runtime.Object) {
				p := l.(*corev1.PodList).Items[0]
				if p.Status.Phase != corev1.PodRunning || len(p.Spec.Containers) != 1 || p.Spec.NodeName != "node-1" {
					t.Errorf("decoded pod: %+v", p)
				}
			}},
		{name: "typed list decodes through the storage codec", storage: podsOf, newList: podList, query: "clusters=c1&names=web-5d4-a",
			want: []string{"c1/ns-a/web-5d4-a"}, check: func(t *testing.T, l runtime.Object) {
				p := l.(*core.PodList).Items[0]
				if p.Status.Phase != core.PodRunning || len(p.Spec.Containers) != 2 || p.Spec.RestartPolicy != core.RestartPolicyAlways {
					t.Errorf("decoded pod (defaults applied?): phase %q containers %d restartPolicy %q", p.Status.Phase, len(p.Spec.Containers), p.Spec.RestartPolicy)
				}
				if p.OwnerReferences[0].UID != "c1-rs-web-uid" {
					t.Errorf("owner refs %+v", p.OwnerReferences)
				}
			}},
		{name: "CRD unstructured list", storage: widgetsOf, newList: widgetList, want: []string{"c1/ns-a/w1", "c2/ns-b/w2"},
			check: func(t *testing.T, l runtime.Object) {
				for _, w := range l.(*unstructured.UnstructuredList).Items {
					if w.GetAPIVersion() != "example.com/v1" || w.GetKind() != "Widget" {
						t.Errorf("item gvk %s", w.GroupVersionKind())
					}
					if _, ok, _ := unstructured.NestedInt64(w.Object, "spec", "size"); !ok {
						t.Errorf("item %s lacks spec.size", w.GetName())
					}
				}
			}},
		{name: "CRD only metadata", storage: widgetsOf, newList: widgetList, query: "onlyMetadata=true",
			want: []string{"c1/ns-a/w1", "c2/ns-b/w2"}, check: func(t *testing.T, l runtime.Object) {
				for _, w := range l.(*unstructured.UnstructuredList).Items {
					if len(w.Object) != 3 || w.GetAPIVersion() != "example.com/v1" || w.GetKind() != "Widget" || w.GetUID() == "" {
						t.Errorf("metadata-only item %v", w.Object)
					}
				}
			}},
		{name: "CRD field selector on a number", storage: widgetsOf, newList: widgetList, query: "fieldSelector=spec.size>4",
			want: []string{"c2/ns-b/w2"}},

		// --- rejected options ---
		{name: "raw SQL url query", storage: deploymentsOf, newList: deploymentList, query: "whereSQL=1=1",
			wantCode: 400, wantMsg: "not supported by memgraph"},
		{name: "parameterized SQL url query", storage: deploymentsOf, newList: deploymentList,
			query: "whereSQLStatement=name=?&whereSQLParam=web", wantCode: 400, wantMsg: "whereSQLStatement"},
		{name: "ignored fields", storage: deploymentsOf, newList: deploymentList,
			query: "resourceVersion=5&timeoutSeconds=3&resourceVersionMatch=NotOlderThan&clusters=c1", want: []string{"c1/ns-a/web", "c1/ns-b/api"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := decodeListOptions(t, tc.query, tc.cluster, tc.namespace)
			rs := tc.storage(fx)
			list := tc.newList()
			err := rs.List(bg, list, opts)
			gr := rs.GetStorageConfig().GroupResource
			if tc.wantCode != 0 {
				if err == nil {
					t.Fatalf("List succeeded, want %d", tc.wantCode)
				}
				if code := statusCode(err, gr); code != tc.wantCode {
					t.Fatalf("status %d (%v), want %d", code, err, tc.wantCode)
				}
				if !strings.Contains(err.Error(), tc.wantMsg) {
					t.Fatalf("error %q does not mention %q", err, tc.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if got := ids(t, list); join(got) != join(tc.want) {
				t.Fatalf("items %v, want %v", got, tc.want)
			}
			if tc.check != nil {
				tc.check(t, list)
			}
		})
	}
}

// TestListPaging follows continue tokens until the end, for the default order and an orderby.
func TestListPaging(t *testing.T) {
	fx := newFixture(t)
	for _, tc := range []struct {
		name, query string
		rs          func(*fixture) cpstorage.ResourceStorage
		newList     func() runtime.Object
		want        []string
	}{
		{"identity order", "limit=1&withContinue=true", deploymentsOf, deploymentList,
			[]string{"c1/ns-a/web", "c1/ns-b/api", "c2/ns-a/web", "c2/ns-b/api"}},
		{"orderby created_at desc", "limit=2&withContinue=true&orderby=created_at desc", podsOf, podList,
			[]string{"c2/ns-b/api-7f8-a", "c1/ns-b/api-7f8-a", "c2/ns-a/web-5d4-b", "c2/ns-a/web-5d4-a", "c1/ns-a/web-5d4-b", "c1/ns-a/web-5d4-a"}},
		{"filtered", "limit=1&withContinue=true&labelSelector=app=web", podsOf, podList,
			[]string{"c1/ns-a/web-5d4-a", "c1/ns-a/web-5d4-b", "c2/ns-a/web-5d4-a", "c2/ns-a/web-5d4-b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			token := ""
			for page := 0; ; page++ {
				if page > len(tc.want) {
					t.Fatalf("too many pages: %v", got)
				}
				q := tc.query
				if token != "" {
					q += "&continue=" + token
				}
				opts := decodeListOptions(t, q, "", "")
				list := tc.newList()
				if err := tc.rs(fx).List(bg, list, opts); err != nil {
					t.Fatalf("page %d: %v", page, err)
				}
				got = append(got, ids(t, list)...)
				if r := remaining(t, list); r == nil || *r != int64(len(tc.want)-len(got)) {
					t.Fatalf("page %d: remaining %v, want %d", page, r, len(tc.want)-len(got))
				}
				if token = continueOf(t, list); token == "" {
					break
				}
			}
			if join(got) != join(tc.want) {
				t.Fatalf("pages %v, want %v", got, tc.want)
			}
		})
	}
}

// TestListOptionsDirect covers ListOptions values the URL conversion cannot produce but a
// caller could pass.
func TestListOptionsDirect(t *testing.T) {
	fx := newFixture(t)
	since := metav1.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	before := metav1.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		opts    *internal.ListOptions
		want    []string
		wantMsg string
	}{
		{"nil options", nil, []string{"c1/ns-a/web", "c1/ns-b/api", "c2/ns-a/web", "c2/ns-b/api"}, ""},
		{"before earlier than since", &internal.ListOptions{Since: &since, Before: &before}, nil, "before"},
		{"negative limit is unlimited (as in internalstorage)", &internal.ListOptions{ListOptions: metainternalversion.ListOptions{Limit: -1}},
			[]string{"c1/ns-a/web", "c1/ns-b/api", "c2/ns-a/web", "c2/ns-b/api"}, ""},
		{"orderby field with spaces", &internal.ListOptions{OrderBy: []internal.OrderBy{{Field: " name ", Desc: true}}},
			[]string{"c1/ns-a/web", "c2/ns-a/web", "c1/ns-b/api", "c2/ns-b/api"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list := &apps.DeploymentList{}
			err := fx.deployments.List(bg, list, tc.opts)
			if tc.wantMsg != "" {
				if err == nil || !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), tc.wantMsg) {
					t.Fatalf("err = %v, want a 400 naming %q", err, tc.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(t, list); join(got) != join(tc.want) {
				t.Fatalf("items %v, want %v", got, tc.want)
			}
		})
	}
}
