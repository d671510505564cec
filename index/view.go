package index

import (
	"sort"
	"strings"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/clusterpedia-memgraph/memgraph/graph"
)

// View is a consistent, read-only snapshot of the store (one memdb read transaction). It is
// cheap to create, safe for concurrent use, and never blocks writers.
type View struct {
	txn  *memdb.Txn
	uids *memdb.Txn // TableUIDRefs of the same commit
	reg  *registry
	seq  uint64 // the commit txn reads
	// rel is the store's Relations hook (nil: none); graph is set on the views Relations
	// returns: the graph state of their commit (txn).
	rel   *Relations
	graph *relRoot
}

// Txn exposes the snapshot's read transaction for derived tables (graph edges). Read only.
func (v *View) Txn() *memdb.Txn { return v.txn }

// Get returns the record with key k or a *KeyError wrapping ErrNotFound.
func (v *View) Get(k Key) (*Record, error) {
	if strings.IndexByte(k.Namespace, 0) >= 0 || strings.IndexByte(k.Name, 0) >= 0 {
		return nil, &KeyError{Err: ErrNotFound, Key: k}
	}
	raw, err := v.txn.First(TableRecords, IndexID, v.reg.key(k))
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, &KeyError{Err: ErrNotFound, Key: k}
	}
	return raw.(*Record), nil
}

// findByKind returns the record of cluster answering to a reference by (group, kind,
// namespace, name): one exact identity lookup per stored GVR of that kind, the lowest GVR id
// first when a kind is stored at several versions.
func findByKind(txn *memdb.Txn, reg *registry, cluster string, t tkey) *Record {
	if reg == nil || strings.IndexByte(t.ns, 0) >= 0 || strings.IndexByte(t.name, 0) >= 0 {
		return nil
	}
	c := reg.cluster(cluster)
	if c == unknownID {
		return nil
	}
	for _, g := range reg.ids.Load().kinds {
		if g.kind != t.kind || g.gvr.Group != t.group {
			continue
		}
		raw, err := txn.First(TableRecords, IndexID, rawKey(idKey(c, g.id, t.ns, t.name)))
		if err == nil && raw != nil {
			return raw.(*Record)
		}
	}
	return nil
}

// namespaces calls fn with each namespace holding objects of (cluster, gvr), in order, until
// fn returns false: a skip scan of the identity index, two tree descents per namespace
// whatever the number of objects in it. Cluster-scoped resources yield "".
func (v *View) namespaces(cluster string, gvr GVR, fn func(ns string) bool) {
	c, g := v.reg.cluster(cluster), v.reg.gvr(gvr)
	if c == unknownID || g == unknownID {
		return
	}
	prefix := appendID(appendID(make([]byte, 0, 4), c), g)
	seek := append([]byte(nil), prefix...)
	for {
		it, err := v.txn.LowerBound(TableRecords, IndexID, rawKey(seek))
		if err != nil {
			return
		}
		raw := it.Next()
		if raw == nil {
			return
		}
		r := raw.(*Record)
		if r.cid != c || r.gid != g {
			return
		}
		if !fn(r.Namespace) {
			return
		}
		// Every key of namespace ns is prefix+ns+"\x00"+...; prefix+ns+"\x01" sorts after all of
		// them and before the next namespace (namespaces hold no NUL byte).
		seek = append(append(append(seek[:0], prefix...), r.Namespace...), 1)
	}
}

// ByUID returns every record of cluster with that UID (one per stored version).
func (v *View) ByUID(cluster, uid string) []*Record {
	var out []*Record
	eachUIDRef(v.uids, v.txn, uidSelf, cluster, uid, func(r *Record) bool { out = append(out, r); return true })
	return out
}

// ResourceStat is the object count and stored JSON bytes of one (cluster, GVR).
type ResourceStat struct {
	Cluster string
	GVR     GVR
	Count   int64
	Bytes   int64
}

// Stats lists every (cluster, GVR) holding objects, in (cluster, GVR) order; cluster ""
// means all clusters.
func (v *View) Stats(cluster string) []ResourceStat {
	var it memdb.ResultIterator
	var err error
	if cluster == "" {
		it, err = v.txn.Get(TableResourceStats, IndexStatsID+"_prefix")
	} else {
		it, err = v.txn.Get(TableResourceStats, IndexStatsID+"_prefix", cluster)
	}
	if err != nil {
		return nil
	}
	var out []ResourceStat
	for raw := it.Next(); raw != nil; raw = it.Next() {
		s := raw.(*resourceStats)
		out = append(out, ResourceStat{Cluster: s.Cluster, GVR: s.GVR, Count: s.Count, Bytes: s.Bytes})
	}
	return out
}

// Clusters lists the clusters holding at least one object, sorted.
func (v *View) Clusters() []string {
	var out []string
	for _, s := range v.Stats("") {
		if len(out) == 0 || out[len(out)-1] != s.Cluster {
			out = append(out, s.Cluster)
		}
	}
	return out
}

