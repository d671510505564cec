package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMemgraphFeatures proves memgraph in the real host: a binding-apiserver
// with --storage-name=memgraph (persistence on, extension server on) syncing
// three member clusters, queried over HTTPS with the admin client
// certificate the way kubectl/curl would: every search option, collection
// resources, Get, errors, paging; writes in a member cluster; a restart that
// answers from disk at once and rewrites nothing unchanged; removing a
// PediaCluster.
func TestMemgraphFeatures(t *testing.T) {
	start := time.Now()
	f := startFleet(t, false)
	m := f.model

	t.Run("plugin", func(t *testing.T) {
		log, err := os.ReadFile(f.memgraph.Log)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(log), "memgraph: extension API serving") {
			t.Errorf("binding-apiserver log does not show memgraph's extension server starting")
		}
		met := f.metrics(t)
		found := false
		for k := range met {
			if strings.HasPrefix(k, "memgraph_build_info{") {
				found = true
			}
		}
		if !found {
			t.Errorf("memgraph_build_info missing from %s", f.metricsURL)
		}
		// memgraph_objects per cluster/resource equals the model.
		for _, c := range m.clusters {
			for _, r := range fleetResources {
				want := len(m.keys(r.name, inCluster(c)))
				got := int(met[fmt.Sprintf(`memgraph_objects{cluster="%s",group="%s",resource="%s",version="%s"}`, c, r.group, r.name, r.version)])
				if got != want {
					t.Errorf("memgraph_objects %s %s: %d, want %d", c, r.name, got, want)
				}
			}
		}
	})

	t.Run("queries", func(t *testing.T) {
		for _, q := range fleetQueries(t, m) {
			q := q
			t.Run(q.name, func(t *testing.T) {
				checkQuery(t, q, get(t, f.memgraph.Server, q.path, q.accept))
			})
		}
	})

	t.Run("kubectl", func(t *testing.T) {
		cache := t.TempDir()
		// kubectl returns the non-empty output lines.
		kubectl := func(server string, args ...string) []string {
			t.Helper()
			args = append([]string{"--kubeconfig", f.env.Kubeconfig, "--server", server, "--cache-dir", cache}, args...)
			out, err := exec.Command(f.env.Kubectl, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			var ls []string
			for _, l := range strings.Split(string(out), "\n") {
				if l = strings.TrimSpace(l); l != "" {
					ls = append(ls, l)
				}
			}
			return ls
		}
		all := f.memgraph.URL + ResourcesPath
		if got := kubectl(all, "get", "deployments", "-A", "-l", "app=web", "--no-headers"); len(got) != 3 {
			t.Errorf("kubectl get deployments -A -l app=web: %d rows, want 3 (one per cluster): %q", len(got), got)
		}
		got := kubectl(all+"/clusters/c2", "get", "pods", "-n", "shop", "-o", "name")
		if want := len(m.keys("pods", and(inCluster("c2"), inNamespace("shop")))); len(got) != want {
			t.Errorf("kubectl get pods -n shop (cluster c2): %q, want %d pods", got, want)
		}
		got = kubectl(all+"/clusters/c1", "get", "widgets.example.com", "-n", "shop", "-o", "name")
		if strings.Join(got, ",") != "widget.example.com/w-large,widget.example.com/w-small" {
			t.Errorf("kubectl get widgets -n shop (cluster c1): %q", got)
		}
	})

	t.Run("paging", func(t *testing.T) {
		total := lessKeys(cmpStr(byCluster, false), cmpStr(byNamespace, false), cmpStr(byName, false))
		podOrder := m.ordered("pods", nil, total)
		// Total order, limit 5: every page, remaining counts, no token after the last.
		items, pages := pageAll(t, f.memgraph.Server, qs(pods(), "orderby", "cluster,namespace,name"), 5)
		checkPages(t, "pods by cluster,namespace,name", items, pages, podOrder, true)
		// No orderby: memgraph's identity order (cluster, GVR, namespace, name) — the same here.
		items, pages = pageAll(t, f.memgraph.Server, pods(), 5)
		checkPages(t, "pods, default order", items, pages, podOrder, true)
		// Descending multi-key order with ties on the first key, limit 2.
		desc := m.ordered("configmaps", nil, lessKeys(cmpStr(byNamespace, true), cmpStr(byName, false), cmpStr(byCluster, true)))
		items, pages = pageAll(t, f.memgraph.Server, qs(ResourcesPath+rConfigMaps.path(""), "orderby", "namespace desc,name,cluster desc"), 2)
		checkPages(t, "configmaps by namespace desc,name,cluster desc", items, pages, desc, true)
		// Partial order (created_at): all items once, non-increasing timestamps.
		items, pages = pageAll(t, f.memgraph.Server, qs(ResourcesPath+rConfigMaps.path(""), "orderby", "created_at desc"), 3)
		checkPages(t, "configmaps by created_at desc", items, pages, m.keys("configmaps", nil), false)
		for i := 1; i < len(items); i++ {
			if created(items[i]).After(created(items[i-1])) {
				t.Errorf("created_at desc: %s after %s", key(items[i]), key(items[i-1]))
			}
		}
		// Custom resources, with a filter.
		items, pages = pageAll(t, f.memgraph.Server, qs(ResourcesPath+rWidgets.path(""), "labelSelector", "color"), 2)
		checkPages(t, "widgets", items, pages, m.keys("widgets", nil), false)
		// Offsets through the search label, to the end.
		var got []string
		for off := 0; off < len(podOrder)+4; off += 4 {
			r := get(t, f.memgraph.Server, qs(pods(), "orderby", "cluster,namespace,name",
				"labelSelector", fmt.Sprintf("search.clusterpedia.io/limit=4,search.clusterpedia.io/offset=%d", off)), "")
			if r.code != http.StatusOK {
				t.Fatalf("offset %d: %s", off, r)
			}
			got = append(got, r.keys()...)
		}
		if !equalStrings(got, podOrder) {
			t.Errorf("offset paging: got %v, want %v", got, podOrder)
		}
		// Collection resource paging.
		collAll := pageCollection(t, f.memgraph.Server, qs(CollectionsPath+"/workloads", "orderby", "cluster,namespace,name"), 3)
		want := m.coll([]string{"deployments", "daemonsets", "statefulsets"}, nil)
		if !equalStrings(sortedCopy(collAll), want) {
			t.Errorf("workloads paging: got %v, want %v", sortedCopy(collAll), want)
		}
	})

	t.Run("writes", func(t *testing.T) {
		c2 := f.env.Member(t, "c2")
		cm := c2.CreateConfigMap(t, "shop", "dyn", map[string]string{"stage": "one"}, map[string]string{"k": "v"})
		path := ResourcesPath + "/clusters/c2" + rConfigMaps.path("shop")
		f.memgraph.WaitForList(t, 30*time.Second, qs(path, "labelSelector", "stage=one"), func(l *List) (bool, string) {
			return len(l.Items) == 1 && l.Items[0].UID() == cm.UID(), fmt.Sprint(l.Keys())
		})
		upd := c2.Patch(t, rConfigMaps.path("shop")+"/dyn", map[string]any{"metadata": map[string]any{"labels": map[string]any{"stage": "two"}}})
		f.memgraph.WaitForList(t, 30*time.Second, qs(path, "labelSelector", "stage"), func(l *List) (bool, string) {
			return len(l.Items) == 1 && l.Items[0].Labels()["stage"] == "two" && l.Items[0].ResourceVersion() == upd.ResourceVersion(), fmt.Sprint(l.Items)
		})
		var got Object
		f.memgraph.GetJSON(t, path+"/dyn", &got)
		if got.ResourceVersion() != upd.ResourceVersion() || got.Labels()["stage"] != "two" {
			t.Errorf("get after update: rv %s labels %v, want rv %s stage=two", got.ResourceVersion(), got.Labels(), upd.ResourceVersion())
		}
		// A spec change shows in a field selector.
		c3 := f.env.Member(t, "c3")
		c3.Patch(t, rDeployments.path("shop")+"/web", map[string]any{"spec": map[string]any{"replicas": 5}})
		f.memgraph.WaitForList(t, 30*time.Second, qs(ResourcesPath+rDeployments.path(""), "fieldSelector", "spec.replicas=5"), func(l *List) (bool, string) {
			return equalStrings(l.Keys(), []string{"c3/shop/web"}), fmt.Sprint(l.Keys())
		})
		c2.Delete(t, rConfigMaps.path("shop")+"/dyn")
		Eventually(t, 30*time.Second, "deleted configmap gone", func() (bool, string) {
			code, body, err := f.memgraph.Get(path + "/dyn")
			return err == nil && code == http.StatusNotFound, fmt.Sprintf("%d %v %s", code, err, truncate(body, 200))
		})
		if l := f.memgraph.List(t, qs(path, "labelSelector", "stage")); len(l.Items) != 0 {
			t.Errorf("deleted configmap still listed: %v", l.Keys())
		}
	})

	t.Run("restart", func(st *testing.T) { testRestart(st, t, f) })

	parent := t
	t.Run("remove cluster", func(t *testing.T) {
		before := map[string][]string{}
		for _, r := range fleetResources {
			before[r.name] = f.memgraph.List(t, ResourcesPath+r.path("")).Keys()
		}
		deletePediaCluster(t, f.env, "c3", false)
		for _, r := range fleetResources {
			var want []string
			for _, k := range before[r.name] {
				if !strings.HasPrefix(k, "c3/") {
					want = append(want, k)
				}
			}
			f.waitList(t, parent, &f.memgraph, f.mgOpts, time.Minute, ResourcesPath+r.path(""), func(l *List) (bool, string) {
				return equalStrings(l.Keys(), want), fmt.Sprintf("got %v, want %v", l.Keys(), want)
			})
		}
		Eventually(t, 30*time.Second, "cluster path of a removed cluster rejected", func() (bool, string) {
			code, body, err := f.memgraph.Get(ResourcesPath + "/clusters/c3" + rPods.path(""))
			return err == nil && code == http.StatusBadRequest, fmt.Sprintf("%d %v %s", code, err, truncate(body, 200))
		})
		for k, v := range f.metrics(t) {
			if strings.HasPrefix(k, "memgraph_objects{") && strings.Contains(k, `cluster="c3"`) && v != 0 {
				t.Errorf("%s = %v after the cluster was removed", k, v)
			}
		}
		r := get(t, f.memgraph.Server, CollectionsPath+"/workloads", "")
		for _, k := range (fq{path: CollectionsPath}).respKeys(r) {
			if strings.Contains(k, "/c3/") {
				t.Errorf("workloads still has %s", k)
			}
		}
	})
	t.Logf("TestMemgraphFeatures done in %s", time.Since(start).Round(100*time.Millisecond))
}

