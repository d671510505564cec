package index

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func fsSeg(name string) FieldSegment { return FieldSegment{Name: name} }

func fsAny(name string) FieldSegment { return FieldSegment{Name: name, List: true, Index: -1} }

func fsAt(name string, i int) FieldSegment { return FieldSegment{Name: name, List: true, Index: i} }

func fsPath(segs ...FieldSegment) []FieldSegment { return segs }

func TestParseFieldSelector(t *testing.T) {
	metaName := fsPath(fsSeg("metadata"), fsSeg("name"))
	ann := func(k string) []FieldSegment { return fsPath(fsSeg("metadata"), fsSeg("annotations"), fsSeg(k)) }
	tests := []struct {
		in   string
		want []FieldRequirement
		str  string // canonical String() of the requirements joined by ","; "" = same as in
	}{
		{in: "", want: nil},
		{in: "  \t\n", want: nil, str: ""},
		{in: "metadata.name=x", want: []FieldRequirement{{Path: metaName, Op: FieldEquals, Values: []string{"x"}}}},
		{in: ".metadata.annotations['test.io']=v",
			want: []FieldRequirement{{Path: ann("test.io"), Op: FieldEquals, Values: []string{"v"}}},
			str:  "metadata.annotations['test.io']=v"},
		{in: "metadata.annotations.'test.io'==value1",
			want: []FieldRequirement{{Path: ann("test.io"), Op: FieldEquals, Values: []string{"value1"}}},
			str:  "metadata.annotations['test.io']=value1"},
		{in: `metadata.annotations."test.io"==value1`,
			want: []FieldRequirement{{Path: ann("test.io"), Op: FieldEquals, Values: []string{"value1"}}},
			str:  "metadata.annotations['test.io']=value1"},
		{in: `metadata.annotations["test.io"]=v`,
			want: []FieldRequirement{{Path: ann("test.io"), Op: FieldEquals, Values: []string{"v"}}},
			str:  "metadata.annotations['test.io']=v"},
		{in: "spec.containers[].name!=c1",
			want: []FieldRequirement{{Path: fsPath(fsSeg("spec"), fsAny("containers"), fsSeg("name")), Op: FieldNotEquals, Values: []string{"c1"}}}},
		{in: ".spec.containers[1].name in (c1,c2)",
			want: []FieldRequirement{{Path: fsPath(fsSeg("spec"), fsAt("containers", 1), fsSeg("name")), Op: FieldIn, Values: []string{"c1", "c2"}}},
			str:  "spec.containers[1].name in (c1,c2)"},
		{in: "!metadata.annotations['test.io']",
			want: []FieldRequirement{{Path: ann("test.io"), Op: FieldNotExists}}},
		{in: "status.phase=Running,spec.nodeName=node-1",
			want: []FieldRequirement{
				{Path: fsPath(fsSeg("status"), fsSeg("phase")), Op: FieldEquals, Values: []string{"Running"}},
				{Path: fsPath(fsSeg("spec"), fsSeg("nodeName")), Op: FieldEquals, Values: []string{"node-1"}},
			}},
		{in: "metadata.annotations['shadow.clusterpedia.io/cluster-name']=c1",
			want: []FieldRequirement{{Path: ann("shadow.clusterpedia.io/cluster-name"), Op: FieldEquals, Values: []string{"c1"}}}},
		{in: "spec.replicas>2", want: []FieldRequirement{{Path: fsPath(fsSeg("spec"), fsSeg("replicas")), Op: FieldGreater, Values: []string{"2"}}}},
		{in: "spec.replicas<-2", want: []FieldRequirement{{Path: fsPath(fsSeg("spec"), fsSeg("replicas")), Op: FieldLess, Values: []string{"-2"}}}},
		{in: "spec.replicas>+2", want: []FieldRequirement{{Path: fsPath(fsSeg("spec"), fsSeg("replicas")), Op: FieldGreater, Values: []string{"+2"}}}},
		{in: "spec.replicas<9223372036854775807", want: []FieldRequirement{{Path: fsPath(fsSeg("spec"), fsSeg("replicas")), Op: FieldLess, Values: []string{"9223372036854775807"}}}},
		{in: "a=", want: []FieldRequirement{{Path: fsPath(fsSeg("a")), Op: FieldEquals, Values: []string{""}}}},
		{in: "a==", want: []FieldRequirement{{Path: fsPath(fsSeg("a")), Op: FieldEquals, Values: []string{""}}}, str: "a="},
		{in: "a!=", want: []FieldRequirement{{Path: fsPath(fsSeg("a")), Op: FieldNotEquals, Values: []string{""}}}},
		{in: "a=,b!=", want: []FieldRequirement{
			{Path: fsPath(fsSeg("a")), Op: FieldEquals, Values: []string{""}},
			{Path: fsPath(fsSeg("b")), Op: FieldNotEquals, Values: []string{""}},
		}},
		{in: "a", want: []FieldRequirement{{Path: fsPath(fsSeg("a")), Op: FieldExists}}},
		{in: "!a", want: []FieldRequirement{{Path: fsPath(fsSeg("a")), Op: FieldNotExists}}},
		{in: "a,!b,c", want: []FieldRequirement{
			{Path: fsPath(fsSeg("a")), Op: FieldExists},
			{Path: fsPath(fsSeg("b")), Op: FieldNotExists},
			{Path: fsPath(fsSeg("c")), Op: FieldExists},
		}},
		{in: "a notin (b,a,b)", want: []FieldRequirement{{Path: fsPath(fsSeg("a")), Op: FieldNotIn, Values: []string{"a", "b"}}}, str: "a notin (a,b)"},
		{in: "a in (a,)", want: []FieldRequirement{{Path: fsPath(fsSeg("a")), Op: FieldIn, Values: []string{"", "a"}}}, str: "a in (,a)"},
		{in: "a in (,a)", want: []FieldRequirement{{Path: fsPath(fsSeg("a")), Op: FieldIn, Values: []string{"", "a"}}}},
		{in: "a in (a,,b)", want: []FieldRequirement{{Path: fsPath(fsSeg("a")), Op: FieldIn, Values: []string{"", "a", "b"}}}, str: "a in (,a,b)"},
		{in: "a in (,)", want: []FieldRequirement{{Path: fsPath(fsSeg("a")), Op: FieldIn, Values: []string{""}}}},
		{in: "a in (in,notin)", want: []FieldRequirement{{Path: fsPath(fsSeg("a")), Op: FieldIn, Values: []string{"in", "notin"}}}},
		{in: "a=in", want: []FieldRequirement{{Path: fsPath(fsSeg("a")), Op: FieldEquals, Values: []string{"in"}}}},
		{in: "a!=notin", want: []FieldRequirement{{Path: fsPath(fsSeg("a")), Op: FieldNotEquals, Values: []string{"notin"}}}},
		{in: "in=x", want: []FieldRequirement{{Path: fsPath(fsSeg("in")), Op: FieldEquals, Values: []string{"x"}}}},
		{in: "in in (x)", want: []FieldRequirement{{Path: fsPath(fsSeg("in")), Op: FieldIn, Values: []string{"x"}}}},
		{in: "notin", want: []FieldRequirement{{Path: fsPath(fsSeg("notin")), Op: FieldExists}}},
		{in: "!in", want: []FieldRequirement{{Path: fsPath(fsSeg("in")), Op: FieldNotExists}}},
		{in: "a=x/y:z;é", want: []FieldRequirement{{Path: fsPath(fsSeg("a")), Op: FieldEquals, Values: []string{"x/y:z;é"}}}},
		{in: "a='q'", want: []FieldRequirement{{Path: fsPath(fsSeg("a")), Op: FieldEquals, Values: []string{"'q'"}}}},
		// whitespace variants
		{in: "  metadata.name  =  x  ,  ! spec.a , b in ( x , y ) , c notin(z) ,d>1, e < 2 ,f== g, h !=i",
			want: []FieldRequirement{
				{Path: metaName, Op: FieldEquals, Values: []string{"x"}},
				{Path: fsPath(fsSeg("spec"), fsSeg("a")), Op: FieldNotExists},
				{Path: fsPath(fsSeg("b")), Op: FieldIn, Values: []string{"x", "y"}},
				{Path: fsPath(fsSeg("c")), Op: FieldNotIn, Values: []string{"z"}},
				{Path: fsPath(fsSeg("d")), Op: FieldGreater, Values: []string{"1"}},
				{Path: fsPath(fsSeg("e")), Op: FieldLess, Values: []string{"2"}},
				{Path: fsPath(fsSeg("f")), Op: FieldEquals, Values: []string{"g"}},
				{Path: fsPath(fsSeg("h")), Op: FieldNotEquals, Values: []string{"i"}},
			},
			str: "metadata.name=x,!spec.a,b in (x,y),c notin (z),d>1,e<2,f=g,h!=i"},
		{in: "\tmetadata.name\r\n==\nx", want: []FieldRequirement{{Path: metaName, Op: FieldEquals, Values: []string{"x"}}}, str: "metadata.name=x"},
		{in: "a= ,b", want: []FieldRequirement{
			{Path: fsPath(fsSeg("a")), Op: FieldEquals, Values: []string{""}},
			{Path: fsPath(fsSeg("b")), Op: FieldExists},
		}, str: "a=,b"},
		// path forms
		{in: `"a.b".c=1`, want: []FieldRequirement{{Path: fsPath(fsSeg("a.b"), fsSeg("c")), Op: FieldEquals, Values: []string{"1"}}}, str: "['a.b'].c=1"},
		{in: `['a.b']`, want: []FieldRequirement{{Path: fsPath(fsSeg("a.b")), Op: FieldExists}}},
		{in: `.['a.b']`, want: []FieldRequirement{{Path: fsPath(fsSeg("a.b")), Op: FieldExists}}, str: "['a.b']"},
		{in: `['a'].b`, want: []FieldRequirement{{Path: fsPath(fsSeg("a"), fsSeg("b")), Op: FieldExists}}, str: "a.b"},
		{in: `'a'.'b'`, want: []FieldRequirement{{Path: fsPath(fsSeg("a"), fsSeg("b")), Op: FieldExists}}, str: "a.b"},
		{in: `a.['b.c']`, want: []FieldRequirement{{Path: fsPath(fsSeg("a"), fsSeg("b.c")), Op: FieldExists}}, str: "a['b.c']"},
		{in: `a[0]['b.c']`, want: []FieldRequirement{{Path: fsPath(fsAt("a", 0), fsSeg("b.c")), Op: FieldExists}}},
		{in: `a[]."b.c"`, want: []FieldRequirement{{Path: fsPath(fsAny("a"), fsSeg("b.c")), Op: FieldExists}}, str: "a[]['b.c']"},
		{in: `'a.b'[2].c`, want: []FieldRequirement{{Path: fsPath(fsAt("a.b", 2), fsSeg("c")), Op: FieldExists}}, str: "['a.b'][2].c"},
		{in: `['a.b'][].c`, want: []FieldRequirement{{Path: fsPath(fsAny("a.b"), fsSeg("c")), Op: FieldExists}}},
		{in: `a[007].b`, want: []FieldRequirement{{Path: fsPath(fsAt("a", 7), fsSeg("b")), Op: FieldExists}}, str: "a[7].b"},
		{in: `a.x/y`, want: []FieldRequirement{{Path: fsPath(fsSeg("a"), fsSeg("x/y")), Op: FieldExists}}},
		{in: `a.b/c.d`, want: []FieldRequirement{{Path: fsPath(fsSeg("a"), fsSeg("b/c"), fsSeg("d")), Op: FieldExists}}},
		{in: `A_b-c.0.9z=1`, want: []FieldRequirement{{Path: fsPath(fsSeg("A_b-c"), fsSeg("0"), fsSeg("9z")), Op: FieldEquals, Values: []string{"1"}}}},
		{in: `a.` + strings.Repeat("x", 63), want: []FieldRequirement{{Path: fsPath(fsSeg("a"), fsSeg(strings.Repeat("x", 63))), Op: FieldExists}}},
	}
	for _, tt := range tests {
		got, err := ParseFieldSelector(tt.in)
		if err != nil {
			t.Errorf("ParseFieldSelector(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseFieldSelector(%q)\n got %#v\nwant %#v", tt.in, got, tt.want)
			continue
		}
		var strs []string
		for _, r := range got {
			if err := r.Validate(); err != nil {
				t.Errorf("ParseFieldSelector(%q): %s does not validate: %v", tt.in, r, err)
			}
			strs = append(strs, r.String())
			back, err := ParseFieldSelector(r.String())
			if err != nil || len(back) != 1 || !reflect.DeepEqual(back[0], r) {
				t.Errorf("round trip of %q via %q: got %#v, %v", tt.in, r.String(), back, err)
			}
		}
		wantStr := tt.str
		if wantStr == "" && tt.want != nil {
			wantStr = tt.in
		}
		if s := strings.Join(strs, ","); s != wantStr {
			t.Errorf("String of %q = %q, want %q", tt.in, s, wantStr)
		}
	}
}

func TestParseFieldSelectorErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		// structure
		{",", `found ","`},
		{",a", `found ","`},
		{"a,", "trailing ','"},
		{"a=b,", "trailing ','"},
		{"a,,b", "found \",\""},
		{"a, ,b", "found \",\""},
		{"=a", `found "="`},
		{"!", "found end of string, expected a field path"},
		{"!!a", `found "!"`},
		{"!=a", `found "!="`},
		{"!a=b", `expected ',' or end of string`},
		{"!a in (b)", `expected ',' or end of string`},
		{"a=b=c", `found "=", expected ',' or end of string`},
		{"a=b c", `found "c", expected ','`},
		{"(a)", `found "("`},
		// operators
		{"a b", `unknown operator "b"`},
		{"a ~ b", `unknown operator "~"`},
		{"a!b", `unknown operator "!"`},
		{"a(b)", `unknown operator "("`},
		{"a)", `unknown operator ")"`},
		{"a===b", `found "=", expected a value`},
		{"a=!b", `found "!", expected a value`},
		{"a>=1", `found "=", expected a value`},
		{"a<>1", `found ">", expected a value`},
		{"a=(b)", `found "(", expected a value`},
		// values
		{"a>", "missing value"},
		{"a<,b", "missing value"},
		{"a>1.5", `"1.5" is not an integer`},
		{"a>x", `"x" is not an integer`},
		{"a<1e3", "not an integer"},
		{"a>9223372036854775808", "not an integer"},
		{"a in", "expected '('"},
		{"a in b", `found "b", expected '('`},
		{"a notin", "expected '('"},
		{"a in ()", "missing value"},
		{"a notin ( )", "missing value"},
		{"a in (b", "missing ')'"},
		{"a in (b,", "missing ')'"},
		{"a in (b c)", `found "c", expected ',' or ')'`},
		{"a in (b))", `found ")", expected ',' or end of string`},
		{"a in ((b))", `found "(", expected ',' or ')'`},
		{"a in (b=c)", `found "=", expected ',' or ')'`},
		// paths
		{".", "empty field path"},
		{".=x", "empty field path"},
		{"..a", "empty segment"},
		{"a..b", "empty segment"},
		{"a.", "empty segment after trailing '.'"},
		{".a.", "empty segment after trailing '.'"},
		{"''", "empty segment"},
		{`""`, "empty segment"},
		{"['']", "empty segment"},
		{"a.''.b", "empty segment"},
		{"metadata.annotations['test.io=v", "unbalanced quote '"},
		{"metadata.annotations['test.io]=v", "unbalanced quote '"},
		{"metadata.annotations['test.io'=v", "expected ']' after the quoted name"},
		{`metadata.annotations["test.io']=v`, `unbalanced quote "`},
		{"metadata.annotations.'test.io=v", "unbalanced quote '"},
		{`a."b`, `unbalanced quote "`},
		{"a['b'c]", "expected ']' after the quoted name"},
		{"'a'b", `unexpected 'b'`},
		{"'a'['b'", "expected ']'"},
		{"a'b'", "unexpected quote '"},
		{"a]", "unbalanced ']'"},
		{"a.]", "unbalanced ']'"},
		{"a[0", "unbalanced '['"},
		{"a[", "unbalanced '['"},
		{"a[.b", "unbalanced '['"},
		{"a[x].b", "invalid list index [x]"},
		{"a[-1].b", "invalid list index [-1]"},
		{"a[+1].b", "invalid list index [+1]"},
		{"a[1.5].b", "invalid list index [1.5]"},
		{"a[ 1].b", "unbalanced '['"}, // the lexer splits at the space
		{"a[99999999999999999999].b", "invalid list index"},
		{"a[]", `the last segment "a" cannot be a list`},
		{"a.b[0]=x", `the last segment "b" cannot be a list`},
		{"!a[]", "cannot be a list"},
		{"a[][].b", "more than one list index"},
		{"a[0][1].b", "more than one list index"},
		{"[]", "without a field before it"},
		{"[0].a", "without a field before it"},
		{".[].a", "without a field before it"},
		{"a.[].b", "after '.', expected a field"},
		{"a.[0].b", "after '.', expected a field"},
		// qualified names
		{"a.-b=1", `invalid segment "-b"`},
		{"a.b_=1", `invalid segment "b_"`},
		{"a.x/y/z", `invalid segment "x/y/z"`},
		{"a.'/b'", `invalid segment "/b"`},
		{"a['b/']", `invalid segment "b/"`},
		{"a['-x.io/b']", `invalid segment "-x.io/b"`},
		{"a.é", `invalid segment "é"`},
		{"a." + strings.Repeat("x", 64), "must be no more than 63 characters"},
		{"a;b=1", `invalid segment "a;b"`},
	}
	for _, tt := range tests {
		got, err := ParseFieldSelector(tt.in)
		if err == nil {
			t.Errorf("ParseFieldSelector(%q) = %v, want error containing %q", tt.in, got, tt.want)
			continue
		}
		var iq *InvalidQueryError
		if !errors.As(err, &iq) || iq.Field != "fieldSelector" {
			t.Errorf("ParseFieldSelector(%q): error %#v is not an InvalidQueryError for fieldSelector", tt.in, err)
			continue
		}
		if !strings.Contains(iq.Reason, tt.want) {
			t.Errorf("ParseFieldSelector(%q): error %q, want it to contain %q", tt.in, iq.Reason, tt.want)
		}
		if got != nil {
			t.Errorf("ParseFieldSelector(%q): non-nil result %v with error", tt.in, got)
		}
	}
}

