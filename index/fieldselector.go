package index

import (
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// FieldOp is a field-selector operator.
type FieldOp string

// Field-selector operators.
const (
	FieldEquals    FieldOp = "=" // "=" and "==" both parse to this
	FieldNotEquals FieldOp = "!="
	FieldIn        FieldOp = "in"
	FieldNotIn     FieldOp = "notin"
	FieldExists    FieldOp = "exists"
	FieldNotExists FieldOp = "!"
	FieldGreater   FieldOp = ">"
	FieldLess      FieldOp = "<"
)

// FieldSegment is one step of a field path. List marks the segment as a list: Index < 0 =
// any element ("[]"), Index >= 0 = that element ("[N]"). Index is ignored when List is false
// (the parser leaves it 0).
type FieldSegment struct {
	Name  string
	List  bool
	Index int
}

// FieldRequirement is one requirement of an enhanced field selector (Clusterpedia's
// api/clusterpedia/fields grammar).
//
// Evaluation (Matches) looks the path up in the object's JSON. A path yields zero or more
// values (several only through "[]"): strings (unescaped), numbers (their JSON text) and
// booleans ("true"/"false"); null, objects and arrays count as missing. "=" and "in" match
// when some value is in Values, "!=" and "notin" when none is (a missing path matches),
// "exists" when there is a value, "!" when there is none, ">" and "<" when some value parses
// as a base-10 int64 that compares strictly greater/less than the operand.
type FieldRequirement struct {
	Path   []FieldSegment
	Op     FieldOp
	Values []string
}

const fieldSelectorOption = "fieldSelector"

// ParseFieldSelector parses an enhanced field selector: comma-separated requirements
// "path=v", "path==v", "path!=v", "path in (v1,v2)", "path notin (v1,v2)", "path>N",
// "path<N", "path" (exists) and "!path" (does not exist). A path is segments separated by
// '.', with an optional leading '.'; a segment is a name, a quoted name ('a.b' or "a.b"),
// or a bracket-quoted name (['a.b'] or ["a.b"], no '.' needed before it); "[]" after a
// segment marks it as a list (any element), "[N]" picks element N. Every segment name must
// be a Kubernetes qualified name; the last segment cannot be a list.
//
// "" (or only whitespace) yields nil, nil. Values of "in" and "notin" are sorted and
// deduplicated; requirements keep their order. Errors are *InvalidQueryError.
func ParseFieldSelector(s string) ([]FieldRequirement, error) {
	p := fsParser{lex: fsLexer{s: s}}
	return p.parse()
}

// Validate checks a requirement built by other code: non-empty path, qualified-name
// segments, last segment not a list, a known operator with the right number of values, and
// integer operands for ">" and "<". Errors are *InvalidQueryError.
func (r *FieldRequirement) Validate() error {
	if len(r.Path) == 0 {
		return invalid(fieldSelectorOption, "empty field path")
	}
	for _, seg := range r.Path {
		if seg.Name == "" {
			return invalid(fieldSelectorOption, "field path %s: empty segment", fsPathString(r.Path))
		}
		if errs := validation.IsQualifiedName(seg.Name); len(errs) != 0 {
			return invalid(fieldSelectorOption, "field path %s: invalid segment %q: %s",
				fsPathString(r.Path), seg.Name, strings.Join(errs, "; "))
		}
	}
	if last := r.Path[len(r.Path)-1]; last.List {
		return invalid(fieldSelectorOption, "field path %s: the last segment %q cannot be a list",
			fsPathString(r.Path), last.Name)
	}
	path := fsPathString(r.Path)
	switch r.Op {
	case FieldEquals, FieldNotEquals:
		if len(r.Values) != 1 {
			return invalid(fieldSelectorOption, "%s %s: needs exactly one value, got %d", path, r.Op, len(r.Values))
		}
	case FieldIn, FieldNotIn:
		if len(r.Values) == 0 {
			return invalid(fieldSelectorOption, "%s %s: needs at least one value", path, r.Op)
		}
	case FieldExists, FieldNotExists:
		if len(r.Values) != 0 {
			return invalid(fieldSelectorOption, "%s %s: takes no values, got %d", path, r.Op, len(r.Values))
		}
	case FieldGreater, FieldLess:
		if len(r.Values) != 1 {
			return invalid(fieldSelectorOption, "%s %s: needs exactly one value, got %d", path, r.Op, len(r.Values))
		}
		if _, err := strconv.ParseInt(r.Values[0], 10, 64); err != nil {
			return invalid(fieldSelectorOption, "%s %s: value %q is not an integer", path, r.Op, r.Values[0])
		}
	default:
		return invalid(fieldSelectorOption, "%s: unknown operator %q", path, string(r.Op))
	}
	return nil
}

// String renders the requirement in canonical form ("!path", "path", "path=v",
// "path in (a,b)", ...) which ParseFieldSelector parses back to an equal requirement
// ("in"/"notin" values come out sorted and deduplicated). Segment names holding '.' are
// written bracket-quoted: metadata.annotations['example.com/x']. Values are written as is:
// a value holding whitespace or one of = ! ( ) , < > (possible only in a requirement built
// by other code) does not parse back.
func (r FieldRequirement) String() string {
	var sb strings.Builder
	if r.Op == FieldNotExists {
		sb.WriteByte('!')
	}
	fsWritePath(&sb, r.Path)
	switch r.Op {
	case FieldExists, FieldNotExists:
		return sb.String()
	case FieldIn, FieldNotIn:
		sb.WriteByte(' ')
		sb.WriteString(string(r.Op))
		sb.WriteString(" (")
		vals := fsSortedSet(r.Values)
		if len(vals) == 1 && vals[0] == "" {
			sb.WriteByte(',') // "()" is rejected; "(,)" is the set {""}
		} else {
			sb.WriteString(strings.Join(vals, ","))
		}
		sb.WriteByte(')')
		return sb.String()
	}
	sb.WriteString(string(r.Op))
	if len(r.Values) > 0 {
		sb.WriteString(r.Values[0])
	}
	return sb.String()
}

// fsPathString renders a path alone (used in messages and by String).
func fsPathString(path []FieldSegment) string {
	var sb strings.Builder
	fsWritePath(&sb, path)
	return sb.String()
}

func fsWritePath(sb *strings.Builder, path []FieldSegment) {
	for i, seg := range path {
		switch {
		case strings.ContainsAny(seg.Name, ".[]'\"") || seg.Name == "":
			q := byte('\'')
			if strings.IndexByte(seg.Name, '\'') >= 0 {
				q = '"'
			}
			sb.WriteByte('[')
			sb.WriteByte(q)
			sb.WriteString(seg.Name)
			sb.WriteByte(q)
			sb.WriteByte(']')
		default:
			if i > 0 {
				sb.WriteByte('.')
			}
			sb.WriteString(seg.Name)
		}
		if seg.List {
			sb.WriteByte('[')
			if seg.Index >= 0 {
				sb.WriteString(strconv.Itoa(seg.Index))
			}
			sb.WriteByte(']')
		}
	}
}

// fsSortedSet returns the values sorted and deduplicated, without modifying vals.
func fsSortedSet(vals []string) []string {
	out := make([]string, len(vals))
	copy(out, vals)
	sort.Strings(out)
	n := 0
	for i, v := range out {
		if i == 0 || v != out[n-1] {
			out[n] = v
			n++
		}
	}
	return out[:n]
}

// ---- lexer (the Kubernetes label-selector lexer, as Clusterpedia uses it) ----

type fsToken uint8

const (
	fsEOS      fsToken = iota // end of string
	fsIdent                   // identifier
	fsComma                   // ,
	fsOpenPar                 // (
	fsClosePar                // )
	fsBang                    // !
	fsEq                      // =
	fsDoubleEq                // ==
	fsNotEq                   // !=
	fsGt                      // >
	fsLt                      // <
	fsIn                      // in
	fsNotIn                   // notin
)

type fsItem struct {
	tok fsToken
	lit string
}

type fsLexer struct {
	s   string
	pos int
}

func fsIsWhitespace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func fsIsSpecial(c byte) bool {
	switch c {
	case '=', '!', '(', ')', ',', '>', '<':
		return true
	}
	return false
}

func (l *fsLexer) next() fsItem {
	for l.pos < len(l.s) && fsIsWhitespace(l.s[l.pos]) {
		l.pos++
	}
	if l.pos >= len(l.s) {
		return fsItem{fsEOS, ""}
	}
	start := l.pos
	c := l.s[l.pos]
	if fsIsSpecial(c) {
		l.pos++
		two := l.pos < len(l.s) && l.s[l.pos] == '='
		switch c {
		case ',':
			return fsItem{fsComma, ","}
		case '(':
			return fsItem{fsOpenPar, "("}
		case ')':
			return fsItem{fsClosePar, ")"}
		case '>':
			return fsItem{fsGt, ">"}
		case '<':
			return fsItem{fsLt, "<"}
		case '!':
			if two {
				l.pos++
				return fsItem{fsNotEq, "!="}
			}
			return fsItem{fsBang, "!"}
		default: // '='
			if two {
				l.pos++
				return fsItem{fsDoubleEq, "=="}
			}
			return fsItem{fsEq, "="}
		}
	}
	for l.pos < len(l.s) && !fsIsSpecial(l.s[l.pos]) && !fsIsWhitespace(l.s[l.pos]) {
		l.pos++
	}
	lit := l.s[start:l.pos]
	switch lit {
	case "in":
		return fsItem{fsIn, lit}
	case "notin":
		return fsItem{fsNotIn, lit}
	}
	return fsItem{fsIdent, lit}
}

// ---- parser ----

type fsParser struct {
	lex    fsLexer
	peeked bool
	item   fsItem
}

func (p *fsParser) peek() fsItem {
	if !p.peeked {
		p.item = p.lex.next()
		p.peeked = true
	}
	return p.item
}

func (p *fsParser) consume() fsItem {
	it := p.peek()
	p.peeked = false
	return it
}

// isWord: an identifier, or "in"/"notin" where a key or a value is expected.
func (it fsItem) isWord() bool { return it.tok == fsIdent || it.tok == fsIn || it.tok == fsNotIn }

func fsDescribe(it fsItem) string {
	if it.tok == fsEOS {
		return "end of string"
	}
	return strconv.Quote(it.lit)
}

func (p *fsParser) parse() ([]FieldRequirement, error) {
	if p.peek().tok == fsEOS {
		return nil, nil
	}
	var reqs []FieldRequirement
	for {
		r, err := p.parseRequirement()
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, r)
		switch it := p.consume(); it.tok {
		case fsEOS:
			return reqs, nil
		case fsComma:
			if p.peek().tok == fsEOS {
				return nil, invalid(fieldSelectorOption, "trailing ',': expected a requirement after ','")
			}
		default:
			return nil, invalid(fieldSelectorOption, "requirement %s: found %s, expected ',' or end of string", r, fsDescribe(it))
		}
	}
}

