package index

import (
	"fmt"
	"strings"
	"sync/atomic"

	memdb "github.com/hashicorp/go-memdb"
)

// Tables.
const (
	// TableRecords holds one *Record per stored object.
	TableRecords = "records"
	// TableResourceStats holds one *resourceStats per (cluster, GVR) with at least one object.
	TableResourceStats = "resource_stats"
)

// Indexes of TableRecords. Every key is a sequence of \x00-terminated strings, so a prefix
// of whole components never matches a longer component ("c1" does not match "c10").
const (
	// IndexID is the identity (cluster, group, version, resource, namespace, name), unique.
	// It serves Get, and — through prefix scans — every list: cluster (CleanCluster,
	// GetResourceVersions), (cluster, GVR) (resource lists, CleanClusterResource) and
	// (cluster, GVR, namespace) (namespaced lists). Cross-cluster lists are expanded into
	// these prefixes with TableResourceStats, which yields results already in identity
	// order, so pages without an orderby stream and seek instead of sorting.
	IndexID = "id"
)

// Lookups by (cluster, UID) — RecordEvent on the involved object, graph node lookup,
// owner-by-UID roots — and by (cluster, owner UID) over every ownerReference (owner queries,
// graph descendants) go through TableUIDRefs, whose rows name identities. They are not
// indexes of TableRecords: go-memdb rewrites every index of a table on every write, and
// almost every write (a status update) keeps the UID and the owners.

// There is no (cluster, name) index: lookups by name without a namespace (owner-by-name
// roots, name-filtered lists, references by kind and name) are exact identity lookups per
// namespace, found with a skip scan of the identity index (View.namespaces). A radix index
// costs ≈500 B and a quarter of the insert time per object; the skip scan costs two tree
// descents per namespace of one (cluster, GVR).

// Indexes of TableResourceStats.
const (
	// IndexStatsID is (cluster, group, version, resource), unique: which clusters hold which
	// GVRs, the object count and stored bytes per pair.
	IndexStatsID = "id"
)

// resourceStats is the per-(cluster, GVR) bookkeeping row. Immutable once inserted.
type resourceStats struct {
	Cluster string
	GVR     GVR
	Count   int64
	Bytes   int64
}

func schema(reg *registry) *memdb.DBSchema {
	return &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
		TableRecords: {
			Name: TableRecords,
			Indexes: map[string]*memdb.IndexSchema{
				IndexID: {Name: IndexID, Unique: true, Indexer: idIndexer{reg}},
			},
		},
		TableResourceStats: {
			Name: TableResourceStats,
			Indexes: map[string]*memdb.IndexSchema{
				IndexStatsID: {Name: IndexStatsID, Unique: true, Indexer: keyIndexer{parts: 4, single: func(o any) []string {
					s := o.(*resourceStats)
					return []string{s.Cluster, s.GVR.Group, s.GVR.Version, s.GVR.Resource}
				}}},
			},
		},
	}}
}

// registry assigns compact, never reused 2-byte ids to cluster names and GVRs, so index keys
// start with 4 fixed bytes instead of four variable strings: fewer radix nodes on every
// insert path (measured in BenchmarkIngest*). Ids are assigned under the store's write lock;
// readers load an immutable snapshot of the tables (one atomic load, no allocation: a
// sync.Map keyed by GVR boxed the key on every Get).
type registry struct {
	ids atomic.Pointer[registryTables]
}

// registryTables is one immutable generation of the registry: replaced, never modified.
type registryTables struct {
	clusters map[string]uint16
	gvrs     map[GVR]uint16
	// kinds lists every GVR, indexed by its id, with the kind its records carry ("" until
	// one carries it), for lookups by (group, kind) — references name a kind, not a resource.
	kinds []gvrKind
}

type gvrKind struct {
	gvr  GVR
	id   uint16
	kind string
}

func newRegistry() *registry {
	g := &registry{}
	g.ids.Store(&registryTables{clusters: map[string]uint16{}, gvrs: map[GVR]uint16{}})
	return g
}

// unknownID never names a cluster or GVR: lookups of unknown names match nothing.
const unknownID = 0xFFFF

func (g *registry) cluster(name string) uint16 {
	if v, ok := g.ids.Load().clusters[name]; ok {
		return v
	}
	return unknownID
}

func (g *registry) gvr(x GVR) uint16 {
	if v, ok := g.ids.Load().gvrs[x]; ok {
		return v
	}
	return unknownID
}

