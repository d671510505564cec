package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// Sync modes (the values of config.Persistence.SyncMode).
const (
	// SyncInterval: commits are buffered and written (and fsynced) to the log every
	// FlushInterval/2 in the background. A crash loses at most the commits acknowledged in
	// the last FlushInterval.
	SyncInterval = "interval"
	// SyncStrict: every commit is written and fsynced to the log before the store's write
	// returns. A crash loses nothing that was acknowledged.
	SyncStrict = "strict"
)

// Options configures a Persister.
type Options struct {
	// Dir is the badger directory (created when missing). Required.
	Dir string
	// SyncMode is SyncInterval (default) or SyncStrict.
	SyncMode string
	// FlushInterval bounds the loss window in interval mode. Default 1s.
	FlushInterval time.Duration
	// SnapshotInterval between periodic snapshots. Default 10m. A snapshot is also taken
	// early when the log written since the last one outgrows max(64 MiB, last snapshot).
	SnapshotInterval time.Duration
	// Logf receives memgraph's persistence messages and badger's warnings and errors
	// (badger's info and debug chatter is dropped). Default: the standard library logger.
	Logf func(format string, args ...any)
}

// ErrNotObserver is returned by Restore when the store does not notify the Persister.
var ErrNotObserver = errors.New("snapshot: the Persister is not among the store's Options.Observers")

// Tunables (variables so tests can shrink them).
var (
	chunkTarget      = 1 << 20  // bytes of records per snapshot chunk
	entryTarget      = 4 << 20  // bytes of commits per log entry
	applyBatch       = 512      // mutations per store.Apply during restore (see docs/persistence.md)
	logSnapshotFloor = 64 << 20 // log bytes that trigger an early snapshot (at least)
	pendingKick      = 8 << 20  // pending bytes that wake the flusher before its tick
)

// Persister makes an index.Store durable: it is the store's Observer (a write-behind log of
// every commit) and takes periodic point-in-time snapshots. See the package documentation
// for the wiring and the guarantees.
type Persister struct {
	opts Options
	logf func(string, ...any)

	dbMu sync.RWMutex // guards db (swapped when a corrupt directory is moved aside)
	db   *badger.DB

	// Fixed by Open / Restore, read-only afterwards.
	store     *index.Store
	opened    openState
	restoring atomic.Bool
	observed  atomic.Bool // an Observe arrived while restoring (wiring check)

	// seq is the last commit observed. Written only by Observe (under the store's write
	// lock) and by Restore (inside ViewWith), read inside ViewWith.
	seq uint64

	mu           sync.Mutex // guards the fields below
	pending      []commit
	pendingBytes int64
	snapSeq      uint64 // last commit covered by the current snapshot
	logBytes     int64  // log bytes written since the current snapshot
	closed       bool
	status       Status
	droppedWarn  bool

	flushMu sync.Mutex // serializes log writes (flusher, strict-mode writes, Close); guards wal, encBuf
	wal     walWriter
	encBuf  []byte
	snapMu  sync.Mutex // serializes snapshots; guards gen
	gen     uint64     // current snapshot generation (0: none)

	kick    chan struct{}
	syncReq chan struct{}
	stop    chan struct{}
	started bool
	wg      sync.WaitGroup
}

// openState is what Open found in the directory.
type openState struct {
	marker   *marker // nil: no snapshot yet
	header   *header
	moved    *RestoreResult // the directory was unusable and moved aside by Open
	openTime time.Duration
}

