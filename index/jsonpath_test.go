package index

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// ---- reference evaluator: encoding/json into interface{}, then walk ----

// jpRefValues returns the value texts the path yields in the decoded value v.
func jpRefValues(v any, segs []FieldSegment) []string {
	if len(segs) == 0 {
		switch x := v.(type) {
		case string:
			return []string{x}
		case json.Number:
			return []string{string(x)}
		case bool:
			return []string{strconv.FormatBool(x)}
		}
		return nil // null, object, array: missing
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	child, ok := m[segs[0].Name]
	if !ok {
		return nil
	}
	if !segs[0].List {
		return jpRefValues(child, segs[1:])
	}
	arr, ok := child.([]any)
	if !ok {
		return nil
	}
	if segs[0].Index >= 0 {
		if segs[0].Index >= len(arr) {
			return nil
		}
		return jpRefValues(arr[segs[0].Index], segs[1:])
	}
	var out []string
	for _, e := range arr {
		out = append(out, jpRefValues(e, segs[1:])...)
	}
	return out
}

// jpRefMatches evaluates r against valid JSON the slow, obvious way.
func jpRefMatches(t testing.TB, r *FieldRequirement, obj []byte) bool {
	t.Helper()
	if !json.Valid(obj) {
		t.Fatalf("reference evaluator needs valid JSON: %q", obj)
	}
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", obj, err)
	}
	vals := jpRefValues(v, r.Path)
	contains := func(set []string) bool {
		for _, x := range vals {
			for _, y := range set {
				if x == y {
					return true
				}
			}
		}
		return false
	}
	cmp := func(less bool) bool {
		if len(r.Values) != 1 {
			return false
		}
		n, err := strconv.ParseInt(r.Values[0], 10, 64)
		if err != nil {
			return false
		}
		for _, x := range vals {
			if m, err := strconv.ParseInt(x, 10, 64); err == nil && ((less && m < n) || (!less && m > n)) {
				return true
			}
		}
		return false
	}
	switch r.Op {
	case FieldEquals, FieldIn:
		return contains(r.Values)
	case FieldNotEquals, FieldNotIn:
		return !contains(r.Values)
	case FieldExists:
		return len(vals) > 0
	case FieldNotExists:
		return len(vals) == 0
	case FieldGreater:
		return cmp(false)
	case FieldLess:
		return cmp(true)
	}
	return false
}

func jpMustParse(t testing.TB, s string) FieldRequirement {
	t.Helper()
	reqs, err := ParseFieldSelector(s)
	if err != nil || len(reqs) != 1 {
		t.Fatalf("ParseFieldSelector(%q) = %v, %v", s, reqs, err)
	}
	return reqs[0]
}

// ---- table tests ----

const jpTestPod = `{
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {
    "name": "web-1", "namespace": "default",
    "labels": {"app": "web", "tier": "front"},
    "annotations": {
      "test.io": "v",
      "shadow.clusterpedia.io/cluster-name": "c1",
      "a.b/c": "dots and slash",
      "quote\"key": "qk",
      "esc\u0061ped": "escaped key",
      "tab": "x\ty",
      "uni": "h\u00e9llo \ud83d\ude00",
      "slash": "a\/b",
      "empty": "",
      "nul": null
    }
  },
  "spec": {
    "replicas": 3, "big": 12345678901234567890, "neg": -7, "float": 2.5, "exp": 1e3, "zero": 0,
    "paused": false, "hostNetwork": true, "nodeName": "node-1", "nothing": null,
    "obj": {"k": "v"}, "arr": ["x", "y"], "nums": [1, 5, 10], "mixed": [null, {"a":1}, [2], "s", 7, true],
    "containers": [
      {"name": "c1", "image": "nginx", "ports": [{"containerPort": 80}, {"containerPort": 443}]},
      {"name": "c2", "image": "busybox", "ports": []},
      {"name": "c3", "image": "redis"}
    ],
    "initContainers": [],
    "strReplicas": "42"
  },
  "status": {"phase": "Running", "podIP": "10.0.0.1", "conditions": [{"type": "Ready", "status": "True"}]}
}`