// assign returns the ids of (cluster, gvr), assigning new ones, and remembers the GVR's
// kind. Writers only (under the store's write lock).
func (g *registry) assign(cluster string, x GVR, kind string) (uint16, uint16, error) {
	t := g.ids.Load()
	c, okC := t.clusters[cluster]
	v, okG := t.gvrs[x]
	kindKnown := !okG || kind == "" || t.kinds[v].kind != ""
	if okC && okG && kindKnown {
		return c, v, nil
	}
	n := &registryTables{clusters: t.clusters, gvrs: t.gvrs, kinds: t.kinds}
	if !okC {
		if len(t.clusters) >= unknownID {
			return 0, 0, fmt.Errorf("more than %d distinct cluster names", unknownID)
		}
		n.clusters = make(map[string]uint16, len(t.clusters)+1)
		for k, id := range t.clusters {
			n.clusters[k] = id
		}
		c = uint16(len(t.clusters))
		n.clusters[cluster] = c
	}
	if !okG {
		if len(t.gvrs) >= unknownID {
			return 0, 0, fmt.Errorf("more than %d distinct resources", unknownID)
		}
		n.gvrs = make(map[GVR]uint16, len(t.gvrs)+1)
		for k, id := range t.gvrs {
			n.gvrs[k] = id
		}
		v = uint16(len(t.gvrs))
		n.gvrs[x] = v
		n.kinds = append(append(make([]gvrKind, 0, len(t.kinds)+1), t.kinds...), gvrKind{gvr: x, id: v, kind: kind})
	} else if !kindKnown {
		n.kinds = append(make([]gvrKind, 0, len(t.kinds)), t.kinds...)
		n.kinds[v].kind = kind
	}
	g.ids.Store(n)
	return c, v, nil
}

func appendID(b []byte, id uint16) []byte { return append(b, byte(id>>8), byte(id)) }

func appendPart(b []byte, s string) []byte { return append(append(b, s...), 0) }

// idKey is the identity key: cluster id, GVR id, namespace\0, name\0.
func idKey(c, g uint16, ns, name string) []byte {
	b := make([]byte, 0, 6+len(ns)+len(name))
	return appendPart(appendPart(appendID(appendID(b, c), g), ns), name)
}

type idIndexer struct{ reg *registry }

func (x idIndexer) FromObject(obj any) (bool, []byte, error) {
	r := obj.(*Record)
	return true, idKey(r.cid, r.gid, r.Namespace, r.Name), nil
}

// rawKey is an already encoded identity key (see (*registry).key): passing one argument
// instead of six strings saves boxing them on every Get.
type rawKey []byte

// key encodes the identity key of k.
func (g *registry) key(k Key) rawKey {
	return idKey(g.cluster(k.Cluster), g.gvr(k.GVR), k.Namespace, k.Name)
}

// FromArgs takes (cluster, group, version, resource, namespace, name), or one rawKey.
func (x idIndexer) FromArgs(args ...any) ([]byte, error) {
	if len(args) == 1 {
		if k, ok := args[0].(rawKey); ok {
			return k, nil
		}
	}
	if len(args) != 6 {
		return nil, fmt.Errorf("identity index needs 6 arguments, got %d", len(args))
	}
	return x.PrefixFromArgs(args...)
}

// PrefixFromArgs takes (), (cluster), (cluster, group, version, resource), plus namespace
// and name.
func (x idIndexer) PrefixFromArgs(args ...any) ([]byte, error) {
	s, err := argsToStrings(args)
	if err != nil {
		return nil, err
	}
	var b []byte
	switch len(s) {
	case 0:
		return b, nil
	case 1:
		return appendID(b, x.reg.cluster(s[0])), nil
	case 2, 3:
		return nil, fmt.Errorf("identity prefix needs the whole group/version/resource")
	}
	b = appendID(appendID(b, x.reg.cluster(s[0])), x.reg.gvr(GVR{s[1], s[2], s[3]}))
	for _, p := range s[4:] {
		b = appendPart(b, p)
	}
	if len(s) > 6 {
		return nil, fmt.Errorf("identity index takes at most 6 arguments, got %d", len(s))
	}
	return b, nil
}

// encodeKey joins parts, each terminated by \x00.
func encodeKey(parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = append(b, p...)
		b = append(b, 0)
	}
	return b
}

func argsToStrings(args []any) ([]string, error) {
	out := make([]string, len(args))
	for i, a := range args {
		s, ok := a.(string)
		if !ok {
			return nil, fmt.Errorf("index argument %d: want string, got %T", i, a)
		}
		if strings.IndexByte(s, 0) >= 0 {
			return nil, fmt.Errorf("index argument %d contains a NUL byte", i)
		}
		out[i] = s
	}
	return out, nil
}

// keyIndexer is a compound string index of a fixed number of parts.
type keyIndexer struct {
	parts  int
	single func(obj any) []string
}

func (k keyIndexer) FromObject(obj any) (bool, []byte, error) {
	parts := k.single(obj)
	if parts == nil {
		return false, nil, nil
	}
	return true, encodeKey(parts...), nil
}

// FromArgs takes all parts (exact lookup).
func (k keyIndexer) FromArgs(args ...any) ([]byte, error) {
	if len(args) != k.parts {
		return nil, fmt.Errorf("index needs %d arguments, got %d", k.parts, len(args))
	}
	s, err := argsToStrings(args)
	if err != nil {
		return nil, err
	}
	return encodeKey(s...), nil
}

// PrefixFromArgs takes the leading whole parts (prefix lookup on "<index>_prefix").
func (k keyIndexer) PrefixFromArgs(args ...any) ([]byte, error) {
	if len(args) > k.parts {
		return nil, fmt.Errorf("index takes at most %d arguments, got %d", k.parts, len(args))
	}
	s, err := argsToStrings(args)
	if err != nil {
		return nil, err
	}
	return encodeKey(s...), nil
}