// Open opens (or creates) the badger directory, taking its lock, and validates the current
// snapshot header. It starts no goroutine. A directory another process holds fails with an
// error saying so. A directory that cannot be read (badger refuses it, a newer format, a
// corrupt header) is moved aside to "<dir>.corrupt-<UTC time>" and an empty one is
// created: Restore then reports RestoreCorrupt and the store starts empty.
func Open(opts Options) (*Persister, error) {
	if strings.TrimSpace(opts.Dir) == "" {
		return nil, errors.New("snapshot: Options.Dir is required")
	}
	switch opts.SyncMode {
	case "":
		opts.SyncMode = SyncInterval
	case SyncInterval, SyncStrict:
	default:
		return nil, fmt.Errorf("snapshot: sync mode %q is not %q or %q", opts.SyncMode, SyncInterval, SyncStrict)
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = time.Second
	}
	if opts.SnapshotInterval <= 0 {
		opts.SnapshotInterval = 10 * time.Minute
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	opts.Dir = dir
	p := &Persister{opts: opts, logf: opts.Logf, kick: make(chan struct{}, 1),
		syncReq: make(chan struct{}, 1), stop: make(chan struct{})}
	if p.logf == nil {
		p.logf = log.Printf
	}
	p.status.SyncMode = opts.SyncMode
	p.status.Dir = dir
	p.wal = walWriter{dir: dir, strict: opts.SyncMode == SyncStrict}

	t0 := time.Now()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("snapshot: create %s: %w", dir, err)
	}
	db, err := p.openBadger()
	if err != nil {
		if isLockError(err) {
			return nil, fmt.Errorf("snapshot: another memgraph process is using %s (badger directory lock is held): %w", dir, err)
		}
		if db, err = p.moveAside(fmt.Sprintf("badger cannot open the directory: %v", err)); err != nil {
			return nil, err
		}
	}
	p.db = db
	if p.opened.moved == nil {
		m, h, err := p.readMarker()
		if err != nil {
			if p.db, err = p.replaceCorrupt(err); err != nil {
				return nil, err
			}
		} else {
			p.opened.marker, p.opened.header = m, h
		}
	}
	p.opened.openTime = time.Since(t0)
	return p, nil
}

// isLockError recognizes badger's "Cannot acquire directory lock" error.
func isLockError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "Cannot acquire directory lock")
}

// badgerOptions are tuned for a memgraph process: a few hundred MB to a few GB of data, a
// small box (2 cores), writes that are mostly large sequential values (snapshot chunks,
// log entries) which go to the value log, and a tiny LSM tree of keys and pointers.
func (p *Persister) badgerOptions() badger.Options {
	return badger.DefaultOptions(p.opts.Dir).
		WithLogger(badgerLogger{p.logf}).
		WithMetricsEnabled(false).     // no global expvars in the host process
		WithCompression(options.None). // badger compresses SST blocks only; our data is in the value log (docs/persistence.md)
		WithBlockCacheSize(0).         // only needed with compression; restore reads everything once
		WithIndexCacheSize(0).
		WithMemTableSize(16 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(8).
		WithNumCompactors(2).
		WithValueThreshold(32 << 10). // chunks and log entries go to the value log once
		WithValueLogFileSize(128 << 20).
		WithDetectConflicts(false).
		WithChecksumVerificationMode(options.OnTableRead).
		WithNumGoroutines(2)
}

// openBadger opens the directory, turning a panic inside badger into an error.
func (p *Persister) openBadger() (db *badger.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("badger panicked while opening: %v", r)
		}
	}()
	removeEmptyBadgerFiles(p.opts.Dir, p.logf)
	return badger.Open(p.badgerOptions())
}

// removeEmptyBadgerFiles deletes zero-length value-log and memtable files. Badger creates
// such a file and only then sizes it; a process killed in between (e.g. while opening)
// leaves an empty file that badger v4.2.0 then refuses to open ("Create a new file"). An
// empty file holds no data, so removing it loses nothing.
func removeEmptyBadgerFiles(dir string, logf func(string, ...any)) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !(strings.HasSuffix(n, ".vlog") || strings.HasSuffix(n, ".mem")) {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.Size() == 0 {
			if err := os.Remove(filepath.Join(dir, n)); err == nil {
				logf("memgraph persistence: removed the empty badger file %s left by an interrupted start", n)
			}
		}
	}
}

type badgerLogger struct{ logf func(string, ...any) }

func (l badgerLogger) Errorf(f string, a ...any) {
	l.logf("memgraph persistence: badger error: "+strings.TrimRight(f, "\n"), a...)
}
func (l badgerLogger) Warningf(f string, a ...any) {
	l.logf("memgraph persistence: badger warning: "+strings.TrimRight(f, "\n"), a...)
}
func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}

// replaceCorrupt closes the open database, moves the directory aside and opens an empty one.
func (p *Persister) replaceCorrupt(cause error) (*badger.DB, error) {
	if p.db != nil {
		if err := p.db.Close(); err != nil {
			p.logf("memgraph persistence: closing the unusable database: %v", err)
		}
		p.db = nil
	}
	return p.moveAside(cause.Error())
}