func TestFieldRequirementValidate(t *testing.T) {
	p := fsPath(fsSeg("spec"), fsSeg("replicas"))
	ok := []FieldRequirement{
		{Path: p, Op: FieldEquals, Values: []string{""}},
		{Path: p, Op: FieldNotEquals, Values: []string{"x y"}},
		{Path: p, Op: FieldIn, Values: []string{"b", "a"}},
		{Path: p, Op: FieldNotIn, Values: []string{""}},
		{Path: p, Op: FieldExists},
		{Path: p, Op: FieldNotExists, Values: []string{}},
		{Path: p, Op: FieldGreater, Values: []string{"-5"}},
		{Path: p, Op: FieldLess, Values: []string{"+5"}},
		{Path: fsPath(fsAny("a"), fsAt("b", 3), fsSeg("example.com/c.d")), Op: FieldExists},
	}
	for _, r := range ok {
		if err := r.Validate(); err != nil {
			t.Errorf("Validate(%#v): %v", r, err)
		}
	}
	bad := []struct {
		r    FieldRequirement
		want string
	}{
		{FieldRequirement{Op: FieldExists}, "empty field path"},
		{FieldRequirement{Path: []FieldSegment{}, Op: FieldExists}, "empty field path"},
		{FieldRequirement{Path: fsPath(fsSeg("a"), fsSeg("")), Op: FieldExists}, "empty segment"},
		{FieldRequirement{Path: fsPath(fsSeg("a b")), Op: FieldExists}, `invalid segment "a b"`},
		{FieldRequirement{Path: fsPath(fsSeg("a"), fsAny("b")), Op: FieldExists}, `last segment "b" cannot be a list`},
		{FieldRequirement{Path: fsPath(fsAt("b", 0)), Op: FieldExists}, `last segment "b" cannot be a list`},
		{FieldRequirement{Path: p, Op: FieldEquals}, "exactly one value, got 0"},
		{FieldRequirement{Path: p, Op: FieldEquals, Values: []string{"a", "b"}}, "exactly one value, got 2"},
		{FieldRequirement{Path: p, Op: FieldNotEquals}, "exactly one value"},
		{FieldRequirement{Path: p, Op: FieldIn}, "at least one value"},
		{FieldRequirement{Path: p, Op: FieldNotIn, Values: []string{}}, "at least one value"},
		{FieldRequirement{Path: p, Op: FieldExists, Values: []string{"a"}}, "takes no values"},
		{FieldRequirement{Path: p, Op: FieldNotExists, Values: []string{""}}, "takes no values"},
		{FieldRequirement{Path: p, Op: FieldGreater}, "exactly one value"},
		{FieldRequirement{Path: p, Op: FieldLess, Values: []string{"1", "2"}}, "exactly one value"},
		{FieldRequirement{Path: p, Op: FieldGreater, Values: []string{"1.0"}}, "not an integer"},
		{FieldRequirement{Path: p, Op: FieldLess, Values: []string{""}}, "not an integer"},
		{FieldRequirement{Path: p, Op: "=="}, `unknown operator "=="`},
		{FieldRequirement{Path: p, Op: ""}, `unknown operator ""`},
		{FieldRequirement{Path: p, Op: "gt"}, `unknown operator "gt"`},
	}
	for _, tt := range bad {
		err := tt.r.Validate()
		var iq *InvalidQueryError
		if !errors.As(err, &iq) || iq.Field != "fieldSelector" {
			t.Errorf("Validate(%#v) = %v, want an InvalidQueryError for fieldSelector", tt.r, err)
			continue
		}
		if !IsInvalidQuery(err) || !strings.Contains(iq.Reason, tt.want) {
			t.Errorf("Validate(%#v) = %q, want it to contain %q", tt.r, iq.Reason, tt.want)
		}
	}
}

