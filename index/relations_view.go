package index

import (
	"github.com/clusterpedia-memgraph/memgraph/graph"
)

// Relations returns the relationship graph of this snapshot as a graph.RelSource: owner
// edges from the records' ownerReferences and their uid_refs rows, and — when the store runs
// the Relations hook — every other relation kind, as committed with this snapshot.
// Name references resolve against the snapshot's records when read; targets that are not
// stored come back as placeholder nodes.
//
// The Relations hook maintains the graph on its own goroutine, a batch of commits behind
// the writers at most: the source reads the graph of the newest commit it has processed, at
// least this view's commit (it waits for that, up to graphWait), together with the records
// of that same commit, so nodes and edges are always consistent with each other.
func (v *View) Relations() graph.RelSource {
	gv := v.graphView()
	return &relView{v: gv, root: gv.graph}
}

// graphView is the view of the graph state the hook has built for this view's commit or a
// later one (v itself without the hook).
func (v *View) graphView() *View {
	if v.rel == nil {
		return v
	}
	st := v.rel.waitFor(v.seq)
	return &View{txn: st.read.txn, uids: st.read.uids, reg: v.reg, seq: st.read.seq, graph: st.root}
}

// RelationStats returns the graph counts of this snapshot (see Relations); false when the
// store does not run the Relations hook (or nothing was written yet).
func (v *View) RelationStats() (RelationStats, bool) {
	root := v.graphView().graph
	if root == nil {
		return RelationStats{}, false
	}
	return root.stats, true
}

// NodeByKey returns the graph node of the object stored under k.
func (v *View) NodeByKey(k Key) (*graph.Node, bool) {
	r, err := v.Get(k)
	if err != nil {
		return nil, false
	}
	return NodeOf(r), true
}

// NodeByUID returns the graph node of the object of cluster with that UID.
func (v *View) NodeByUID(cluster, uid string) (*graph.Node, bool) {
	if cluster == "" || uid == "" {
		return nil, false
	}
	r := firstByUID(v.uids, v.txn, cluster, uid)
	if r == nil {
		return nil, false
	}
	return NodeOf(r), true
}

// nameRelations are the relations kept in the reverse name index.
const nameRelations = graph.AllRelations &^ (1<<graph.RelOwner | 1<<graph.RelServicePod | 1<<graph.RelPDBPod | 1<<graph.RelNetworkPolicyPod)

type relView struct {
	v    *View
	root *relRoot
}

func (s *relView) cluster(name string) *relCluster {
	if s.root == nil {
		return nil
	}
	return s.root.clusters[name]
}

// record finds the stored record of a node (the version the node names when several are
// stored).
func (s *relView) record(n *graph.Node) *Record {
	if n.UID != "" {
		var first *Record
		for _, r := range s.v.ByUID(n.Cluster, n.UID) {
			if r.GVR.Version == n.Version && r.GVR.Group == n.Group {
				return r
			}
			if first == nil {
				first = r
			}
		}
		return first
	}
	return s.findTarget(n.Cluster, tkey{n.Group, n.Kind, n.Namespace, n.Name})
}

func (s *relView) findTarget(cluster string, t tkey) *Record {
	return findByKind(s.v.txn, s.v.reg, cluster, t)
}

// resolve returns the node a name reference points at: the stored object, an external
// RBAC subject, or a placeholder.
func (s *relView) resolve(cluster string, ref *graph.Ref) *graph.Node {
	if ref.External {
		return &graph.Node{Cluster: cluster, Group: ref.Group, Kind: ref.Kind, Name: ref.Name, External: true}
	}
	if r := s.findTarget(cluster, refKey(ref)); r != nil {
		return NodeOf(r)
	}
	res, _, _ := graph.ResourceFor(ref.Group, ref.Kind)
	return &graph.Node{Cluster: cluster, Group: ref.Group, Kind: ref.Kind, Resource: res,
		Namespace: ref.Namespace, Name: ref.Name, Placeholder: true}
}

// ownerNode returns the node an ownerReference points at, a placeholder when the owner is
// not stored (namespaced like its dependent unless the kind is known to be cluster-scoped).
func (s *relView) ownerNode(dep *Record, o *OwnerRef) *graph.Node {
	if r := firstByUID(s.v.uids, s.v.txn, dep.Cluster, o.UID); r != nil {
		return NodeOf(r)
	}
	group := graph.GroupOf(o.APIVersion)
	res, clusterScoped, _ := graph.ResourceFor(group, o.Kind)
	ns := dep.Namespace
	if clusterScoped {
		ns = ""
	}
	return &graph.Node{Cluster: dep.Cluster, Group: group, Version: graph.VersionOf(o.APIVersion), Kind: o.Kind,
		Resource: res, Namespace: ns, Name: o.Name, UID: o.UID, Placeholder: true}
}

