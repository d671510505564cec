package storage

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	internal "github.com/clusterpedia-io/api/clusterpedia"
	cpstorage "github.com/clusterpedia-io/clusterpedia/pkg/storage"
)

// servedCollections does what the collectionresources REST does at construction: take
// GetCollectionResources, rewrite every entry naming a resource to its storage GVR, and build
// one storage per collection.
func servedCollections(t *testing.T, f *StorageFactory) map[string]cpstorage.CollectionResourceStorage {
	t.Helper()
	crs, err := f.GetCollectionResources(context.TODO())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]cpstorage.CollectionResourceStorage{}
	for _, cr := range crs {
		for i := range cr.ResourceTypes {
			rt := &cr.ResourceTypes[i]
			if rt.Resource == "" {
				continue
			}
			rc, err := configFactory.NewConfig(rt.GroupResource().WithVersion(""), false)
			if err != nil {
				t.Fatal(err)
			}
			*rt = internal.CollectionResourceType{Group: rc.StorageResource.Group, Version: rc.StorageResource.Version, Resource: rc.StorageResource.Resource}
		}
		s, err := f.NewCollectionResourceStorage(cr)
		if err != nil || s == nil {
			t.Fatalf("NewCollectionResourceStorage(%s) = %v, %v", cr.Name, s, err)
		}
		out[cr.Name] = s
	}
	return out
}

func collectionIDs(t *testing.T, cr *internal.CollectionResource) []string {
	t.Helper()
	out := make([]string, 0, len(cr.Items))
	for _, it := range cr.Items {
		u, ok := it.(*unstructured.Unstructured)
		if !ok {
			t.Fatalf("item %T, want *unstructured.Unstructured", it)
		}
		out = append(out, u.GetAnnotations()[internal.ShadowAnnotationClusterName]+"/"+u.GetKind()+"/"+u.GetNamespace()+"/"+u.GetName())
	}
	return out
}

func typesOf(cr *internal.CollectionResource) []string {
	var out []string
	for _, rt := range cr.ResourceTypes {
		out = append(out, rt.Group+"/"+rt.Version+"/"+rt.Resource+"/"+rt.Kind)
	}
	return out
}