func TestFieldMatches(t *testing.T) {
	pod := []byte(jpTestPod)
	tests := []struct {
		sel  string
		want bool
	}{
		// =, ==, !=
		{"status.phase=Running", true},
		{"status.phase==Running", true},
		{".status.phase=Pending", false},
		{"status.phase!=Pending", true},
		{"status.phase!=Running", false},
		{"kind=Pod", true},
		{"metadata.name=web-1", true},
		{"spec.nodeName=node-1", true},
		// missing paths
		{"status.nope=x", false},
		{"status.nope!=x", true},
		{"status.nope notin (x)", true},
		{"status.nope in (x)", false},
		{"status.nope", false},
		{"!status.nope", true},
		{"nope.deeper.still=x", false},
		{"nope.deeper.still!=x", true},
		{"status.phase.deeper=x", false}, // through a string
		{"spec.replicas.x", false},       // through a number
		{"spec.nothing.x", false},        // through null
		// exists / does not exist
		{"status.phase", true},
		{"!status.phase", false},
		{"metadata.annotations.empty", true}, // empty string is a value
		{"metadata.annotations.empty=", true},
		{"metadata.annotations.empty!=", false},
		{"status.nope=", false},
		{"status.nope!=", true},
		// null, objects and arrays are missing
		{"metadata.annotations.nul", false},
		{"!metadata.annotations.nul", true},
		{"metadata.annotations.nul=null", false},
		{"metadata.annotations.nul!=null", true},
		{"spec.nothing", false},
		{"spec.obj", false},
		{"!spec.obj", true},
		{"spec.obj.k=v", true},
		{"spec.arr", false},
		{"spec.containers", false},
		{"metadata", false},
		// in / notin
		{"status.phase in (Pending,Running)", true},
		{"status.phase in (Pending,Failed)", false},
		{"status.phase notin (Pending,Failed)", true},
		{"status.phase notin (Running)", false},
		{"metadata.annotations.empty in (,x)", true},
		// numbers
		{"spec.replicas=3", true},
		{"spec.replicas=3.0", false},
		{"spec.replicas!=3", false},
		{"spec.replicas in (1,2,3)", true},
		{"spec.replicas>2", true},
		{"spec.replicas>3", false},
		{"spec.replicas<4", true},
		{"spec.replicas<3", false},
		{"spec.replicas>-1", true},
		{"spec.neg=-7", true},
		{"spec.neg<-6", true},
		{"spec.neg>-7", false},
		{"spec.neg>-8", true},
		{"spec.zero=0", true},
		{"spec.zero<1", true},
		{"spec.float=2.5", true},
		{"spec.float>1", false}, // not an integer
		{"spec.float<3", false},
		{"spec.exp=1e3", true},
		{"spec.exp=1000", false},
		{"spec.exp>1", false},
		{"spec.big=12345678901234567890", true},
		{"spec.big>0", false}, // overflows int64
		{"spec.big<0", false},
		{"spec.strReplicas>41", true}, // strings holding integers compare too
		{"spec.strReplicas<42", false},
		{"status.phase>0", false},
		{"status.phase<0", false},
		{"status.nope>0", false},
		{"spec.hostNetwork>0", false},
		// booleans
		{"spec.hostNetwork=true", true},
		{"spec.paused=false", true},
		{"spec.paused=true", false},
		{"spec.paused!=true", true},
		{"spec.paused in (false)", true},
		{"spec.paused", true},
		// nested annotations with dots and slashes
		{"metadata.annotations['test.io']=v", true},
		{"metadata.annotations.'test.io'==v", true},
		{`metadata.annotations."test.io"=v`, true},
		{"metadata.annotations.test.io=v", false}, // three segments
		{"metadata.annotations['shadow.clusterpedia.io/cluster-name']=c1", true},
		{"metadata.annotations['shadow.clusterpedia.io/cluster-name']=c2", false},
		{"metadata.annotations['a.b/c']=dots", false},
		{"metadata.annotations['a.b/c'] in (x,dots)", false},
		{"metadata.labels.app=web", true},
		{"metadata.labels.tier notin (back)", true},
		// escaped strings and keys
		{"metadata.annotations.escaped='escaped", false},
		{"metadata.annotations.escaped", true}, // key written as "esc\u0061ped"
		{"!metadata.annotations.escaped", false},
		{"metadata.annotations.slash=a/b", true},
		{"metadata.annotations.uni=h\u00e9llo", false},
		{"metadata.annotations.uni", true},
		{"metadata.annotations.tab!=xy", true},
		// list: any element
		{"spec.containers[].name=c2", true},
		{"spec.containers[].name=c4", false},
		{"spec.containers[].image=nginx", true},
		{"spec.containers[].image!=nginx", false}, // some container has nginx
		{"spec.containers[].image!=mysql", true},
		{"spec.containers[].image notin (nginx)", false},
		{"spec.containers[].image notin (mysql,postgres)", true},
		{"spec.containers[].image in (mysql,redis)", true},
		{"spec.containers[].image", true},
		{"!spec.containers[].image", false},
		{"spec.containers[].ports[].containerPort=443", true},
		{"spec.containers[].ports[].containerPort>400", true},
		{"spec.containers[].ports[].containerPort>500", false},
		{"spec.containers[].ports[].containerPort<81", true},
		{"spec.containers[].ports[1].containerPort=443", true},
		{"spec.containers[].ports[0].containerPort=443", false},
		{"spec.initContainers[].name", false},
		{"!spec.initContainers[].name", true},
		{"spec.initContainers[].name!=x", true},
		{"spec.mixed[].a=1", true},
		{"spec.mixed[].a", true},
		{"spec.mixed[].b", false},
		{"spec.nums[].x", false},
		{"status.conditions[].type=Ready", true},
		// list: element N
		{"spec.containers[0].image=nginx", true},
		{"spec.containers[1].image=nginx", false},
		{"spec.containers[1].image=busybox", true},
		{"spec.containers[2].name=c3", true},
		{"spec.containers[1].image!=nginx", true},
		{"spec.containers[3].image=nginx", false}, // out of range
		{"spec.containers[3].image!=nginx", true},
		{"spec.containers[3].image", false},
		{"!spec.containers[99].image", true},
		{"spec.initContainers[0].name", false},
		{"spec.mixed[1].a=1", true},
		{"spec.mixed[0].a", false},
		{"spec.mixed[2].a", false},
		// list on a non-array, name on an array
		{"spec.obj[].k=v", false},
		{"spec.obj[0].k=v", false},
		{"spec.obj[].k!=v", true},
		{"status[].phase=Running", false},
		{"status.phase[].x", false},
		{"spec.containers.name=c1", false}, // no implicit fan-out
		{"spec.containers.name!=c1", true},
		{"spec.containers.name", false},
	}
	for _, tt := range tests {
		r := jpMustParse(t, tt.sel)
		if got := r.Matches(pod); got != tt.want {
			t.Errorf("%s: Matches = %v, want %v", tt.sel, got, tt.want)
		}
		if ref := jpRefMatches(t, &r, pod); ref != tt.want {
			t.Errorf("%s: reference evaluator = %v, want %v (test table is wrong)", tt.sel, ref, tt.want)
		}
	}
}

