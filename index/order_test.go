package index

import (
	"encoding/base64"
	"fmt"
	"math/rand"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// pageWalk lists q page by page (limit per page) following continue tokens, checking
// every page's remaining count and token, and returns the concatenation.
func pageWalk(t testing.TB, list func(*Query) (*Result, error), q Query, limit int64) []*Record {
	t.Helper()
	q.Limit, q.WithContinue, q.WithRemainingCount, q.Continue = limit, true, true, ""
	full := q
	full.Limit, full.Continue = 0, ""
	all, err := list(&full)
	if err != nil {
		t.Fatalf("unlimited list: %v", err)
	}
	total := int64(len(all.Items))
	var out []*Record
	for page := 0; ; page++ {
		if page > int(total)+2 {
			t.Fatalf("paging does not terminate (%d pages for %d items)", page, total)
		}
		res, err := list(&q)
		if err != nil {
			t.Fatalf("page %d (continue %q): %v", page, q.Continue, err)
		}
		if int64(len(res.Items)) > limit {
			t.Fatalf("page %d has %d items, limit %d", page, len(res.Items), limit)
		}
		out = append(out, res.Items...)
		rem := total - int64(len(out))
		if res.RemainingCount == nil || *res.RemainingCount != rem {
			t.Fatalf("page %d: remaining count %v, want %d", page, res.RemainingCount, rem)
		}
		if (res.Continue != "") != (rem > 0) {
			t.Fatalf("page %d: continue %q with %d items remaining", page, res.Continue, rem)
		}
		if rem > 0 && int64(len(res.Items)) != limit {
			t.Fatalf("page %d is short (%d of %d) but %d items remain", page, len(res.Items), limit, rem)
		}
		if res.Continue == "" {
			break
		}
		q.Continue = res.Continue
	}
	if !reflect.DeepEqual(keysOf(out), keysOf(all.Items)) {
		t.Fatalf("pages differ from the unlimited list:\n pages %v\n  full %v", keysOf(out), keysOf(all.Items))
	}
	return out
}

var pagingOrders = [][]OrderBy{
	nil,
	{{Field: OrderName}},
	{{Field: OrderCreatedAt, Desc: true}},
	{{Field: OrderResourceVersion}},
	{{Field: OrderNamespace, Desc: true}, {Field: OrderName}},
	{{Field: OrderCluster, Desc: true}, {Field: OrderKind}, {Field: OrderUID, Desc: true}},
	{{Field: OrderCreatedAt}, {Field: OrderResourceVersion, Desc: true}},
}

func TestPagingKeysetTokens(t *testing.T) {
	f := newFixture(t)
	queries := map[string]Query{
		"all":                    {},
		"c1 pods":                {Clusters: []string{"c1"}, Types: []TypeMatch{{Version: "v1", Resource: "pods"}}},
		"namespaces":             {Namespaces: []string{"ns-a", "ns-b"}},
		"names (name index)":     {Names: []string{"web-1", "web", "ns-a"}},
		"names + namespaces":     {Names: []string{"web-1", "web", "web-2"}, Namespaces: []string{"ns-a", "ns-b"}},
		"owner":                  {Owner: &OwnerQuery{Name: "web", Seniority: 0}},
		"labels + fields":        {Labels: mustSelector(t, "app"), Fields: mustFields(t, "metadata.name!=web")},
		"clusters c2,c1 + since": {Clusters: []string{"c2", "c1"}, Since: tp(sec(1))},
	}
	for name, q := range queries {
		for _, order := range pagingOrders {
			for _, limit := range []int64{1, 2, 3, 4, 7, 100} {
				q := q
				q.OrderBy = order
				t.Run(fmt.Sprintf("%s/%v/%d", name, order, limit), func(t *testing.T) {
					pageWalk(t, f.s.List, q, limit)
				})
			}
		}
	}
}

func TestPagingNumericOffset(t *testing.T) {
	f := newFixture(t)
	for _, order := range pagingOrders {
		for _, base := range []Query{{}, {Names: []string{"web-1", "web"}}, {Owner: &OwnerQuery{UID: "d-web"}}, {Namespaces: []string{"ns-a"}}} {
			base.OrderBy = order
			all, err := f.s.List(&base)
			if err != nil {
				t.Fatal(err)
			}
			n := len(all.Items)
			for _, limit := range []int64{0, 1, 3} {
				for off := 0; off <= n+2; off++ {
					for _, cont := range []string{strconv.Itoa(off), " " + strconv.Itoa(off) + " "} {
						q := base
						q.Limit, q.Continue, q.WithContinue, q.WithRemainingCount = limit, cont, true, true
						res, err := f.s.List(&q)
						if err != nil {
							t.Fatalf("order %v offset %q: %v", order, cont, err)
						}
						lo, hi := min(off, n), n
						if limit > 0 {
							hi = min(off+int(limit), n)
						}
						want := keysOf(all.Items[lo:hi])
						if got := keysOf(res.Items); !reflect.DeepEqual(got, want) {
							t.Fatalf("order %v limit %d offset %d:\n got %v\nwant %v", order, limit, off, got, want)
						}
						rem := int64(n - hi)
						if *res.RemainingCount != rem {
							t.Fatalf("order %v limit %d offset %d: remaining %d, want %d", order, limit, off, *res.RemainingCount, rem)
						}
						if (res.Continue != "") != (rem > 0) {
							t.Fatalf("order %v limit %d offset %d: continue %q, remaining %d", order, limit, off, res.Continue, rem)
						}
						if res.Continue != "" { // the rest follows the token
							q.Continue, q.Limit = res.Continue, 0
							rest, err := f.s.List(&q)
							if err != nil {
								t.Fatal(err)
							}
							if got := keysOf(rest.Items); !reflect.DeepEqual(got, keysOf(all.Items[hi:])) {
								t.Fatalf("order %v after offset %d: rest %v", order, off, got)
							}
						}
					}
				}
			}
		}
	}
	// offset + limit beyond int64 must not wrap around.
	for _, order := range pagingOrders {
		all, _ := f.s.List(&Query{OrderBy: order})
		res, err := f.s.List(&Query{OrderBy: order, Continue: "3", Limit: 1<<63 - 1, WithContinue: true, WithRemainingCount: true})
		if err != nil || !reflect.DeepEqual(keysOf(res.Items), keysOf(all.Items[3:])) || *res.RemainingCount != 0 || res.Continue != "" {
			t.Fatalf("order %v, offset 3, limit MaxInt64: %v %v", order, res, err)
		}
	}
	// An offset beyond int64 is refused, not wrapped.
	if _, err := f.s.List(&Query{Continue: "99999999999999999999", Limit: 1}); !IsInvalidQuery(err) {
		t.Fatalf("huge offset: %v", err)
	}
	res, err := f.s.List(&Query{Continue: strconv.FormatInt(1<<63-1, 10), Limit: 5, WithRemainingCount: true, OrderBy: []OrderBy{{Field: OrderName}}})
	if err != nil || len(res.Items) != 0 || *res.RemainingCount != 0 {
		t.Fatalf("max offset: %v %v", res, err)
	}
}

func TestContinueOnlyWhenAskedAndMoreFollow(t *testing.T) {
	f := newFixture(t)
	n := int64(len(f.order))
	for _, order := range pagingOrders {
		for _, tc := range []struct {
			limit        int64
			withContinue bool
			wantToken    bool
		}{
			{2, false, false},
			{2, true, true},
			{n - 1, true, true},
			{n, true, false}, // last page exactly full: nothing follows
			{n + 1, true, false},
			{0, true, false},
			{-1, true, false},
		} {
			res, err := f.s.List(&Query{OrderBy: order, Limit: tc.limit, WithContinue: tc.withContinue})
			if err != nil {
				t.Fatal(err)
			}
			if (res.Continue != "") != tc.wantToken {
				t.Errorf("order %v limit %d withContinue %v: token %q", order, tc.limit, tc.withContinue, res.Continue)
			}
			if res.RemainingCount != nil {
				t.Errorf("remaining count without WithRemainingCount")
			}
			if want := min(n, tc.limit); tc.limit > 0 && int64(len(res.Items)) != want {
				t.Errorf("limit %d: %d items", tc.limit, len(res.Items))
			}
		}
	}
	// Nothing matches: no token even with a limit.
	res, err := f.s.List(&Query{Clusters: []string{"none"}, Limit: 1, WithContinue: true, WithRemainingCount: true})
	if err != nil || res.Continue != "" || *res.RemainingCount != 0 || len(res.Items) != 0 {
		t.Fatalf("empty result: %+v, %v", res, err)
	}
}

func TestContinueTokenBoundToOrder(t *testing.T) {
	f := newFixture(t)
	tokens := map[string]string{}
	for _, order := range pagingOrders {
		res, err := f.s.List(&Query{OrderBy: order, Limit: 2, WithContinue: true})
		if err != nil || res.Continue == "" {
			t.Fatalf("order %v: %v %v", order, res, err)
		}
		tokens[fmt.Sprint(order)] = res.Continue
	}
	for issued, tok := range tokens {
		for _, order := range append(pagingOrders, []OrderBy{{Field: OrderName, Desc: true}}, []OrderBy{{Field: OrderName}, {Field: OrderUID}}) {
			_, err := f.s.List(&Query{OrderBy: order, Limit: 2, Continue: tok})
			if same := fmt.Sprint(order) == issued; same != (err == nil) || (err != nil && !IsInvalidQuery(err)) {
				t.Errorf("token of orderby %s used with orderby %v: %v", issued, order, err)
			}
		}
	}
	// The same token works on every query path (stream, name index, owner) of that order.
	tok := tokens[fmt.Sprint([]OrderBy(nil))]
	for _, q := range []Query{{Names: []string{"web-1"}}, {Owner: &OwnerQuery{UID: "d-web"}}, {Namespaces: []string{"ns-a"}}} {
		q.Continue = tok
		if _, err := f.s.List(&q); err != nil {
			t.Errorf("%+v: %v", q, err)
		}
	}
}

func tokenOf(js string) string { return base64.RawURLEncoding.EncodeToString([]byte(js)) }

func TestContinueMalformed(t *testing.T) {
	f := newFixture(t)
	good, err := f.s.List(&Query{OrderBy: []OrderBy{{Field: OrderCreatedAt}}, Limit: 1, WithContinue: true})
	if err != nil {
		t.Fatal(err)
	}
	id := `["c1","","v1","pods","ns-a","web-1"]`
	for _, tc := range []struct {
		name  string
		tok   string
		order []OrderBy
	}{
		{"garbage", "not a token!", nil},
		{"percent", "%%%", nil},
		{"negative", "-1", nil},
		{"negative zero", "-0", nil},
		{"plus sign", "+5", nil},
		{"float", "1.5", nil},
		{"hex", "0x10", nil},
		{"offset overflow", "9223372036854775808", nil},
		{"padded base64", base64.URLEncoding.EncodeToString([]byte(`{"v":1,"o":"","k":[],"id":`+id+`}`)) + "==", nil},
		{"std base64", base64.StdEncoding.EncodeToString([]byte(`{"v":1,"o":"name","k":["??>"],"id":` + id + `}`)), []OrderBy{{Field: OrderName}}},
		{"not json", tokenOf("hello"), nil},
		{"json array", tokenOf(`[1,2]`), nil},
		{"json null", tokenOf(`null`), nil},
		{"empty object", tokenOf(`{}`), nil},
		{"wrong version", tokenOf(`{"v":2,"o":"","k":[],"id":` + id + `}`), nil},
		{"huge version", tokenOf(`{"v":1e400,"o":"","k":[],"id":` + id + `}`), nil},
		{"short identity", tokenOf(`{"v":1,"o":"","k":[],"id":["c1"]}`), nil},
		{"long identity", tokenOf(`{"v":1,"o":"","k":[],"id":["c1","","v1","pods","ns-a","web-1","x"]}`), nil},
		{"missing keys", tokenOf(`{"v":1,"o":"name","id":` + id + `}`), []OrderBy{{Field: OrderName}}},
		{"too many keys", tokenOf(`{"v":1,"o":"name","k":["a","b"],"id":` + id + `}`), []OrderBy{{Field: OrderName}}},
		{"bad time", tokenOf(`{"v":1,"o":"created_at","k":["yesterday"],"id":` + id + `}`), []OrderBy{{Field: OrderCreatedAt}}},
		{"wrong types", tokenOf(`{"v":"1","o":1,"k":{},"id":7}`), nil},
		{"other order", good.Continue, []OrderBy{{Field: OrderCreatedAt, Desc: true}}},
		{"truncated", good.Continue[:len(good.Continue)/2], []OrderBy{{Field: OrderCreatedAt}}},
		{"too long", strings.Repeat("A", 20<<10), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, q := range []Query{{}, {Names: []string{"web-1"}}, {Owner: &OwnerQuery{UID: "d-web"}}, {Namespaces: []string{"ns-a"}, Names: []string{"web-1"}}} {
				q.OrderBy, q.Continue, q.Limit, q.WithContinue = tc.order, tc.tok, 2, true
				res, err := f.s.List(&q)
				if !IsInvalidQuery(err) {
					t.Fatalf("continue %q: got %v, %v; want InvalidQueryError", tc.tok, res, err)
				}
			}
		})
	}
}