// checkPages asserts a paged walk: every page but the last has a continue
// token, remainingItemCount counts what follows, no item repeats, and the
// items are want (in order when ordered, else as a set).
func checkPages(t testing.TB, what string, items []Object, pages []*response, want []string, ordered bool) {
	t.Helper()
	seen := 0
	for i, p := range pages {
		seen += len(p.list.Items)
		rc := p.list.Metadata.RemainingItemCount
		if rc == nil || *rc != int64(len(want)-seen) {
			t.Errorf("%s: page %d: remainingItemCount %s, want %d", what, i, ptrStr(rc), len(want)-seen)
		}
		if last := i == len(pages)-1; last != (p.list.Metadata.Continue == "") {
			t.Errorf("%s: page %d of %d: continue %q", what, i, len(pages), p.list.Metadata.Continue)
		}
	}
	got := make([]string, len(items))
	dup := map[string]bool{}
	for i, it := range items {
		got[i] = key(it)
		if dup[got[i]] {
			t.Errorf("%s: %s returned twice", what, got[i])
		}
		dup[got[i]] = true
	}
	if !ordered {
		got = sortedCopy(got)
	}
	if !equalStrings(got, want) {
		t.Errorf("%s: paged items\n got  %v\n want %v", what, got, want)
	}
}

