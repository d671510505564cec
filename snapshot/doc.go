// Package snapshot makes memgraph's in-memory store (package index) survive restarts: a
// write-behind log of every commit plus periodic point-in-time snapshots, both in a badger
// directory. At startup the store is restored before it serves, so Clusterpedia's
// GetResourceVersions answers from the restored data and its synchro skips every object
// whose resourceVersion did not change (no relist rewrites).
//
// # Wiring (in this order)
//
//	p, err := snapshot.Open(snapshot.Options{Dir: cfg.Dir, SyncMode: cfg.SyncMode,
//		FlushInterval: cfg.FlushInterval, SnapshotInterval: cfg.SnapshotInterval, Logf: klog.Infof})
//	if err != nil { ... }            // e.g. "another memgraph process is using <dir>"
//	store, err := index.New(index.Options{Observers: []index.Observer{p}, Hooks: ...})
//	res, err := p.Restore(store)     // before the store serves; res.Outcome ok/empty/corrupt_moved_aside
//	err = p.Start(store)             // background log flushing and periodic snapshots
//	... serve ...
//	store.Close()                    // Shutdown: refuse writes first,
//	err = p.Close()                  // then final snapshot, flush, release the directory
//
// The Persister must be among the store's Observers (Restore fails with ErrNotObserver
// otherwise, when it had anything to load).
//
// # Guarantees
//
//   - interval mode (default): the flusher writes and fsyncs buffered commits every
//     FlushInterval/2; after a crash (process or machine), every mutation acknowledged more
//     than FlushInterval before the crash is restored, provided one flush completes within
//     FlushInterval/2 (it writes what was acknowledged in that time; see docs/persistence.md).
//   - strict mode: every commit is written and fsynced before the store's write returns:
//     every acknowledged mutation is restored.
//   - Restore loads a prefix of the commit sequence, never a partial or reordered one.
//     Cleans (CleanCluster, CleanClusterResource) are commits like any other.
//   - A snapshot is wholly there or not: its chunks are written first, then its header and
//     the marker naming it in one badger transaction. Every chunk, log entry, header and
//     marker carries a CRC-32C and a format version; anything that does not verify moves
//     the whole directory aside (never a partial load) and the store starts empty.
//   - A second process on the same directory fails in Open (badger's directory lock).
//
// Records are stored in a compact binary form with the indexed metadata beside the object
// JSON, so restore does not parse JSON. SyncedAt is not stored: restored records get the
// restore time.
package snapshot
