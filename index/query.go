package index

import (
	"time"

	"k8s.io/apimachinery/pkg/labels"
)

// Query is the engine's list request. It mirrors Clusterpedia's internal.ListOptions field by
// field (storage/ translates one into the other); every filter is ANDed.
type Query struct {
	// Types restricts the resource types: an object matches when it matches any entry.
	// Empty means every stored type. A resource list passes exactly one fully specified
	// entry; collection resources pass several, possibly group-only.
	Types []TypeMatch

	// Clusters, Namespaces and Names are sets (exact match); empty means all.
	// Cluster-scoped objects have namespace "", so a namespace filter excludes them.
	Clusters   []string
	Namespaces []string
	Names      []string

	// Labels is a Kubernetes label selector (nil or empty = everything) with Kubernetes'
	// own semantics: != and notin also match objects lacking the key; gt/lt compare integers.
	Labels labels.Selector

	// Fields is the enhanced field selector over object paths (see ParseFieldSelector).
	Fields []FieldRequirement

	// FuzzyNames: the name must contain every value (substring, case-sensitive).
	FuzzyNames []string

	// Since and Before bound metadata.creationTimestamp: [Since, Before).
	Since  *time.Time
	Before *time.Time

	// Owner restricts to descendants of an owner (nil = no owner filter).
	Owner *OwnerQuery

	// OrderBy keys in priority order; the identity order is always appended as tie-breaker.
	// Fields: cluster, namespace, name, created_at, resource_version (numeric), and also
	// group, version, resource, kind, uid.
	OrderBy []OrderBy

	// Limit > 0 caps the page size; <= 0 is unlimited.
	Limit int64
	// Continue is a token returned by a previous page of the same query, or a decimal
	// offset (Clusterpedia's search.clusterpedia.io/offset arrives that way).
	Continue string
	// WithContinue: return a continue token when more items follow the page.
	WithContinue bool
	// WithRemainingCount: return the exact number of matches after the page.
	WithRemainingCount bool
}

// TypeMatch selects resource types; an empty field is a wildcard.
type TypeMatch struct {
	Group    string
	Version  string
	Resource string
	// AnyGroup makes Group a wildcard too ("" is the core group, not a wildcard).
	AnyGroup bool
}

// Matches reports whether gvr is selected by m.
func (m TypeMatch) Matches(gvr GVR) bool {
	return (m.AnyGroup || m.Group == gvr.Group) &&
		(m.Version == "" || m.Version == gvr.Version) &&
		(m.Resource == "" || m.Resource == gvr.Resource)
}

// OwnerQuery selects descendants of an owner: Seniority N means N+1 generations below it
// (a Deployment's Pods are Seniority 1). Every ownerReference counts, not only the
// controller. The owner is looked up in every cluster of Query.Clusters (all when empty);
// UIDs are per cluster.
type OwnerQuery struct {
	// UID of the owner; when set, Name/Group/Resource/Namespaces are ignored.
	UID string
	// Name of the owner, optionally constrained by group-resource and namespaces
	// (the namespaces set always admits cluster-scoped owners).
	Name       string
	Group      string
	Resource   string
	HasGR      bool
	Namespaces []string
	Seniority  int
}

// OrderBy is one sort key.
type OrderBy struct {
	Field string
	Desc  bool
}

// Order field names.
const (
	OrderCluster         = "cluster"
	OrderNamespace       = "namespace"
	OrderName            = "name"
	OrderCreatedAt       = "created_at"
	OrderResourceVersion = "resource_version"
	OrderGroup           = "group"
	OrderVersion         = "version"
	OrderResource        = "resource"
	OrderKind            = "kind"
	OrderUID             = "uid"
)

// Result is one page of a List.
type Result struct {
	// Items are read-only records (see Record).
	Items []*Record
	// Continue is set when WithContinue was asked and more items follow.
	Continue string
	// RemainingCount is set when WithRemainingCount was asked: matches after this page.
	RemainingCount *int64
}
