package index

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The model test checks the engine against an independent brute-force implementation of
// the documented query semantics: filter every object, sort with sort.SliceStable by the
// order keys plus the identity tie-breaker, page by offset/limit; then follows the engine's
// continue tokens to the end. Objects, queries and writes are random (fixed seeds).
//
// Owner graphs are layered (an object's owners are one level above it in its cluster), so
// every ownership path between two objects has the same length; path-length questions are
// covered by TestListOwnerSeniorityMultiplePathLengths.

var (
	modelClusters   = []string{"c1", "c10", "c2"}
	modelGVRs       = []GVR{gvrPods, gvrPodsX, gvrDeploy, gvrRS, gvrNS, gvrWidgetV1, gvrWidgetV2}
	modelNamespaces = []string{"a", "ab", "b", "kube-system"}
	modelNames      = []string{"web", "web-1", "web-2", "api", "api-1", "db", "we", "b", "x-web", "a"}
	modelLabelKeys  = []string{"app", "tier", "v", "fe", "web", "team"}
	modelLabelVals  = []string{"web", "fe", "api", "1", "9", "10", "x", ""}
	modelKinds      = map[string]string{"pods": "Pod", "podsx": "PodX", "deployments": "Deployment", "replicasets": "ReplicaSet", "namespaces": "Namespace", "widgets": "Widget"}
)

type mobj struct {
	r     *Record
	doc   any // the object's JSON decoded with UseNumber, for the field-selector oracle
	level int
}

type model struct {
	t    testing.TB
	rng  *rand.Rand
	s    *Store
	objs map[Key]*mobj
	used map[string]bool // cluster + "/" + uid
	seq  int
	kc   []Key // cached keys(), nil after a write
	// ambiguous counts the owner queries checked only for inclusion.
	ambiguous int
	// nonEmpty, pages and invalid describe the queries checked (the test is not vacuous).
	nonEmpty, pages, invalid int
}

func newModel(t testing.TB, seed int64) *model {
	return &model{t: t, rng: rand.New(rand.NewSource(seed)), s: newStore(t, Options{}), objs: map[Key]*mobj{}, used: map[string]bool{}}
}

func (m *model) pick(list []string) string { return list[m.rng.Intn(len(list))] }

func (m *model) subset(list []string, max int) []string {
	n := 1 + m.rng.Intn(max)
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, m.pick(list))
	}
	return out
}

func decodeDoc(b []byte) any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		panic(err)
	}
	return v
}

// ownersFor picks 0..2 owners of the level above in the cluster (some not stored).
func (m *model) ownersFor(cluster string, level int, byLevel map[string][][]*mobj) []OwnerRef {
	if level == 0 {
		if m.rng.Intn(20) == 0 { // an owner that is not stored, used only at this level
			return []OwnerRef{own("Ghost", "ghost", fmt.Sprintf("ghost-0-%d", m.rng.Intn(3)), false)}
		}
		return nil
	}
	var out []OwnerRef
	var cands []*mobj
	if l := byLevel[cluster]; l != nil {
		cands = l[level-1]
	}
	for i, n := 0, m.rng.Intn(3); i < n; i++ {
		switch k := m.rng.Intn(20); {
		case k == 0:
			out = append(out, own("Ghost", "ghost", fmt.Sprintf("ghost-%d-%d", level, m.rng.Intn(3)), m.rng.Intn(2) == 0))
		case k == 1:
			out = append(out, own("NoUID", "nouid", "", false))
		case len(cands) > 0:
			o := cands[m.rng.Intn(len(cands))]
			if o.r.UID != "" {
				out = append(out, OwnerRef{APIVersion: o.r.GVR.Group + "/" + o.r.GVR.Version, Kind: o.r.Kind, Name: o.r.Name, UID: o.r.UID, Controller: i == 0})
			}
		}
	}
	return out
}