// Requirements built by other code (not via the parser) and unusual keys.
func TestFieldMatchesConstructed(t *testing.T) {
	obj := []byte(`{"a":{"x.y":"1","x":{"y":"2"},"é":"e","\u00e9t\u00e9":"summer","\ufffd":"bad","q\"k":"quoted",` +
		`"list":["a","b",null,3],"ll":[[1,2],[3]]},"dup":1,"dup":2,"d2":{"k":"first"},"d2":{"other":"x"},` +
		`"inv":"` + "\xff" + `","k` + "\xfe" + `":"invkey"}`)
	tests := []struct {
		r    FieldRequirement
		want bool
	}{
		{FieldRequirement{Path: fsPath(fsSeg("a"), fsSeg("x.y")), Op: FieldEquals, Values: []string{"1"}}, true},
		{FieldRequirement{Path: fsPath(fsSeg("a"), fsSeg("x"), fsSeg("y")), Op: FieldEquals, Values: []string{"2"}}, true},
		{FieldRequirement{Path: fsPath(fsSeg("a"), fsSeg("é")), Op: FieldEquals, Values: []string{"e"}}, true},
		{FieldRequirement{Path: fsPath(fsSeg("a"), fsSeg("été")), Op: FieldEquals, Values: []string{"summer"}}, true},
		{FieldRequirement{Path: fsPath(fsSeg("a"), fsSeg("\ufffd")), Op: FieldEquals, Values: []string{"bad"}}, true},
		{FieldRequirement{Path: fsPath(fsSeg("a"), fsSeg(`q"k`)), Op: FieldEquals, Values: []string{"quoted"}}, true},
		// last segment a list: values are the elements
		{FieldRequirement{Path: fsPath(fsSeg("a"), fsAny("list")), Op: FieldEquals, Values: []string{"b"}}, true},
		{FieldRequirement{Path: fsPath(fsSeg("a"), fsAny("list")), Op: FieldGreater, Values: []string{"2"}}, true},
		{FieldRequirement{Path: fsPath(fsSeg("a"), fsAt("list", 2)), Op: FieldExists}, false},
		{FieldRequirement{Path: fsPath(fsSeg("a"), fsAt("list", 1)), Op: FieldExists}, true},
		{FieldRequirement{Path: fsPath(fsSeg("a"), fsAny("ll")), Op: FieldExists}, false},
		// no path: the whole object is an object, hence missing
		{FieldRequirement{Op: FieldExists}, false},
		{FieldRequirement{Op: FieldNotExists}, true},
		// duplicated keys: the last one wins, as with encoding/json
		{FieldRequirement{Path: fsPath(fsSeg("dup")), Op: FieldEquals, Values: []string{"2"}}, true},
		{FieldRequirement{Path: fsPath(fsSeg("dup")), Op: FieldEquals, Values: []string{"1"}}, false},
		{FieldRequirement{Path: fsPath(fsSeg("d2"), fsSeg("k")), Op: FieldExists}, false},
		{FieldRequirement{Path: fsPath(fsSeg("d2"), fsSeg("other")), Op: FieldExists}, true},
		// invalid UTF-8 reads as U+FFFD, as with encoding/json
		{FieldRequirement{Path: fsPath(fsSeg("inv")), Op: FieldEquals, Values: []string{"\xff"}}, false},
		{FieldRequirement{Path: fsPath(fsSeg("inv")), Op: FieldEquals, Values: []string{"\ufffd"}}, true},
		{FieldRequirement{Path: fsPath(fsSeg("k\xfe")), Op: FieldExists}, false},
		{FieldRequirement{Path: fsPath(fsSeg("k\ufffd")), Op: FieldExists}, true},
		// malformed requirements never match
		{FieldRequirement{Path: fsPath(fsSeg("dup")), Op: FieldGreater, Values: []string{"x"}}, false},
		{FieldRequirement{Path: fsPath(fsSeg("dup")), Op: FieldGreater}, false},
		{FieldRequirement{Path: fsPath(fsSeg("dup")), Op: "=="}, false},
		{FieldRequirement{Path: fsPath(fsSeg("dup")), Op: FieldEquals}, false},
		{FieldRequirement{Path: fsPath(fsSeg("dup")), Op: FieldNotEquals}, true},
	}
	for _, tt := range tests {
		if got := tt.r.Matches(obj); got != tt.want {
			t.Errorf("%#v: Matches = %v, want %v", tt.r, got, tt.want)
		}
		if ref := jpRefMatches(t, &tt.r, obj); ref != tt.want {
			t.Errorf("%#v: reference = %v, want %v (test table is wrong)", tt.r, ref, tt.want)
		}
	}
}

