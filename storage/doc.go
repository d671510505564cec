// Package storage is memgraph's Clusterpedia v0.9.1 storage layer: a thin adapter that
// implements Clusterpedia's StorageFactory, ResourceStorage and CollectionResourceStorage
// (github.com/clusterpedia-io/clusterpedia/pkg/storage) on the in-memory engine (package
// index).
//
// Objects are stored verbatim: Create/Update encode the object with the resource's codec
// (storage-version JSON, exactly as internalstorage does) and key it by (cluster, storage
// GVR, namespace, name); Get and List decode into the objects and lists the apiserver hands
// in exactly as that codec does, so the output is what internalstorage produces (the tests
// compare both byte for byte for every option whose semantics are shared). Built-in kinds
// take a faster path with the codec's result (render.go: json-iterator into the storage
// version, then the scheme's defaulting and conversion; large lists on every core); custom
// resources and anything that path does not decode identically go through the codec.
//
// Deliberate differences from internalstorage (documented behaviour of memgraph):
//
//   - Order: without orderby, items come in identity order (cluster, group, version,
//     resource, namespace, name); every orderby gets that order as tie-breaker, so paging is
//     stable. orderby accepts cluster, namespace, name, created_at, resource_version
//     (numeric), group, version, resource, kind, uid; anything else is a 400 (internalstorage
//     passes it to SQL: 500).
//   - Continue tokens are opaque keyset tokens, returned only when more items follow (not when
//     the last page is exactly full). Decimal offsets (search.clusterpedia.io/offset, or a
//     numeric continue) still work; a malformed token is a 400 instead of offset 0.
//   - remainingItemCount is never negative (offset past the end gives 0).
//   - Label selectors: gt/lt are evaluated (internalstorage ignores them).
//   - Field selectors: list paths ("spec.containers[].name", "[N]") are supported (422 in
//     internalstorage); gt/lt are evaluated; numbers compare as their JSON text, booleans as
//     true/false, on every backend. A negative list index is a 400.
//   - internalstorage.clusterpedia.io/fuzzy-name: case-sensitive substring, no SQL
//     wildcards; only =, == and in (in = contains every value); other operators are a 400.
//   - Any other clusterpedia.io search label that reaches the storage is a 400 naming the key
//     (internalstorage ignores it) — except search.clusterpedia.io/forward, a routing
//     directive, which is ignored.
//   - whereSQL, whereSQLStatement, whereSQLParam and whereSQLJSONParams are a 400 "not
//     supported by memgraph".
//   - Owner search follows every ownerReference (internalstorage: the controller reference
//     only), and also works when several (or no) clusters are given; collection resources
//     reject owner options with a 400 (internalstorage ignores them).
//   - InjectEvents also annotates unstructured (CRD) lists, metadata-only lists and
//     collection items; events appear in arrival order (internalstorage: map order).
//   - Update of a missing object returns KeyNotFound, so the synchro falls back to Create
//     (internalstorage silently loses the update).
//   - GetResourceVersions reports event resourceVersions as strings (internalstorage on
//     SQLite returns JSON numbers, which Clusterpedia's event informer cannot use).
//   - Empty lists carry an empty (non-nil) items slice; metadata-only unstructured items use
//     int64 for integers (the unstructured convention).
//   - Writes after Shutdown fail with ErrShutdown (a plain error: the synchro drops the event);
//     reads keep working.
package storage
