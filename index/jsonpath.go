package index

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// This file evaluates a FieldRequirement directly against an object's raw JSON bytes.
//
// The scanner walks only the members on the requirement's path and skips every other value
// (strings with escapes, nested objects and arrays, numbers, literals) without allocating or
// decoding it. Results are exactly those of decoding the object with encoding/json (with
// UseNumber) and walking the decoded value:
//
//   - a duplicated object key resolves to its last occurrence (encoding/json's map
//     semantics), so every object on the path is scanned to its end;
//   - keys and string values are compared after encoding/json's unescaping, including its
//     coercion of invalid UTF-8 and unpaired surrogates to U+FFFD;
//   - numbers are compared as their literal JSON text.
//
// Malformed JSON met while scanning (including trailing data after the top-level value)
// makes the whole path missing. The contents of values the scanner skips are checked only
// for balanced quotes and brackets.

// jpKind is what a final value is tested for.
type jpKind uint8

const (
	jpAny jpKind = iota // any value at all (exists, !)
	jpIn                // equals one of values (=, !=, in, notin)
	jpGt                // integer strictly greater than n
	jpLt                // integer strictly less than n
)

// jpPred is the predicate one evaluation tests every value on the path with.
type jpPred struct {
	kind   jpKind
	values []string
	n      int64
}

// Matches reports whether the object's JSON satisfies the requirement. It never panics:
// invalid or truncated JSON on the path counts as a missing field.
func (r *FieldRequirement) Matches(obj []byte) bool {
	p := jpPred{values: r.Values}
	negate := false
	switch r.Op {
	case FieldEquals, FieldIn:
		p.kind = jpIn
	case FieldNotEquals, FieldNotIn:
		p.kind, negate = jpIn, true
	case FieldExists:
		p.kind = jpAny
	case FieldNotExists:
		p.kind, negate = jpAny, true
	case FieldGreater, FieldLess:
		if len(r.Values) != 1 {
			return false
		}
		n, ok := jpParseInt(r.Values[0])
		if !ok {
			return false
		}
		p.kind, p.n = jpGt, n
		if r.Op == FieldLess {
			p.kind = jpLt
		}
	default:
		return false
	}
	hit, end, ok := p.eval(obj, 0, r.Path)
	ok = ok && jpSkipWS(obj, end) == len(obj) // nothing but whitespace after the object
	return (hit && ok) != negate
}

// eval tests the values found by following segs from the JSON value at or after b[i]
// (leading whitespace allowed). It returns whether some value satisfies the predicate, the
// index just past the value, and false when the JSON is malformed.
func (p *jpPred) eval(b []byte, i int, segs []FieldSegment) (hit bool, end int, ok bool) {
	i = jpSkipWS(b, i)
	if i >= len(b) {
		return false, i, false
	}
	if len(segs) == 0 {
		return p.test(b, i)
	}
	if b[i] != '{' {
		end, ok = jpSkipValue(b, i)
		return false, end, ok
	}
	seg := &segs[0]
	ascii := jpIsASCII(seg.Name)
	i = jpSkipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return false, i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false, i, false
		}
		ke, flags, sok := jpScanString(b, i+1)
		if !sok {
			return false, ke, false
		}
		match := jpKeyEquals(b[i+1:ke], flags, seg.Name, ascii)
		i = jpSkipWS(b, ke+1)
		if i >= len(b) || b[i] != ':' {
			return false, i, false
		}
		i++
		if match {
			var h bool
			if seg.List {
				h, i, ok = p.evalList(b, i, seg.Index, segs[1:])
			} else {
				h, i, ok = p.eval(b, i, segs[1:])
			}
			if !ok {
				return false, i, false
			}
			hit = h // the last occurrence of a duplicated key wins
		} else {
			i = jpSkipWS(b, i)
			if i >= len(b) {
				return false, i, false
			}
			if i, ok = jpSkipValue(b, i); !ok {
				return false, i, false
			}
		}
		i = jpSkipWS(b, i)
		if i >= len(b) {
			return false, i, false
		}
		switch b[i] {
		case ',':
			i = jpSkipWS(b, i+1)
		case '}':
			return hit, i + 1, true
		default:
			return false, i, false
		}
	}
}

