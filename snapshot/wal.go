package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// The write-behind log is a sequence of append-only segment files in the badger directory
// (badger ignores them; its directory lock covers them):
//
//	memgraph-<first commit seq, 16 hex digits>.wal
//	segment := header record*
//	header  := "memgraph" u32(walVersion) u64(first seq) u32(crc32c of the 20 bytes before)
//	record  := u32(len) u32(crc32c(payload)) payload
//	payload := entryVersion byte, then commits (see codec.go)
//
// It is a plain file, not badger, so a flush is one write(2) into the page cache that
// never waits for badger (whose fsync blocks its own writers): a flushed commit survives
// a crash of the process at once, and a crash of the machine once the syncer's fdatasync
// returned. A segment starts at the first flush after each snapshot; segments the current
// snapshot covers are deleted.
//
// A crash can leave the last segment with a torn final record (its length runs past the
// end of the file): restore drops it and truncates the file. Anything else that does not
// verify — a record whose CRC fails, a bad header, a gap in the commit sequence, a missing
// segment — is corruption.

const (
	walVersion    = 1
	walMagic      = "memgraph"
	walHeaderSize = 24
	walSuffix     = ".wal"
	walPrefix     = "memgraph-"
)

func walName(first uint64) string { return fmt.Sprintf("%s%016x%s", walPrefix, first, walSuffix) }

func walHeader(first uint64) []byte {
	b := append([]byte(walMagic), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[8:], walVersion)
	b = binary.LittleEndian.AppendUint64(b, first)
	return binary.LittleEndian.AppendUint32(b, checksum(b))
}

// segment is one log file.
type segment struct {
	path  string
	first uint64 // first commit seq (from the name)
	last  uint64 // last commit seq written to it (0: none yet)
}

// listSegments returns the segment files of dir in commit order.
func listSegments(dir string) ([]segment, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []segment
	for _, e := range ents {
		n := e.Name()
		if !strings.HasPrefix(n, walPrefix) || !strings.HasSuffix(n, walSuffix) || e.IsDir() {
			continue
		}
		hex := strings.TrimSuffix(strings.TrimPrefix(n, walPrefix), walSuffix)
		first, err := strconv.ParseUint(hex, 16, 64)
		if err != nil || len(hex) != 16 {
			return nil, corruptf("unexpected log file name %q", n)
		}
		out = append(out, segment{path: filepath.Join(dir, n), first: first})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].first < out[j].first })
	return out, nil
}

// readSegment returns the verified payloads of one segment and the length of its valid
// prefix. A torn final record is allowed only when last is true (the newest segment).
func readSegment(seg segment, last bool) (payloads [][]byte, valid int64, err error) {
	data, err := os.ReadFile(seg.path)
	if err != nil {
		return nil, 0, err
	}
	name := filepath.Base(seg.path)
	if len(data) < walHeaderSize {
		if last {
			return nil, 0, nil // torn header: the segment's first flush never completed
		}
		return nil, 0, corruptf("log segment %s: truncated header", name)
	}
	h := data[:walHeaderSize]
	if string(h[:8]) != walMagic || checksum(h[:20]) != binary.LittleEndian.Uint32(h[20:]) {
		return nil, 0, corruptf("log segment %s: bad header", name)
	}
	if v := binary.LittleEndian.Uint32(h[8:]); v > walVersion {
		return nil, 0, fmt.Errorf("%w: log segment %s version %d, this build reads up to %d", errNewerFormat, name, v, walVersion)
	} else if v != walVersion {
		return nil, 0, corruptf("log segment %s: version %d", name, v)
	}
	if f := binary.LittleEndian.Uint64(h[12:]); f != seg.first {
		return nil, 0, corruptf("log segment %s: header says first commit %d", name, f)
	}
	off := walHeaderSize
	for off < len(data) {
		if len(data)-off < 8 {
			if last {
				return payloads, int64(off), nil // torn record header
			}
			return nil, 0, corruptf("log segment %s: truncated at offset %d", name, off)
		}
		n := int(binary.LittleEndian.Uint32(data[off:]))
		sum := binary.LittleEndian.Uint32(data[off+4:])
		if n > len(data)-off-8 {
			if last {
				return payloads, int64(off), nil // torn record
			}
			return nil, 0, corruptf("log segment %s: truncated at offset %d", name, off)
		}
		p := data[off+8 : off+8+n]
		if checksum(p) != sum {
			return nil, 0, corruptf("log segment %s: checksum mismatch at offset %d", name, off)
		}
		payloads = append(payloads, p)
		off += 8 + n
	}
	return payloads, int64(off), nil
}

