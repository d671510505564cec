package graph

import (
	"slices"
)

// Edge is one relationship: From refers to (depends on) To.
type Edge struct {
	From, To *Node
	Rel      Relation
	// Controller flags the controller ownerReference (RelOwner only).
	Controller bool
}

// RelSource is the relationship graph of one consistent snapshot: every relation kind,
// including owners. The index package implements it over a store View.
type RelSource interface {
	// Dependencies calls fn with every edge leaving n whose relation is in rels (what n
	// refers to), until fn returns false; it reports whether it completed. Placeholder and
	// external nodes have no outgoing edges.
	Dependencies(n *Node, rels RelSet, fn func(Edge) bool) bool
	// Dependents calls fn with every edge entering n whose relation is in rels (what refers
	// to n), until fn returns false; it reports whether it completed.
	Dependents(n *Node, rels RelSet, fn func(Edge) bool) bool
}

// Direction says which edges a walk follows.
type Direction uint8

const (
	// Dependencies follows edges forwards: what the start object refers to, transitively.
	Dependencies Direction = iota + 1
	// Dependents follows edges backwards: what refers to the start object, transitively.
	Dependents
	// Both follows edges either way at every step.
	Both
)

func (d Direction) String() string {
	switch d {
	case Dependencies:
		return "dependencies"
	case Dependents:
		return "dependents"
	case Both:
		return "both"
	}
	return "unknown"
}

// ParseDirection parses "dependencies", "dependents" or "both".
func ParseDirection(s string) (Direction, bool) {
	switch s {
	case "dependencies":
		return Dependencies, true
	case "dependents":
		return Dependents, true
	case "both":
		return Both, true
	}
	return 0, false
}

// WalkOptions bound a walk.
type WalkOptions struct {
	Direction Direction
	// Depth is the number of edges from the start a walk goes (at least 1).
	Depth int
	// Rels are the relation kinds followed (0 means all).
	Rels RelSet
	// MaxNodes caps the answer, start included (<= 0: unlimited); a walk that would exceed
	// it stops and reports Truncated.
	MaxNodes int
}

// WalkNode is a node of a walk's answer with its distance from the start.
type WalkNode struct {
	*Node
	Depth int
}

// WalkResult is a walk's answer: the start node first, then nodes in breadth-first
// order, and every edge found between them.
type WalkResult struct {
	Nodes     []WalkNode
	Edges     []Edge
	Truncated bool
}

type edgeKey struct {
	from, to Key
	rel      Relation
}

// Walk explores the graph breadth-first from start. The order of the answer is
// deterministic: at each node the edges found are sorted (by relation, direction, then the
// other node's group, kind, namespace, name and uid) before they are followed.
func Walk(src RelSource, start *Node, o WalkOptions) WalkResult {
	rels := o.Rels
	if rels == 0 {
		rels = AllRelations
	}
	if o.Depth < 1 {
		o.Depth = 1
	}
	res := WalkResult{Nodes: []WalkNode{{Node: start}}}
	seen := map[Key]struct{}{start.Key(): {}}
	var seenEdge map[edgeKey]struct{}
	if o.Direction == Both {
		seenEdge = map[edgeKey]struct{}{} // an edge can be met from both of its ends
	}
	level := []*Node{start}
	var found []foundEdge
	for depth := 1; depth <= o.Depth && len(level) > 0; depth++ {
		var next []*Node
		for _, n := range level {
			nk := n.Key()
			found = found[:0]
			if o.Direction == Dependencies || o.Direction == Both {
				src.Dependencies(n, rels, func(e Edge) bool {
					found = append(found, foundEdge{e: e, other: e.To, out: true})
					return true
				})
			}
			if o.Direction == Dependents || o.Direction == Both {
				src.Dependents(n, rels, func(e Edge) bool {
					found = append(found, foundEdge{e: e, other: e.From})
					return true
				})
			}
			if len(found) > 1 {
				slices.SortFunc(found, compareFound)
			}
			for i := range found {
				f := &found[i]
				ok := f.other.Key()
				if seenEdge != nil {
					ek := edgeKey{nk, ok, f.e.Rel}
					if !f.out {
						ek = edgeKey{ok, nk, f.e.Rel}
					}
					if _, dup := seenEdge[ek]; dup {
						continue
					}
					seenEdge[ek] = struct{}{}
				}
				if _, known := seen[ok]; !known {
					if o.MaxNodes > 0 && len(res.Nodes) >= o.MaxNodes {
						res.Truncated = true
						return res
					}
					seen[ok] = struct{}{}
					res.Nodes = append(res.Nodes, WalkNode{Node: f.other, Depth: depth})
					next = append(next, f.other)
				}
				res.Edges = append(res.Edges, f.e)
			}
		}
		level = next
	}
	return res
}

// foundEdge is an edge met while expanding a node, with the node at its other end.
type foundEdge struct {
	e     Edge
	other *Node
	out   bool // the expanded node is the edge's From
}

func compareFound(a, b foundEdge) int {
	if a.e.Rel != b.e.Rel {
		if a.e.Rel < b.e.Rel {
			return -1
		}
		return 1
	}
	if a.out != b.out {
		if a.out {
			return -1
		}
		return 1
	}
	return CompareNodes(a.other, b.other)
}

// CompareNodes orders nodes by cluster, group, kind, namespace, name, uid.
func CompareNodes(a, b *Node) int {
	switch {
	case a.Cluster != b.Cluster:
		return cmpStr(a.Cluster, b.Cluster)
	case a.Group != b.Group:
		return cmpStr(a.Group, b.Group)
	case a.Kind != b.Kind:
		return cmpStr(a.Kind, b.Kind)
	case a.Namespace != b.Namespace:
		return cmpStr(a.Namespace, b.Namespace)
	case a.Name != b.Name:
		return cmpStr(a.Name, b.Name)
	}
	return cmpStr(a.UID, b.UID)
}