func (m *model) byLevel() map[string][][]*mobj {
	out := map[string][][]*mobj{}
	for _, o := range m.objs {
		if out[o.r.Cluster] == nil {
			out[o.r.Cluster] = make([][]*mobj, 4)
		}
		out[o.r.Cluster][o.level] = append(out[o.r.Cluster][o.level], o)
	}
	for _, l := range out {
		for _, s := range l {
			sort.Slice(s, func(i, j int) bool { return testIdentityLess(s[i].r, s[j].r) })
		}
	}
	return out
}

// body fills the random, queryable parts of an object.
func (m *model) body(o *ob) {
	o.labels = nil
	if m.rng.Intn(8) != 0 {
		o.labels = map[string]string{}
		for i, n := 0, m.rng.Intn(4); i < n; i++ {
			o.labels[m.pick(modelLabelKeys)] = m.pick(modelLabelVals)
		}
	}
	o.created = time.Time{}
	if m.rng.Intn(20) != 0 {
		o.created = sec(m.rng.Intn(30))
	}
	switch k := m.rng.Intn(25); {
	case k == 0:
		o.rv = ""
	case k == 1:
		o.rv = "abc"
	case k == 2:
		o.rv = "007"
	case k == 3:
		o.rv = "18446744073709551616" // beyond uint64: not a number
	default:
		o.rv = strconv.Itoa(1 + m.rng.Intn(300))
	}
	o.annotations = nil
	if m.rng.Intn(3) == 0 {
		o.annotations = map[string]string{"a.b/c": m.pick([]string{"x", "y", ""})}
	}
	o.spec, o.status = map[string]any{}, map[string]any{}
	if k := m.rng.Intn(4); k < 2 {
		o.spec["nodeName"] = []string{"n1", "n2"}[k]
	} else if k == 2 {
		o.spec["nodeName"] = nil
	}
	if m.rng.Intn(2) == 0 {
		o.spec["replicas"] = m.rng.Intn(6)
	}
	if m.rng.Intn(3) == 0 {
		o.spec["paused"] = m.rng.Intn(2) == 0
	}
	if n := m.rng.Intn(4); n > 0 {
		var cs []any
		for i := 0; i < n; i++ {
			cs = append(cs, map[string]any{"name": m.pick([]string{"nginx", "app", "sidecar"}), "image": m.pick([]string{"nginx:1", "app:2", "envoy:1"})})
		}
		o.spec["containers"] = cs
	}
	if k := m.rng.Intn(4); k < 3 {
		o.status["phase"] = []string{"Running", "Pending", "Failed"}[k]
	}
	if m.rng.Intn(3) == 0 {
		o.status["count"] = strconv.Itoa(m.rng.Intn(10)) // a number written as a string
	}
}

func (m *model) put(o ob, level int, create bool) {
	r := o.record(m.t)
	mo := &mobj{r: r, doc: decodeDoc(r.Object), level: level}
	var err error
	if create {
		err = m.s.Create(r)
	} else {
		err = m.s.Update(r)
	}
	if err != nil {
		m.t.Fatalf("write %v: %v", r.Key(), err)
	}
	m.objs[r.Key()] = mo
	m.kc = nil
	if r.UID != "" {
		m.used[r.Cluster+"/"+r.UID] = true
	}
}

func (m *model) newUID(cluster string) string {
	for {
		m.seq++
		u := fmt.Sprintf("u%d", m.seq)
		if !m.used[cluster+"/"+u] {
			return u
		}
	}
}