// moveAside renames the (closed) directory to <dir>.corrupt-<UTC time>, opens a fresh one
// and records the outcome for Restore.
func (p *Persister) moveAside(reason string) (*badger.DB, error) {
	dir := p.opts.Dir
	ts := time.Now().UTC().Format("20060102T150405Z")
	dst := dir + ".corrupt-" + ts
	for i := 2; ; i++ {
		if _, err := os.Lstat(dst); errors.Is(err, os.ErrNotExist) {
			break
		}
		dst = fmt.Sprintf("%s.corrupt-%s-%d", dir, ts, i)
	}
	if err := os.Rename(dir, dst); err != nil {
		// The directory may be a mount point: move its contents into a subdirectory.
		sub := filepath.Join(dir, "corrupt-"+ts)
		if err2 := moveContents(dir, sub); err2 != nil {
			return nil, fmt.Errorf("snapshot: %s is unusable (%s) and could not be moved aside: %v; %v", dir, reason, err, err2)
		}
		dst = sub
	}
	p.logf("memgraph persistence: the data in %s is unusable: %s; moved it aside to %s and starting empty (Clusterpedia resyncs every cluster)", dir, reason, dst)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("snapshot: recreate %s: %w", dir, err)
	}
	db, err := p.openBadger()
	if err != nil {
		if isLockError(err) {
			return nil, fmt.Errorf("snapshot: another memgraph process is using %s: %w", dir, err)
		}
		return nil, fmt.Errorf("snapshot: open fresh %s: %w", dir, err)
	}
	p.opened.moved = &RestoreResult{Outcome: RestoreCorrupt, Reason: reason, MovedTo: dst}
	p.opened.marker, p.opened.header = nil, nil
	return db, nil
}