// evalList applies a list marker to the value at or after b[i]: element idx, or every
// element when idx < 0, each followed by rest.
func (p *jpPred) evalList(b []byte, i, idx int, rest []FieldSegment) (hit bool, end int, ok bool) {
	i = jpSkipWS(b, i)
	if i >= len(b) {
		return false, i, false
	}
	if b[i] != '[' {
		end, ok = jpSkipValue(b, i)
		return false, end, ok
	}
	i = jpSkipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return false, i + 1, true
	}
	for k := 0; ; k++ {
		if i >= len(b) {
			return false, i, false
		}
		if (idx < 0 && !hit) || k == idx {
			var h bool
			if h, i, ok = p.eval(b, i, rest); !ok {
				return false, i, false
			}
			hit = hit || h
		} else if i, ok = jpSkipValue(b, i); !ok {
			return false, i, false
		}
		i = jpSkipWS(b, i)
		if i >= len(b) {
			return false, i, false
		}
		switch b[i] {
		case ',':
			i = jpSkipWS(b, i+1)
		case ']':
			return hit, i + 1, true
		default:
			return false, i, false
		}
	}
}

// test applies the predicate to the final value starting at b[i] (not whitespace).
func (p *jpPred) test(b []byte, i int) (hit bool, end int, ok bool) {
	switch c := b[i]; {
	case c == '"':
		e, flags, sok := jpScanString(b, i+1)
		if !sok {
			return false, e, false
		}
		raw := b[i+1 : e]
		if flags&jpEscaped == 0 && (p.kind == jpAny || flags&jpHigh == 0 || utf8.Valid(raw)) {
			return p.match(raw), e + 1, true
		}
		var buf [64]byte
		s, uok := jpUnquote(buf[:0], raw)
		if !uok {
			return false, e + 1, false
		}
		return p.match(s), e + 1, true
	case c == '{' || c == '[':
		end, ok = jpSkipValue(b, i)
		return false, end, ok
	case c == 't':
		if bytes.HasPrefix(b[i:], jpTrue) {
			return p.match(jpTrue), i + len(jpTrue), true
		}
	case c == 'f':
		if bytes.HasPrefix(b[i:], jpFalse) {
			return p.match(jpFalse), i + len(jpFalse), true
		}
	case c == 'n':
		if bytes.HasPrefix(b[i:], jpNull) {
			return false, i + len(jpNull), true
		}
	case c == '-' || (c >= '0' && c <= '9'):
		e, nok := jpScanNumber(b, i)
		if !nok {
			return false, e, false
		}
		return p.match(b[i:e]), e, true
	}
	return false, i, false
}

var (
	jpTrue  = []byte("true")
	jpFalse = []byte("false")
	jpNull  = []byte("null")
)

// match tests one value's text.
func (p *jpPred) match(v []byte) bool {
	switch p.kind {
	case jpAny:
		return true
	case jpIn:
		for _, want := range p.values {
			if string(v) == want {
				return true
			}
		}
		return false
	case jpGt:
		n, ok := jpParseInt(v)
		return ok && n > p.n
	case jpLt:
		n, ok := jpParseInt(v)
		return ok && n < p.n
	}
	return false
}

// jpParseInt is strconv.ParseInt(string(s), 10, 64) without allocating on failure.
func jpParseInt[T string | []byte](s T) (int64, bool) {
	if len(s) == 0 {
		return 0, false
	}
	neg := false
	i := 0
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		i = 1
		if len(s) == 1 {
			return 0, false
		}
	}
	limit := uint64(1<<63 - 1)
	if neg {
		limit = 1 << 63
	}
	var n uint64
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (limit-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	if neg {
		return -int64(n), true // n == 1<<63 wraps to MinInt64, as intended
	}
	return int64(n), true
}

// String flags reported by jpScanString.
const (
	jpEscaped = 1 << iota // contains a backslash
	jpHigh                // contains a byte >= 0x80
)

// SWAR helper (eight bytes at a time): jpHasByte flags (bit 7 of each byte) the bytes of x
// equal to c; the lowest flag is exact (higher ones may be false positives), which is all
// the scanners use.
const (
	jpLo = 0x0101010101010101
	jpHi = 0x8080808080808080
)

func jpHasByte(x uint64, c byte) uint64 {
	v := x ^ (jpLo * uint64(c))
	return (v - jpLo) &^ v & jpHi
}