// pageCollection pages a collection resource to the end and returns the item keys in order.
func pageCollection(t testing.TB, s *Server, path string, limit int) []string {
	t.Helper()
	var out []string
	cont := ""
	for i := 0; i < 1000; i++ {
		p := qs(path, "limit", strconv.Itoa(limit), "withContinue", "true")
		if strings.Contains(path, "?") {
			p = path + "&" + strings.TrimPrefix(p, path+"?")
		}
		if cont != "" {
			p += "&continue=" + cont
		}
		r := get(t, s, p, "")
		if r.code != http.StatusOK {
			t.Fatalf("GET %s: %s", p, r)
		}
		out = append(out, (fq{path: CollectionsPath}).respKeys(r)...)
		cont, _ = r.raw["continue"].(string)
		if cont == "" {
			return out
		}
	}
	t.Fatalf("paging %s: too many pages", path)
	return nil
}

// deletePediaCluster deletes a PediaCluster. With hold, a finalizer of the
// test keeps the object (deletionTimestamp set) until release is called, so
// several binding-apiservers sharing Clusterpedia's finalizer all see the
// deletion and clean their storage.
func deletePediaCluster(t testing.TB, env *Env, name string, hold bool) (release func()) {
	t.Helper()
	path := "/apis/cluster.clusterpedia.io/v1alpha2/pediaclusters/" + name
	host := env.Host()
	if hold {
		host.JSONPatch(t, path, []map[string]any{{"op": "add", "path": "/metadata/finalizers/-", "value": "e2e.memgraph.io/hold"}})
	}
	host.Delete(t, path)
	return func() {
		var pc Object
		host.GetJSON(t, path, &pc)
		fins, _ := pc.Field("metadata", "finalizers").([]any)
		var keep []any
		for _, f := range fins {
			if f != "e2e.memgraph.io/hold" {
				keep = append(keep, f)
			}
		}
		host.Patch(t, path, map[string]any{"metadata": map[string]any{"finalizers": keep}})
	}
}

