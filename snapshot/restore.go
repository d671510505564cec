package snapshot

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// Restore outcomes.
const (
	// RestoreOK: a snapshot and/or log was loaded.
	RestoreOK = "ok"
	// RestoreEmpty: the directory held no data (first start).
	RestoreEmpty = "empty"
	// RestoreCorrupt: the data could not be used (damaged, truncated, missing parts, or a
	// newer format); it was moved aside (MovedTo) and the store starts empty.
	RestoreCorrupt = "corrupt_moved_aside"
)

// RestoreResult says what Restore did.
type RestoreResult struct {
	Outcome string
	// Reason explains RestoreCorrupt.
	Reason string
	// MovedTo is where the unusable data went (RestoreCorrupt).
	MovedTo string
	// Objects in the store after the restore.
	Objects int
	// SnapshotObjects and SnapshotCreated describe the snapshot loaded (zero: none).
	SnapshotObjects int64
	SnapshotCreated time.Time
	// LogCommits is the number of logged commits replayed on top of the snapshot.
	LogCommits int
	// Duration of Open's directory checks plus Restore.
	Duration time.Duration
}

// Status is the Persister's state for metrics and health checks (plain values).
type Status struct {
	Dir      string
	SyncMode string

	// Snapshots taken by this process, and the last one.
	Snapshots            int64
	SnapshotFailures     int64
	LastSnapshotError    string
	LastSnapshot         time.Time     // when the last snapshot committed (zero: none yet)
	LastSnapshotDuration time.Duration // total time to write it
	LastSnapshotBlocked  time.Duration // time writers were blocked while it paired view and log position
	LastSnapshotBytes    int64
	LastSnapshotObjects  int64

	// Log: commits buffered and not yet written (interval mode), and entries/bytes written
	// since the last snapshot.
	PendingCommits int
	PendingBytes   int64
	LogEntries     int64
	LogBytes       int64
	LastFlush      time.Time
	FlushFailures  int64
	// LastSync is when the last fsync after a flush started (interval mode) and how long it
	// took: a machine crash loses at most FlushInterval + LastSyncDuration.
	LastSync         time.Time
	LastSyncDuration time.Duration
	SyncFailures     int64
	LastFlushError   string
	// DroppedAfterClose counts writes observed after Close (not persisted).
	DroppedAfterClose int64

	// DiskBytes is the size of the directory after the last snapshot.
	DiskBytes int64

	// Restore is the outcome of Restore.
	Restore RestoreResult
}

// Status returns a copy of the current state.
func (p *Persister) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.status
	st.PendingCommits = len(p.pending)
	st.PendingBytes = p.pendingBytes
	return st
}

// restoreGCPercent is the GC target while Restore runs (the default is 100).
const restoreGCPercent = 400