// create adds n random objects; levels are assigned in blocks so owners exist.
func (m *model) create(n int) {
	var bl map[string][][]*mobj
	for done, iter := 0, 0; done < n; iter++ {
		if iter%50 == 0 {
			bl = m.byLevel()
		}
		level := m.rng.Intn(4)
		c := m.pick(modelClusters)
		g := modelGVRs[m.rng.Intn(len(modelGVRs))]
		o := ob{cluster: c, gvr: g, kind: modelKinds[g.Resource]}
		if g != gvrNS {
			o.ns = m.pick(modelNamespaces)
		}
		o.name = m.pick(modelNames)
		if m.rng.Intn(2) == 0 {
			o.name += "-" + strconv.Itoa(m.rng.Intn(60))
		}
		if _, dup := m.objs[Key{c, g, o.ns, o.name}]; dup {
			continue
		}
		switch k := m.rng.Intn(30); {
		case k == 0:
			o.uid = "" // no UID: never an owner
		case k < 4: // the UID of an object of another cluster
			var other []*mobj
			for _, cl := range modelClusters {
				if cl != c && len(bl[cl]) > level {
					other = append(other, bl[cl][level]...)
				}
			}
			if len(other) > 0 {
				if u := other[m.rng.Intn(len(other))].r.UID; u != "" && !m.used[c+"/"+u] {
					o.uid = u
					break
				}
			}
			o.uid = m.newUID(c)
		default:
			o.uid = m.newUID(c)
		}
		o.owners = m.ownersFor(c, level, bl)
		m.body(&o)
		m.put(o, level, true)
		done++
		// A CRD object stored at both versions shares its UID (and owners).
		if g == gvrWidgetV1 && m.rng.Intn(3) == 0 {
			o2 := o
			o2.gvr = gvrWidgetV2
			if _, dup := m.objs[Key{c, gvrWidgetV2, o.ns, o.name}]; !dup {
				m.body(&o2)
				m.put(o2, level, true)
				done++
			}
		}
	}
}

func (m *model) keys() []Key {
	if m.kc != nil {
		return m.kc
	}
	out := make([]Key, 0, len(m.objs))
	for k := range m.objs {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return lessKey(out[i], out[j]) })
	m.kc = out
	return out
}

func lessKey(a, b Key) bool {
	return lessStrings([]string{a.Cluster, a.GVR.Group, a.GVR.Version, a.GVR.Resource, a.Namespace, a.Name},
		[]string{b.Cluster, b.GVR.Group, b.GVR.Version, b.GVR.Resource, b.Namespace, b.Name})
}

// mutate applies random updates, deletes, creates and cleans, mirrored in the model.
func (m *model) mutate(n int) {
	bl := m.byLevel()
	keys := append([]Key(nil), m.keys()...)
	for i := 0; i < n && len(keys) > 0; i++ {
		k := keys[m.rng.Intn(len(keys))]
		cur, ok := m.objs[k]
		if !ok {
			continue
		}
		switch op := m.rng.Intn(10); {
		case op < 6: // update: new body and owners, usually the same UID
			o := ob{cluster: k.Cluster, gvr: k.GVR, kind: cur.r.Kind, ns: k.Namespace, name: k.Name, uid: cur.r.UID}
			if m.rng.Intn(10) == 0 {
				o.uid = m.newUID(k.Cluster)
			}
			o.owners = m.ownersFor(k.Cluster, cur.level, bl)
			m.body(&o)
			m.put(o, cur.level, false)
		case op < 9:
			ok, err := m.s.Delete(k)
			if err != nil || !ok {
				m.t.Fatalf("delete %v: %v %v", k, ok, err)
			}
			delete(m.objs, k)
			m.kc = nil
		default:
			if m.rng.Intn(4) != 0 {
				continue
			}
			want := 0
			for kk := range m.objs {
				if kk.Cluster == k.Cluster && kk.GVR == k.GVR {
					delete(m.objs, kk)
					m.kc = nil
					want++
				}
			}
			n, err := m.s.CleanResource(k.Cluster, k.GVR)
			if err != nil || n != want {
				m.t.Fatalf("CleanResource(%s, %s) = %d, %v; model has %d", k.Cluster, k.GVR, n, err, want)
			}
		}
	}
	m.create(n / 2)
}

// ---- the oracle ----