// VersionMaps is, for one GVR of one cluster, the resourceVersion of every stored object
// and of every recorded event, keyed "namespace/name" ("name" when cluster-scoped): the
// shape of Clusterpedia's ClusterResourceVersions, with the value type the caller needs
// (Clusterpedia's maps hold interface{}).
type VersionMaps[V any] struct {
	Resources map[string]V
	Events    map[string]V
}

// ResourceVersions is VersionMaps of strings.
type ResourceVersions = VersionMaps[string]

// ResourceVersions returns freshly allocated maps for every GVR of cluster that holds data.
func (v *View) ResourceVersions(cluster string) map[GVR]ResourceVersions {
	return ResourceVersionsAs(v, cluster, func(rv string) string { return rv })
}

// ResourceVersionsAs is ResourceVersions with every resourceVersion converted by conv, built
// in one scan per GVR (no intermediate maps to copy).
func ResourceVersionsAs[V any](v *View, cluster string, conv func(string) V) map[GVR]VersionMaps[V] {
	stats := v.Stats(cluster)
	out := make(map[GVR]VersionMaps[V], len(stats))
	for _, st := range stats {
		rv := VersionMaps[V]{Resources: make(map[string]V, st.Count), Events: map[string]V{}}
		v.Scan(st.Cluster, st.GVR, func(r *Record) bool {
			rv.Resources[r.NamespacedName()] = conv(r.ResourceVersion)
			for i := range r.Events {
				rv.Events[r.Events[i].NamespacedName()] = conv(r.Events[i].ResourceVersion)
			}
			return true
		})
		out[st.GVR] = rv
	}
	return out
}

// Scan calls fn for every record of (cluster, gvr) in identity order until fn returns
// false.
func (v *View) Scan(cluster string, gvr GVR, fn func(*Record) bool) {
	it, err := v.txn.Get(TableRecords, IndexID+"_prefix", cluster, gvr.Group, gvr.Version, gvr.Resource)
	if err != nil {
		return
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		if !fn(raw.(*Record)) {
			return
		}
	}
}

// All calls fn for every record of the store in identity order until fn returns false.
func (v *View) All(fn func(*Record) bool) {
	stop := false
	for _, st := range v.Stats("") {
		v.Scan(st.Cluster, st.GVR, func(r *Record) bool {
			if !fn(r) {
				stop = true
				return false
			}
			return true
		})
		if stop {
			return
		}
	}
}

// Dependents returns the records of cluster with an ownerReference to ownerUID.
func (v *View) Dependents(cluster, ownerUID string) []*Record {
	var out []*Record
	v.dependents(cluster, ownerUID, func(r *Record) bool { out = append(out, r); return true })
	return out
}

func (v *View) dependents(cluster, ownerUID string, fn func(*Record) bool) {
	eachUIDRef(v.uids, v.txn, uidOwner, cluster, ownerUID, fn)
}

// Graph returns the owner-graph source over this snapshot.
func (v *View) Graph() graph.Source { return ownerSource{v} }

type ownerSource struct{ v *View }

func (s ownerSource) Exists(id graph.NodeID) bool {
	return firstByUID(s.v.uids, s.v.txn, id.Cluster, id.UID) != nil
}

func (s ownerSource) Owners(id graph.NodeID) []graph.OwnerLink {
	var out []graph.OwnerLink
	for _, r := range s.v.ByUID(id.Cluster, id.UID) {
		for _, o := range r.Owners {
			if o.UID == "" {
				continue
			}
			l := graph.OwnerLink{Owner: graph.NodeID{Cluster: id.Cluster, UID: o.UID}, APIVersion: o.APIVersion,
				Kind: o.Kind, Name: o.Name, Controller: o.Controller}
			dup := false
			for _, e := range out {
				if e.Owner == l.Owner {
					dup = true
					break
				}
			}
			if !dup {
				out = append(out, l)
			}
		}
	}
	return out
}

func (s ownerSource) Dependents(id graph.NodeID, fn func(graph.NodeID) bool) {
	var seen map[string]struct{}
	s.v.dependents(id.Cluster, id.UID, func(r *Record) bool {
		if r.UID == "" {
			return true
		}
		if seen == nil {
			seen = map[string]struct{}{}
		}
		if _, dup := seen[r.UID]; dup {
			return true
		}
		seen[r.UID] = struct{}{}
		return fn(graph.NodeID{Cluster: r.Cluster, UID: r.UID})
	})
}

func sortedUnique(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := append([]string(nil), in...)
	sort.Strings(out)
	j := 0
	for i := range out {
		if i == 0 || out[i] != out[i-1] {
			out[j] = out[i]
			j++
		}
	}
	return out[:j]
}
