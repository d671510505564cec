package graph

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
)

// Relation is the kind of an edge. Every edge points from the object that holds the
// reference (the dependent) to the object it refers to (the dependency): a Pod points to
// its ReplicaSet (owner), to its Node, to the ConfigMaps it mounts; a Service points to
// the Pods its selector matches.
type Relation uint8

// Relation kinds. Their names (String) are the API's `kinds` values.
const (
	// RelOwner: metadata.ownerReferences, every entry (Edge.Controller flags the
	// controller reference).
	RelOwner Relation = iota
	// RelServicePod: Service spec.selector → Pods of its namespace.
	RelServicePod
	// RelEndpointSliceService: EndpointSlice label kubernetes.io/service-name → Service.
	RelEndpointSliceService
	// RelIngressService: Ingress default backend and rule backends → Service.
	RelIngressService
	// RelIngressClass: Ingress spec.ingressClassName → IngressClass.
	RelIngressClass
	// RelIngressTLSSecret: Ingress spec.tls[].secretName → Secret.
	RelIngressTLSSecret
	// RelHPATarget: HorizontalPodAutoscaler spec.scaleTargetRef → the scaled object.
	RelHPATarget
	// RelPDBPod: PodDisruptionBudget spec.selector → Pods of its namespace.
	RelPDBPod
	// RelNetworkPolicyPod: NetworkPolicy spec.podSelector → Pods of its namespace.
	RelNetworkPolicyPod
	// RelPodNode: Pod spec.nodeName → Node.
	RelPodNode
	// RelPodPVC: Pod volumes (persistentVolumeClaim, generic ephemeral) → PersistentVolumeClaim.
	RelPodPVC
	// RelPVCPV: PersistentVolumeClaim spec.volumeName → PersistentVolume.
	RelPVCPV
	// RelPVCStorageClass: PersistentVolumeClaim spec.storageClassName → StorageClass.
	RelPVCStorageClass
	// RelPVStorageClass: PersistentVolume spec.storageClassName → StorageClass.
	RelPVStorageClass
	// RelPodConfigMap: Pod volumes, projected volumes, env and envFrom → ConfigMap.
	RelPodConfigMap
	// RelPodSecret: Pod volumes, projected volumes, env, envFrom and imagePullSecrets → Secret.
	RelPodSecret
	// RelPodServiceAccount: Pod spec.serviceAccountName → ServiceAccount.
	RelPodServiceAccount
	// RelServiceAccountSecret: ServiceAccount secrets and imagePullSecrets → Secret.
	RelServiceAccountSecret
	// RelEventObject: Event involvedObject (core/v1) or regarding (events.k8s.io) → object.
	RelEventObject
	// RelRoleBindingRole: (Cluster)RoleBinding roleRef → Role or ClusterRole.
	RelRoleBindingRole
	// RelRoleBindingSubject: (Cluster)RoleBinding subjects → ServiceAccount, or an external
	// User / Group node.
	RelRoleBindingSubject

	// NumRelations is the number of relation kinds.
	NumRelations
)

var relationNames = [NumRelations]string{
	RelOwner:                "owner",
	RelServicePod:           "service-pod",
	RelEndpointSliceService: "endpointslice-service",
	RelIngressService:       "ingress-service",
	RelIngressClass:         "ingress-class",
	RelIngressTLSSecret:     "ingress-tls-secret",
	RelHPATarget:            "hpa-target",
	RelPDBPod:               "pdb-pod",
	RelNetworkPolicyPod:     "networkpolicy-pod",
	RelPodNode:              "pod-node",
	RelPodPVC:               "pod-pvc",
	RelPVCPV:                "pvc-pv",
	RelPVCStorageClass:      "pvc-storageclass",
	RelPVStorageClass:       "pv-storageclass",
	RelPodConfigMap:         "pod-configmap",
	RelPodSecret:            "pod-secret",
	RelPodServiceAccount:    "pod-serviceaccount",
	RelServiceAccountSecret: "serviceaccount-secret",
	RelEventObject:          "event-object",
	RelRoleBindingRole:      "rolebinding-role",
	RelRoleBindingSubject:   "rolebinding-subject",
}

func (r Relation) String() string {
	if r < NumRelations {
		return relationNames[r]
	}
	return fmt.Sprintf("Relation(%d)", uint8(r))
}

// IsSelector reports whether the relation comes from a label selector.
func (r Relation) IsSelector() bool {
	return r == RelServicePod || r == RelPDBPod || r == RelNetworkPolicyPod
}

// ParseRelation returns the relation named s.
func ParseRelation(s string) (Relation, bool) {
	for i, n := range relationNames {
		if n == s {
			return Relation(i), true
		}
	}
	return 0, false
}

// Relations lists every relation kind in order.
func Relations() []Relation {
	out := make([]Relation, NumRelations)
	for i := range out {
		out[i] = Relation(i)
	}
	return out
}

// RelSet is a set of relation kinds.
type RelSet uint32

