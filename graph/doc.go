// Package graph owns memgraph's relationship model and its traversals.
//
// Nodes are objects of one member cluster, addressed by (cluster, uid) — or, for targets
// referenced by name that are not stored, by (cluster, group, kind, namespace, name) — so
// edges never cross clusters. Edges point from the object holding a reference to the object
// it refers to, with a Relation kind: ownerReferences (controller flagged), label selectors
// (Service, PodDisruptionBudget, NetworkPolicy → Pods, with Kubernetes' own selector
// semantics), and references by name (Pod → Node, PVC, ConfigMap, Secret, ServiceAccount;
// PVC → PV → StorageClass; Ingress → Service, IngressClass, TLS Secret; HPA → target;
// EndpointSlice → Service; Event → object; RoleBinding → Role, subjects). Targets that are
// referenced but not stored are placeholder nodes, as the Kubernetes garbage collector keeps
// virtual owners.
//
// Extract holds the extraction rules: pure functions from an object's JSON and metadata to
// its outgoing references and selector, reading only the members they need with a
// non-allocating scanner. Walk explores any RelSource breadth-first (dependencies,
// dependents or both, bounded depth and size, deterministic order); the owner-only
// traversals (Generation, Descendants, Ancestors) walk a Source.
//
// The package stores nothing itself: the index package maintains the graph incrementally
// inside its write transactions and implements the sources on one consistent MVCC
// snapshot, so a traversal never sees a half-applied write.
package graph
