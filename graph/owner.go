package graph

// NodeID addresses an object within a cluster; UIDs are unique only per cluster, so edges
// never cross clusters.
type NodeID struct {
	Cluster string
	UID     string
}

// OwnerLink is one ownerReference of a node.
type OwnerLink struct {
	Owner      NodeID
	APIVersion string
	Kind       string
	Name       string
	Controller bool
}

// Source is what a traversal reads: one consistent snapshot of the store.
type Source interface {
	// Owners returns the ownerReferences of the objects stored with id (all stored
	// versions of it, de-duplicated); nil when id is not stored (a placeholder).
	Owners(id NodeID) []OwnerLink
	// Dependents calls fn with every stored object that has an ownerReference to id, until
	// fn returns false. A dependent stored at several versions is reported once.
	Dependents(id NodeID, fn func(dependent NodeID) bool)
	// Exists reports whether an object with id is stored.
	Exists(id NodeID) bool
}

// Generation returns the descendants exactly gen generations below the roots (gen 1 = the
// direct dependents): every node at the end of an ownership path of length gen from a root,
// whatever other paths lead to it — the nested "owner in (…)" semantics of Clusterpedia's
// reference storage. Each generation is de-duplicated; the walk runs exactly gen steps, so
// ownership cycles terminate. gen <= 0 returns the de-duplicated roots.
func Generation(src Source, roots []NodeID, gen int) []NodeID {
	level := dedupe(roots)
	for depth := 0; depth < gen && len(level) > 0; depth++ {
		seen := make(map[NodeID]struct{}, len(level))
		var next []NodeID
		for _, id := range level {
			src.Dependents(id, func(d NodeID) bool {
				if _, ok := seen[d]; !ok {
					seen[d] = struct{}{}
					next = append(next, d)
				}
				return true
			})
		}
		level = next
	}
	return level
}

func dedupe(ids []NodeID) []NodeID {
	seen := make(map[NodeID]struct{}, len(ids))
	out := make([]NodeID, 0, len(ids))
	for _, id := range ids {
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			out = append(out, id)
		}
	}
	return out
}

// Step is one node reached by a walk, with the edge it was reached through.
type Step struct {
	Node NodeID
	// From is the node the walk came from (the owner for descendants, the dependent for
	// ancestors); zero for the start node.
	From  NodeID
	Depth int
	// Link is the ownerReference that forms the edge (from dependent to owner).
	Link OwnerLink
	// Placeholder: referenced by an ownerReference but not stored.
	Placeholder bool
}

// Descendants walks dependents breadth-first from start, up to maxDepth levels (<= 0 means
// unlimited), visiting at most limit nodes (<= 0 means unlimited); truncated reports
// whether the limit cut the walk short. The start node is not included.
func Descendants(src Source, start NodeID, maxDepth, limit int) (steps []Step, truncated bool) {
	seen := map[NodeID]struct{}{start: {}}
	level := []NodeID{start}
	for depth := 1; len(level) > 0 && (maxDepth <= 0 || depth <= maxDepth); depth++ {
		var next []NodeID
		for _, id := range level {
			stop := false
			src.Dependents(id, func(d NodeID) bool {
				if _, ok := seen[d]; ok {
					return true
				}
				if limit > 0 && len(steps) >= limit {
					truncated, stop = true, true
					return false
				}
				seen[d] = struct{}{}
				var link OwnerLink
				for _, l := range src.Owners(d) {
					if l.Owner == id {
						link = l
						break
					}
				}
				steps = append(steps, Step{Node: d, From: id, Depth: depth, Link: link})
				next = append(next, d)
				return true
			})
			if stop {
				return steps, true
			}
		}
		level = next
	}
	return steps, false
}

// Ancestors walks ownerReferences upwards breadth-first from start, up to maxDepth levels
// (<= 0 means to the roots), visiting at most limit nodes (<= 0 unlimited). Owners that are
// not stored are reported as placeholders and not walked further.
func Ancestors(src Source, start NodeID, maxDepth, limit int) (steps []Step, truncated bool) {
	seen := map[NodeID]struct{}{start: {}}
	level := []NodeID{start}
	for depth := 1; len(level) > 0 && (maxDepth <= 0 || depth <= maxDepth); depth++ {
		var next []NodeID
		for _, id := range level {
			for _, l := range src.Owners(id) {
				if _, ok := seen[l.Owner]; ok {
					continue
				}
				if limit > 0 && len(steps) >= limit {
					return steps, true
				}
				seen[l.Owner] = struct{}{}
				ph := !src.Exists(l.Owner)
				steps = append(steps, Step{Node: l.Owner, From: id, Depth: depth, Link: l, Placeholder: ph})
				if !ph {
					next = append(next, l.Owner)
				}
			}
		}
		level = next
	}
	return steps, false
}