func moveContents(dir, sub string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if err := os.Mkdir(sub, 0o700); err != nil {
		return err
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "corrupt-") {
			continue
		}
		if err := os.Rename(filepath.Join(dir, e.Name()), filepath.Join(sub, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// readMarker reads and validates the marker and the header it names (nil, nil: no snapshot).
func (p *Persister) readMarker() (m *marker, h *header, err error) {
	defer recoverInto(&err)
	err = p.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(keyMarker)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		m = &marker{}
		if err := it.Value(func(v []byte) error { return openJSON(v, m, func() int { return m.Format }) }); err != nil {
			return fmt.Errorf("snapshot marker: %w", err)
		}
		hi, err := txn.Get(headerKey(m.Gen))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return corruptf("the header of snapshot generation %d named by the marker is missing", m.Gen)
		}
		if err != nil {
			return err
		}
		h = &header{}
		if err := hi.Value(func(v []byte) error { return openJSON(v, h, func() int { return h.Format }) }); err != nil {
			return fmt.Errorf("snapshot %d header: %w", m.Gen, err)
		}
		if h.Gen != m.Gen || h.LogSeq != m.LogSeq {
			return corruptf("snapshot header (gen %d, seq %d) does not match the marker (gen %d, seq %d)", h.Gen, h.LogSeq, m.Gen, m.LogSeq)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return m, h, nil
}

// recoverInto turns a panic (badger on damaged files) into an error.
func recoverInto(err *error) {
	if r := recover(); r != nil {
		*err = corruptf("badger panicked: %v", r)
	}
}

// Observe implements index.Observer: it appends the commit to the log (strict mode: durably,
// before returning; interval mode: to a buffer the flusher writes).
func (p *Persister) Observe(changes []index.Change) {
	if p.restoring.Load() {
		p.observed.Store(true)
		return
	}
	p.seq++
	c := commit{seq: p.seq, changes: changes} // the store never reuses a changes slice
	var size int64 = 64
	for i := range changes {
		if changes[i].New != nil {
			size += int64(len(changes[i].New.Object)) + 128
		}
	}
	p.mu.Lock()
	if p.closed {
		p.status.DroppedAfterClose++
		warn := !p.droppedWarn
		p.droppedWarn = true
		p.mu.Unlock()
		if warn {
			p.logf("memgraph persistence: a write arrived after Close and is not persisted (close the store before the Persister)")
		}
		return
	}
	p.pending = append(p.pending, c)
	p.pendingBytes += size
	kick := p.pendingBytes >= int64(pendingKick)
	p.mu.Unlock()
	if p.opts.SyncMode == SyncStrict {
		// Durable before the writer returns. On failure the commit stays buffered and the
		// flusher retries; the write is acknowledged anyway (a committed transaction cannot
		// be undone), which Status.FlushFailures reports.
		_ = p.flush()
		return
	}
	if kick {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
}

// flush writes the buffered commits to the log.
func (p *Persister) flush() error {
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	p.mu.Lock()
	batch, snapSeq := p.pending, p.snapSeq
	p.pending, p.pendingBytes = nil, 0
	p.mu.Unlock()
	i := 0
	for i < len(batch) && batch[i].seq <= snapSeq {
		i++ // already in the snapshot
	}
	batch = batch[i:]
	if len(batch) == 0 {
		return nil
	}
	if err := p.writeCommits(batch); err != nil {
		p.mu.Lock()
		p.pending = append(batch, p.pending...)
		for _, c := range batch {
			for _, ch := range c.changes {
				if ch.New != nil {
					p.pendingBytes += int64(len(ch.New.Object)) + 128
				}
			}
		}
		p.status.FlushFailures++
		p.status.LastFlushError = err.Error()
		p.mu.Unlock()
		p.logf("memgraph persistence: writing the log failed (retrying): %v", err)
		return err
	}
	return nil
}

// writeCommits encodes commits into log records and appends them to the log in one
// write(2) (strict mode: and fsyncs). Called with flushMu held. The encoding buffer is
// reused: a flush allocates (almost) nothing, which keeps ingest's GC cost down.
func (p *Persister) writeCommits(cs []commit) error {
	first, last := cs[0].seq, cs[len(cs)-1].seq
	e := encoder{b: append(p.encBuf[:0], make([]byte, walHeaderSize)...)} // room for a segment header
	var entries int64
	for len(cs) > 0 {
		// record := u32(len) u32(crc) payload; payload := version commit*, up to entryTarget.
		at := len(e.b)
		e.b = append(e.b, 0, 0, 0, 0, 0, 0, 0, 0, entryVersion)
		cnt := 0
		for cnt < len(cs) && (cnt == 0 || len(e.b)-at < entryTarget) {
			e.commit(&cs[cnt])
			cnt++
		}
		payload := e.b[at+8:]
		binary.LittleEndian.PutUint32(e.b[at:], uint32(len(payload)))
		binary.LittleEndian.PutUint32(e.b[at+4:], checksum(payload))
		entries++
		cs = cs[cnt:]
	}
	buf := e.b
	if cap(buf) <= 64<<20 {
		p.encBuf = buf
	} else {
		p.encBuf = nil
	}
	if err := p.wal.write(buf, first, last); err != nil {
		return err
	}
	buf = buf[walHeaderSize:]
	p.mu.Lock()
	p.logBytes += int64(len(buf))
	p.status.LogEntries += entries
	p.status.LogBytes += int64(len(buf))
	p.status.LastFlush = time.Now()
	p.mu.Unlock()
	if p.opts.SyncMode != SyncStrict {
		select { // fsync in the background: the next flush need not wait for it
		case p.syncReq <- struct{}{}:
		default:
		}
	}
	return nil
}

// Start begins the background work: the log flusher (every FlushInterval/2) and periodic
// snapshots. s must be the store passed to Restore.
func (p *Persister) Start(s *index.Store) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.closed:
		return errors.New("snapshot: Start after Close")
	case p.store == nil:
		return errors.New("snapshot: Start before Restore")
	case s != p.store:
		return errors.New("snapshot: Start with a store other than the restored one")
	case p.started:
		return nil
	}
	p.started = true
	p.wg.Add(3)
	go p.flusher()
	go p.syncer()
	go p.snapshotter(p.status.Restore.LogCommits > 0)
	return nil
}

func (p *Persister) flusher() {
	defer p.wg.Done()
	t := time.NewTicker(max(p.opts.FlushInterval/2, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		case <-p.kick:
		}
		if p.flush() != nil {
			select { // back off a little on errors
			case <-p.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// syncer fsyncs badger's files after log flushes (interval mode).
func (p *Persister) syncer() {
	defer p.wg.Done()
	for {
		select {
		case <-p.stop:
			return
		case <-p.syncReq:
		}
		t0 := time.Now()
		err := p.sync()
		p.mu.Lock()
		if err != nil {
			p.status.SyncFailures++
			p.status.LastFlushError = err.Error()
		} else {
			p.status.LastSync = t0
			p.status.LastSyncDuration = time.Since(t0)
		}
		p.mu.Unlock()
		if err != nil {
			p.logf("memgraph persistence: fsync failed: %v", err)
		}
	}
}

// sync fsyncs the log (without holding flushMu during the fsyncs).
func (p *Persister) sync() error {
	p.flushMu.Lock()
	do := p.wal.takeSync()
	p.flushMu.Unlock()
	return do()
}

func (p *Persister) snapshotter(soon bool) {
	defer p.wg.Done()
	every := p.opts.SnapshotInterval
	check := min(every, 5*time.Second)
	last := time.Now()
	if soon { // the restore replayed a log: fold it into a snapshot
		last = last.Add(-every).Add(check)
	}
	t := time.NewTicker(check)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		p.mu.Lock()
		big := p.logBytes > max(int64(logSnapshotFloor), p.status.LastSnapshotBytes)
		p.mu.Unlock()
		if !big && time.Since(last) < every {
			continue
		}
		last = time.Now()
		if err := p.Snapshot(); err != nil {
			p.logf("memgraph persistence: snapshot failed: %v", err)
		}
	}
}

// Snapshot takes a snapshot now: it pairs a store view with the log position under the
// store's write lock (a few microseconds), then writes the view to badger while writers
// continue, commits it atomically and drops what it supersedes. It does nothing when
// nothing changed since the last snapshot.
func (p *Persister) Snapshot() error {
	p.snapMu.Lock()
	defer p.snapMu.Unlock()
	p.mu.Lock()
	s, closed := p.store, p.closed
	p.mu.Unlock()
	if s == nil {
		return errors.New("snapshot: Snapshot before Restore")
	}
	if closed {
		return errors.New("snapshot: Snapshot after Close")
	}
	return p.snapshotLocked(s)
}

func (p *Persister) snapshotLocked(s *index.Store) (err error) {
	t0 := time.Now()
	var v *index.View
	var seq uint64
	var blocked time.Duration
	s.ViewWith(func(view *index.View) {
		v, seq = view, p.seq
		blocked = time.Since(t0)
	})
	p.mu.Lock()
	unchanged := seq == p.snapSeq && p.gen > 0
	p.mu.Unlock()
	if unchanged {
		return nil
	}
	defer func() {
		if err != nil {
			p.mu.Lock()
			p.status.SnapshotFailures++
			p.status.LastSnapshotError = err.Error()
			p.mu.Unlock()
		}
	}()
	h, err := p.writeSnapshot(v, p.gen+1, seq)
	if err != nil {
		return err
	}
	// Under flushMu, so no flush falls between the new snapSeq and the segment rotation
	// (it would append commits after a gap to the current segment).
	p.flushMu.Lock()
	p.mu.Lock()
	p.gen = h.Gen
	p.snapSeq = seq
	p.logBytes = 0
	// Buffered commits the snapshot covers need not be logged.
	i := 0
	for i < len(p.pending) && p.pending[i].seq <= seq {
		i++
	}
	p.pending = p.pending[i:]
	st := &p.status
	st.Snapshots++
	st.LastSnapshot = h.Created
	st.LastSnapshotDuration = time.Since(t0)
	st.LastSnapshotBlocked = blocked
	st.LastSnapshotBytes = h.Bytes
	st.LastSnapshotObjects = h.Objects
	st.LastSnapshotError = ""
	st.LogEntries, st.LogBytes = 0, 0
	p.mu.Unlock()
	p.wal.rotate = true
	err = p.wal.dropCovered(seq)
	p.flushMu.Unlock()
	if err != nil {
		p.logf("memgraph persistence: deleting log segments the snapshot covers failed (retried after the next snapshot): %v", err)
		err = nil
	}
	if err := p.cleanup(h.Gen); err != nil {
		p.logf("memgraph persistence: dropping superseded data failed (retried after the next snapshot): %v", err)
	}
	size := dirSize(p.opts.Dir)
	p.mu.Lock()
	p.status.DiskBytes = size
	p.mu.Unlock()
	return nil
}

// writeSnapshot streams v into generation gen and commits it with the marker.
func (p *Persister) writeSnapshot(v *index.View, gen, seq uint64) (h *header, err error) {
	defer recoverInto(&err)
	p.dbMu.RLock()
	defer p.dbMu.RUnlock()
	db := p.db
	h = &header{Format: FormatVersion, Gen: gen, LogSeq: seq}
	crc := crc32.New(castagnoli)
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	e := encoder{b: make([]byte, 0, chunkTarget+64<<10)}
	var inChunk uint64
	var werr error
	emit := func() {
		if inChunk == 0 {
			return
		}
		// chunk := version uvarint(count) records crc; count goes in front of the records.
		val := make([]byte, 0, len(e.b)+16)
		val = append(val, chunkVersion)
		val = appendUvarint(val, inChunk)
		val = append(val, e.b...)
		val = sealCRC(val)
		crc.Write(val)
		h.Bytes += int64(len(val))
		if err := wb.Set(chunkKey(gen, h.Chunks), val); err != nil && werr == nil {
			werr = err
		}
		h.Chunks++
		e.b = e.b[:0]
		inChunk = 0
	}
	v.All(func(r *index.Record) bool {
		e.lenPrefixed(func() { e.record(r) })
		inChunk++
		h.Objects++
		if len(e.b) >= chunkTarget {
			emit()
		}
		return werr == nil
	})
	emit()
	if werr != nil {
		return nil, werr
	}
	if err := wb.Flush(); err != nil {
		return nil, err
	}
	h.Checksum = crc.Sum32()
	h.Created = time.Now().UTC()
	m := marker{Format: FormatVersion, Gen: gen, LogSeq: seq}
	if err := db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(headerKey(gen), sealJSON(h)); err != nil {
			return err
		}
		return txn.Set(keyMarker, sealJSON(m))
	}); err != nil {
		return nil, err
	}
	if err := db.Sync(); err != nil {
		return nil, err
	}
	return h, nil
}

func appendUvarint(b []byte, v uint64) []byte {
	e := encoder{b: b}
	e.uvarint(v)
	return e.b
}

// cleanup deletes every snapshot generation but gen, then lets badger reclaim value-log
// space.
func (p *Persister) cleanup(gen uint64) (err error) {
	defer recoverInto(&err)
	p.dbMu.RLock()
	defer p.dbMu.RUnlock()
	db := p.db
	var dead [][]byte
	err = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false})
		defer it.Close()
		for it.Seek(prefixSnap); it.ValidForPrefix(prefixSnap); it.Next() {
			if g, _, ok := parseSnapKey(it.Item().Key()); !ok || g != gen {
				dead = append(dead, it.Item().KeyCopy(nil))
			}
		}
		return nil
	})
	if err != nil || len(dead) == 0 {
		return err
	}
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range dead {
		if err := wb.Delete(k); err != nil {
			return err
		}
	}
	if err := wb.Flush(); err != nil {
		return err
	}
	for i := 0; i < 64; i++ {
		if db.RunValueLogGC(0.5) != nil {
			break
		}
	}
	return nil
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				// Allocated blocks where the platform says (badger's files are sparse while
				// open), the apparent size otherwise.
				if st, ok := fi.Sys().(*syscall.Stat_t); ok {
					n += int64(st.Blocks) * 512
				} else {
					n += fi.Size()
				}
			}
		}
		return nil
	})
	return n
}