// AllRelations is the set of every relation kind.
const AllRelations RelSet = 1<<NumRelations - 1

// Has reports whether r is in the set.
func (s RelSet) Has(r Relation) bool { return s&(1<<r) != 0 }

// With returns the set plus r.
func (s RelSet) With(r Relation) RelSet { return s | 1<<r }

// HasSelectorRelation reports whether the set holds a selector relation.
func (s RelSet) HasSelectorRelation() bool {
	return s.Has(RelServicePod) || s.Has(RelPDBPod) || s.Has(RelNetworkPolicyPod)
}

// String lists the names in relation order, comma separated.
func (s RelSet) String() string {
	var parts []string
	for r := Relation(0); r < NumRelations; r++ {
		if s.Has(r) {
			parts = append(parts, r.String())
		}
	}
	return strings.Join(parts, ",")
}

// ParseRelSet parses a comma-separated list of relation names; "" and "all" mean every
// relation. Unknown names are an error naming them.
func ParseRelSet(list string) (RelSet, error) {
	list = strings.TrimSpace(list)
	if list == "" || list == "all" {
		return AllRelations, nil
	}
	var s RelSet
	var bad []string
	for _, p := range strings.Split(list, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if p == "all" {
			s = AllRelations
			continue
		}
		r, ok := ParseRelation(p)
		if !ok {
			bad = append(bad, p)
			continue
		}
		s = s.With(r)
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return 0, fmt.Errorf("unknown relation kind(s) %s", strings.Join(bad, ", "))
	}
	if s == 0 {
		return AllRelations, nil
	}
	return s, nil
}

// Ref is one outgoing reference by name, as the extraction rules find it in an object: the
// target is addressed by (API group, kind, namespace, name) within the source's cluster and
// resolves against whatever is stored when it is read, so a target that arrives later is
// found without rewriting anything.
type Ref struct {
	Rel       Relation
	Group     string // API group of the target ("" for core)
	Kind      string
	Namespace string // "" for cluster-scoped targets
	Name      string
	// UID of the target when the reference carries one (Event involvedObject).
	UID string
	// External: an RBAC subject (User, Group) that is not a Kubernetes object; never a
	// placeholder, never resolved.
	External bool
}

// Target returns the reference's target address.
func (r *Ref) Target() Target {
	return Target{Group: r.Group, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
}

// Target addresses an object by name within a cluster.
type Target struct {
	Group, Kind, Namespace, Name string
}

// Selector is a label selector of a source object over the Pods of its namespace, with
// Kubernetes' own semantics (metav1.LabelSelectorAsSelector, labels.SelectorFromSet).
type Selector struct {
	Rel      Relation
	Selector labels.Selector
	// Equal lists key=value pairs every matching label set carries (matchLabels, and
	// In / = requirements with a single value): any one of them can index the selector.
	Equal [][2]string
	// Canonical is the selector's canonical string, for change detection.
	Canonical string
}

// Matches reports whether the label set is selected.
// A pointer, so that the conversion to labels.Labels does not box the slice.
func (s *Selector) Matches(set *Labels) bool {
	return s.Selector.Matches(set)
}

// Node is a vertex of the relationship graph: metadata only, never an object body.
type Node struct {
	Cluster   string `json:"cluster"`
	Group     string `json:"group"`
	Version   string `json:"version,omitempty"`
	Kind      string `json:"kind"`
	Resource  string `json:"resource,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	UID       string `json:"uid,omitempty"`
	// Placeholder: referenced but not (yet) stored.
	Placeholder bool `json:"placeholder,omitempty"`
	// External: an RBAC subject (User, Group) outside the Kubernetes API.
	External bool `json:"external,omitempty"`
}

// Key is the node's identity: (cluster, uid) when the UID is known, else (cluster, group,
// kind, namespace, name). Edges never cross clusters.
type Key struct {
	Cluster, UID                 string
	Group, Kind, Namespace, Name string
}

// Key returns the node's identity.
func (n *Node) Key() Key {
	if n.UID != "" {
		return Key{Cluster: n.Cluster, UID: n.UID}
	}
	return Key{Cluster: n.Cluster, Group: n.Group, Kind: n.Kind, Namespace: n.Namespace, Name: n.Name}
}

// String renders the key: "cluster/uid" or "cluster/group/Kind/namespace/name"
// (core group "core"; cluster-scoped namespace "-").
func (k Key) String() string {
	if k.UID != "" {
		return k.Cluster + "/" + k.UID
	}
	g, ns := k.Group, k.Namespace
	if g == "" {
		g = "core"
	}
	if ns == "" {
		ns = "-"
	}
	return k.Cluster + "/" + g + "/" + k.Kind + "/" + ns + "/" + k.Name
}

// Target returns the node's name address.
func (n *Node) Target() Target {
	return Target{Group: n.Group, Kind: n.Kind, Namespace: n.Namespace, Name: n.Name}
}
