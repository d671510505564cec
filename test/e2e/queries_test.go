package e2e

// The queries the feature test asserts against memgraph and the differential
// test sends to memgraph and internalstorage alike. Expectations are computed
// from the fleet model (the member kube-apiservers' truth).

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

// CollectionsPath is the prefix of Clusterpedia's collection resources.
const CollectionsPath = "/apis/clusterpedia.io/v1beta1/collectionresources"

// Accept header of kubectl get.
const acceptTable = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"

// Accept header asking for metadata-only lists.
const acceptPartial = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"

// fq is one fleet query.
type fq struct {
	name   string
	path   string // from the server root, query included
	accept string // Accept header ("" = application/json)
	code   int    // memgraph's expected status (0 = 200)
	// want: the expected keys (cluster/ns/name, or kind/cluster/ns/name for
	// collections), sorted; nil = not checked.
	want []string
	// order: the expected keys in response order (a total order).
	order []string
	// sorted: the response must be ordered by this key (partial orders);
	// ties in any order.
	sorted func(o Object) string
	desc   bool
	// check: extra assertions on memgraph's response.
	check func(t testing.TB, r *response)
	// diff names the documented difference from internalstorage this query
	// shows (a key of knownDifferences); "" = both answer alike.
	diff string
}

func (q fq) collection() bool { return strings.HasPrefix(q.path, CollectionsPath) }

func qs(path string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return path + "?" + v.Encode()
}

// collKey is the key of a collection item: kind/cluster/ns/name.
func collKey(o Object) string {
	k, _ := o["kind"].(string)
	return k + "/" + key(o)
}

// collItems decodes the items of a CollectionResource response.
func (r *response) collItems() []Object {
	raw, _ := r.raw["items"].([]any)
	out := make([]Object, 0, len(raw))
	for _, it := range raw {
		m, _ := it.(map[string]any)
		out = append(out, Object(m))
	}
	return out
}

// respKeys returns the response's item keys in order (collection-aware).
func (q fq) respKeys(r *response) []string {
	if q.collection() {
		var out []string
		for _, it := range r.collItems() {
			out = append(out, collKey(it))
		}
		return out
	}
	return r.keys()
}

func (q fq) respItems(r *response) []Object {
	if q.collection() {
		return r.collItems()
	}
	if r.list == nil {
		return nil
	}
	return r.list.Items
}

// modelColl returns the kind/cluster/ns/name keys of the model's objects of
// the given resources matching pred, sorted.
func (m *model) coll(resources []string, pred func(Object) bool) []string {
	kinds := map[string]string{"pods": "Pod", "services": "Service", "configmaps": "ConfigMap", "namespaces": "Namespace",
		"deployments": "Deployment", "replicasets": "ReplicaSet", "daemonsets": "DaemonSet", "statefulsets": "StatefulSet", "widgets": "Widget"}
	var out []string
	for _, r := range resources {
		for _, o := range m.objs[r] {
			if pred == nil || pred(o) {
				out = append(out, kinds[r]+"/"+key(o))
			}
		}
	}
	sort.Strings(out)
	return out
}

func byName(o Object) string { return o.Name() }
func byCreated(o Object) string {
	return created(o).UTC().Format(time.RFC3339)
}

func lessKeys(fields ...func(a, b Object) int) func(a, b Object) bool {
	return func(a, b Object) bool {
		for _, f := range fields {
			if c := f(a, b); c != 0 {
				return c < 0
			}
		}
		return false
	}
}

func cmpStr(get func(Object) string, desc bool) func(a, b Object) int {
	return func(a, b Object) int {
		c := strings.Compare(get(a), get(b))
		if desc {
			return -c
		}
		return c
	}
}

