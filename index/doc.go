// Package index is memgraph's in-memory database: the go-memdb schema that holds every
// resource synced from every member cluster, the write path (create, update, delete, clean
// cluster, clean resource, record event, bulk load for restore, hook preparation outside
// the write lock), resource-version bookkeeping for Clusterpedia's
// restart-without-rewrite, and the query engine (filters, label and field selectors, owner
// queries, order, keyset/offset paging, remaining counts, collection queries).
//
// It imports neither Clusterpedia nor its api module: storage/ translates Clusterpedia's
// ListOptions into Query and runtime objects into Records.
package index