var (
	modelLabelSelectors = []string{"app=web", "app!=web", "app in (web,api)", "app notin (web)", "fe", "!fe", "web", "v>5", "v<10",
		"tier=fe,app=web", "app=", "team!=x,v", "app in (web,fe),tier notin (api)", "app==api", "!app,!tier"}
	modelFieldSelectors = []string{"status.phase=Running", "status.phase!=Running", "status.phase in (Pending,Failed)", "status.phase notin (Running)",
		"status.phase", "!status.phase", "spec.nodeName=n1", "spec.nodeName!=n2", "!spec.nodeName", "spec.nodeName", "spec.replicas>2",
		"spec.replicas<1", "spec.replicas=3", "spec.paused=true", "spec.paused!=false", "metadata.annotations['a.b/c']=x",
		"metadata.annotations.'a.b/c'", "spec.containers[].image=nginx:1", "spec.containers[].name!=sidecar", "spec.containers[0].name=app",
		"spec.containers[2].image", "!spec.containers[].image", "status.count>4", "status.count<5", "metadata.name=web-1",
		"metadata.labels.app=web", "metadata.namespace=a", "kind=Pod", ".metadata.uid", "status.phase=Running,spec.nodeName=n1",
		"metadata.resourceVersion in (007,abc)", "metadata.creationTimestamp"}
	modelFuzzy = []string{"we", "-1", "b", "eb", "web-", "1"}
)

func oracleField(req FieldRequirement, doc any) bool {
	vals := jpRefValues(doc, req.Path) // the reference walker of jsonpath_test.go
	in := func() bool {
		for _, v := range vals {
			for _, w := range req.Values {
				if v == w {
					return true
				}
			}
		}
		return false
	}
	cmp := func(gt bool) bool {
		n, _ := strconv.ParseInt(req.Values[0], 10, 64)
		for _, v := range vals {
			if x, err := strconv.ParseInt(v, 10, 64); err == nil && ((gt && x > n) || (!gt && x < n)) {
				return true
			}
		}
		return false
	}
	switch req.Op {
	case FieldEquals, FieldIn:
		return in()
	case FieldNotEquals, FieldNotIn:
		return !in()
	case FieldExists:
		return len(vals) > 0
	case FieldNotExists:
		return len(vals) == 0
	case FieldGreater:
		return cmp(true)
	case FieldLess:
		return cmp(false)
	}
	panic("oracle: op " + string(req.Op))
}

func setOf(list []string) map[string]bool {
	if len(list) == 0 {
		return nil
	}
	m := map[string]bool{}
	for _, s := range list {
		m[s] = true
	}
	return m
}

// oracleOwned returns the keys of the objects Seniority+1 generations below the owner, and
// whether the query is ambiguous: owners found by name at different levels of one cluster,
// so that one owner may be reachable from another and objects may lie at several distances
// from the owners. The engine then reports a subset (see
// TestListOwnerSeniorityMultiplePathLengths).
func (m *model) oracleOwned(q *Query) (map[Key]bool, bool) {
	ambiguous := false
	o := q.Owner
	clusters := q.Clusters
	if len(clusters) == 0 {
		seen := map[string]bool{}
		for k := range m.objs {
			if !seen[k.Cluster] {
				seen[k.Cluster] = true
				clusters = append(clusters, k.Cluster)
			}
		}
	}
	out := map[Key]bool{}
	for _, c := range clusters {
		level := map[string]bool{}
		if o.UID != "" {
			level[o.UID] = true
		} else {
			nss := setOf(o.Namespaces)
			rootLevel := -1
			for _, x := range m.objs {
				r := x.r
				if r.Cluster == c && r.Name == o.Name && r.UID != "" &&
					(!o.HasGR || (r.GVR.Group == o.Group && r.GVR.Resource == o.Resource)) &&
					(nss == nil || r.Namespace == "" || nss[r.Namespace]) {
					level[r.UID] = true
					if rootLevel >= 0 && rootLevel != x.level && o.Seniority > 0 {
						ambiguous = true
					}
					rootLevel = x.level
				}
			}
		}
		ownedBy := func(r *Record, set map[string]bool) bool {
			for _, ref := range r.Owners {
				if ref.UID != "" && set[ref.UID] {
					return true
				}
			}
			return false
		}
		for i := 0; i < o.Seniority; i++ {
			next := map[string]bool{}
			for _, x := range m.objs {
				if x.r.Cluster == c && x.r.UID != "" && ownedBy(x.r, level) {
					next[x.r.UID] = true
				}
			}
			level = next
		}
		for k, x := range m.objs {
			if k.Cluster == c && ownedBy(x.r, level) {
				out[k] = true
			}
		}
	}
	return out, ambiguous
}