func (p *fsParser) parseRequirement() (FieldRequirement, error) {
	var r FieldRequirement
	it := p.consume()
	notExists := it.tok == fsBang
	if notExists {
		it = p.consume()
	}
	if !it.isWord() {
		return r, invalid(fieldSelectorOption, "found %s, expected a field path", fsDescribe(it))
	}
	key := it.lit
	path, err := fsParsePath(key)
	if err != nil {
		return r, err
	}
	r.Path = path
	switch next := p.peek(); {
	case notExists:
		r.Op = FieldNotExists
	case next.tok == fsEOS || next.tok == fsComma:
		r.Op = FieldExists
	default:
		op := p.consume()
		switch op.tok {
		case fsEq, fsDoubleEq:
			r.Op = FieldEquals
		case fsNotEq:
			r.Op = FieldNotEquals
		case fsGt:
			r.Op = FieldGreater
		case fsLt:
			r.Op = FieldLess
		case fsIn:
			r.Op = FieldIn
		case fsNotIn:
			r.Op = FieldNotIn
		default:
			return r, invalid(fieldSelectorOption, "%s: unknown operator %s, expected one of =, ==, !=, in, notin, >, <",
				key, fsDescribe(op))
		}
		if r.Op == FieldIn || r.Op == FieldNotIn {
			if r.Values, err = p.parseValueList(key, r.Op); err != nil {
				return r, err
			}
		} else {
			switch v := p.peek(); {
			case v.tok == fsEOS || v.tok == fsComma:
				if r.Op == FieldGreater || r.Op == FieldLess {
					return r, invalid(fieldSelectorOption, "%s %s: missing value", key, r.Op)
				}
				r.Values = []string{""}
			case v.isWord():
				p.consume()
				r.Values = []string{v.lit}
			default:
				return r, invalid(fieldSelectorOption, "%s %s: found %s, expected a value", key, r.Op, fsDescribe(v))
			}
		}
	}
	if err := r.Validate(); err != nil {
		return FieldRequirement{}, err
	}
	return r, nil
}