func TestFieldMatchesInvalidJSON(t *testing.T) {
	eq := jpMustParse(t, "a.b=1")
	ne := jpMustParse(t, "a.b!=1")
	ex := jpMustParse(t, "a.b")
	for _, obj := range []string{
		"", " ", "{", `{"a"`, `{"a":`, `{"a":{`, `{"a":{"b"`, `{"a":{"b":`, `{"a":{"b":1`, `{"a":{"b":1,`,
		`{"a":{"b":1}`, `{"a":{"b":1}`, `{"a":{"b":"1`, `{"a":{"b":"1\"}}`, `{"a":{"b":1 2}}`, `{"a" {"b":1}}`,
		`{"a":{"b":1,}}`, `{"a":{,"b":1}}`, `{a:{"b":1}}`, `{"a":{"b":01}}`,
		`{"a":{"b":1.}}`, `{"a":{"b":-}}`, `{"a":{"b":1e}}`, `{"a":{"b":tru}}`, `{"a":{"b":"\u12"}}`,
		`{"a":{"b":"\x"}}`, `{"x":"\`, `{"x":[1,2`, `{"x":{"y":"\"}`, "\x00", `{"a":{"b":nul}}`,
		`{"a":{"b":1}} x`, `{"a":{"b":1}}}`, `{"a":{"b":1}},`, `{"a":{"b":1}}{}`, "\xef\xbb\xbf{\"a\":{\"b\":1}}",
	} {
		b := []byte(obj)
		if eq.Matches(b) {
			t.Errorf("%q: = matched invalid JSON", obj)
		}
		if !ne.Matches(b) {
			t.Errorf("%q: != did not match invalid JSON (missing)", obj)
		}
		if ex.Matches(b) {
			t.Errorf("%q: exists matched invalid JSON", obj)
		}
	}
	// Values the scanner only skips are not validated; these must merely not panic.
	for _, obj := range []string{`{"a":[},"x":1,"a":{"b":1}}`, `{"x":[1 2],"a":{"b":1}}`, `{"x":{"y":"\q"},"a":{"b":1}}`} {
		_, _, _ = eq.Matches([]byte(obj)), ne.Matches([]byte(obj)), ex.Matches([]byte(obj))
	}
	// Truncations of a valid document never panic.
	pod := []byte(jpTestPod)
	for _, sel := range []string{"status.phase=Running", "spec.containers[].image!=x", "spec.containers[2].name"} {
		r := jpMustParse(t, sel)
		for i := 0; i <= len(pod); i++ {
			_ = r.Matches(pod[:i])
		}
	}
}

func TestJPParseInt(t *testing.T) {
	for _, s := range []string{
		"", "+", "-", "0", "-0", "+0", "1", "-1", "007", "9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809", "99999999999999999999", "1_000", "0x10", "1e3",
		"1.0", " 1", "1 ", "--1", "+-1", "١", "18446744073709551615", "18446744073709551616",
	} {
		want, err := strconv.ParseInt(s, 10, 64)
		got, ok := jpParseInt(s)
		if ok != (err == nil) || (ok && got != want) {
			t.Errorf("jpParseInt(%q) = %d, %v; strconv: %d, %v", s, got, ok, want, err)
		}
		gotb, okb := jpParseInt([]byte(s))
		if gotb != got || okb != ok {
			t.Errorf("jpParseInt([]byte(%q)) differs from string form", s)
		}
	}
}

func TestJPUnquote(t *testing.T) {
	for _, s := range []string{
		``, `abc`, `a\"b`, `\\`, `\/`, `\b\f\n\r\t`, `\u0041`, `\u00e9`, `\ud83d\ude00`, `\ud83d`, `\ud83dx`,
		`\ude00`, `\ud83d\u0041`, `\ud83d\ud83d\ude00`, "\xff", "a\xe9b", "\xed\xa0\x80", "é€😀",
		`\u0000`, `\uFFFF`, `\uDBFF\uDFFF`,
	} {
		var want string
		if err := json.Unmarshal([]byte(`"`+s+`"`), &want); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		got, ok := jpUnquote(nil, []byte(s))
		if !ok || string(got) != want {
			t.Errorf("jpUnquote(%q) = %q, %v; want %q", s, got, ok, want)
		}
	}
	for _, s := range []string{`\`, `\x`, `\u12`, `\u12g4`, "a\nb", `a"b`} {
		if _, ok := jpUnquote(nil, []byte(s)); ok {
			t.Errorf("jpUnquote(%q) succeeded", s)
		}
	}
}

// ---- randomized comparison with the reference evaluator ----

var (
	jpRandKeys   = []string{"a", "b", "c", "a.b", "x/y", "k8s.io/n", "in", "é", "\ufffd", `q"`, "", "A"}
	jpRandValues = []string{"", "a", "b", "x y", "1", "2", "-3", "0", "10", "1.5", "1e2", "true", "false", "null",
		"é", "\ufffd", "\xff", `q"`, "a\\b", "\u2028", "9223372036854775807", "9223372036854775808", "-0", "+1", "007"}
)

type jpGen struct {
	r  *rand.Rand
	sb strings.Builder
}

func (g *jpGen) ws() {
	if g.r.Intn(4) == 0 {
		g.sb.WriteString([]string{" ", "\n", "\t", "\r\n  "}[g.r.Intn(4)])
	}
}

// str writes s as a JSON string, escaping characters at random.
func (g *jpGen) str(s string) {
	g.sb.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				if g.r.Intn(2) == 0 {
					g.sb.WriteByte('\\')
					g.sb.WriteByte(c)
				} else {
					fmt.Fprintf(&g.sb, `\u%04x`, c)
				}
			case c < ' ':
				fmt.Fprintf(&g.sb, `\u%04X`, c)
			case g.r.Intn(8) == 0:
				fmt.Fprintf(&g.sb, `\u%04x`, c)
			case c == '/' && g.r.Intn(2) == 0:
				g.sb.WriteString(`\/`)
			default:
				g.sb.WriteByte(c)
			}
			i++
			continue
		}
		rr, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case rr == utf8.RuneError && size == 1:
			g.sb.WriteByte(c) // raw invalid UTF-8: valid JSON, decodes to U+FFFD
		case g.r.Intn(3) == 0 && rr > 0xffff:
			hi, lo := 0xd800+((rr-0x10000)>>10), 0xdc00+((rr-0x10000)&0x3ff)
			fmt.Fprintf(&g.sb, `\u%04x\u%04x`, hi, lo)
		case g.r.Intn(3) == 0 && rr <= 0xffff:
			fmt.Fprintf(&g.sb, `\u%04x`, rr)
		default:
			g.sb.WriteString(s[i : i+size])
		}
		i += size
	}
	if g.r.Intn(30) == 0 {
		g.sb.WriteString([]string{`\ud800`, `\udc00x`, `\ud83d\ude00`}[g.r.Intn(3)]) // lone surrogates too
	}
	g.sb.WriteByte('"')
}