// A page walk with a keyset token while other objects are created and deleted between
// pages (before and after the cursor, including the cursor item itself): every object that
// exists throughout is listed exactly once, and the walk never goes backwards.
func TestPagingUnderWritesBetweenPages(t *testing.T) {
	for _, order := range [][]OrderBy{nil, {{Field: OrderCreatedAt, Desc: true}}, {{Field: OrderName}}, {{Field: OrderResourceVersion, Desc: true}, {Field: OrderNamespace}}} {
		for _, filtered := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/filtered=%v", order, filtered), func(t *testing.T) {
				rng := rand.New(rand.NewSource(7))
				s := newStore(t, Options{})
				clusters := []string{"c1", "c10", "c2"}
				mk := func(kind string, i int) *Record {
					c := clusters[rng.Intn(len(clusters))]
					ns := []string{"a", "b", "c"}[rng.Intn(3)]
					return ob{cluster: c, gvr: gvrPods, kind: "Pod", ns: ns, name: fmt.Sprintf("%s-%03d", kind, i),
						uid: fmt.Sprintf("%s%d", kind, i), rv: strconv.Itoa(rng.Intn(50)), created: sec(rng.Intn(40)),
						labels: map[string]string{"keep": strconv.FormatBool(kind == "keep")}}.record(t)
				}
				keep := map[string]bool{}
				for i := 0; i < 60; i++ {
					r := mk("keep", i)
					mustCreate(t, s, r)
					keep[keyString(r.Key())] = true
				}
				var temps []*Record
				nextTemp := 0
				for ; nextTemp < 40; nextTemp++ {
					r := mk("tmp", nextTemp)
					mustCreate(t, s, r)
					temps = append(temps, r)
				}
				q := Query{OrderBy: order, Limit: 4, WithContinue: true}
				if filtered {
					q.Namespaces = []string{"a", "b", "c"}
					q.Clusters = []string{"c1", "c10", "c2"}
				}
				seen := map[string]int{}
				var prev *Record
				cmpKeys := make([]OrderBy, len(order))
				copy(cmpKeys, order)
				for page := 0; page < 200; page++ {
					res, err := s.List(&q)
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range res.Items {
						seen[keyString(r.Key())]++
						if prev != nil && testCompare(cmpKeys, prev, r) >= 0 {
							t.Fatalf("walk went backwards: %v then %v", prev.Key(), r.Key())
						}
						prev = r
					}
					if res.Continue == "" {
						break
					}
					q.Continue = res.Continue
					// Writes between pages: delete the cursor item when it is a temp, delete
					// and create other temps anywhere in the order.
					last := res.Items[len(res.Items)-1]
					if !keep[keyString(last.Key())] {
						if ok, err := s.Delete(last.Key()); err != nil || !ok {
							t.Fatalf("delete cursor item: %v %v", ok, err)
						}
					}
					for j := 0; j < 3 && len(temps) > 0; j++ {
						k := rng.Intn(len(temps))
						if _, err := s.Delete(temps[k].Key()); err != nil {
							t.Fatal(err)
						}
						temps = append(temps[:k], temps[k+1:]...)
					}
					for j := 0; j < 3; j++ {
						r := mk("tmp", nextTemp)
						nextTemp++
						if err := s.Upsert(r); err != nil {
							t.Fatal(err)
						}
						temps = append(temps, r)
					}
				}
				for k := range keep {
					if seen[k] != 1 {
						t.Errorf("object %s listed %d times", k, seen[k])
					}
				}
				for k, n := range seen {
					if n != 1 {
						t.Errorf("object %s listed %d times", k, n)
					}
				}
			})
		}
	}
}

