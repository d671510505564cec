// Package graph owns memgraph's relationship model and its traversals: nodes addressed by
// (cluster, uid), owner edges taken from every ownerReference, placeholder nodes for owners
// that are referenced but not (yet) stored — as the Kubernetes garbage collector keeps
// virtual owners — and breadth-first walks (ancestors to the root or N levels, descendants
// at any depth or at exactly N generations) whose cost is proportional to the answer.
//
// The package stores nothing itself: it walks a Source, which the index package implements
// on one consistent MVCC snapshot, so a traversal never sees a half-applied write.
package graph
