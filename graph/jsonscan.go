package graph

import (
	"bytes"
	"encoding/json"
	"unsafe"
)

// scanner reads just the members the extraction rules need out of an object's JSON and
// skips everything else without decoding or allocating: strings are skipped with
// bytes.IndexByte, nested values by counting brackets outside strings. Parts of the
// document it never descends into are not validated; malformed JSON met on the way sets
// bad and ends every loop.
//
// Semantics follow encoding/json where it matters for names: keys and string values are
// unescaped exactly as encoding/json does (a slow path taken only when a backslash is
// present), a repeated key is read again (the last occurrence wins for scalars), and a
// value of the wrong type reads as absent.
type scanner struct {
	b   []byte
	i   int
	bad bool
	key []byte // the current member's key (unescaped)
	// alias: string values share the document's bytes instead of being copied.
	alias bool
}

var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\n', '\t', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte (0 at the end).
func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// stringEnd returns the index of the closing quote of the string whose opening quote is at
// b[i]; -1 when unterminated.
func stringEnd(b []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		j += k
		n := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j
		}
		j++
	}
}

// literal returns the contents of the string literal b[i:e+1], unescaped when needed.
func literal(b []byte, i, e int) ([]byte, bool) {
	if bytes.IndexByte(b[i+1:e], '\\') < 0 {
		return b[i+1 : e], true
	}
	var out string
	if err := json.Unmarshal(b[i:e+1], &out); err != nil {
		return nil, false
	}
	return []byte(out), true
}

// skip skips one value.
func (s *scanner) skip() {
	if s.bad {
		return
	}
	switch c := s.peek(); c {
	case 0:
		s.bad = true
	case '"':
		e := stringEnd(s.b, s.i)
		if e < 0 {
			s.bad = true
			return
		}
		s.i = e + 1
	case '{', '[':
		b := s.b
		depth := 0
		for i := s.i; i < len(b); i++ {
			c := b[i]
			if !structural[c] {
				continue
			}
			switch c {
			case '"':
				e := stringEnd(b, i)
				if e < 0 {
					s.bad = true
					return
				}
				i = e
			case '{', '[':
				depth++
			default:
				depth--
				if depth == 0 {
					s.i = i + 1
					return
				}
			}
		}
		s.bad = true
	default:
		// number, true, false, null
		i := s.i
		for i < len(s.b) {
			switch s.b[i] {
			case ',', '}', ']', ' ', '\n', '\t', '\r':
				s.i = i
				return
			}
			i++
		}
		if i == s.i {
			s.bad = true
		}
		s.i = i
	}
}

// enter consumes the opening bracket c ('{' or '['); false (value skipped) when the next
// value is something else.
func (s *scanner) enter(c byte) bool {
	if s.bad {
		return false
	}
	if s.peek() != c {
		s.skip()
		return false
	}
	s.i++
	return true
}

// next advances to the next member of the object entered with enter('{'): it consumes the
// separator, reads the key into s.key and the colon, and leaves the scanner at the value.
// It returns false after consuming the closing brace (or on malformed input).
func (s *scanner) next() bool {
	for !s.bad {
		switch s.peek() {
		case '}':
			s.i++
			return false
		case ',':
			s.i++
			continue
		case '"':
			e := stringEnd(s.b, s.i)
			if e < 0 {
				s.bad = true
				return false
			}
			k, ok := literal(s.b, s.i, e)
			if !ok {
				s.bad = true
				return false
			}
			s.key = k
			s.i = e + 1
			if s.peek() != ':' {
				s.bad = true
				return false
			}
			s.i++
			return true
		default:
			s.bad = true
			return false
		}
	}
	return false
}

// elem advances to the next element of the array entered with enter('['); false after
// consuming the closing bracket.
func (s *scanner) elem() bool {
	for !s.bad {
		switch s.peek() {
		case ']':
			s.i++
			return false
		case ',':
			s.i++
			continue
		case 0, '}', ':':
			s.bad = true
			return false
		default:
			return true
		}
	}
	return false
}

// str reads a string value; any other value is skipped and reads as "".
func (s *scanner) str() string {
	if s.bad {
		return ""
	}
	if s.peek() != '"' {
		s.skip()
		return ""
	}
	e := stringEnd(s.b, s.i)
	if e < 0 {
		s.bad = true
		return ""
	}
	escaped := bytes.IndexByte(s.b[s.i+1:e], '\\') >= 0
	v, ok := literal(s.b, s.i, e)
	s.i = e + 1
	if !ok {
		s.bad = true
		return ""
	}
	if s.alias && !escaped && len(v) > 0 {
		return unsafe.String(&v[0], len(v))
	}
	return string(v)
}

// is reports whether the current key equals k.
func (s *scanner) is(k string) bool { return string(s.key) == k }

// nameField reads an object value and returns its member called field (a string); other
// values read as "".
func (s *scanner) nameField(field string) string {
	if !s.enter('{') {
		return ""
	}
	v := ""
	for s.next() {
		if s.is(field) {
			v = s.str()
		} else {
			s.skip()
		}
	}
	return v
}

// stringMap reads an object of strings (e.g. a selector map); non-string values are
// skipped. nil when absent or not an object.
func (s *scanner) stringMap() (map[string]string, bool) {
	if !s.enter('{') {
		return nil, false
	}
	m := map[string]string{}
	for s.next() {
		k := string(s.key)
		if s.peek() != '"' {
			s.skip()
			continue
		}
		m[k] = s.str()
	}
	return m, true
}

// raw returns the bytes of the next value and skips it.
func (s *scanner) raw() []byte {
	s.ws()
	start := s.i
	s.skip()
	if s.bad {
		return nil
	}
	return s.b[start:s.i]
}