// expected returns every match of q (ignoring limit and continue), in order, and whether
// the owner part of the query is ambiguous (see oracleOwned).
func (m *model) expected(q *Query) ([]*Record, bool) {
	clusters, nss, names := setOf(q.Clusters), setOf(q.Namespaces), setOf(q.Names)
	var owned map[Key]bool
	ambiguous := false
	if q.Owner != nil {
		owned, ambiguous = m.oracleOwned(q)
	}
	var out []*Record
	for k, x := range m.objs {
		r := x.r
		if clusters != nil && !clusters[r.Cluster] || nss != nil && !nss[r.Namespace] || names != nil && !names[r.Name] {
			continue
		}
		if len(q.Types) > 0 {
			ok := false
			for _, tm := range q.Types {
				ok = ok || ((tm.AnyGroup || tm.Group == r.GVR.Group) && (tm.Version == "" || tm.Version == r.GVR.Version) && (tm.Resource == "" || tm.Resource == r.GVR.Resource))
			}
			if !ok {
				continue
			}
		}
		if q.Labels != nil && !q.Labels.Matches(r.Labels) {
			continue
		}
		ok := true
		for _, f := range q.Fields {
			ok = ok && oracleField(f, x.doc)
		}
		for _, s := range q.FuzzyNames {
			ok = ok && strings.Contains(r.Name, s)
		}
		if q.Since != nil && (r.Created.IsZero() || r.Created.Before(*q.Since)) {
			ok = false
		}
		if q.Before != nil && (r.Created.IsZero() || !r.Created.Before(*q.Before)) {
			ok = false
		}
		if owned != nil && !owned[k] {
			ok = false
		}
		if ok {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return testIdentityLess(out[i], out[j]) })
	sort.SliceStable(out, func(i, j int) bool { return testCompare(q.OrderBy, out[i], out[j]) < 0 })
	return out, ambiguous
}

var modelOrderFields = []string{OrderCluster, OrderNamespace, OrderName, OrderCreatedAt, OrderResourceVersion, OrderGroup, OrderVersion, OrderResource, OrderKind, OrderUID}