// Close stops the background work, writes a final snapshot (which makes the log
// unnecessary), flushes and closes badger. Call store.Close() first so no write arrives
// meanwhile (a later write is counted in Status.DroppedAfterClose and not persisted). Close
// is idempotent.
func (p *Persister) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	started := p.started
	p.mu.Unlock()
	if started {
		close(p.stop)
		p.wg.Wait()
	}
	var errs []error
	p.snapMu.Lock()
	p.mu.Lock()
	s := p.store
	p.mu.Unlock()
	if s != nil {
		if err := p.snapshotLocked(s); err != nil {
			errs = append(errs, fmt.Errorf("final snapshot: %w", err))
		}
	}
	// Whatever the snapshot does not cover (it failed, or writes still arrived) goes to the
	// log.
	if err := p.flush(); err != nil {
		errs = append(errs, fmt.Errorf("final log flush: %w", err))
	}
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.snapMu.Unlock()
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	if err := p.wal.closeAll(true); err != nil {
		errs = append(errs, fmt.Errorf("close log: %w", err))
	}
	p.dbMu.Lock()
	defer p.dbMu.Unlock()
	if p.db != nil {
		if err := p.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close badger: %w", err))
		}
		p.db = nil
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("snapshot: close %s: %w", p.opts.Dir, err)
	}
	return nil
}