func TestCollectionResources(t *testing.T) {
	fx := newFixture(t)
	served := servedCollections(t, fx.f)
	allWorkloads := []string{"c1/DaemonSet/ns-b/logs", "c1/Deployment/ns-a/web", "c1/Deployment/ns-b/api",
		"c2/Deployment/ns-a/web", "c2/Deployment/ns-b/api", "c2/StatefulSet/ns-a/db"}
	for _, tc := range []struct {
		name, collection, query string
		want                    []string // nil: only count
		wantCount               int
		wantTypes               []string
		wantRemaining           *int64
		wantContinue            bool
		wantCode                int32
		wantMsg                 string
		check                   func(t *testing.T, cr *internal.CollectionResource)
	}{
		{name: "workloads", collection: "workloads", want: allWorkloads,
			wantTypes:     []string{"apps/v1/daemonsets/DaemonSet", "apps/v1/deployments/Deployment", "apps/v1/statefulsets/StatefulSet"},
			wantRemaining: ptr64(0)},
		{name: "workloads page", collection: "workloads", query: "limit=2&withContinue=true", want: allWorkloads[:2],
			wantTypes: []string{"apps/v1/daemonsets/DaemonSet", "apps/v1/deployments/Deployment"}, wantRemaining: ptr64(4), wantContinue: true},
		{name: "workloads offset", collection: "workloads", query: "limit=2&continue=4&withContinue=true", want: allWorkloads[4:],
			wantTypes: []string{"apps/v1/deployments/Deployment", "apps/v1/statefulsets/StatefulSet"}, wantRemaining: ptr64(0)},
		{name: "workloads filters", collection: "workloads", query: "clusters=c2&fieldSelector=status.replicas=2",
			want: []string{"c2/Deployment/ns-a/web"}},
		{name: "workloads orderby", collection: "workloads", query: "orderby=name&clusters=c1",
			want: []string{"c1/Deployment/ns-b/api", "c1/DaemonSet/ns-b/logs", "c1/Deployment/ns-a/web"}},
		{name: "workloads only metadata", collection: "workloads", query: "onlyMetadata=true&clusters=c2&namespaces=ns-a",
			want: []string{"c2/Deployment/ns-a/web", "c2/StatefulSet/ns-a/db"}, check: func(t *testing.T, cr *internal.CollectionResource) {
				for _, it := range cr.Items {
					u := it.(*unstructured.Unstructured)
					if len(u.Object) != 3 || u.GetAPIVersion() != "apps/v1" || u.GetUID() == "" {
						t.Errorf("metadata-only item %v", u.Object)
					}
				}
			}},
		{name: "workloads full objects", collection: "workloads", query: "names=db", want: []string{"c2/StatefulSet/ns-a/db"},
			check: func(t *testing.T, cr *internal.CollectionResource) {
				u := cr.Items[0].(*unstructured.Unstructured)
				if s, _, _ := unstructured.NestedString(u.Object, "spec", "serviceName"); s != "db" || u.GetAPIVersion() != "apps/v1" {
					t.Errorf("item %v", u.Object)
				}
				if cr.Name != "workloads" {
					t.Errorf("name %q", cr.Name)
				}
			}},
		{name: "workloads remaining off", collection: "workloads", query: "limit=1&withRemainingCount=false", want: allWorkloads[:1],
			check: func(t *testing.T, cr *internal.CollectionResource) {
				if cr.RemainingItemCount != nil || cr.Continue != "" {
					t.Errorf("remaining %v continue %q", cr.RemainingItemCount, cr.Continue)
				}
			}},
		{name: "any needs groups or resources", collection: "any", wantCode: 400, wantMsg: "`groups` or `resources` is required"},
		{name: "any groups and resources", collection: "any", query: "groups=apps&resources=/pods&clusters=c1&namespaces=ns-a",
			want:      []string{"c1/Pod/ns-a/web-5d4-a", "c1/Pod/ns-a/web-5d4-b", "c1/Deployment/ns-a/web", "c1/ReplicaSet/ns-a/web-5d4"},
			wantTypes: []string{"/v1/pods/Pod", "apps/v1/deployments/Deployment", "apps/v1/replicasets/ReplicaSet"}},
		{name: "any core group", collection: "any", query: "groups=/&clusters=c2&orderby=name",
			want: []string{"c2/Pod/ns-b/api-7f8-a", "c2/Namespace//ns-a", "c2/Namespace//ns-b", "c2/Pod/ns-a/web-5d4-a", "c2/Pod/ns-a/web-5d4-b"}},
		{name: "any group with version", collection: "any", query: "groups=example.com/v1", want: []string{"c1/Widget/ns-a/w1", "c2/Widget/ns-b/w2"}},
		{name: "any group with another version", collection: "any", query: "groups=example.com/v2", want: []string{}},
		{name: "any versioned resource", collection: "any", query: "resources=apps/v1/daemonsets, example.com/widgets",
			want: []string{"c1/DaemonSet/ns-b/logs", "c1/Widget/ns-a/w1", "c2/Widget/ns-b/w2"}},
		{name: "any everything", collection: "any", query: "groups=*&resources=apps/deployments", wantCount: len(fixtureObjects())},
		{name: "any malformed resources", collection: "any", query: "resources=apps", wantCode: 400, wantMsg: "resources"},
		{name: "any malformed groups", collection: "any", query: "groups=a/b/c", wantCode: 400, wantMsg: "groups"},
		{name: "kuberesources only metadata", collection: "kuberesources", query: "onlyMetadata=true", wantCount: len(fixtureObjects()) - 2,
			check: func(t *testing.T, cr *internal.CollectionResource) {
				for _, it := range cr.Items {
					if u := it.(*unstructured.Unstructured); u.GetKind() == "Widget" || len(u.Object) != 3 {
						t.Errorf("item %v", u.Object)
					}
				}
			}},
		{name: "owner is rejected", collection: "workloads", query: "ownerUID=c1-deploy-web-uid&clusters=c1", wantCode: 400, wantMsg: "owner"},
		{name: "bad option", collection: "workloads", query: "orderby=nope", wantCode: 400, wantMsg: "orderby"},
		{name: "unknown extra label", collection: "workloads", query: "labelSelector=x.clusterpedia.io/y=z", wantCode: 400, wantMsg: "x.clusterpedia.io/y"},
		{name: "forward label is not a filter", collection: "workloads", query: "labelSelector=search.clusterpedia.io/forward=true", want: allWorkloads},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr, err := served[tc.collection].Get(bg, decodeCollectionOptions(t, tc.query))
			if tc.wantCode != 0 {
				if err == nil || !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), tc.wantMsg) {
					t.Fatalf("err = %v, want a 400 mentioning %q", err, tc.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := collectionIDs(t, cr)
			if tc.want != nil && join(got) != join(tc.want) {
				t.Fatalf("items %v, want %v", got, tc.want)
			}
			if tc.want == nil && len(got) != tc.wantCount {
				t.Fatalf("%d items, want %d", len(got), tc.wantCount)
			}
			if tc.wantTypes != nil && join(typesOf(cr)) != join(tc.wantTypes) {
				t.Fatalf("resourceTypes %v, want %v", typesOf(cr), tc.wantTypes)
			}
			if tc.wantRemaining != nil && (cr.RemainingItemCount == nil || *cr.RemainingItemCount != *tc.wantRemaining) {
				t.Fatalf("remaining %v, want %d", cr.RemainingItemCount, *tc.wantRemaining)
			}
			if (cr.Continue != "") != tc.wantContinue {
				t.Fatalf("continue %q, want token: %v", cr.Continue, tc.wantContinue)
			}
			if tc.check != nil {
				tc.check(t, cr)
			}
		})
	}

	t.Run("paging to the end", func(t *testing.T) {
		var got []string
		token := ""
		for page := 0; page < 10; page++ {
			q := "limit=4&withContinue=true"
			if token != "" {
				q += "&continue=" + token
			}
			cr, err := served["workloads"].Get(bg, decodeCollectionOptions(t, q))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, collectionIDs(t, cr)...)
			if token = cr.Continue; token == "" {
				break
			}
		}
		if join(got) != join(allWorkloads) {
			t.Fatalf("pages %v", got)
		}
	})
}