// The same property with a concurrent writer (run with -race).
func TestPagingUnderConcurrentWrites(t *testing.T) {
	s := newStore(t, Options{})
	keep := map[string]bool{}
	for i := 0; i < 80; i++ {
		r := ob{cluster: fmt.Sprintf("c%d", i%3), gvr: gvrPods, ns: "ns", name: fmt.Sprintf("keep-%02d", i), uid: fmt.Sprint(i),
			rv: strconv.Itoa(i % 7), created: sec(i % 11)}.record(t)
		mustCreate(t, s, r)
		keep[keyString(r.Key())] = true
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewSource(3))
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// A temp's position depends only on its key, so re-creating it never moves it.
			n := rng.Intn(40)
			r := ob{cluster: fmt.Sprintf("c%d", n%3), gvr: gvrPods, ns: "ns", name: fmt.Sprintf("tmp-%d", n),
				uid: "t", rv: strconv.Itoa(n % 9), created: sec(n % 12)}.record(t)
			if i%2 == 0 {
				_ = s.Upsert(r)
			} else {
				_, _ = s.Delete(r.Key())
			}
		}
	}()
	for round := 0; round < 20; round++ {
		for _, order := range [][]OrderBy{nil, {{Field: OrderCreatedAt, Desc: true}}} {
			q := Query{OrderBy: order, Limit: 5, WithContinue: true}
			seen := map[string]int{}
			for {
				res, err := s.List(&q)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range res.Items {
					seen[keyString(r.Key())]++
				}
				if res.Continue == "" {
					break
				}
				q.Continue = res.Continue
			}
			for k, n := range seen {
				if n != 1 {
					t.Fatalf("order %v: %s listed %d times", order, k, n)
				}
			}
			for k := range keep {
				if seen[k] != 1 {
					t.Fatalf("order %v: %s skipped", order, k)
				}
			}
		}
	}
	close(stop)
	wg.Wait()
}