// walWriter appends to the current segment. Guarded by Persister.flushMu. Nothing on the
// write path waits for the disk in interval mode: fsyncs (of rotated-out segments, of the
// directory after a segment was created, of the current segment) are left to takeSync,
// which the syncer runs in the background; in strict mode write does them itself.
type walWriter struct {
	dir      string
	segs     []segment // every segment on disk, in order; the last may be open
	file     *os.File  // open last segment, nil before the first write after a rotation
	size     int64     // bytes written to file
	rotate   bool      // start a new segment at the next write
	strict   bool      // fsync before write returns
	retired  []*os.File
	dirDirty bool
}

// write appends buf[walHeaderSize:] (records holding commits first..last) in one
// write(2); buf[:walHeaderSize] is room for the header when a segment starts.
func (w *walWriter) write(buf []byte, first, last uint64) error {
	if w.file != nil && w.rotate {
		w.retired = append(w.retired, w.file)
		w.file = nil
	}
	w.rotate = false
	if w.file == nil {
		// A segment of this name can only be one that holds no commit (a first write that
		// failed, or was cut short by a crash): every commit on disk is < first. Replace it.
		path := filepath.Join(w.dir, walName(first))
		for i := range w.segs {
			if w.segs[i].path == path {
				w.segs = append(w.segs[:i], w.segs[i+1:]...)
				break
			}
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("create log segment: %w", err)
		}
		w.file, w.size = f, 0
		w.dirDirty = true
		w.segs = append(w.segs, segment{path: path, first: first})
		copy(buf, walHeader(first)) // header and first records in one write
	} else {
		buf = buf[walHeaderSize:]
	}
	if n, err := w.file.Write(buf); err != nil {
		// Cut a partial write off so the segment stays well-formed; the retry rewrites
		// these commits (in a new segment).
		if n > 0 {
			_ = w.file.Truncate(w.size)
		}
		w.retired = append(w.retired, w.file)
		w.file = nil
		return fmt.Errorf("write log: %w", err)
	}
	w.size += int64(len(buf))
	w.segs[len(w.segs)-1].last = last
	if w.strict {
		return w.takeSync()()
	}
	return nil
}

// takeSync collects what needs an fsync and returns the function doing it, to be run
// without flushMu.
func (w *walWriter) takeSync() func() error {
	retired, cur, dir := w.retired, w.file, w.dirDirty
	w.retired, w.dirDirty = nil, false
	return func() error {
		var errs []error
		for _, f := range retired {
			errs = append(errs, f.Sync(), f.Close())
		}
		if dir {
			errs = append(errs, syncDir(w.dir))
		}
		if cur != nil {
			if err := cur.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
}

// closeAll syncs (if sync) and closes every open segment.
func (w *walWriter) closeAll(sync bool) error {
	if w.file != nil {
		w.retired = append(w.retired, w.file)
		w.file = nil
	}
	if !sync {
		for _, f := range w.retired {
			f.Close()
		}
		w.retired = nil
		return nil
	}
	return w.takeSync()()
}

// dropCovered deletes the segments whose commits are all <= seq (the current snapshot).
func (w *walWriter) dropCovered(seq uint64) error {
	var keep []segment
	var errs []error
	for i, s := range w.segs {
		open := i == len(w.segs)-1 && w.file != nil
		if (s.last == 0 && open) || s.last > seq {
			keep = append(keep, s)
			continue
		}
		if open {
			w.retired = append(w.retired, w.file) // the syncer closes it
			w.file = nil
		}
		if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			keep = append(keep, s)
		}
	}
	if len(keep) != len(w.segs) {
		w.dirDirty = true
	}
	w.segs = keep
	return errors.Join(errs...)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