// Restore loads the current snapshot and replays the log after it into s, which must be
// empty and must have p among its Options.Observers. It runs before the store serves
// (nothing else may write to s meanwhile). Data that cannot be used — bad checksums,
// truncated or missing parts, a log with a gap, a newer format — is never partially
// loaded: the store is left empty, the directory is moved aside to
// "<dir>.corrupt-<UTC time>", the outcome is RestoreCorrupt with the reason, and the
// error is nil (Clusterpedia resyncs). An error means the Persister cannot be used (the
// store was not empty, p is not an observer of s, the fresh directory cannot be created).
func (p *Persister) Restore(s *index.Store) (RestoreResult, error) {
	t0 := time.Now()
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		return RestoreResult{}, errors.New("snapshot: Restore after Close")
	case p.store != nil:
		p.mu.Unlock()
		return RestoreResult{}, errors.New("snapshot: Restore called twice")
	}
	p.mu.Unlock()
	if len(s.View().Stats("")) > 0 {
		return RestoreResult{}, errors.New("snapshot: Restore needs an empty store")
	}
	// Restore allocates the whole store at once before anything serves; a larger GC target
	// while it runs trades transient heap for much less marking of the growing heap.
	defer debug.SetGCPercent(debug.SetGCPercent(restoreGCPercent))
	var res RestoreResult
	var lastSeq uint64
	if p.opened.moved != nil {
		res = *p.opened.moved
	} else {
		var err error
		res, lastSeq, err = p.load(s)
		if err != nil {
			p.unload(s)
			if errors.Is(err, ErrNotObserver) {
				return RestoreResult{}, err
			}
			p.snapMu.Lock()
			p.dbMu.Lock()
			db, err2 := p.replaceCorrupt(err)
			p.db = db
			p.dbMu.Unlock()
			p.snapMu.Unlock()
			if err2 != nil {
				return RestoreResult{}, err2
			}
			res, lastSeq = *p.opened.moved, 0
		}
	}
	if res.Outcome != RestoreOK {
		p.gen = 0
		lastSeq = 0
	}
	res.Duration = p.opened.openTime + time.Since(t0)
	snapSeq := uint64(0)
	if res.Outcome == RestoreOK && p.opened.marker != nil {
		snapSeq = p.opened.marker.LogSeq
		p.gen = p.opened.marker.Gen
	}
	s.ViewWith(func(v *index.View) {
		p.seq = lastSeq // Observe reads it under the same lock
		for _, st := range v.Stats("") {
			res.Objects += int(st.Count)
		}
	})
	size := dirSize(p.opts.Dir)
	p.mu.Lock()
	p.store = s
	p.snapSeq = snapSeq
	p.status.Restore = res
	p.status.DiskBytes = size
	if h := p.opened.header; h != nil && res.Outcome == RestoreOK {
		p.status.LastSnapshot = h.Created
		p.status.LastSnapshotBytes = h.Bytes
		p.status.LastSnapshotObjects = h.Objects
	}
	p.mu.Unlock()
	switch res.Outcome {
	case RestoreCorrupt:
		p.logf("memgraph persistence: restore from %s failed (%s); the store starts empty", p.opts.Dir, res.Reason)
	case RestoreOK:
		p.logf("memgraph persistence: restored %d objects from %s in %s (snapshot of %d objects from %s, %d logged commits replayed)",
			res.Objects, p.opts.Dir, res.Duration.Round(time.Millisecond), res.SnapshotObjects,
			res.SnapshotCreated.Format(time.RFC3339), res.LogCommits)
	}
	return res, nil
}

// unload empties the store after a failed restore.
func (p *Persister) unload(s *index.Store) {
	p.restoring.Store(true)
	defer p.restoring.Store(false)
	for _, c := range s.View().Clusters() {
		_, _ = s.CleanCluster(c)
	}
}

// load streams the snapshot into s (decoding in parallel with the store inserts), then
// replays the log. Any error leaves s partly loaded: the caller unloads it.
func (p *Persister) load(s *index.Store) (res RestoreResult, lastSeq uint64, err error) {
	defer recoverInto(&err)
	p.restoring.Store(true)
	p.observed.Store(false)
	defer p.restoring.Store(false)
	applied := 0
	apply := func(muts []index.Mutation) error {
		if len(muts) == 0 {
			return nil
		}
		if err := s.Apply(muts); err != nil {
			return corruptf("applying restored data: %v", err)
		}
		applied += len(muts)
		return nil
	}
	m, h := p.opened.marker, p.opened.header
	if h != nil {
		n, err := p.loadSnapshot(h, s)
		applied += n
		if err != nil {
			return res, 0, fmt.Errorf("snapshot generation %d: %w", h.Gen, err)
		}
		res.SnapshotObjects, res.SnapshotCreated = h.Objects, h.Created
		lastSeq = m.LogSeq
	}
	n, last, segs, tail, err := p.replayLog(lastSeq, apply)
	if err != nil {
		return res, 0, fmt.Errorf("log: %w", err)
	}
	res.LogCommits, lastSeq = n, last
	if applied > 0 && !p.observed.Load() {
		return res, 0, ErrNotObserver
	}
	if tail != nil {
		if err := tail.cut(); err != nil {
			return res, 0, fmt.Errorf("cutting the torn end of the log: %w", err)
		}
		if tail.empty {
			segs = segs[:len(segs)-1]
		}
		p.logf("memgraph persistence: dropped the torn end of the log in %s (a crash interrupted its last write)", filepath.Base(tail.path))
	}
	p.wal.segs = segs
	if h == nil && n == 0 {
		res.Outcome = RestoreEmpty
	} else {
		res.Outcome = RestoreOK
	}
	return res, lastSeq, nil
}