func (g *jpGen) value(depth int) {
	g.ws()
	n := 10
	if depth >= 4 {
		n = 6
	}
	switch g.r.Intn(n) {
	case 0, 1:
		g.str(jpRandValues[g.r.Intn(len(jpRandValues))])
	case 2:
		g.sb.WriteString([]string{"0", "1", "2", "-3", "10", "1.5", "1e2", "-0", "9223372036854775808", "2E+1", "0.0"}[g.r.Intn(11)])
	case 3:
		g.sb.WriteString([]string{"true", "false"}[g.r.Intn(2)])
	case 4:
		g.sb.WriteString("null")
	case 5:
		g.sb.WriteString("{}")
	case 6, 7, 8:
		g.object(depth + 1)
	default:
		g.sb.WriteByte('[')
		k := g.r.Intn(4)
		for i := 0; i < k; i++ {
			if i > 0 {
				g.sb.WriteByte(',')
			}
			g.value(depth + 1)
		}
		g.ws()
		g.sb.WriteByte(']')
	}
	g.ws()
}

func (g *jpGen) object(depth int) {
	g.sb.WriteByte('{')
	k := g.r.Intn(5)
	for i := 0; i < k; i++ {
		if i > 0 {
			g.sb.WriteByte(',')
		}
		g.ws()
		g.str(jpRandKeys[g.r.Intn(len(jpRandKeys))]) // duplicates happen
		g.ws()
		g.sb.WriteByte(':')
		g.value(depth)
	}
	g.ws()
	g.sb.WriteByte('}')
}

