package index

import (
	"fmt"
	"strings"

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
	// IndexUID is (cluster, uid): RecordEvent on the involved object, graph node lookup,
	// owner-by-UID roots. Not unique: a CRD stored at several versions shares its UID.
	IndexUID = "uid"
	// IndexOwner is (cluster, owner uid) over every ownerReference (not only the
	// controller): owner queries and graph descendants.
	IndexOwner = "owner"
	// IndexName is (cluster, name): owner-by-name roots and name-filtered lists that do not
	// know the namespace.
	IndexName = "name"
)

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

func schema() *memdb.DBSchema {
	return &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
		TableRecords: {
			Name: TableRecords,
			Indexes: map[string]*memdb.IndexSchema{
				IndexID: {Name: IndexID, Unique: true, Indexer: keyIndexer{parts: 6, single: func(o any) []string {
					r := o.(*Record)
					return []string{r.Cluster, r.GVR.Group, r.GVR.Version, r.GVR.Resource, r.Namespace, r.Name}
				}}},
				IndexUID: {Name: IndexUID, AllowMissing: true, Indexer: keyIndexer{parts: 2, single: func(o any) []string {
					r := o.(*Record)
					if r.UID == "" {
						return nil
					}
					return []string{r.Cluster, r.UID}
				}}},
				IndexName: {Name: IndexName, Indexer: keyIndexer{parts: 2, single: func(o any) []string {
					r := o.(*Record)
					return []string{r.Cluster, r.Name}
				}}},
				IndexOwner: {Name: IndexOwner, AllowMissing: true, Indexer: ownerIndexer{}},
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

// ownerIndexer indexes (cluster, owner uid) for every ownerReference with a UID.
type ownerIndexer struct{}

func (ownerIndexer) FromObject(obj any) (bool, [][]byte, error) {
	r := obj.(*Record)
	if len(r.Owners) == 0 {
		return false, nil, nil
	}
	keys := make([][]byte, 0, len(r.Owners))
	for i := range r.Owners {
		if u := r.Owners[i].UID; u != "" {
			keys = append(keys, encodeKey(r.Cluster, u))
		}
	}
	return len(keys) > 0, keys, nil
}

func (ownerIndexer) FromArgs(args ...any) ([]byte, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("owner index needs (cluster, owner uid), got %d arguments", len(args))
	}
	s, err := argsToStrings(args)
	if err != nil {
		return nil, err
	}
	return encodeKey(s...), nil
}