func cmpRV(a, b Object) int {
	switch x, y := rv(a), rv(b); {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

var (
	byCluster   = func(o Object) string { return o.Cluster() }
	byNamespace = func(o Object) string { return o.Namespace() }
)

// fleetQueries is the shared query table.
func fleetQueries(t testing.TB, m *model) []fq {
	P := ResourcesPath
	dep := P + rDeployments.path("")
	cms := P + rConfigMaps.path("")
	widgets := P + rWidgets.path("")
	label := func(k, v string) func(Object) bool { return func(o Object) bool { return o.Labels()[k] == v } }
	not := func(p func(Object) bool) func(Object) bool { return func(o Object) bool { return !p(o) } }
	hasLabel := func(k string) func(Object) bool { return func(o Object) bool { _, ok := o.Labels()[k]; return ok } }
	nameHas := func(subs ...string) func(Object) bool {
		return func(o Object) bool {
			for _, s := range subs {
				if !strings.Contains(o.Name(), s) {
					return false
				}
			}
			return true
		}
	}
	podsOf := func(c, chain string) func(Object) bool {
		return func(o Object) bool {
			if o.Cluster() != c {
				return false
			}
			for _, p := range m.chains[c][chain].Pods {
				if p.UID() == o.UID() {
					return true
				}
			}
			return false
		}
	}
	hasContainer := func(name string) func(Object) bool {
		return func(o Object) bool {
			cs, _ := o.Field("spec", "containers").([]any)
			for _, c := range cs {
				if cm, _ := c.(map[string]any); cm["name"] == name {
					return true
				}
			}
			return false
		}
	}
	nodeName := func(o Object) string { s, _ := o.Field("spec", "nodeName").(string); return s }
	size := func(o Object) float64 { f, _ := o.Field("spec", "size").(float64); return f }
	phase2 := m.phase2.UTC()
	late := label("phase", "two")
	total := lessKeys(cmpStr(byCluster, false), cmpStr(byNamespace, false), cmpStr(byName, false))
	podOrder := m.ordered("pods", nil, total)
	webRS := func(c string) string { return m.chains[c]["web"].ReplicaSet.UID() }
	webDeploy := func(c string) string { return m.chains[c]["web"].Deployment.UID() }
	noSpec := func(t testing.TB, r *response) {
		t.Helper()
		for _, it := range r.list.Items {
			// Typed items are the internal type with only ObjectMeta set, so
			// spec/status encode as zero values.
			if !zeroish(it["spec"]) || !zeroish(it["status"]) {
				t.Errorf("onlyMetadata item %s has spec/status: %v %v", key(it), it["spec"], it["status"])
			}
			if it.UID() == "" || it.Cluster() == "" {
				t.Errorf("onlyMetadata item %s lacks uid or cluster annotation", key(it))
			}
		}
	}
	remaining := func(want int64) func(t testing.TB, r *response) {
		return func(t testing.TB, r *response) {
			t.Helper()
			if got := r.list.Metadata.RemainingItemCount; got == nil || *got != want {
				t.Errorf("remainingItemCount %v, want %d", ptrStr(got), want)
			}
		}
	}
	getUID := func(uid string) func(t testing.TB, r *response) {
		return func(t testing.TB, r *response) {
			t.Helper()
			if got := Object(r.raw).UID(); got != uid {
				t.Errorf("uid %q, want %q", got, uid)
			}
		}
	}
	kindIs := func(kind string) func(t testing.TB, r *response) {
		return func(t testing.TB, r *response) {
			t.Helper()
			if r.raw["kind"] != kind {
				t.Errorf("kind %v, want %s", r.raw["kind"], kind)
			}
		}
	}

	return []fq{
		// --- clusters, namespaces, names
		{name: "all deployments", path: dep, want: m.keys("deployments", nil)},
		{name: "clusters query", path: qs(dep, "clusters", "c1,c2"), want: m.keys("deployments", inCluster("c1", "c2"))},
		{name: "clusters search label", path: qs(dep, "labelSelector", "search.clusterpedia.io/clusters=c2"), want: m.keys("deployments", inCluster("c2"))},
		{name: "cluster path", path: P + "/clusters/c3" + rDeployments.path(""), want: m.keys("deployments", inCluster("c3"))},
		{name: "cluster path beats query", path: qs(P+"/clusters/c1"+rDeployments.path(""), "clusters", "c2"), want: m.keys("deployments", inCluster("c1"))},
		{name: "namespaces query", path: qs(dep, "namespaces", "shop,team-a"), want: m.keys("deployments", inNamespace("shop", "team-a"))},
		{name: "namespace path", path: P + rDeployments.path("team-b"), want: m.keys("deployments", inNamespace("team-b"))},
		{name: "cluster and namespace path", path: P + "/clusters/c2" + rPods.path("shop"), want: m.keys("pods", and(inCluster("c2"), inNamespace("shop")))},
		{name: "names query", path: qs(dep, "names", "web,worker"), want: m.keys("deployments", func(o Object) bool { return o.Name() == "web" || o.Name() == "worker" })},
		{name: "names search label", path: qs(dep, "labelSelector", "search.clusterpedia.io/names=api"), want: m.keys("deployments", func(o Object) bool { return o.Name() == "api" })},
		{name: "cluster-scoped namespaces", path: P + rNamespaces.path(""), want: m.keys("namespaces", nil)},
		{name: "namespaces by label", path: qs(P+rNamespaces.path(""), "labelSelector", "team"), want: m.keys("namespaces", hasLabel("team"))},

		// --- label selectors
		{name: "label =", path: qs(dep, "labelSelector", "app=web"), want: m.keys("deployments", label("app", "web"))},
		{name: "label != (missing label matches)", path: qs(dep, "labelSelector", "tier!=frontend"), want: m.keys("deployments", not(label("tier", "frontend")))},
		{name: "label notin (missing label matches)", path: qs(dep, "labelSelector", "env notin (prod)"), want: m.keys("deployments", not(label("env", "prod")))},
		{name: "label in + exists", path: qs(dep, "labelSelector", "app in (web,api),env"), want: m.keys("deployments", and(hasLabel("env"), func(o Object) bool { return o.Labels()["app"] == "web" || o.Labels()["app"] == "api" }))},
		{name: "label !exists", path: qs(pods(), "labelSelector", "!env"), want: m.keys("pods", not(hasLabel("env")))},
		{name: "label + clusters label + namespaces", path: qs(pods(), "labelSelector", "app=web,search.clusterpedia.io/clusters in (c1,c3)", "namespaces", "shop"), want: m.keys("pods", and(label("app", "web"), inCluster("c1", "c3")))},

		// --- field selectors
		{name: "field spec.nodeName", path: qs(pods(), "fieldSelector", "spec.nodeName=node-c2"), want: m.keys("pods", func(o Object) bool { return nodeName(o) == "node-c2" })},
		{name: "field != (missing path matches)", path: qs(pods(), "fieldSelector", "spec.nodeName!=node-c2"), want: m.keys("pods", func(o Object) bool { return nodeName(o) != "node-c2" })},
		{name: "field status.phase", path: qs(pods(), "fieldSelector", "status.phase=Pending"), want: m.keys("pods", func(o Object) bool { return o.Field("status", "phase") == "Pending" })},
		{name: "field cluster annotation", path: qs(pods(), "fieldSelector", "metadata.annotations['shadow.clusterpedia.io/cluster-name']=c3"), want: m.keys("pods", inCluster("c3"))},
		{name: "field namespace + name notin", path: qs(pods(), "fieldSelector", "metadata.namespace=shop,metadata.name notin (api-6c7b8d9f5-0)"), want: m.keys("pods", and(inNamespace("shop"), func(o Object) bool { return o.Name() != "api-6c7b8d9f5-0" }))},
		{name: "field label path in", path: qs(pods(), "fieldSelector", "metadata.labels.app in (web,worker)"), want: m.keys("pods", func(o Object) bool { return o.Labels()["app"] == "web" || o.Labels()["app"] == "worker" })},
		{name: "field list path []", path: qs(pods(), "fieldSelector", "spec.containers[].name=istio-proxy"), want: m.keys("pods", hasContainer("istio-proxy")), diff: "list-field-selector"},
		{name: "field list path [1]", path: qs(pods(), "fieldSelector", "spec.containers[1].name=istio-proxy"), want: m.keys("pods", hasContainer("istio-proxy")), diff: "list-field-selector"},
		{name: "field list path [] != (no element equals)", path: qs(pods(), "fieldSelector", "spec.containers[].name!=istio-proxy"), want: m.keys("pods", not(hasContainer("istio-proxy"))), diff: "list-field-selector"},
		{name: "field number equality (CRD)", path: qs(widgets, "fieldSelector", "spec.size=10"), want: m.keys("widgets", func(o Object) bool { return size(o) == 10 })},
		{name: "field > (CRD)", path: qs(widgets, "fieldSelector", "spec.size>3"), want: m.keys("widgets", func(o Object) bool { return size(o) > 3 }), diff: "gt-lt"},
		{name: "field boolean (CRD)", path: qs(widgets, "fieldSelector", "spec.enabled=true"), want: m.keys("widgets", func(o Object) bool { return size(o) > 3 }), diff: "field-bool"},
		{name: "field boolean defaulted", path: qs(pods(), "fieldSelector", "spec.enableServiceLinks=true,metadata.namespace=shop"), want: m.keys("pods", inNamespace("shop")), diff: "field-bool"},
		{name: "field string (CRD)", path: qs(widgets, "fieldSelector", "spec.color=red"), want: m.keys("widgets", func(o Object) bool { return o.Field("spec", "color") == "red" })},

		{name: "label > (CRD)", path: qs(widgets, "labelSelector", "rank>3"), want: m.keys("widgets", func(o Object) bool { return size(o) > 3 }), diff: "gt-lt"},
		{name: "label < + color (CRD)", path: qs(widgets, "labelSelector", "rank<5,color=red"), want: m.keys("widgets", func(o Object) bool { return size(o) < 5 && o.Labels()["color"] == "red" }), diff: "gt-lt"},

		// --- fuzzy name
		{name: "fuzzy-name", path: qs(dep, "labelSelector", "internalstorage.clusterpedia.io/fuzzy-name=ork"), want: m.keys("deployments", nameHas("ork"))},
		{name: "fuzzy-name in = contains all", path: qs(pods(), "labelSelector", "internalstorage.clusterpedia.io/fuzzy-name in (web,4-1)"), want: m.keys("pods", nameHas("web", "4-1"))},
		{name: "fuzzy-name + clusters", path: qs(pods(), "labelSelector", "internalstorage.clusterpedia.io/fuzzy-name=api", "clusters", "c2"), want: m.keys("pods", and(nameHas("api"), inCluster("c2")))},
		{name: "fuzzy-name is case-sensitive", path: qs(dep, "labelSelector", "internalstorage.clusterpedia.io/fuzzy-name=WEB"), want: []string{}, diff: "fuzzy-case"},
		{name: "fuzzy-name has no wildcards", path: qs(dep, "labelSelector", "internalstorage.clusterpedia.io/fuzzy-name=w_b"), want: []string{}, diff: "fuzzy-wildcard"},

		// --- owners
		{name: "ownerUID (ReplicaSet → pods)", path: qs(P+"/clusters/c1"+rPods.path(""), "ownerUID", webRS("c1")), want: m.keys("pods", podsOf("c1", "web"))},
		{name: "ownerUID + seniority 1 (Deployment → pods)", path: qs(P+"/clusters/c2"+rPods.path(""), "ownerUID", webDeploy("c2"), "ownerSeniority", "1"), want: m.keys("pods", podsOf("c2", "web"))},
		{name: "ownerName + ownerGR + seniority 1", path: qs(P+"/clusters/c2"+rPods.path("shop"), "ownerName", "web", "ownerGR", "deployments.apps", "ownerSeniority", "1"), want: m.keys("pods", podsOf("c2", "web"))},
		{name: "ownerName + ownerGR (Deployment → ReplicaSets)", path: qs(P+"/clusters/c3"+rReplicaSets.path(""), "ownerName", "api", "ownerGR", "deployments.apps"), want: m.keys("replicasets", and(inCluster("c3"), func(o Object) bool { return o.Name() == "api-6c7b8d9f5" }))},
		{name: "ownerName seniority 0", path: qs(P+"/clusters/c3"+rPods.path(""), "ownerName", "worker-7f6d5c4b3"), want: m.keys("pods", podsOf("c3", "worker"))},
		{name: "owner search labels", path: qs(P+"/clusters/c1"+rPods.path(""), "labelSelector", "search.clusterpedia.io/owner-uid="+webDeploy("c1")+",search.clusterpedia.io/owner-seniority=1"), want: m.keys("pods", podsOf("c1", "web"))},
		{name: "owner search follows non-controller references", path: qs(P+"/clusters/c1"+rConfigMaps.path(""), "ownerUID", webDeploy("c1")), want: []string{"c1/shop/web-extra"}, diff: "owner-all-refs"},
		{name: "ownerUID of another cluster", path: qs(P+"/clusters/c2"+rPods.path(""), "ownerUID", webRS("c1")), want: []string{}},
		{name: "ownerName wrong GR", path: qs(P+"/clusters/c1"+rPods.path(""), "ownerName", "web", "ownerGR", "statefulsets.apps", "ownerSeniority", "1"), want: []string{}},
		{name: "owner without one cluster", path: qs(pods(), "ownerUID", webRS("c1")), code: http.StatusBadRequest},
		{name: "ownerSeniority not a number", path: qs(P+"/clusters/c1"+rPods.path(""), "ownerUID", webRS("c1"), "ownerSeniority", "x"), code: http.StatusBadRequest},

		// --- since / before (configmaps: "late" is phase 2)
		{name: "since RFC3339", path: qs(cms, "since", phase2.Format(time.RFC3339)), want: m.keys("configmaps", late)},
		{name: "before RFC3339", path: qs(cms, "before", phase2.Format(time.RFC3339)), want: m.keys("configmaps", not(late))},
		{name: "since/before unix seconds", path: qs(cms, "since", fmt.Sprint(phase2.Unix()), "before", fmt.Sprint(phase2.Add(time.Hour).Unix())), want: m.keys("configmaps", late)},
		{name: "since date-time with space", path: qs(cms, "since", phase2.Format("2006-01-02 15:04:05")), want: m.keys("configmaps", late)},
		{name: "since date", path: qs(cms, "since", phase2.AddDate(0, 0, -1).Format("2006-01-02")), want: m.keys("configmaps", nil)},
		{name: "since search label", path: qs(cms, "labelSelector", "search.clusterpedia.io/since="+fmt.Sprint(phase2.Unix())), want: m.keys("configmaps", late)},
		{name: "before earlier than since", path: qs(cms, "since", phase2.Format(time.RFC3339), "before", phase2.Add(-time.Hour).Format(time.RFC3339)), code: http.StatusBadRequest},
		{name: "since malformed", path: qs(cms, "since", "yesterday"), code: http.StatusBadRequest},

		// --- orderby
		{name: "orderby name desc,cluster", path: qs(dep, "orderby", "name desc,cluster"), order: m.ordered("deployments", nil, lessKeys(cmpStr(byName, true), cmpStr(byCluster, false)))},
		{name: "orderby cluster desc,namespace,name", path: qs(pods(), "orderby", "cluster desc,namespace,name"), order: m.ordered("pods", nil, lessKeys(cmpStr(byCluster, true), cmpStr(byNamespace, false), cmpStr(byName, false)))},
		{name: "orderby namespace,name desc,cluster", path: qs(cms, "orderby", "namespace,name desc,cluster"), order: m.ordered("configmaps", nil, lessKeys(cmpStr(byNamespace, false), cmpStr(byName, true), cmpStr(byCluster, false)))},
		{name: "orderby resource_version (numeric)", path: qs(pods(), "orderby", "resource_version"), order: m.ordered("pods", nil, lessKeys(cmpRV))},
		{name: "orderby resource_version desc", path: qs(P+rReplicaSets.path(""), "orderby", "resource_version desc"), order: m.ordered("replicasets", nil, lessKeys(func(a, b Object) int { return -cmpRV(a, b) }))},
		{name: "orderby created_at desc", path: qs(cms, "orderby", "created_at desc"), want: m.keys("configmaps", nil), sorted: byCreated, desc: true},
		{name: "orderby search label name_desc", path: qs(dep, "labelSelector", "search.clusterpedia.io/orderby=name_desc"), want: m.keys("deployments", nil), sorted: byName, desc: true},
		{name: "orderby CRD name", path: qs(widgets, "orderby", "name,cluster"), order: m.ordered("widgets", nil, lessKeys(cmpStr(byName, false), cmpStr(byCluster, false)))},
		{name: "orderby unknown field", path: qs(dep, "orderby", "foo"), code: http.StatusBadRequest, diff: "orderby-unknown"},
		{name: "orderby malformed", path: qs(dep, "orderby", "name cluster"), code: http.StatusBadRequest},

		// --- limit, continue, offset, remaining count (full paging: TestMemgraphFeatures/paging)
		{name: "limit + remaining count", path: qs(pods(), "orderby", "cluster,namespace,name", "limit", "5"), order: podOrder[:5], check: remaining(int64(len(podOrder) - 5))},
		{name: "numeric continue = offset", path: qs(pods(), "orderby", "cluster,namespace,name", "limit", "2", "continue", "4"), order: podOrder[4:6], check: remaining(int64(len(podOrder) - 6))},
		{name: "offset search label", path: qs(pods(), "orderby", "cluster,namespace,name", "labelSelector", "search.clusterpedia.io/limit=3,search.clusterpedia.io/offset=3"), order: podOrder[3:6]},
		{name: "offset search label not a number", path: qs(pods(), "labelSelector", "search.clusterpedia.io/limit=3,search.clusterpedia.io/offset=x"), code: http.StatusBadRequest},
		{name: "withRemainingCount=false", path: qs(pods(), "limit", "2", "withRemainingCount", "false", "orderby", "cluster,namespace,name"), order: podOrder[:2], check: func(t testing.TB, r *response) {
			if r.list.Metadata.RemainingItemCount != nil {
				t.Errorf("remainingItemCount %d with withRemainingCount=false", *r.list.Metadata.RemainingItemCount)
			}
		}},
		{name: "offset past the end", path: qs(pods(), "limit", "2", "continue", "1000", "withRemainingCount", "true"), want: []string{}, check: remaining(0), diff: "remaining-negative"},
		{name: "malformed continue", path: qs(pods(), "limit", "2", "continue", "not-a-token"), code: http.StatusBadRequest, diff: "continue-malformed"},
		{name: "last page exactly full", path: qs(dep, "limit", "9", "withContinue", "true", "orderby", "cluster,namespace,name"), order: m.ordered("deployments", nil, total), check: func(t testing.TB, r *response) {
			if r.list.Metadata.Continue != "" {
				t.Errorf("continue %q on an exactly full last page", r.list.Metadata.Continue)
			}
		}, diff: "continue-last-page"},

		// --- only metadata
		{name: "onlyMetadata=true", path: qs(dep, "onlyMetadata", "true"), want: m.keys("deployments", nil), check: noSpec},
		{name: "PartialObjectMetadataList Accept", path: dep, accept: acceptPartial, want: m.keys("deployments", nil), check: kindIs("PartialObjectMetadataList")},
		{name: "onlyMetadata=true (CRD)", path: qs(widgets, "onlyMetadata", "true"), want: m.keys("widgets", nil), check: noSpec},
		{name: "PartialObjectMetadataList Accept (CRD)", path: widgets, accept: acceptPartial, want: m.keys("widgets", nil), check: kindIs("PartialObjectMetadataList"), diff: "metadata-int64"},

		// --- events
		{name: "inject events", path: qs(P+rDeployments.path("shop"), "labelSelector", "search.clusterpedia.io/inject-events=true"), want: m.keys("deployments", inNamespace("shop")), check: injected(2), diff: "events-order"},
		{name: "inject events + onlyMetadata", path: qs(P+rDeployments.path("shop"), "labelSelector", "search.clusterpedia.io/inject-events=true", "onlyMetadata", "true"), want: m.keys("deployments", inNamespace("shop")), check: injected(2), diff: "events-metadata"},
		{name: "no events without the label", path: qs(P+"/clusters/c1"+rDeployments.path("shop"), "names", "web"), want: []string{"c1/shop/web"}, check: injected(0)},

		// --- Table (what kubectl get asks for)
		{name: "Table Accept", path: qs(dep, "labelSelector", "app=web"), accept: acceptTable, check: tableRows(3)},

		// --- custom resources
		{name: "CRD list", path: widgets, want: m.keys("widgets", nil), check: kindIs("WidgetList")},
		{name: "CRD label + namespace path", path: qs(P+rWidgets.path("shop"), "labelSelector", "color=red"), want: m.keys("widgets", and(inNamespace("shop"), label("color", "red")))},
		{name: "CRD cluster path", path: P + "/clusters/c3" + rWidgets.path(""), want: m.keys("widgets", inCluster("c3"))},

		// --- get
		{name: "get deployment", path: P + "/clusters/c2" + rDeployments.path("shop") + "/web", check: getUID(webDeploy("c2"))},
		{name: "get pod", path: P + "/clusters/c3" + rPods.path("team-c") + "/worker-7f6d5c4b3-0", check: getUID(m.chains["c3"]["worker"].Pods[0].UID())},
		{name: "get custom resource", path: P + "/clusters/c1" + rWidgets.path("shop") + "/w-large", check: getUID(m.find(t, "widgets", "c1", "shop", "w-large").UID())},
		{name: "get cluster-scoped", path: P + "/clusters/c3" + rNamespaces.path("") + "/team-c", check: getUID(m.find(t, "namespaces", "c3", "", "team-c").UID())},
		{name: "get missing → 404", path: P + "/clusters/c1" + rDeployments.path("shop") + "/nope", code: http.StatusNotFound},
		{name: "get object of another cluster → 404", path: P + "/clusters/c1" + rWidgets.path("team-c") + "/w-mid", code: http.StatusNotFound},
		{name: "get without cluster → 400", path: P + rDeployments.path("shop") + "/web", code: http.StatusBadRequest},
		{name: "unknown cluster", path: P + "/clusters/nope" + rPods.path(""), code: http.StatusBadRequest},

		// --- bad options
		{name: "malformed labelSelector", path: qs(dep, "labelSelector", "app==="), code: http.StatusBadRequest},
		{name: "malformed fieldSelector", path: qs(pods(), "fieldSelector", "spec..name=x"), code: http.StatusBadRequest},
		{name: "negative list index", path: qs(pods(), "fieldSelector", "spec.containers[-1].name=x"), code: http.StatusBadRequest, diff: "list-field-selector"},
		{name: "whereSQL", path: qs(dep, "whereSQL", "name='web'"), code: http.StatusBadRequest, diff: "where-sql"},
		{name: "unknown clusterpedia.io search label", path: qs(dep, "labelSelector", "example.clusterpedia.io/color=red"), code: http.StatusBadRequest, diff: "unknown-search-label"},
		{name: "fuzzy-name operator !=", path: qs(dep, "labelSelector", "internalstorage.clusterpedia.io/fuzzy-name!=web"), code: http.StatusBadRequest, diff: "fuzzy-operator"},
		{name: "watch", path: qs(dep, "watch", "true"), code: http.StatusMethodNotAllowed},

		// --- collection resources
		{name: "collection list", path: CollectionsPath, check: func(t testing.TB, r *response) {
			var names []string
			items, _ := r.raw["items"].([]any)
			for _, it := range items {
				names = append(names, Object(it.(map[string]any)).Name())
			}
			sort.Strings(names)
			if strings.Join(names, ",") != "any,kuberesources,workloads" {
				t.Errorf("collection resources %v, want any, kuberesources, workloads", names)
			}
		}},
		{name: "collection workloads", path: CollectionsPath + "/workloads", want: m.coll([]string{"deployments", "daemonsets", "statefulsets"}, nil), check: resourceTypes("deployments", "daemonsets", "statefulsets")},
		{name: "collection workloads cluster + onlyMetadata", path: qs(CollectionsPath+"/workloads", "clusters", "c2", "onlyMetadata", "true"), want: m.coll([]string{"deployments", "daemonsets", "statefulsets"}, inCluster("c2"))},
		{name: "collection workloads labels", path: qs(CollectionsPath+"/workloads", "labelSelector", "app in (web,db)"), want: m.coll([]string{"deployments", "statefulsets"}, func(o Object) bool { a := o.Labels()["app"]; return a == "web" || a == "db" })},
		{name: "collection workloads ordered page", path: qs(CollectionsPath+"/workloads", "orderby", "cluster,namespace,name", "limit", "4"), check: collOrder(m, []string{"deployments", "daemonsets", "statefulsets"}, 4)},
		{name: "collection any groups + resources", path: qs(CollectionsPath+"/any", "groups", "apps", "resources", "/pods"), want: m.coll([]string{"deployments", "replicasets", "daemonsets", "statefulsets", "pods"}, nil)},
		{name: "collection any CRD", path: qs(CollectionsPath+"/any", "resources", "example.com/widgets", "clusters", "c1,c2"), want: m.coll([]string{"widgets"}, inCluster("c1", "c2"))},
		{name: "collection any without types", path: CollectionsPath + "/any", code: http.StatusBadRequest},
		{name: "collection kuberesources", path: qs(CollectionsPath+"/kuberesources", "onlyMetadata", "true", "namespaces", "shop"), want: m.coll([]string{"pods", "services", "configmaps", "deployments", "replicasets", "daemonsets", "statefulsets"}, inNamespace("shop"))},
		{name: "collection fuzzy-name + since", path: qs(CollectionsPath+"/kuberesources", "labelSelector", "internalstorage.clusterpedia.io/fuzzy-name=late", "since", phase2.Format(time.RFC3339)), want: m.coll([]string{"configmaps"}, late)},
		{name: "collection owner option", path: qs(CollectionsPath+"/workloads", "ownerUID", webDeploy("c1")), code: http.StatusBadRequest, diff: "collection-owner"},
		{name: "collection unknown", path: CollectionsPath + "/nope", code: http.StatusNotFound},
	}
}

// pods is the all-clusters pod list path (a func so the table reads well).
func pods() string { return ResourcesPath + rPods.path("") }

func resourceTypes(resources ...string) func(t testing.TB, r *response) {
	return func(t testing.TB, r *response) {
		t.Helper()
		rts, _ := r.raw["resourceTypes"].([]any)
		var got []string
		for _, rt := range rts {
			m, _ := rt.(map[string]any)
			got = append(got, fmt.Sprint(m["resource"]))
		}
		sort.Strings(got)
		want := append([]string(nil), resources...)
		sort.Strings(want)
		if !equalStrings(got, want) {
			t.Errorf("resourceTypes %v, want %v", got, want)
		}
	}
}

func collOrder(m *model, resources []string, n int) func(t testing.TB, r *response) {
	return func(t testing.TB, r *response) {
		t.Helper()
		type kv struct{ sort, key string }
		var all []kv
		for _, k := range m.coll(resources, nil) {
			kind, rest, _ := strings.Cut(k, "/")
			all = append(all, kv{rest, kind + "/" + rest})
		}
		sort.Slice(all, func(i, j int) bool { return all[i].sort < all[j].sort })
		var want []string
		for _, e := range all[:n] {
			want = append(want, e.key)
		}
		var got []string
		for _, it := range r.collItems() {
			got = append(got, collKey(it))
		}
		if !equalStrings(got, want) {
			t.Errorf("first %d workloads %v, want %v", n, got, want)
		}
	}
}

// zeroish: nil, or only zero values (maps of them, empty lists, "", false, 0).
func zeroish(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		for _, e := range x {
			if !zeroish(e) {
				return false
			}
		}
		return true
	case []any:
		return len(x) == 0
	case string:
		return x == ""
	case bool:
		return !x
	case float64:
		return x == 0
	}
	return false
}

// injected checks that only c1/shop/web carries n events (n = 0: no item carries any).
func injected(n int) func(t testing.TB, r *response) {
	return func(t testing.TB, r *response) {
		t.Helper()
		for _, it := range r.list.Items {
			want := 0
			if key(it) == "c1/shop/web" {
				want = n
			}
			evs := eventsOf(it)
			if len(evs) != want {
				t.Errorf("%s: %d events injected, want %d", key(it), len(evs), want)
			}
			for _, ev := range evs {
				if ev.Field("involvedObject", "uid") != it.UID() {
					t.Errorf("%s: injected event %s involves %v", key(it), ev.Name(), ev.Field("involvedObject", "uid"))
				}
			}
		}
	}
}

// tableRows checks a meta.k8s.io Table answer.
func tableRows(n int) func(t testing.TB, r *response) {
	return func(t testing.TB, r *response) {
		t.Helper()
		rows, _ := r.raw["rows"].([]any)
		if r.raw["kind"] != "Table" || len(rows) != n {
			t.Errorf("kind %v with %d rows, want Table with %d", r.raw["kind"], len(rows), n)
		}
	}
}

func ptrStr(p *int64) string {
	if p == nil {
		return "<nil>"
	}
	return fmt.Sprint(*p)
}

// checkQuery asserts memgraph's answer r to q.
func checkQuery(t testing.TB, q fq, r *response) {
	t.Helper()
	want := q.code
	if want == 0 {
		want = http.StatusOK
	}
	if r.code != want {
		t.Errorf("%s: GET %s: status %s, want %d", q.name, q.path, r, want)
		return
	}
	if want != http.StatusOK {
		if r.raw["kind"] != "Status" {
			t.Errorf("%s: %d without a Status body: %s", q.name, r.code, r)
		}
		return
	}
	got := q.respKeys(r)
	if q.order != nil && !equalStrings(got, q.order) {
		t.Errorf("%s: GET %s:\n got  %v\n want %v (in this order)", q.name, q.path, got, q.order)
	}
	if q.want != nil && !equalStrings(sortedCopy(got), q.want) {
		t.Errorf("%s: GET %s:\n got  %v\n want %v", q.name, q.path, sortedCopy(got), q.want)
	}
	if q.sorted != nil {
		items := q.respItems(r)
		for i := 1; i < len(items); i++ {
			a, b := q.sorted(items[i-1]), q.sorted(items[i])
			if (!q.desc && a > b) || (q.desc && a < b) {
				t.Errorf("%s: items %d,%d out of order: %q then %q", q.name, i-1, i, a, b)
			}
		}
	}
	if q.check != nil {
		q.check(t, r)
	}
}