type rawChunk struct {
	idx uint32
	val []byte
}

type decodedChunk struct {
	recs []*index.Record
	err  error
}

// loadSnapshot streams the snapshot's chunks into s with one Store.Load (one transaction,
// records in identity order: the fast path of the store's indexes), decoding in parallel
// with the inserts. Every check of the header — chunk count, bytes, checksum, objects — is
// made before Load commits, so a bad snapshot leaves s untouched.
func (p *Persister) loadSnapshot(h *header, s *index.Store) (int, error) {
	db := p.db
	workers := max(1, min(runtime.GOMAXPROCS(0), 4))
	raw := make(chan rawChunk, workers*2)
	out := make(chan decodedChunk, workers*2)
	stop := make(chan struct{})
	var readErr error
	var sum uint32
	var bytes int64
	var chunks uint32
	go func() { // reader: chunk values in key order
		defer close(raw)
		readErr = func() (err error) {
			defer recoverInto(&err)
			crc := crc32.New(castagnoli)
			err = db.View(func(txn *badger.Txn) error {
				prefix := chunkPrefix(h.Gen)
				it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 8})
				defer it.Close()
				for it.Seek(prefix); it.Valid(); it.Next() {
					k := it.Item().Key()
					if len(k) != len(prefix)+4 {
						return corruptf("bad chunk key %q", k)
					}
					idx := uint32(k[len(k)-4])<<24 | uint32(k[len(k)-3])<<16 | uint32(k[len(k)-2])<<8 | uint32(k[len(k)-1])
					if idx != chunks {
						return corruptf("chunk %d missing", chunks)
					}
					val, err := it.Item().ValueCopy(nil)
					if err != nil {
						return err
					}
					crc.Write(val)
					bytes += int64(len(val))
					chunks++
					select {
					case raw <- rawChunk{idx, val}:
					case <-stop:
						return errors.New("stopped")
					}
				}
				return nil
			})
			sum = crc.Sum32()
			return err
		}()
	}()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			strs := make(map[string]string)
			for c := range raw {
				recs, err := decodeChunkValue(c.val, strs)
				if err != nil {
					err = fmt.Errorf("chunk %d: %w", c.idx, err)
				}
				select {
				case out <- decodedChunk{recs, err}:
				case <-stop:
				}
			}
		}()
	}
	go func() { wg.Wait(); close(out) }()
	var objects int64
	var srcErr error // what next returned instead of io.EOF
	next := func() ([]*index.Record, error) {
		d, ok := <-out
		switch {
		case ok && d.err != nil:
			srcErr = d.err
		case ok:
			objects += int64(len(d.recs))
			return d.recs, nil
		case readErr != nil:
			srcErr = readErr
		case chunks != h.Chunks:
			srcErr = corruptf("%d chunks found, the header says %d", chunks, h.Chunks)
		case bytes != h.Bytes:
			srcErr = corruptf("%d bytes found, the header says %d", bytes, h.Bytes)
		case sum != h.Checksum:
			srcErr = corruptf("checksum %08x, the header says %08x", sum, h.Checksum)
		case objects != h.Objects:
			srcErr = corruptf("%d objects found, the header says %d", objects, h.Objects)
		default:
			return nil, io.EOF
		}
		return nil, srcErr
	}
	n, err := s.Load(next)
	if err != nil {
		close(stop)
		for range out { // let the reader and the decoders finish
		}
		if srcErr != nil {
			return 0, srcErr
		}
		return 0, corruptf("applying restored data: %v", err)
	}
	return n, nil
}