func (g *jpGen) requirement() FieldRequirement {
	var r FieldRequirement
	n := 1 + g.r.Intn(3)
	for i := 0; i < n; i++ {
		seg := FieldSegment{Name: jpRandKeys[g.r.Intn(len(jpRandKeys))]}
		switch g.r.Intn(4) {
		case 0:
			seg.List, seg.Index = true, -1
		case 1:
			seg.List, seg.Index = true, g.r.Intn(3)
		}
		r.Path = append(r.Path, seg)
	}
	ops := []FieldOp{FieldEquals, FieldNotEquals, FieldIn, FieldNotIn, FieldExists, FieldNotExists, FieldGreater, FieldLess}
	r.Op = ops[g.r.Intn(len(ops))]
	switch r.Op {
	case FieldEquals, FieldNotEquals:
		r.Values = []string{jpRandValues[g.r.Intn(len(jpRandValues))]}
	case FieldIn, FieldNotIn:
		for k := 1 + g.r.Intn(3); k > 0; k-- {
			r.Values = append(r.Values, jpRandValues[g.r.Intn(len(jpRandValues))])
		}
	case FieldGreater, FieldLess:
		r.Values = []string{[]string{"0", "1", "2", "-4", "9", "x"}[g.r.Intn(6)]}
	}
	return r
}