func (m *model) query() Query {
	var q Query
	r := m.rng
	if r.Intn(10) < 3 {
		q.Types = [][]TypeMatch{
			{{Version: "v1", Resource: "pods"}}, {{Group: "apps"}}, {{AnyGroup: true, Resource: "widgets"}},
			{{Group: "example.com", Version: "v2"}}, {{Version: "v1", Resource: "pods"}, {Resource: "namespaces"}}, {{Group: ""}},
			{{Group: "apps", Version: "v1", Resource: "replicasets"}}, {{AnyGroup: true, Version: "v1"}},
		}[r.Intn(8)]
	}
	if r.Intn(10) < 3 {
		q.Clusters = m.subset(append(modelClusters, "c3"), 3)
	}
	if r.Intn(10) < 3 {
		q.Namespaces = m.subset(append(modelNamespaces, ""), 3)
	}
	if r.Intn(10) < 2 {
		names := append([]string(nil), modelNames...)
		for i := 0; i < 5; i++ {
			names = append(names, m.pick(modelNames)+"-"+strconv.Itoa(r.Intn(60)))
		}
		q.Names = m.subset(names, 4)
	}
	if r.Intn(10) < 3 {
		q.Labels = mustSelector(m.t, m.pick(modelLabelSelectors))
	}
	if r.Intn(10) < 3 {
		sel := m.pick(modelFieldSelectors)
		if r.Intn(3) == 0 {
			sel += "," + m.pick(modelFieldSelectors)
		}
		q.Fields = mustFields(m.t, sel)
	}
	if r.Intn(10) < 2 {
		q.FuzzyNames = m.subset(modelFuzzy, 2)
	}
	if r.Intn(10) < 2 {
		q.Since = tp(sec(r.Intn(32)))
	}
	if r.Intn(10) < 2 {
		q.Before = tp(sec(r.Intn(32)).Add(time.Duration(r.Intn(3)) * 500 * time.Millisecond))
	}
	if r.Intn(10) < 3 {
		o := &OwnerQuery{Seniority: r.Intn(4)}
		if r.Intn(2) == 0 {
			keys := m.keys()
			switch {
			case r.Intn(10) == 0:
				o.UID = fmt.Sprintf("ghost-%d-%d", r.Intn(4), r.Intn(3))
			case len(keys) > 0:
				o.UID = m.objs[keys[r.Intn(len(keys))]].r.UID
			}
			if o.UID == "" {
				o.UID = "nobody"
			}
		} else {
			o.Name = m.pick(modelNames)
			if r.Intn(2) == 0 {
				o.Name += "-" + strconv.Itoa(r.Intn(60))
			}
			if r.Intn(2) == 0 {
				g := modelGVRs[r.Intn(len(modelGVRs))]
				o.HasGR, o.Group, o.Resource = true, g.Group, g.Resource
			}
			if r.Intn(3) == 0 {
				o.Namespaces = m.subset(modelNamespaces, 2)
			}
		}
		q.Owner = o
	}
	if r.Intn(10) < 6 {
		for i, n := 0, 1+r.Intn(3); i < n; i++ {
			q.OrderBy = append(q.OrderBy, OrderBy{Field: m.pick(modelOrderFields), Desc: r.Intn(2) == 0})
		}
	}
	q.WithContinue = r.Intn(4) != 0
	q.WithRemainingCount = r.Intn(4) != 0
	return q
}

func describe(q *Query) string {
	s := fmt.Sprintf("types=%v clusters=%v ns=%v names=%v fuzzy=%v order=%v limit=%d continue=%q",
		q.Types, q.Clusters, q.Namespaces, q.Names, q.FuzzyNames, q.OrderBy, q.Limit, q.Continue)
	if q.Labels != nil {
		s += " labels=" + q.Labels.String()
	}
	for _, f := range q.Fields {
		s += " field=" + f.String()
	}
	if q.Since != nil {
		s += " since=" + q.Since.Format(time.RFC3339Nano)
	}
	if q.Before != nil {
		s += " before=" + q.Before.Format(time.RFC3339Nano)
	}
	if q.Owner != nil {
		s += fmt.Sprintf(" owner=%+v", *q.Owner)
	}
	return s
}

