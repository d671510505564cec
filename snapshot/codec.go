package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/clusterpedia-memgraph/memgraph/index"
)

// On-disk encodings. Everything memgraph writes into badger is one of:
//
//   - a record (inside snapshot chunks and log entries): the fields the indexes need
//     (identity, kind, uid, resourceVersion, creation time, labels, owners, events) beside
//     the object's JSON, so restore never re-parses JSON;
//   - a snapshot chunk: many records, with a CRC-32C;
//   - a log entry: the changes of one or more commits, each tagged with its sequence
//     number, with a CRC-32C;
//   - the snapshot header and the current-snapshot marker (JSON behind a CRC-32C).
//
// All integers are varints (encoding/binary); strings and byte slices are length-prefixed.

// recordVersion is the first byte of every encoded record.
const recordVersion = 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// errCorrupt marks data that fails a structural check; decoders wrap it.
var errCorrupt = errors.New("corrupt data")

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errCorrupt, fmt.Sprintf(format, args...))
}

// ---- encoder ----

type encoder struct{ b []byte }

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) bytes(p []byte)   { e.uvarint(uint64(len(p))); e.b = append(e.b, p...) }
func (e *encoder) byte1(c byte)     { e.b = append(e.b, c) }

// lenPrefixed appends uvarint(len(x)) x where x is what fn appends, without a scratch copy.
func (e *encoder) lenPrefixed(fn func()) {
	lenAt := len(e.b)
	e.b = append(e.b, 0, 0, 0, 0, 0) // room for a uvarint up to 2^35-1
	start := len(e.b)
	fn()
	n := len(e.b) - start
	var tmp [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(tmp[:], uint64(n))
	if k > 5 {
		panic("snapshot: encoded value too large")
	}
	copy(e.b[lenAt:], tmp[:k])
	copy(e.b[lenAt+k:], e.b[start:]) // memmove left over the unused reserved bytes
	e.b = e.b[:lenAt+k+n]
}

func (e *encoder) gvr(g index.GVR) { e.str(g.Group); e.str(g.Version); e.str(g.Resource) }

// record appends r in record format version 1.
func (e *encoder) record(r *index.Record) {
	e.byte1(recordVersion)
	e.str(r.Cluster)
	e.gvr(r.GVR)
	e.str(r.Kind)
	e.str(r.Namespace)
	e.str(r.Name)
	e.str(r.UID)
	e.str(r.ResourceVersion)
	if r.Created.IsZero() {
		e.byte1(0)
	} else {
		e.byte1(1)
		e.varint(r.Created.Unix())
		e.uvarint(uint64(r.Created.Nanosecond()))
	}
	e.uvarint(uint64(r.Labels.Len()))
	for i := 0; i+1 < len(r.Labels); i += 2 { // sorted by key
		e.str(r.Labels[i])
		e.str(r.Labels[i+1])
	}
	e.uvarint(uint64(len(r.Owners)))
	for i := range r.Owners {
		o := &r.Owners[i]
		e.str(o.APIVersion)
		e.str(o.Kind)
		e.str(o.Name)
		e.str(o.UID)
		if o.Controller {
			e.byte1(1)
		} else {
			e.byte1(0)
		}
	}
	// Events: 0 = nil, n+1 = n events (an empty non-nil slice survives: Upsert treats nil
	// as "keep the stored events").
	if r.Events == nil {
		e.uvarint(0)
	} else {
		e.uvarint(uint64(len(r.Events)) + 1)
		for i := range r.Events {
			ev := &r.Events[i]
			e.str(ev.UID)
			e.str(ev.Namespace)
			e.str(ev.Name)
			e.str(ev.ResourceVersion)
			e.bytes(ev.Object)
		}
	}
	e.bytes(r.Object)
}

// ---- decoder ----

// decoder reads the encodings above. Strings that repeat across records (cluster, GVR, kind,
// namespace, label keys and values, owner kinds) are interned through strs so a restore does
// not hold one copy per record.
type decoder struct {
	b    []byte
	err  error
	strs map[string]string
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = corruptf(format, args...)
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte1() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("unexpected end of data")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) raw() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail("length %d beyond end of data (%d left)", n, len(d.b))
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

// str copies a string out of the buffer.
func (d *decoder) str() string { return string(d.raw()) }

// istr returns an interned copy.
func (d *decoder) istr() string {
	p := d.raw()
	if len(p) == 0 {
		return ""
	}
	if d.strs == nil {
		return string(p)
	}
	if s, ok := d.strs[string(p)]; ok {
		return s
	}
	s := string(p)
	d.strs[s] = s
	return s
}

// bytes copies a byte slice out of the buffer (nil when empty), so decoded records do not
// pin the chunk they came from.
func (d *decoder) bytes() []byte {
	p := d.raw()
	if len(p) == 0 {
		return nil
	}
	return append([]byte(nil), p...)
}

func (d *decoder) gvr() index.GVR {
	return index.GVR{Group: d.istr(), Version: d.istr(), Resource: d.istr()}
}

func (d *decoder) record() *index.Record {
	if v := d.byte1(); d.err == nil && v != recordVersion {
		d.fail("record format version %d not supported (want %d)", v, recordVersion)
	}
	if d.err != nil {
		return nil
	}
	r := &index.Record{}
	r.Cluster = d.istr()
	r.GVR = d.gvr()
	r.Kind = d.istr()
	r.Namespace = d.istr()
	r.Name = d.str()
	r.UID = d.str()
	r.ResourceVersion = d.str()
	switch d.byte1() {
	case 0:
	case 1:
		sec := d.varint()
		nsec := d.uvarint()
		if nsec >= 1e9 {
			d.fail("bad nanoseconds %d", nsec)
		}
		r.Created = time.Unix(sec, int64(nsec)).UTC()
	default:
		d.fail("bad time flag")
	}
	if n := d.count(2); n > 0 {
		l := make(index.Labels, 0, 2*n)
		sorted := true
		for i := 0; i < n && d.err == nil; i++ {
			k := d.istr()
			if i > 0 && k <= l[len(l)-2] {
				sorted = false
			}
			l = append(l, k, d.istr())
		}
		if !sorted {
			// Written from a map before labels were stored sorted: same pairs, any order.
			m := make(map[string]string, n)
			for i := 0; i+1 < len(l); i += 2 {
				m[l[i]] = l[i+1]
			}
			l = index.LabelsFromMap(m)
		}
		r.Labels = l
	}
	if n := d.count(5); n > 0 {
		r.Owners = make([]index.OwnerRef, n)
		for i := 0; i < n && d.err == nil; i++ {
			o := &r.Owners[i]
			o.APIVersion = d.istr()
			o.Kind = d.istr()
			o.Name = d.str()
			o.UID = d.str()
			o.Controller = d.byte1() == 1
		}
	}
	if n := d.uvarint(); n > 0 {
		n--
		if n > uint64(len(d.b))/5 {
			d.fail("event count %d beyond end of data", n)
			return nil
		}
		r.Events = make([]index.Event, n)
		for i := range r.Events {
			ev := &r.Events[i]
			ev.UID = d.str()
			ev.Namespace = d.istr()
			ev.Name = d.str()
			ev.ResourceVersion = d.str()
			ev.Object = d.bytes()
		}
	}
	r.Object = d.bytes()
	if d.err != nil {
		return nil
	}
	if r.Cluster == "" || r.GVR.Version == "" || r.GVR.Resource == "" || r.Name == "" {
		d.fail("record without identity")
		return nil
	}
	return r
}

// count reads an element count and checks it against the bytes left (each element takes at
// least minBytes), so a flipped length cannot allocate gigabytes.
func (d *decoder) count(minBytes int) int {
	n := d.uvarint()
	if d.err != nil {
		return 0
	}
	if n > uint64(len(d.b)/minBytes) {
		d.fail("count %d beyond end of data", n)
		return 0
	}
	return int(n)
}

// ---- snapshot chunks ----
//
// chunk := uvarint(count) { uvarint(len) record }*count crc32c(all before, 4 bytes LE)

func sealCRC(b []byte) []byte {
	return binary.LittleEndian.AppendUint32(b, checksum(b))
}

// openCRC verifies and strips the trailing CRC.
func openCRC(b []byte) ([]byte, error) {
	if len(b) < 4 {
		return nil, corruptf("value of %d bytes is too short", len(b))
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if checksum(body) != sum {
		return nil, corruptf("checksum mismatch")
	}
	return body, nil
}

// decodeChunk decodes one verified chunk body.
func decodeChunk(body []byte, strs map[string]string) ([]*index.Record, error) {
	d := decoder{b: body, strs: strs}
	n := d.count(2)
	out := make([]*index.Record, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		rb := d.raw()
		if d.err != nil {
			break
		}
		rd := decoder{b: rb, strs: strs}
		r := rd.record()
		if rd.err != nil {
			return nil, rd.err
		}
		if len(rd.b) != 0 {
			return nil, corruptf("%d trailing bytes after record", len(rd.b))
		}
		out = append(out, r)
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, corruptf("%d trailing bytes after chunk", len(d.b))
	}
	return out, nil
}

// ---- log entries ----
//
// entry := { uvarint(seq) uvarint(changes) change* }* (to the end of the payload; the
// version byte before it and the framing around it are the log's, see wal.go)
// change := kind byte, then
//   opUpsert: uvarint(len) record
//   opDelete: cluster gvr namespace name
//   opCleanCluster: cluster
//   opCleanResource: cluster gvr

const (
	opUpsert        = 1
	opDelete        = 2
	opCleanCluster  = 3
	opCleanResource = 4
)

// commit is one store commit as seen by the Observer.
type commit struct {
	seq     uint64
	changes []index.Change
}

// appendCommit encodes one commit (without the entry header).
func (e *encoder) commit(c *commit) {
	e.uvarint(c.seq)
	e.uvarint(uint64(len(c.changes)))
	for i := range c.changes {
		ch := &c.changes[i]
		switch ch.Kind {
		case index.ChangeCreate, index.ChangeUpdate, index.ChangeEvent:
			e.byte1(opUpsert)
			// Length-prefixed so the record decoder can check it consumed exactly its bytes.
			e.lenPrefixed(func() { e.record(ch.New) })
		case index.ChangeDelete:
			e.byte1(opDelete)
			o := ch.Old
			e.str(o.Cluster)
			e.gvr(o.GVR)
			e.str(o.Namespace)
			e.str(o.Name)
		case index.ChangeCleanCluster:
			e.byte1(opCleanCluster)
			e.str(ch.Cluster)
		case index.ChangeCleanResource:
			e.byte1(opCleanResource)
			e.str(ch.Cluster)
			e.gvr(ch.GVR)
		default:
			panic(fmt.Sprintf("snapshot: unknown change kind %v", ch.Kind))
		}
	}
}

// loggedCommit is a decoded commit: the mutations that replay it.
type loggedCommit struct {
	seq  uint64
	muts []index.Mutation
}

// decodeEntry decodes one verified log entry body.
func decodeEntry(body []byte, strs map[string]string) ([]loggedCommit, error) {
	d := decoder{b: body, strs: strs}
	var out []loggedCommit
	for len(d.b) > 0 && d.err == nil {
		c := loggedCommit{seq: d.uvarint()}
		m := d.count(2)
		c.muts = make([]index.Mutation, 0, m)
		for j := 0; j < m && d.err == nil; j++ {
			switch op := d.byte1(); op {
			case opUpsert:
				rb := d.raw()
				if d.err != nil {
					break
				}
				rd := decoder{b: rb, strs: strs}
				r := rd.record()
				if rd.err == nil && len(rd.b) != 0 {
					rd.fail("%d trailing bytes after record", len(rd.b))
				}
				if rd.err != nil {
					return nil, rd.err
				}
				c.muts = append(c.muts, index.Mutation{Op: index.OpUpsert, Record: r})
			case opDelete:
				k := index.Key{Cluster: d.istr(), GVR: d.gvr(), Namespace: d.istr(), Name: d.str()}
				c.muts = append(c.muts, index.Mutation{Op: index.OpDelete, Key: k})
			case opCleanCluster:
				c.muts = append(c.muts, index.Mutation{Op: index.OpCleanCluster, Key: index.Key{Cluster: d.istr()}})
			case opCleanResource:
				k := index.Key{Cluster: d.istr(), GVR: d.gvr()}
				c.muts = append(c.muts, index.Mutation{Op: index.OpCleanResource, Key: k})
			default:
				d.fail("unknown log op %d", op)
			}
		}
		out = append(out, c)
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, corruptf("%d trailing bytes after log entry", len(d.b))
	}
	return out, nil
}
