package index

import (
	"errors"
	"fmt"
	"time"

	"github.com/clusterpedia-memgraph/memgraph/graph"
)

// GVR identifies a stored resource type: Clusterpedia's *storage* group/version/resource.
type GVR struct {
	Group    string `json:"group"`
	Version  string `json:"version"`
	Resource string `json:"resource"`
}

// String renders the GVR as "group/version/resource" ("v1/pods" for the core group).
func (g GVR) String() string {
	if g.Group == "" {
		return g.Version + "/" + g.Resource
	}
	return g.Group + "/" + g.Version + "/" + g.Resource
}

// OwnerRef is one entry of metadata.ownerReferences.
type OwnerRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	UID        string `json:"uid"`
	Controller bool   `json:"controller,omitempty"`
}

// Event is a Kubernetes Event recorded against a stored object (Clusterpedia's RecordEvent).
type Event struct {
	UID             string `json:"uid"`
	Namespace       string `json:"namespace"`
	Name            string `json:"name"`
	ResourceVersion string `json:"resourceVersion"`
	// Object is the event's JSON (core/v1 Event) as recorded.
	Object []byte `json:"object"`
}

// Record is one stored object and everything the indexes need about it.
//
// A Record handed out by the store (Get, List, iteration) is READ-ONLY: it is shared with
// the store's MVCC snapshot and with every concurrent reader. Never modify its fields, its
// Labels map, its Owners or Events slices, or the bytes of Object; copy first.
type Record struct {
	Cluster   string
	GVR       GVR
	Kind      string
	Namespace string
	Name      string
	UID       string
	// ResourceVersion is metadata.resourceVersion as sent by the member cluster.
	ResourceVersion string
	// Created is metadata.creationTimestamp (second precision, UTC); zero when absent.
	Created time.Time
	// Labels are metadata.labels, sorted by key (build them with LabelsFromMap).
	Labels Labels
	Owners []OwnerRef
	// Object is the object's JSON, stored verbatim (it carries Clusterpedia's
	// shadow.clusterpedia.io/cluster-name annotation already).
	Object []byte
	// Events recorded against this object, in arrival order, one per event UID.
	Events []Event
	// SyncedAt is when the store last wrote this record.
	SyncedAt time.Time

	// cid and gid are the store's compact ids of Cluster and GVR (set on write).
	cid, gid uint16
}

// Labels is a compact label set sorted by key; it implements labels.Labels.
type Labels = graph.Labels

// LabelsFromMap returns the label set m holds.
func LabelsFromMap(m map[string]string) Labels { return graph.LabelsFromMap(m) }

// Key is the identity of a stored object: unique within the store.
type Key struct {
	Cluster   string
	GVR       GVR
	Namespace string
	Name      string
}

// Key returns the record's identity.
func (r *Record) Key() Key {
	return Key{Cluster: r.Cluster, GVR: r.GVR, Namespace: r.Namespace, Name: r.Name}
}

// NamespacedName is the client-go cache key form: "namespace/name", or "name" when
// cluster-scoped.
func (r *Record) NamespacedName() string { return namespacedName(r.Namespace, r.Name) }

// NamespacedName is "namespace/name", or "name" for an event without a namespace.
func (e *Event) NamespacedName() string { return namespacedName(e.Namespace, e.Name) }

func namespacedName(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// ControllerUID is the UID of the controller ownerReference, "" when there is none.
func (r *Record) ControllerUID() string {
	for i := range r.Owners {
		if r.Owners[i].Controller {
			return r.Owners[i].UID
		}
	}
	return ""
}

// Errors. The write-path errors are the ones Clusterpedia's synchro falls back on.
var (
	// ErrExists: Create of a key that is already stored.
	ErrExists = errors.New("object already exists")
	// ErrNotFound: Update or Get of a key that is not stored.
	ErrNotFound = errors.New("object not found")
	// ErrClosed: the store was closed (Shutdown); writes are refused.
	ErrClosed = errors.New("store is closed")
)

// KeyError carries the key of a failed write or read; errors.Is matches ErrExists or
// ErrNotFound.
type KeyError struct {
	Err error
	Key Key
}

func (e *KeyError) Error() string {
	return fmt.Sprintf("%s %s %s: %v", e.Key.Cluster, e.Key.GVR, namespacedName(e.Key.Namespace, e.Key.Name), e.Err)
}
func (e *KeyError) Unwrap() error { return e.Err }

// InvalidQueryError is a bad query option: the adapter maps it to a Kubernetes 400.
// Field names the option ("orderby", "continue", "fieldSelector", ...).
type InvalidQueryError struct {
	Field  string
	Reason string
}

func (e *InvalidQueryError) Error() string {
	return fmt.Sprintf("invalid query option %q: %s", e.Field, e.Reason)
}

func invalid(field, format string, args ...any) error {
	return &InvalidQueryError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// IsInvalidQuery reports whether err is (or wraps) an InvalidQueryError.
func IsInvalidQuery(err error) bool {
	var e *InvalidQueryError
	return errors.As(err, &e)
}