func TestFieldRequirementString(t *testing.T) {
	tests := []struct {
		r    FieldRequirement
		want string
	}{
		{FieldRequirement{Path: fsPath(fsSeg("a")), Op: FieldIn, Values: []string{"c", "a", "c", "b"}}, "a in (a,b,c)"},
		{FieldRequirement{Path: fsPath(fsSeg("a")), Op: FieldNotIn, Values: []string{"", ""}}, "a notin (,)"},
		{FieldRequirement{Path: fsPath(fsAny("a"), fsSeg("b.c"), fsAt("d", 4), fsSeg("e")), Op: FieldNotExists}, "!a[]['b.c'].d[4].e"},
		{FieldRequirement{Path: fsPath(fsSeg("a.b")), Op: FieldEquals, Values: []string{"1"}}, "['a.b']=1"},
		{FieldRequirement{Path: fsPath(fsSeg("a"), fsSeg("it's")), Op: FieldExists}, `a["it's"]`},
		{FieldRequirement{Path: fsPath(fsSeg("a")), Op: FieldGreater, Values: []string{"10"}}, "a>10"},
		{FieldRequirement{Path: fsPath(fsSeg("a")), Op: FieldLess, Values: []string{"-10"}}, "a<-10"},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("String(%#v) = %q, want %q", tt.r, got, tt.want)
		}
	}
	// String must not reorder the caller's values.
	vals := []string{"b", "a"}
	_ = FieldRequirement{Path: fsPath(fsSeg("a")), Op: FieldIn, Values: vals}.String()
	if vals[0] != "b" {
		t.Errorf("String modified Values")
	}
}