func ptr64(n int64) *int64 { return &n }

func TestCollectionDefinitions(t *testing.T) {
	f := newTestFactory(t, nil)
	crs, err := f.GetCollectionResources(context.TODO())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, cr := range crs {
		names = append(names, cr.Name)
	}
	if join(names) != "[any workloads kuberesources]" {
		t.Fatalf("collections %v", names)
	}
	if len(crs[0].ResourceTypes) != 0 {
		t.Errorf("any has types %v", crs[0].ResourceTypes)
	}
	if join(typesOf(crs[1])) != "[apps//deployments/ apps//daemonsets/ apps//statefulsets/]" {
		t.Errorf("workloads %v", typesOf(crs[1]))
	}
	// kuberesources: one group-only entry per legacy-scheme group (contract §7).
	want := []string{"", "admission.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io",
		"apps", "authentication.k8s.io", "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io",
		"coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "extensions", "flowcontrol.apiserver.k8s.io",
		"imagepolicy.k8s.io", "internal.apiserver.k8s.io", "networking.k8s.io", "node.k8s.io", "policy",
		"rbac.authorization.k8s.io", "resource.k8s.io", "scheduling.k8s.io", "storage.k8s.io", "storagemigration.k8s.io"}
	var groups []string
	for _, rt := range crs[2].ResourceTypes {
		if rt.Resource != "" || rt.Version != "" {
			t.Errorf("kuberesources entry %+v is not group-only", rt)
		}
		groups = append(groups, rt.Group)
	}
	if join(groups) != join(sorted(want)) {
		t.Errorf("kuberesources groups\n got %v\nwant %v", groups, sorted(want))
	}
	// Fresh copies: the apiserver mutates them.
	crs[1].ResourceTypes[0].Resource = "mutated"
	again, _ := f.GetCollectionResources(context.TODO())
	if again[1].ResourceTypes[0].Resource != "deployments" {
		t.Fatal("GetCollectionResources returned shared state")
	}
	// Only the three names; never (nil, nil).
	s, err := f.NewCollectionResourceStorage(&internal.CollectionResource{})
	if err == nil || s != nil {
		t.Fatalf("unknown collection: %v, %v", s, err)
	}
	if s, err := f.NewCollectionResourceStorage(nil); err == nil || s != nil {
		t.Fatalf("nil collection: %v, %v", s, err)
	}
}