// check runs one random query and its continuation against the oracle.
func (m *model) check(q Query) {
	t := m.t
	v := m.s.View()
	invalid := q.Since != nil && q.Before != nil && q.Before.Before(*q.Since)
	all, ambiguous := m.expected(&q)
	n := len(all)
	_ = ambiguous // owner paths of different lengths are answered exactly (graph.Generation)
	// Limit and offset chosen from the expected size so a walk takes at most ~4 pages.
	switch k := m.rng.Intn(10); {
	case k < 2:
		q.Limit = 0
	case k < 4 && n <= 12:
		q.Limit = int64(1 + m.rng.Intn(3))
	default:
		q.Limit = int64(1 + n/3 + m.rng.Intn(n/3+1))
	}
	off := 0
	if m.rng.Intn(5) == 0 {
		off = m.rng.Intn(n + 3)
		q.Continue = strconv.Itoa(off)
	}
	res, err := v.List(&q)
	if invalid {
		m.invalid++
		if !IsInvalidQuery(err) {
			t.Fatalf("%s: want an invalid-query error, got %v", describe(&q), err)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: %v", describe(&q), err)
	}
	lo, hi := min(off, n), n
	if q.Limit > 0 {
		hi = min(off+int(q.Limit), n)
	}
	if got, want := keysOf(res.Items), keysOf(all[lo:hi]); !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %v\nwant %v", describe(&q), got, want)
	}
	rem := int64(n - hi)
	if q.WithRemainingCount != (res.RemainingCount != nil) || (res.RemainingCount != nil && *res.RemainingCount != rem) {
		t.Fatalf("%s: remaining count %v, want %d (asked: %v)", describe(&q), res.RemainingCount, rem, q.WithRemainingCount)
	}
	if wantTok := q.WithContinue && rem > 0; (res.Continue != "") != wantTok {
		t.Fatalf("%s: continue %q, want a token: %v (remaining %d)", describe(&q), res.Continue, wantTok, rem)
	}
	if n > 0 {
		m.nonEmpty++
	}
	// Follow the tokens to the end, on the same snapshot.
	got := append([]*Record(nil), res.Items...)
	for pages := 0; res.Continue != ""; pages++ {
		m.pages++
		if pages > n+1 {
			t.Fatalf("%s: paging does not terminate", describe(&q))
		}
		q.Continue = res.Continue
		if res, err = v.List(&q); err != nil {
			t.Fatalf("%s: %v", describe(&q), err)
		}
		got = append(got, res.Items...)
		rem := int64(n - lo - len(got))
		if res.RemainingCount != nil && *res.RemainingCount != rem {
			t.Fatalf("%s: page %d remaining %d, want %d", describe(&q), pages+1, *res.RemainingCount, rem)
		}
		if (res.Continue != "") != (rem > 0) {
			t.Fatalf("%s: page %d continue %q with %d remaining", describe(&q), pages+1, res.Continue, rem)
		}
	}
	if q.WithContinue {
		if g, w := keysOf(got), keysOf(all[lo:]); !reflect.DeepEqual(g, w) {
			t.Fatalf("%s: pages\n got %v\nwant %v", describe(&q), g, w)
		}
	}
}

func TestModel(t *testing.T) {
	for _, tc := range []struct {
		seed            int64
		objects, rounds int
		queries, writes int
	}{
		{seed: 1, objects: 1200, rounds: 2, queries: 100, writes: 300},
		{seed: 2, objects: 300, rounds: 5, queries: 100, writes: 60},
		{seed: 3, objects: 60, rounds: 12, queries: 80, writes: 20},
		{seed: 4, objects: 500, rounds: 3, queries: 70, writes: 250},
	} {
		t.Run(fmt.Sprintf("seed%d", tc.seed), func(t *testing.T) {
			m := newModel(t, tc.seed)
			m.create(tc.objects)
			for round := 0; round < tc.rounds; round++ {
				checkStats(t, m.s.View())
				if got, want := len(allKeys(m.s.View())), len(m.objs); got != want {
					t.Fatalf("round %d: store holds %d objects, model %d", round, got, want)
				}
				for i := 0; i < tc.queries; i++ {
					m.check(m.query())
				}
				m.mutate(tc.writes)
			}
			t.Logf("%d queries: %d with matches, %d continued pages, %d invalid; %d owner-by-name queries with owners at several levels checked for inclusion only",
				tc.rounds*tc.queries, m.nonEmpty, m.pages, m.invalid, m.ambiguous)
			if m.nonEmpty < tc.rounds*tc.queries/3 || m.pages < tc.rounds*tc.queries/10 {
				t.Fatalf("the random queries are too selective to test anything")
			}
		})
	}
}