func FuzzParseFieldSelector(f *testing.F) {
	for _, s := range []string{
		"", "metadata.name=x", ".metadata.annotations['test.io']=v", "metadata.annotations.'test.io'==value1",
		"spec.containers[].name!=c1", ".spec.containers[1].name in (c1,c2)", "!metadata.annotations['test.io']",
		"status.phase=Running,spec.nodeName=node-1", "metadata.annotations['shadow.clusterpedia.io/cluster-name']=c1",
		"spec.replicas>2", "a<-3", "a in (,)", "a notin (x,,y)", "a['b'", "a[0", "a..b", "a,", "in in (in)",
		`"a.b"[3]["c.d"].e`, "a>1.5", "a[99999999999999999999].b", " ! a , b = c ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		reqs, err := ParseFieldSelector(s)
		if err != nil {
			if !IsInvalidQuery(err) {
				t.Fatalf("ParseFieldSelector(%q): error %v is not an InvalidQueryError", s, err)
			}
			if reqs != nil {
				t.Fatalf("ParseFieldSelector(%q): result with error", s)
			}
			return
		}
		var strs []string
		for _, r := range reqs {
			if err := r.Validate(); err != nil {
				t.Fatalf("ParseFieldSelector(%q): %#v does not validate: %v", s, r, err)
			}
			back, err := ParseFieldSelector(r.String())
			if err != nil || len(back) != 1 || !reflect.DeepEqual(back[0], r) {
				t.Fatalf("ParseFieldSelector(%q): %#v -> %q -> %#v, %v", s, r, r.String(), back, err)
			}
			strs = append(strs, r.String())
		}
		all, err := ParseFieldSelector(strings.Join(strs, ","))
		if err != nil || !reflect.DeepEqual(all, reqs) {
			t.Fatalf("ParseFieldSelector(%q): joined round trip %q -> %#v, %v", s, strings.Join(strs, ","), all, err)
		}
	})
}