func TestFieldMatchesRandomized(t *testing.T) {
	g := &jpGen{r: rand.New(rand.NewSource(1))}
	const objects, reqsPerObject = 1500, 8
	hits := 0
	for i := 0; i < objects; i++ {
		g.sb.Reset()
		g.ws()
		g.object(0)
		g.ws()
		obj := []byte(g.sb.String())
		if !json.Valid(obj) {
			t.Fatalf("generator produced invalid JSON: %q", obj)
		}
		for j := 0; j < reqsPerObject; j++ {
			r := g.requirement()
			got, want := r.Matches(obj), jpRefMatches(t, &r, obj)
			if got != want {
				t.Fatalf("object %s\nrequirement %#v (%s)\nMatches = %v, reference = %v", obj, r, r, got, want)
			}
			if got {
				hits++
			}
		}
	}
	if hits < objects*reqsPerObject/10 {
		t.Errorf("only %d of %d random cases matched: generator too weak", hits, objects*reqsPerObject)
	}
}

func FuzzFieldMatches(f *testing.F) {
	// Seeds stay small: the fuzzer minimizes every new input, which is slow for large ones.
	small := `{"metadata":{"annotations":{"test.io":"v","a\u002eb":"x"}},"spec":{"replicas":3,` +
		`"containers":[{"name":"c1","image":"nginx"},{"name":"c2","image":"re\"dis"}]},"status":{"phase":"Running"}}`
	f.Add([]byte(small), "spec.containers[].image!=nginx")
	f.Add([]byte(small), "status.phase=Running,spec.replicas>2,metadata.annotations['test.io']")
	f.Add([]byte(`{"a":{"b":[{"c":"\u0041"},{"c":1}]},"a":{"b":[]}}`), "a.b[].c in (A,1)")
	f.Add([]byte(`{"a":[1,2,3]}`), "a[1]>1")
	f.Add([]byte(`{"a":"\ud800"}`), "a=\ufffd")
	f.Add([]byte(`{"a" : { "b" : null } }`), "!a.b")
	f.Add([]byte(`{"a":{"b":1}`), "a.b!=1")
	f.Add([]byte(`[{"a":1}]`), "a")
	f.Add([]byte(`{"é":{"x.y":true}}`), "é.x")
	f.Fuzz(func(t *testing.T, obj []byte, sel string) {
		reqs, err := ParseFieldSelector(sel)
		if err != nil {
			// Exercise unvalidated paths too: segments split at '.', any names.
			var path []FieldSegment
			for i, name := range strings.Split(sel, ".") {
				path = append(path, FieldSegment{Name: name, List: i%2 == 1, Index: len(name)%3 - 1})
			}
			reqs = []FieldRequirement{
				{Path: path, Op: FieldExists},
				{Path: path, Op: FieldIn, Values: strings.Split(sel, ".")},
				{Path: path[:1], Op: FieldNotEquals, Values: []string{sel}},
				{Path: path[:1], Op: FieldLess, Values: []string{"7"}},
			}
		}
		valid := json.Valid(obj)
		// Also a valid object generated from the input bytes, so that every run compares.
		h := fnv.New64a()
		h.Write(obj)
		g := &jpGen{r: rand.New(rand.NewSource(int64(h.Sum64())))}
		g.object(0)
		gen := []byte(g.sb.String())
		for i := range reqs {
			got := reqs[i].Matches(obj)
			if valid {
				if want := jpRefMatches(t, &reqs[i], obj); got != want {
					t.Fatalf("object %q\nrequirement %#v\nMatches = %v, reference = %v", obj, reqs[i], got, want)
				}
			}
			if got, want := reqs[i].Matches(gen), jpRefMatches(t, &reqs[i], gen); got != want {
				t.Fatalf("generated object %q\nrequirement %#v\nMatches = %v, reference = %v", gen, reqs[i], got, want)
			}
		}
	})
}