// fuzzStore is a small fixed store for the fuzzers.
func fuzzStore(tb testing.TB) *Store {
	s := newStore(tb, Options{})
	for i := 0; i < 23; i++ {
		ns := []string{"", "a", "b"}[i%3]
		mustCreate(tb, s, ob{cluster: []string{"c1", "c10", "c2"}[i%3], gvr: []GVR{gvrPods, gvrDeploy, gvrWidgetV1, gvrWidgetV2}[i%4],
			ns: ns, name: fmt.Sprintf("n%d", i%9), uid: fmt.Sprint(i % 5), rv: strconv.Itoa((i * 7) % 13), created: sec(i % 4),
			owners: []OwnerRef{own("X", "o", fmt.Sprint((i+1)%5), i%2 == 0)}}.record(tb))
	}
	return s
}

var fuzzOrders = append(pagingOrders, []OrderBy{{Field: OrderUID}, {Field: OrderGroup, Desc: true}, {Field: OrderVersion}, {Field: OrderResource, Desc: true}})

func fuzzQuery(sel uint8) Query {
	q := Query{OrderBy: fuzzOrders[int(sel)%len(fuzzOrders)]}
	switch (sel / 16) % 4 {
	case 1:
		q.Names = []string{"n1", "n2", "n3"}
	case 2:
		q.Owner = &OwnerQuery{UID: "2"}
	case 3:
		q.Namespaces, q.Names = []string{"a", "b"}, []string{"n1", "n2", "n4", "n5"}
	}
	return q
}