func jpLoad(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// jpScanString scans a string whose opening quote is at b[i-1]. It returns the index of
// the closing quote and whether the contents hold escapes or non-ASCII bytes.
func jpScanString(b []byte, i int) (end int, flags uint8, ok bool) {
	for {
		for i+8 <= len(b) {
			x := jpLoad(b[i:])
			m := jpHasByte(x, '"') | jpHasByte(x, '\\')
			if m == 0 {
				if x&jpHi != 0 {
					flags |= jpHigh
				}
				i += 8
				continue
			}
			if x&jpHi&(m&-m-1) != 0 { // a high byte before the match
				flags |= jpHigh
			}
			i += bits.TrailingZeros64(m) >> 3
			break
		}
		for i < len(b) && b[i] != '"' && b[i] != '\\' {
			if b[i] >= utf8.RuneSelf {
				flags |= jpHigh
			}
			i++
		}
		if i >= len(b) {
			return len(b), flags, false
		}
		if b[i] == '"' {
			return i, flags, true
		}
		flags |= jpEscaped
		i += 2
	}
}

// jpSkipString skips a string whose opening quote is at b[i-1]; it returns the index past
// the closing quote.
func jpSkipString(b []byte, i int) (int, bool) {
	for {
		k := bytes.IndexByte(b[i:], '"')
		if k < 0 {
			return len(b), false
		}
		i += k + 1
		if b[i-2] != '\\' { // b[i-2] is at worst the opening quote
			return i, true
		}
		// The quote is escaped iff an odd run of backslashes precedes it; the run stops at
		// the opening quote at the latest.
		m := i - 2
		for b[m] == '\\' {
			m--
		}
		if (i-2-m)%2 == 0 {
			return i, true
		}
	}
}

// jpSkipValue skips the JSON value starting at b[i] (not whitespace) and returns the index
// past it. Containers are skipped by bracket depth without validating their contents
// (a mismatched "[}" goes unnoticed).
func jpSkipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; c {
	case '"':
		return jpSkipString(b, i+1)
	case '{', '[':
		depth := 0
		for i < len(b) {
			c := b[i]
			i++
			if c == '"' {
				var ok bool
				if i, ok = jpSkipString(b, i); !ok {
					return i, false
				}
				continue
			}
			switch c | 0x20 { // '[' | 0x20 == '{', ']' | 0x20 == '}'
			case '{':
				depth++
			case '}':
				depth--
				if depth == 0 {
					return i, true
				}
			}
		}
		return i, false
	case 't':
		if bytes.HasPrefix(b[i:], jpTrue) {
			return i + len(jpTrue), true
		}
	case 'f':
		if bytes.HasPrefix(b[i:], jpFalse) {
			return i + len(jpFalse), true
		}
	case 'n':
		if bytes.HasPrefix(b[i:], jpNull) {
			return i + len(jpNull), true
		}
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return jpScanNumber(b, i)
		}
	}
	return i, false
}

// jpScanNumber scans a JSON number starting at b[i] and returns the index past it; ok is
// false when the text is not a valid JSON number.
func jpScanNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return i, false
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		i = jpDigits(b, i+1)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := jpDigits(b, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := jpDigits(b, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func jpDigits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

func jpSkipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func jpIsASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// jpKeyEquals reports whether the raw (still escaped) object key equals name once decoded
// the way encoding/json decodes it. ascii tells whether name is pure ASCII.
func jpKeyEquals(raw []byte, flags uint8, name string, ascii bool) bool {
	if flags == 0 || (flags&jpEscaped == 0 && ascii) {
		// Decoding leaves ASCII as is and turns invalid UTF-8 into U+FFFD (non-ASCII), so
		// without escapes an ASCII name equals the key iff the bytes are the same.
		return string(raw) == name
	}
	if flags&jpEscaped == 0 && utf8.Valid(raw) {
		return string(raw) == name
	}
	var buf [64]byte
	s, ok := jpUnquote(buf[:0], raw)
	return ok && string(s) == name
}

// jpUnquote appends the decoded contents of a JSON string (without its quotes) to dst,
// exactly as encoding/json decodes it: escapes resolved, invalid UTF-8 bytes and unpaired
// surrogate escapes replaced by U+FFFD. ok is false for a malformed escape.
func jpUnquote(dst, s []byte) ([]byte, bool) {
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			r++
			if r >= len(s) {
				return dst, false
			}
			switch s[r] {
			case '"', '\\', '/', '\'':
				dst = append(dst, s[r])
				r++
			case 'b':
				dst = append(dst, '\b')
				r++
			case 'f':
				dst = append(dst, '\f')
				r++
			case 'n':
				dst = append(dst, '\n')
				r++
			case 'r':
				dst = append(dst, '\r')
				r++
			case 't':
				dst = append(dst, '\t')
				r++
			case 'u':
				rr := jpGetU4(s[r-1:])
				if rr < 0 {
					return dst, false
				}
				r += 5
				if utf16.IsSurrogate(rr) {
					if dec := utf16.DecodeRune(rr, jpGetU4(s[r:])); dec != unicode.ReplacementChar {
						r += 6
						dst = utf8.AppendRune(dst, dec)
						break
					}
					rr = unicode.ReplacementChar
				}
				dst = utf8.AppendRune(dst, rr)
			default:
				return dst, false
			}
		case c == '"' || c < ' ':
			return dst, false
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			r += size
			dst = utf8.AppendRune(dst, rr)
		}
	}
	return dst, true
}

// jpGetU4 decodes the \uXXXX escape at the start of s, or returns -1.
func jpGetU4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}