func decodeChunkValue(val []byte, strs map[string]string) ([]*index.Record, error) {
	body, err := openCRC(val)
	if err != nil {
		return nil, err
	}
	if body, err = checkVersionByte(body, chunkVersion, "chunk"); err != nil {
		return nil, err
	}
	return decodeChunk(body, strs)
}

// replayLog applies the logged commits after seq, in order; they must be contiguous. It
// returns the segments for the log writer and the torn tail to cut once the load succeeded.
func (p *Persister) replayLog(seq uint64, apply func([]index.Mutation) error) (n int, last uint64, segs []segment, tail *tornTail, err error) {
	last = seq
	segs, err = listSegments(p.opts.Dir)
	if err != nil {
		return 0, 0, nil, nil, err
	}
	strs := make(map[string]string)
	var muts []index.Mutation
	for i := range segs {
		seg := &segs[i]
		isLast := i == len(segs)-1
		payloads, valid, err := readSegment(*seg, isLast)
		if err != nil {
			return 0, 0, nil, nil, err
		}
		if isLast {
			if fi, err := os.Stat(seg.path); err == nil && fi.Size() != valid {
				tail = &tornTail{path: seg.path, size: valid, empty: len(payloads) == 0}
			}
		}
		name := filepath.Base(seg.path)
		for _, pl := range payloads {
			body, err := checkVersionByte(pl, entryVersion, "log entry")
			if err != nil {
				return 0, 0, nil, nil, fmt.Errorf("log segment %s: %w", name, err)
			}
			commits, err := decodeEntry(body, strs)
			if err != nil {
				return 0, 0, nil, nil, fmt.Errorf("log segment %s: %w", name, err)
			}
			for _, c := range commits {
				if seg.last == 0 && c.seq != seg.first {
					return 0, 0, nil, nil, corruptf("log segment %s starts with commit %d", name, c.seq)
				}
				if seg.last != 0 && c.seq != seg.last+1 {
					return 0, 0, nil, nil, corruptf("log segment %s: commit %d follows commit %d", name, c.seq, seg.last)
				}
				seg.last = c.seq
				switch {
				case c.seq <= last:
					continue // covered by the snapshot
				case c.seq != last+1:
					return 0, 0, nil, nil, corruptf("commits %d..%d are missing", last+1, c.seq-1)
				}
				if hasClean(c.muts) {
					// A clean does not see upserts made earlier in its own transaction (the
					// store's per-(cluster, GVR) stats are written at commit), so a commit
					// with a clean is replayed as exactly the transaction it was.
					if err := apply(muts); err != nil {
						return 0, 0, nil, nil, err
					}
					if err := apply(c.muts); err != nil {
						return 0, 0, nil, nil, err
					}
					muts = muts[:0]
				} else {
					muts = append(muts, c.muts...)
				}
				last = c.seq
				n++
				if len(muts) >= applyBatch {
					if err := apply(muts); err != nil {
						return 0, 0, nil, nil, err
					}
					muts = muts[:0]
				}
			}
		}
	}
	if err := apply(muts); err != nil {
		return 0, 0, nil, nil, err
	}
	return n, last, segs, tail, nil
}

// tornTail is the end of the newest segment that a crash left half-written.
type tornTail struct {
	path  string
	size  int64
	empty bool // not even a complete record: the whole file goes
}

func (t *tornTail) cut() error {
	if t.empty {
		return os.Remove(t.path)
	}
	f, err := os.OpenFile(t.path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(t.size); err != nil {
		return err
	}
	return f.Sync()
}

func hasClean(ms []index.Mutation) bool {
	for _, m := range ms {
		if m.Op == index.OpCleanCluster || m.Op == index.OpCleanResource {
			return true
		}
	}
	return false
}