func FuzzContinueToken(f *testing.F) {
	for _, seed := range []string{"", "0", "3", "007", " 5", "-1", "abc", "eyJ2IjoxfQ", "99999999999999999999",
		tokenOf(`{"v":1,"o":"","k":[],"id":["c1","","v1","pods","a","n1"]}`),
		tokenOf(`{"v":1,"o":"name","k":["n1"],"id":["c1","","v1","pods","a","n1"]}`),
		tokenOf(`{"v":1,"o":"created_at desc","k":["2024-01-01T00:00:02Z"],"id":["c1","","v1","pods","a","n1"]}`),
		tokenOf(`{"v":1,"o":"resource_version","k":["x\u0000"],"id":["c\u0000","","v1","pods","a","n1"]}`)} {
		f.Add(seed, uint8(0), uint8(2))
		f.Add(seed, uint8(1), uint8(0))
		f.Add(seed, uint8(2), uint8(1))
	}
	s := fuzzStore(f)
	f.Fuzz(func(t *testing.T, tok string, sel uint8, limit uint8) {
		q := fuzzQuery(sel)
		q.Continue, q.Limit, q.WithContinue, q.WithRemainingCount = tok, int64(limit%5), true, true
		res, err := s.List(&q)
		if err != nil {
			if !IsInvalidQuery(err) {
				t.Fatalf("continue %q: error %v is not an InvalidQueryError", tok, err)
			}
			return
		}
		if res.RemainingCount == nil || *res.RemainingCount < 0 {
			t.Fatalf("remaining count %v", res.RemainingCount)
		}
		if q.Limit > 0 && int64(len(res.Items)) > q.Limit {
			t.Fatalf("%d items over limit %d", len(res.Items), q.Limit)
		}
		trimmed := strings.TrimSpace(tok)
		if n, perr := strconv.ParseInt(trimmed, 10, 64); perr == nil && trimmed != "" && trimmed[0] >= '0' && trimmed[0] <= '9' {
			full := q
			full.Continue, full.Limit = "", 0
			all, err := s.List(&full)
			if err != nil {
				t.Fatal(err)
			}
			lo := min(n, int64(len(all.Items)))
			hi := int64(len(all.Items))
			if q.Limit > 0 {
				hi = min(lo+q.Limit, hi)
			}
			if !reflect.DeepEqual(keysOf(res.Items), keysOf(all.Items[lo:hi])) {
				t.Fatalf("offset %d: got %v, want %v", n, keysOf(res.Items), keysOf(all.Items[lo:hi]))
			}
		}
	})
}