// testRestart (t: the subtest; parent: the test owning the restarted server) stops memgraph's binding-apiserver, changes the member clusters
// while it is down, starts it again and checks that (1) the restored store
// answers at once — the first successful list already has every unchanged
// object — and (2) the resync writes only what changed: memgraph's write
// counters after the restart are one create, one update, one delete.
func testRestart(t *testing.T, parent *testing.T, f *fleet) {
	truth := map[string]map[string]string{} // resource → key → rv, before the stop
	for _, r := range fleetResources {
		truth[r.name] = map[string]string{}
		for _, c := range f.env.Clusters {
			for _, o := range listMember(t, f.env.Member(t, c), r) {
				truth[r.name][c+"/"+o.Namespace()+"/"+o.Name()] = o.ResourceVersion()
			}
		}
	}
	// memgraph holds exactly that before the stop.
	for _, r := range fleetResources {
		want := truth[r.name]
		f.memgraph.WaitForList(t, 30*time.Second, ResourcesPath+r.path(""), func(l *List) (bool, string) {
			if len(l.Items) != len(want) {
				return false, fmt.Sprintf("%d %s, want %d", len(l.Items), r.name, len(want))
			}
			for _, it := range l.Items {
				if want[key(it)] != it.ResourceVersion() {
					return false, key(it) + " rv " + it.ResourceVersion()
				}
			}
			return true, ""
		})
	}

	stopAt := time.Now()
	f.memgraph.Stop()
	t.Logf("memgraph binding-apiserver stopped in %s", time.Since(stopAt).Round(10*time.Millisecond))

	c2 := f.env.Member(t, "c2")
	created := c2.CreateConfigMap(t, "shop", "while-down", map[string]string{"restart": "yes"}, nil)
	updated := c2.Patch(t, rConfigMaps.path("shop")+"/settings", map[string]any{"metadata": map[string]any{"labels": map[string]any{"restart": "yes"}}})
	c2.Delete(t, rConfigMaps.path("shop")+"/late")

	restartAt := time.Now()
	f.memgraph = f.env.StartClusterpedia(parent, f.mgOpts) // lives until the whole test ends
	readyIn := time.Since(restartAt)

	// Immediately: every unchanged object is there in the first 200 answer.
	for _, r := range []resource{rPods, rDeployments, rWidgets, rConfigMaps} {
		var first *List
		var firstAt time.Duration
		Eventually(t, 20*time.Second, "first list of "+r.name+" after restart", func() (bool, string) {
			code, body, err := f.memgraph.Get(ResourcesPath + r.path(""))
			if err != nil || code != http.StatusOK {
				return false, fmt.Sprintf("%d %v %s", code, err, truncate(body, 200))
			}
			first = &List{}
			if err := json.Unmarshal(body, first); err != nil {
				return false, err.Error()
			}
			firstAt = time.Since(restartAt)
			return true, ""
		})
		got := map[string]string{}
		for _, it := range first.Items {
			got[key(it)] = it.ResourceVersion()
		}
		missing := 0
		for k, v := range truth[r.name] {
			if k == "c2/shop/settings" || k == "c2/shop/late" {
				continue // changed while down
			}
			if got[k] != v {
				missing++
				t.Errorf("first %s list after restart (%s): %s rv %q, want %q", r.name, firstAt.Round(time.Millisecond), k, got[k], v)
			}
		}
		stale := ""
		if r == rConfigMaps { // answered from disk before the resync applied the changes made while down?
			_, late := got["c2/shop/late"]
			_, created := got["c2/shop/while-down"]
			stale = fmt.Sprintf("; resync already applied: deleted-while-down gone %v, created-while-down present %v", !late, created)
		}
		t.Logf("restart: /readyz after %s; first %s list at %s with %d items (%d of the unchanged missing)%s",
			readyIn.Round(time.Millisecond), r.name, firstAt.Round(time.Millisecond), len(first.Items), missing, stale)
	}
	log, _ := os.ReadFile(f.memgraph.Log)
	if mm := regexp.MustCompile(`memgraph: persistence restored.*? objects=(\d+)`).FindAllStringSubmatch(string(log), -1); len(mm) < 2 || mm[len(mm)-1][1] == "0" {
		t.Errorf("binding-apiserver log shows no restore of persisted objects after the restart: %v", mm)
	} else {
		t.Logf("restart: persistence restored %s objects", mm[len(mm)-1][1])
	}

	// The resync brings the three changes.
	path := ResourcesPath + "/clusters/c2" + rConfigMaps.path("shop")
	f.memgraph.WaitForList(t, time.Minute, path, func(l *List) (bool, string) {
		var has, upd, late bool
		for _, it := range l.Items {
			switch it.Name() {
			case "while-down":
				has = it.UID() == created.UID()
			case "settings":
				upd = it.ResourceVersion() == updated.ResourceVersion()
			case "late":
				late = true
			}
		}
		return has && upd && !late, fmt.Sprintf("created %v updated %v deleted %v", has, upd, !late)
	})
	f.env.WaitSynced(t, time.Minute)
	time.Sleep(2 * time.Second) // let any stray resync write land before counting
	w := f.writes(t)
	t.Logf("restart: memgraph writes since the restart: %v", w)
	if w["create"] != 1 || w["update"] != 1 || w["delete"] != 1 {
		t.Errorf("writes after restart: create %d update %d delete %d, want 1 1 1 (unchanged objects must not be rewritten; %d objects synced)",
			w["create"], w["update"], w["delete"], countAll(truth))
	}
	for op, n := range w {
		// "event": the two recorded Events are known by resourceVersion (GetResourceVersions
		// reports them), so they are not recorded again.
		if op != "create" && op != "update" && op != "delete" && n != 0 {
			t.Errorf("writes after restart: %d %q, want none", n, op)
		}
	}
}

func countAll(m map[string]map[string]string) int {
	n := 0
	for _, v := range m {
		n += len(v)
	}
	return n
}