// ---- benchmarks ----

// jpBenchPod is a realistic pod (~2 KB compact JSON) with status.phase near the end.
const jpBenchPod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-7d9f8c6b5d-x2k4q","generateName":"web-7d9f8c6b5d-","namespace":"production","uid":"6f1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d","resourceVersion":"48213977","creationTimestamp":"2024-05-14T09:21:33Z","labels":{"app.kubernetes.io/name":"web","app.kubernetes.io/instance":"web-prod","pod-template-hash":"7d9f8c6b5d","tier":"frontend"},"annotations":{"prometheus.io/scrape":"true","prometheus.io/port":"9102","shadow.clusterpedia.io/cluster-name":"cluster-east-1"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-7d9f8c6b5d","uid":"1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d","controller":true,"blockOwnerDeletion":true}]},"spec":{"volumes":[{"name":"kube-api-access-9xk2p","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}}],"defaultMode":420}}],"containers":[{"name":"web","image":"registry.example.com/web:1.24.3","args":["--port=8080","--log-level=info"],"ports":[{"name":"http","containerPort":8080,"protocol":"TCP"}],"env":[{"name":"GOMAXPROCS","value":"2"}],"resources":{"limits":{"cpu":"2","memory":"1Gi"},"requests":{"cpu":"500m","memory":"512Mi"}},"volumeMounts":[{"name":"config","mountPath":"/etc/web"},{"name":"kube-api-access-9xk2p","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}],"imagePullPolicy":"IfNotPresent"},{"name":"sidecar","image":"nginx:1.25","resources":{"requests":{"cpu":"50m","memory":"64Mi"}},"imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":"web","nodeName":"node-17.east.example.com","schedulerName":"default-scheduler","tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],"priority":0,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority"},"status":{"conditions":[{"type":"Initialized","status":"True","lastProbeTime":null,"lastTransitionTime":"2024-05-14T09:21:33Z"},{"type":"Ready","status":"True","lastProbeTime":null,"lastTransitionTime":"2024-05-14T09:21:41Z"}],"hostIP":"10.20.3.17","podIP":"10.244.7.52","startTime":"2024-05-14T09:21:33Z","qosClass":"Burstable","phase":"Running"}}`

func BenchmarkFieldMatch(b *testing.B) {
	pod := []byte(jpBenchPod)
	for _, bc := range []struct {
		sel  string
		want bool
	}{
		{"status.phase=Running", true},
		{"status.phase!=Running", false},
		{"spec.containers[].image=nginx:1.25", true},
		{"spec.containers[].image!=nginx:1.25", false},
		{"spec.containers[1].image=nginx:1.25", true},
		{"metadata.name=web-7d9f8c6b5d-x2k4q", true},
		{"metadata.annotations['shadow.clusterpedia.io/cluster-name']=cluster-east-1", true},
		{"spec.terminationGracePeriodSeconds>10", true},
		{"status.nope", false},
	} {
		r := jpMustParse(b, bc.sel)
		if r.Matches(pod) != bc.want {
			b.Fatalf("%s: want %v", bc.sel, bc.want)
		}
		b.Run(bc.sel, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(pod)))
			for i := 0; i < b.N; i++ {
				if r.Matches(pod) != bc.want {
					b.Fatal("wrong result")
				}
			}
		})
	}
}

func TestFieldMatchNoAllocs(t *testing.T) {
	pod := []byte(jpBenchPod)
	for _, sel := range []string{
		"status.phase=Running", "spec.containers[].image!=nginx:1.25", "spec.priority<1",
		"metadata.annotations['prometheus.io/port'] in (9102,9103)", "!status.nope",
	} {
		r := jpMustParse(t, sel)
		if n := testing.AllocsPerRun(100, func() { r.Matches(pod) }); n != 0 {
			t.Errorf("%s: %v allocs per Matches, want 0", sel, n)
		}
	}
}