// Tokens the engine issued round-trip: following them yields exactly the rest of the
// list; a token with one byte changed never panics and is either refused as an invalid
// query or accepted.
func FuzzContinueTokenRoundTrip(f *testing.F) {
	for i := 0; i < 8; i++ {
		f.Add(uint8(i*17), uint8(i%4+1), uint8(i*3), uint16(i*5), byte('A'+i))
	}
	s := fuzzStore(f)
	f.Fuzz(func(t *testing.T, sel, limit, page uint8, pos uint16, b byte) {
		q := fuzzQuery(sel)
		full := q
		all, err := s.List(&full)
		if err != nil {
			t.Fatal(err)
		}
		q.Limit, q.WithContinue, q.WithRemainingCount = int64(limit%6)+1, true, true
		var got []*Record
		tok := ""
		for p := 0; ; p++ {
			res, err := s.List(&q)
			if err != nil {
				t.Fatalf("page %d: %v", p, err)
			}
			got = append(got, res.Items...)
			if int64(len(all.Items)-len(got)) != *res.RemainingCount {
				t.Fatalf("page %d: remaining %d, want %d", p, *res.RemainingCount, len(all.Items)-len(got))
			}
			if p == int(page%8) && res.Continue != "" {
				tok = res.Continue
			}
			if res.Continue == "" {
				break
			}
			q.Continue = res.Continue
		}
		if !reflect.DeepEqual(keysOf(got), keysOf(all.Items)) {
			t.Fatalf("pages %v, full %v", keysOf(got), keysOf(all.Items))
		}
		if tok == "" {
			return
		}
		mut := []byte(tok)
		mut[int(pos)%len(mut)] = b
		q.Continue = string(mut)
		if _, err := s.List(&q); err != nil && !IsInvalidQuery(err) {
			t.Fatalf("mutated token %q: %v", mut, err)
		}
	})
}
