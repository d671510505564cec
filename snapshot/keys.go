package snapshot

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Key layout in badger (all integers big-endian so badger's key order is numeric order):
//
//	"m"                              marker: which snapshot is current (JSON + CRC)
//	"s" gen(8) "h"                   snapshot header of generation gen (JSON + CRC)
//	"s" gen(8) "c" chunk(4)          snapshot chunk (records + CRC)
//
// A snapshot generation is valid only once the marker names it; the marker and the header
// are written in one badger transaction after every chunk was written, so a snapshot is
// wholly there or not at all. Older generations are deleted afterwards. The log is not in
// badger: see wal.go.

// FormatVersion is the version of the on-disk format this package writes and reads. A
// directory written by a newer version is not read (it is moved aside, see Restore).
const FormatVersion = 1

// chunkVersion and entryVersion are the first byte of every chunk and log entry value.
const (
	chunkVersion = 1
	entryVersion = 1
)

var (
	keyMarker  = []byte("m")
	prefixSnap = []byte("s")
)

func genPrefix(gen uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{'s'}, gen)
}

func headerKey(gen uint64) []byte { return append(genPrefix(gen), 'h') }

func chunkPrefix(gen uint64) []byte { return append(genPrefix(gen), 'c') }

func chunkKey(gen uint64, i uint32) []byte {
	return binary.BigEndian.AppendUint32(chunkPrefix(gen), i)
}

// parseSnapKey splits a snapshot key into its generation and kind ('h' or 'c').
func parseSnapKey(k []byte) (gen uint64, kind byte, ok bool) {
	if len(k) < 10 || k[0] != 's' {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(k[1:9]), k[9], true
}

// header describes one snapshot generation.
type header struct {
	Format  int       `json:"format"`
	Gen     uint64    `json:"gen"`
	Created time.Time `json:"created"`
	// LogSeq is the last commit the snapshot contains; the log replays from LogSeq+1.
	LogSeq  uint64 `json:"logSeq"`
	Objects int64  `json:"objects"`
	Chunks  uint32 `json:"chunks"`
	// Bytes is the total size of the chunk values.
	Bytes int64 `json:"bytes"`
	// Checksum is CRC-32C over every chunk value, in chunk order.
	Checksum uint32 `json:"checksum"`
}

// marker names the current snapshot generation.
type marker struct {
	Format int    `json:"format"`
	Gen    uint64 `json:"gen"`
	LogSeq uint64 `json:"logSeq"`
}

// errNewerFormat marks data written by a newer memgraph.
var errNewerFormat = errors.New("written by a newer memgraph (unsupported format version)")

// sealJSON is CRC-32C(json) little-endian followed by the JSON.
func sealJSON(v any) []byte {
	j, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs
	}
	return append(binary.LittleEndian.AppendUint32(nil, checksum(j)), j...)
}

// openJSON verifies and decodes a sealJSON value, then checks its format version.
func openJSON(b []byte, v any, format func() int) error {
	if len(b) < 4 {
		return corruptf("value of %d bytes is too short", len(b))
	}
	if checksum(b[4:]) != binary.LittleEndian.Uint32(b) {
		return corruptf("checksum mismatch")
	}
	if err := json.Unmarshal(b[4:], v); err != nil {
		return corruptf("%v", err)
	}
	if f := format(); f > FormatVersion {
		return fmt.Errorf("%w: format %d, this build reads up to %d", errNewerFormat, f, FormatVersion)
	} else if f < 1 {
		return corruptf("format version %d", f)
	}
	return nil
}

// checkVersionByte checks the first byte of a chunk or log entry body.
func checkVersionByte(body []byte, want byte, what string) ([]byte, error) {
	if len(body) == 0 {
		return nil, corruptf("empty %s", what)
	}
	if body[0] > want {
		return nil, fmt.Errorf("%w: %s version %d, this build reads up to %d", errNewerFormat, what, body[0], want)
	}
	if body[0] != want {
		return nil, corruptf("%s version %d", what, body[0])
	}
	return body[1:], nil
}