// parseValueList parses "(v1,v2,...)". Elements may be empty ("(a,)" is {"", "a"}), as in
// Kubernetes label selectors, but the list may not be "()".
func (p *fsParser) parseValueList(key string, op FieldOp) ([]string, error) {
	if it := p.consume(); it.tok != fsOpenPar {
		return nil, invalid(fieldSelectorOption, "%s %s: found %s, expected '('", key, op, fsDescribe(it))
	}
	if p.peek().tok == fsClosePar {
		return nil, invalid(fieldSelectorOption, "%s %s: missing value in ()", key, op)
	}
	var vals []string
	for {
		v := ""
		if it := p.peek(); it.isWord() {
			p.consume()
			v = it.lit
		}
		vals = append(vals, v)
		switch it := p.consume(); it.tok {
		case fsComma:
		case fsClosePar:
			return fsSortedSet(vals), nil
		case fsEOS:
			return nil, invalid(fieldSelectorOption, "%s %s: missing ')'", key, op)
		default:
			return nil, invalid(fieldSelectorOption, "%s %s: found %s, expected ',' or ')'", key, op, fsDescribe(it))
		}
	}
}

// fsParsePath parses a field path (see ParseFieldSelector). Names are not validated here.
func fsParsePath(key string) ([]FieldSegment, error) {
	fail := func(format string, args ...any) error {
		return invalid(fieldSelectorOption, "field path %q: "+format, append([]any{key}, args...)...)
	}
	i := 0
	if strings.HasPrefix(key, ".") {
		i = 1
	}
	var segs []FieldSegment
	needSeg := true // at the start or after '.': a segment must follow
	for i < len(key) {
		c := key[i]
		if !needSeg {
			switch {
			case c == '.':
				i++
				needSeg = true
				continue
			case c == '[' && i+1 < len(key) && (key[i+1] == '\'' || key[i+1] == '"'):
				needSeg = true // bracket-quoted segment right after a segment
				continue
			case c == '[':
				j := strings.IndexByte(key[i+1:], ']')
				if j < 0 {
					return nil, fail("unbalanced '[' at offset %d", i)
				}
				idx := key[i+1 : i+1+j]
				last := &segs[len(segs)-1]
				if last.List {
					return nil, fail("segment %q has more than one list index (nested lists are not supported)", last.Name)
				}
				last.List, last.Index = true, -1
				if idx != "" {
					n, err := strconv.Atoi(idx)
					if err != nil || n < 0 || idx[0] < '0' || idx[0] > '9' {
						return nil, fail("invalid list index [%s] after %q (to select a field named %s write ['%s'])",
							idx, last.Name, idx, idx)
					}
					last.Index = n
				}
				i += j + 2
				continue
			default:
				return nil, fail("unexpected %q at offset %d, expected '.', '[' or end of path", c, i)
			}
		}
		// a segment starts at i
		var name string
		switch c {
		case '\'', '"':
			j := strings.IndexByte(key[i+1:], c)
			if j < 0 {
				return nil, fail("unbalanced quote %c at offset %d", c, i)
			}
			name = key[i+1 : i+1+j]
			i += j + 2
		case '[':
			if i+1 >= len(key) || (key[i+1] != '\'' && key[i+1] != '"') {
				if len(segs) == 0 {
					return nil, fail("list index at offset %d without a field before it", i)
				}
				return nil, fail("list index at offset %d after '.', expected a field", i)
			}
			q := key[i+1]
			j := strings.IndexByte(key[i+2:], q)
			if j < 0 {
				return nil, fail("unbalanced quote %c at offset %d", q, i+1)
			}
			name = key[i+2 : i+2+j]
			i += j + 3
			if i >= len(key) || key[i] != ']' {
				return nil, fail("unbalanced '[': expected ']' after the quoted name %q", name)
			}
			i++
		case '.':
			return nil, fail("empty segment at offset %d", i)
		case ']':
			return nil, fail("unbalanced ']' at offset %d", i)
		default:
			j := i
			for j < len(key) && key[j] != '.' && key[j] != '[' && key[j] != ']' && key[j] != '\'' && key[j] != '"' {
				j++
			}
			name = key[i:j]
			if j < len(key) {
				switch key[j] {
				case ']':
					return nil, fail("unbalanced ']' at offset %d", j)
				case '\'', '"':
					return nil, fail("unexpected quote %c at offset %d inside segment %q", key[j], j, name)
				}
			}
			i = j
		}
		if name == "" {
			return nil, fail("empty segment")
		}
		segs = append(segs, FieldSegment{Name: name})
		needSeg = false
	}
	if needSeg {
		if len(segs) == 0 {
			return nil, fail("empty field path")
		}
		return nil, fail("empty segment after trailing '.'")
	}
	return segs, nil
}