func (s *relView) refEdges(n *graph.Node, refs []graph.Ref, rels graph.RelSet, fn func(graph.Edge) bool) bool {
	for i := range refs {
		if !rels.Has(refs[i].Rel) {
			continue
		}
		if !fn(graph.Edge{From: n, To: s.resolve(n.Cluster, &refs[i]), Rel: refs[i].Rel}) {
			return false
		}
	}
	return true
}

// Dependencies implements graph.RelSource.
func (s *relView) Dependencies(n *graph.Node, rels graph.RelSet, fn func(graph.Edge) bool) bool {
	if n.Placeholder || n.External {
		return true
	}
	r := s.record(n)
	if r == nil {
		return true
	}
	if rels.Has(graph.RelOwner) {
		for i := range r.Owners {
			o := &r.Owners[i]
			if o.UID == "" || dupOwner(r.Owners[:i], o.UID) {
				continue
			}
			if !fn(graph.Edge{From: n, To: s.ownerNode(r, o), Rel: graph.RelOwner, Controller: o.Controller}) {
				return false
			}
		}
	}
	c := s.cluster(n.Cluster)
	if c == nil {
		return true
	}
	key := srcKey(r)
	if src, ok := c.src.get(key); ok {
		if !s.refEdges(n, src.refs, rels, fn) {
			return false
		}
		if src.group != "" {
			if g, ok := c.groups.get(skey(src.group)); ok && !s.refEdges(n, g.refs, rels, fn) {
				return false
			}
		}
	}
	if sel, ok := c.sels.get(key); ok && rels.Has(sel.sel.Rel) {
		rel := sel.sel.Rel
		return sel.groups.each(func(gk skey, _ struct{}) bool {
			g, ok := c.groups.get(gk)
			if !ok {
				return true
			}
			return g.members.each(func(_ skey, m *graph.Node) bool {
				return fn(graph.Edge{From: n, To: m, Rel: rel})
			})
		})
	}
	return true
}

// dupOwner reports whether an earlier ownerReference (prev) names uid.
func dupOwner(prev []OwnerRef, uid string) bool {
	for i := range prev {
		if prev[i].UID == uid {
			return true
		}
	}
	return false
}

// Dependents implements graph.RelSource.
func (s *relView) Dependents(n *graph.Node, rels graph.RelSet, fn func(graph.Edge) bool) bool {
	if rels.Has(graph.RelOwner) && n.UID != "" {
		stopped := false
		var seen map[string]struct{}
		s.v.dependents(n.Cluster, n.UID, func(r *Record) bool {
			if r.UID != "" {
				if _, dup := seen[r.UID]; dup {
					return true
				}
				if seen == nil {
					seen = map[string]struct{}{}
				}
				seen[r.UID] = struct{}{}
			}
			ctrl := false
			for i := range r.Owners {
				if r.Owners[i].UID == n.UID && r.Owners[i].Controller {
					ctrl = true
				}
			}
			if !fn(graph.Edge{From: NodeOf(r), To: n, Rel: graph.RelOwner, Controller: ctrl}) {
				stopped = true
				return false
			}
			return true
		})
		if stopped {
			return false
		}
	}
	c := s.cluster(n.Cluster)
	if c == nil || n.External {
		return true
	}
	t := tkey{n.Group, n.Kind, n.Namespace, n.Name}
	if rels&nameRelations == 0 {
		// no name-reference relation asked for
	} else if rv, ok := c.rev.get(t); ok {
		cont := rv.srcs.each(func(k skey, from *graph.Node) bool {
			src, ok := c.src.get(k)
			if !ok {
				return true
			}
			for i := range src.refs {
				if rels.Has(src.refs[i].Rel) && refKey(&src.refs[i]) == t {
					if !fn(graph.Edge{From: from, To: n, Rel: src.refs[i].Rel}) {
						return false
					}
				}
			}
			return true
		})
		if !cont {
			return false
		}
		cont = rv.groups.each(func(gk skey, _ struct{}) bool {
			g, ok := c.groups.get(gk)
			if !ok {
				return true
			}
			for i := range g.refs {
				if !rels.Has(g.refs[i].Rel) || refKey(&g.refs[i]) != t {
					continue
				}
				rel := g.refs[i].Rel
				if !g.members.each(func(_ skey, m *graph.Node) bool {
					return fn(graph.Edge{From: m, To: n, Rel: rel})
				}) {
					return false
				}
			}
			return true
		})
		if !cont {
			return false
		}
	}
	if n.Group == "" && n.Kind == "Pod" && !n.Placeholder && rels.HasSelectorRelation() {
		key := skey(n.UID)
		if n.UID == "" {
			r := s.record(n)
			if r == nil {
				return true
			}
			key = srcKey(r)
		}
		src, ok := c.src.get(key)
		if !ok {
			return true
		}
		g, ok := c.groups.get(skey(src.group))
		if !ok {
			return true
		}
		return g.sels.each(func(selKey skey, rel graph.Relation) bool {
			if !rels.Has(rel) {
				return true
			}
			sel, ok := c.sels.get(selKey)
			if !ok {
				return true
			}
			return fn(graph.Edge{From: sel.node, To: n, Rel: rel})
		})
	}
	return true
}
