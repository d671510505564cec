package storage

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	internal "github.com/clusterpedia-io/api/clusterpedia"
	cpscheme "github.com/clusterpedia-io/clusterpedia/pkg/runtime/scheme"
	cpstorage "github.com/clusterpedia-io/clusterpedia/pkg/storage"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// Collection resources, with internalstorage's names and definitions.
const (
	CollectionAny           = "any"
	CollectionWorkloads     = "workloads"
	CollectionKubeResources = "kuberesources"

	// URL parameters selecting the types of the "any" collection.
	URLQueryGroups    = "groups"
	URLQueryResources = "resources"
)

// collectionResources returns fresh definitions of the served collection resources:
//   - any: no types; the request picks them with ?groups= and/or ?resources=;
//   - workloads: apps deployments, daemonsets and statefulsets (the apiserver fills in the
//     storage version);
//   - kuberesources: one group-only entry per API group of Clusterpedia's legacy scheme (every
//     built-in group), sorted.
func collectionResources() []*internal.CollectionResource {
	groupSet := map[string]struct{}{}
	for _, gv := range cpscheme.LegacyResourceScheme.PreferredVersionAllGroups() {
		groupSet[gv.Group] = struct{}{}
	}
	groups := make([]string, 0, len(groupSet))
	for g := range groupSet {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	kube := make([]internal.CollectionResourceType, 0, len(groups))
	for _, g := range groups {
		kube = append(kube, internal.CollectionResourceType{Group: g})
	}
	return []*internal.CollectionResource{
		{ObjectMeta: metav1.ObjectMeta{Name: CollectionAny}, ResourceTypes: []internal.CollectionResourceType{}},
		{ObjectMeta: metav1.ObjectMeta{Name: CollectionWorkloads}, ResourceTypes: []internal.CollectionResourceType{
			{Group: "apps", Resource: "deployments"},
			{Group: "apps", Resource: "daemonsets"},
			{Group: "apps", Resource: "statefulsets"},
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: CollectionKubeResources}, ResourceTypes: kube},
	}
}

func isCollectionName(name string) bool {
	switch name {
	case CollectionAny, CollectionWorkloads, CollectionKubeResources:
		return true
	}
	return false
}

// collectionStorage serves one collection resource.
type collectionStorage struct {
	f  *StorageFactory
	cr *internal.CollectionResource
	// types are the fixed types of the collection; empty for "any" (types from the URL).
	types []index.TypeMatch
}

var _ cpstorage.CollectionResourceStorage = (*collectionStorage)(nil)

func newCollectionStorage(f *StorageFactory, cr *internal.CollectionResource) *collectionStorage {
	c := &collectionStorage{f: f, cr: cr.DeepCopy()}
	for _, rt := range cr.ResourceTypes {
		// The apiserver rewrites entries that name a resource to the storage GVR; group-only
		// entries (kuberesources) select the whole group.
		c.types = append(c.types, index.TypeMatch{Group: rt.Group, Version: rt.Version, Resource: rt.Resource})
	}
	return c
}

func (c *collectionStorage) Get(ctx context.Context, opts *internal.ListOptions) (*internal.CollectionResource, error) {
	start := time.Now()
	out, err := c.get(opts)
	n := 0
	if out != nil {
		n = len(out.Items)
	}
	c.f.observeQuery("collection", index.GVR{Resource: c.cr.Name}, time.Since(start), n, err)
	return out, err
}

func (c *collectionStorage) get(opts *internal.ListOptions) (*internal.CollectionResource, error) {
	if opts == nil {
		opts = &internal.ListOptions{}
	}
	if opts.OwnerUID != "" || opts.OwnerName != "" {
		return nil, badRequest("owner search (ownerUID/ownerName) is not supported for collection resources")
	}
	lq, err := translateListOptions(opts)
	if err != nil {
		return nil, err
	}
	if len(c.types) > 0 {
		lq.q.Types = c.types
	} else {
		types, all, err := typesFromURLQuery(opts.URLQuery)
		if err != nil {
			return nil, badRequest("%v", err)
		}
		if !all && len(types) == 0 {
			return nil, badRequest("url query - `%s` or `%s` is required", URLQueryGroups, URLQueryResources)
		}
		lq.q.Types = types // nil when all
	}
	res, err := c.f.store.List(&lq.q)
	if err != nil {
		return nil, interpretReadError(err)
	}
	rd := renderer{onlyMetadata: lq.onlyMetadata, injectEvents: lq.injectEvents}
	out := &internal.CollectionResource{
		TypeMeta:   c.cr.TypeMeta,
		ObjectMeta: *c.cr.ObjectMeta.DeepCopy(),
		Items:      make([]runtime.Object, 0, len(res.Items)),
		Continue:   res.Continue,
	}
	items := make([]*unstructured.Unstructured, len(res.Items))
	if err := forEachItem(len(res.Items), func(i int) (err error) {
		items[i], err = rd.collectionItem(res.Items[i])
		return err
	}); err != nil {
		return nil, err
	}
	seen := map[index.GVR]struct{}{}
	for i, r := range res.Items {
		out.Items = append(out.Items, items[i])
		if _, dup := seen[r.GVR]; !dup {
			seen[r.GVR] = struct{}{}
			out.ResourceTypes = append(out.ResourceTypes, internal.CollectionResourceType{
				Group: r.GVR.Group, Version: r.GVR.Version, Resource: r.GVR.Resource, Kind: r.Kind,
			})
		}
	}
	if res.RemainingCount != nil {
		n := *res.RemainingCount
		out.RemainingItemCount = &n
	}
	return out, nil
}

// typesFromURLQuery reads the "any" collection's type selection:
//
//	groups=<g>[,<g>/<v>...]          "" or "/" is the core group; "*" selects every type
//	resources=<g>/<r>[,<g>/<v>/<r>]  core resources as "/pods" or "/v1/pods"
//
// Spaces are ignored. Both parameters may be combined (union).
func typesFromURLQuery(q url.Values) (types []index.TypeMatch, all bool, err error) {
	if q.Has(URLQueryGroups) {
		for _, item := range strings.Split(q.Get(URLQueryGroups), ",") {
			item = strings.ReplaceAll(item, " ", "")
			if item == "*" {
				return nil, true, nil
			}
			parts := strings.Split(item, "/")
			switch {
			case item == "" || item == "/":
				types = append(types, index.TypeMatch{})
			case len(parts) == 1:
				types = append(types, index.TypeMatch{Group: parts[0]})
			case len(parts) == 2:
				types = append(types, index.TypeMatch{Group: parts[0], Version: parts[1]})
			default:
				return nil, false, fmt.Errorf("%s query: unexpected GroupVersion string %q, expect <group> or <group>/<version>", URLQueryGroups, item)
			}
		}
	}
	if q.Has(URLQueryResources) {
		for _, item := range strings.Split(q.Get(URLQueryResources), ",") {
			item = strings.ReplaceAll(item, " ", "")
			parts := strings.Split(item, "/")
			switch {
			case len(parts) == 2 && parts[1] != "":
				types = append(types, index.TypeMatch{Group: parts[0], Resource: parts[1]})
			case len(parts) == 3 && parts[2] != "":
				types = append(types, index.TypeMatch{Group: parts[0], Version: parts[1], Resource: parts[2]})
			default:
				return nil, false, fmt.Errorf("%s query: unexpected GroupVersionResource string %q, expect <group>/<resource> or <group>/<version>/<resource>", URLQueryResources, item)
			}
		}
	}
	return types, false, nil
}
