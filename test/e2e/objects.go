package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

// Object is a Kubernetes object as generic JSON.
type Object map[string]any

// Name, Namespace, UID, ResourceVersion read metadata fields.
func (o Object) Name() string            { return o.meta("name") }
func (o Object) Namespace() string       { return o.meta("namespace") }
func (o Object) UID() string             { return o.meta("uid") }
func (o Object) ResourceVersion() string { return o.meta("resourceVersion") }

func (o Object) meta(k string) string {
	m, _ := o["metadata"].(map[string]any)
	s, _ := m[k].(string)
	return s
}

// Annotation returns one annotation.
func (o Object) Annotation(k string) string {
	m, _ := o["metadata"].(map[string]any)
	a, _ := m["annotations"].(map[string]any)
	s, _ := a[k].(string)
	return s
}

// Labels returns metadata.labels (nil when there are none).
func (o Object) Labels() map[string]string {
	m, _ := o["metadata"].(map[string]any)
	l, _ := m["labels"].(map[string]any)
	if len(l) == 0 {
		return nil
	}
	out := make(map[string]string, len(l))
	for k, v := range l {
		s, _ := v.(string)
		out[k] = s
	}
	return out
}

// Field returns the value at a path of map keys (nil when absent).
func (o Object) Field(path ...string) any {
	var cur any = map[string]any(o)
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

// ClusterAnnotation is where Clusterpedia puts the PediaCluster name.
const ClusterAnnotation = "shadow.clusterpedia.io/cluster-name"

// Cluster is the PediaCluster an object returned by Clusterpedia came from.
func (o Object) Cluster() string { return o.Annotation(ClusterAnnotation) }

// OwnerRef builds a controller ownerReference to o.
func (o Object) OwnerRef() map[string]any {
	return map[string]any{
		"apiVersion": o["apiVersion"], "kind": o["kind"], "name": o.Name(), "uid": o.UID(),
		"controller": true, "blockOwnerDeletion": true,
	}
}

// List is a decoded list response.
type List struct {
	Kind     string `json:"kind"`
	Metadata struct {
		ResourceVersion    string `json:"resourceVersion"`
		Continue           string `json:"continue"`
		RemainingItemCount *int64 `json:"remainingItemCount"`
	} `json:"metadata"`
	Items []Object `json:"items"`
}

// Keys returns "cluster/namespace/name" for every item, sorted (cluster is
// empty for plain kube-apiserver lists).
func (l *List) Keys() []string {
	out := make([]string, 0, len(l.Items))
	for _, it := range l.Items {
		out = append(out, it.Cluster()+"/"+it.Namespace()+"/"+it.Name())
	}
	sort.Strings(out)
	return out
}

// ---------------------------------------------------------------- kube writes

// Member is one member cluster's kube-apiserver as a target for writes.
type Member struct {
	*Server
	Name       string // PediaCluster name ("" for Env.Host)
	Kubeconfig string // admin kubeconfig of this kube-apiserver
}

// The Env write helpers write to the host kube-apiserver (every member cluster
// unless KubeOptions.SeparateMembers).

// Create: see Member.Create.
func (e *Env) Create(t testing.TB, collectionPath string, obj Object) Object {
	t.Helper()
	return e.Host().Create(t, collectionPath, obj)
}

// Delete: see Member.Delete.
func (e *Env) Delete(t testing.TB, path string) { t.Helper(); e.Host().Delete(t, path) }

// CreateNamespace: see Member.CreateNamespace.
func (e *Env) CreateNamespace(t testing.TB, ns string, labels map[string]string) Object {
	t.Helper()
	return e.Host().CreateNamespace(t, ns, labels)
}

// DeleteNamespace: see Member.DeleteNamespace.
func (e *Env) DeleteNamespace(t testing.TB, ns string) { t.Helper(); e.Host().DeleteNamespace(t, ns) }

// CreateConfigMap: see Member.CreateConfigMap.
func (e *Env) CreateConfigMap(t testing.TB, ns, name string, labels, data map[string]string) Object {
	t.Helper()
	return e.Host().CreateConfigMap(t, ns, name, labels, data)
}

// CreateService: see Member.CreateService.
func (e *Env) CreateService(t testing.TB, ns, name string, selector map[string]string) Object {
	t.Helper()
	return e.Host().CreateService(t, ns, name, selector)
}

// CreateDeploymentChain: see Member.CreateDeploymentChain.
func (e *Env) CreateDeploymentChain(t testing.TB, ns, name string, replicas int, opts ChainOptions) Chain {
	t.Helper()
	return e.Host().CreateDeploymentChain(t, ns, name, replicas, opts)
}

// Create POSTs obj to the collection path (e.g. /api/v1/namespaces/ns/configmaps)
// and returns the created object; anything but 201 fails the test.
func (m *Member) Create(t testing.TB, collectionPath string, obj Object) Object {
	t.Helper()
	code, body, err := m.Do(http.MethodPost, collectionPath, obj)
	if err != nil {
		t.Fatalf("POST %s: %v", collectionPath, err)
	}
	if code != http.StatusCreated {
		t.Fatalf("POST %s: %d %s", collectionPath, code, truncate(body, 800))
	}
	var out Object
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Delete deletes one object by path (404 is fine).
func (m *Member) Delete(t testing.TB, path string) {
	t.Helper()
	code, body, err := m.Do(http.MethodDelete, path, nil)
	if err != nil {
		t.Fatalf("DELETE %s: %v", path, err)
	}
	if code != http.StatusOK && code != http.StatusAccepted && code != http.StatusNotFound {
		t.Fatalf("DELETE %s: %d %s", path, code, truncate(body, 500))
	}
}

// Patch applies a JSON merge patch (RFC 7386) to one object and returns the
// result; anything but 200 fails the test.
func (m *Member) Patch(t testing.TB, path string, patch any) Object {
	t.Helper()
	return m.patch(t, path, patch, "application/merge-patch+json")
}

// JSONPatch applies a JSON patch (RFC 6902, a list of operations).
func (m *Member) JSONPatch(t testing.TB, path string, ops []map[string]any) Object {
	t.Helper()
	return m.patch(t, path, ops, "application/json-patch+json")
}

func (m *Member) patch(t testing.TB, path string, patch any, contentType string) Object {
	t.Helper()
	code, body, err := m.Do(http.MethodPatch, path, patch, "Content-Type", contentType)
	if err != nil {
		t.Fatalf("PATCH %s: %v", path, err)
	}
	if code != http.StatusOK {
		t.Fatalf("PATCH %s: %d %s", path, code, truncate(body, 500))
	}
	var out Object
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// CreateNamespace creates a namespace and its default ServiceAccount (no
// controller-manager runs here, and Pods need the account to exist).
func (m *Member) CreateNamespace(t testing.TB, ns string, labels map[string]string) Object {
	t.Helper()
	obj := m.Create(t, "/api/v1/namespaces", Object{
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": ns, "labels": labels},
	})
	m.Create(t, "/api/v1/namespaces/"+ns+"/serviceaccounts", Object{
		"apiVersion": "v1", "kind": "ServiceAccount", "metadata": map[string]any{"name": "default"},
	})
	return obj
}

// DeleteNamespace removes a namespace without a namespace controller: it
// deletes the objects the harness creates, then finalizes the namespace.
func (m *Member) DeleteNamespace(t testing.TB, ns string) {
	t.Helper()
	for _, c := range []string{
		"/apis/apps/v1/namespaces/%s/deployments", "/apis/apps/v1/namespaces/%s/replicasets",
		"/apis/apps/v1/namespaces/%s/daemonsets", "/apis/apps/v1/namespaces/%s/statefulsets",
		"/api/v1/namespaces/%s/pods", "/api/v1/namespaces/%s/services", "/api/v1/namespaces/%s/configmaps",
		"/api/v1/namespaces/%s/serviceaccounts", "/api/v1/namespaces/%s/events",
	} {
		path := fmt.Sprintf(c, ns)
		if strings.HasSuffix(path, "/services") { // no deletecollection for services
			var l List
			m.GetJSON(t, path, &l)
			for _, it := range l.Items {
				m.Delete(t, path+"/"+it.Name())
			}
			continue
		}
		m.Delete(t, path)
	}
	m.Delete(t, "/api/v1/namespaces/"+ns)
	code, body, err := m.Do(http.MethodPut, "/api/v1/namespaces/"+ns+"/finalize", Object{
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": ns}, "spec": map[string]any{"finalizers": []string{}},
	})
	if err != nil || (code != http.StatusOK && code != http.StatusNotFound && code != http.StatusConflict) {
		t.Fatalf("finalize namespace %s: %d %v %s", ns, code, err, truncate(body, 300))
	}
}

// CreateConfigMap creates a ConfigMap.
func (m *Member) CreateConfigMap(t testing.TB, ns, name string, labels, data map[string]string) Object {
	t.Helper()
	return m.Create(t, "/api/v1/namespaces/"+ns+"/configmaps", Object{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "labels": labels}, "data": data,
	})
}

// CreateService creates a ClusterIP Service selecting selector.
func (m *Member) CreateService(t testing.TB, ns, name string, selector map[string]string) Object {
	t.Helper()
	return m.Create(t, "/api/v1/namespaces/"+ns+"/services", Object{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": name, "labels": selector},
		"spec": map[string]any{
			"selector": selector,
			"ports":    []any{map[string]any{"port": 80, "protocol": "TCP"}},
		},
	})
}

// Chain is a Deployment with the ReplicaSet and Pods a controller-manager
// would have made (built by hand: none runs here).
type Chain struct {
	Deployment Object
	ReplicaSet Object
	Pods       []Object
}

// ChainOptions tunes CreateDeploymentChain.
type ChainOptions struct {
	Labels   map[string]string // pod/deployment labels (default app=<name>)
	Image    string            // default registry.k8s.io/pause:3.10
	Hash     string            // pod-template-hash (default "5d8f7c9b4")
	NodeName string            // pods' spec.nodeName (default none: Pending)
	Sidecar  string            // name of a second container in the pods (default none)
}

// CreateDeploymentChain creates Deployment <name>, ReplicaSet <name>-<hash>
// (controller ownerReference → Deployment) and `replicas` Pods
// <name>-<hash>-<i> (controller ownerReference → ReplicaSet). Pods stay
// Pending (no nodes, no scheduler).
func (m *Member) CreateDeploymentChain(t testing.TB, ns, name string, replicas int, opts ChainOptions) Chain {
	t.Helper()
	labels := map[string]any{}
	for k, v := range opts.Labels {
		labels[k] = v
	}
	if len(labels) == 0 {
		labels["app"] = name
	}
	if opts.Image == "" {
		opts.Image = "registry.k8s.io/pause:3.10"
	}
	if opts.Hash == "" {
		opts.Hash = "5d8f7c9b4"
	}
	containers := []any{map[string]any{"name": "main", "image": opts.Image}}
	if opts.Sidecar != "" {
		containers = append(containers, map[string]any{"name": opts.Sidecar, "image": opts.Image})
	}
	podSpec := map[string]any{"containers": containers}
	if opts.NodeName != "" {
		podSpec["nodeName"] = opts.NodeName
	}
	template := func(extra map[string]any) map[string]any {
		l := map[string]any{}
		for k, v := range labels {
			l[k] = v
		}
		for k, v := range extra {
			l[k] = v
		}
		return map[string]any{"metadata": map[string]any{"labels": l}, "spec": podSpec}
	}
	var c Chain
	c.Deployment = m.Create(t, "/apis/apps/v1/namespaces/"+ns+"/deployments", Object{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "labels": labels},
		"spec": map[string]any{
			"replicas": replicas,
			"selector": map[string]any{"matchLabels": labels},
			"template": template(nil),
		},
	})
	c.Deployment["apiVersion"], c.Deployment["kind"] = "apps/v1", "Deployment"
	hashLabel := map[string]any{"pod-template-hash": opts.Hash}
	rsLabels := template(hashLabel)["metadata"].(map[string]any)["labels"]
	c.ReplicaSet = m.Create(t, "/apis/apps/v1/namespaces/"+ns+"/replicasets", Object{
		"apiVersion": "apps/v1", "kind": "ReplicaSet",
		"metadata": map[string]any{
			"name": name + "-" + opts.Hash, "labels": rsLabels,
			"ownerReferences": []any{c.Deployment.OwnerRef()},
		},
		"spec": map[string]any{
			"replicas": replicas,
			"selector": map[string]any{"matchLabels": rsLabels},
			"template": template(hashLabel),
		},
	})
	c.ReplicaSet["apiVersion"], c.ReplicaSet["kind"] = "apps/v1", "ReplicaSet"
	for i := 0; i < replicas; i++ {
		tpl := template(hashLabel)
		meta := tpl["metadata"].(map[string]any)
		meta["name"] = fmt.Sprintf("%s-%s-%d", name, opts.Hash, i)
		meta["ownerReferences"] = []any{c.ReplicaSet.OwnerRef()}
		c.Pods = append(c.Pods, m.Create(t, "/api/v1/namespaces/"+ns+"/pods", Object{
			"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": tpl["spec"],
		}))
	}
	return c
}

// --------------------------------------------------------- clusterpedia reads

// ResourcesPath is the prefix of Clusterpedia's resource API.
const ResourcesPath = "/apis/clusterpedia.io/v1beta1/resources"

// List GETs a list (path relative to the server, query included) and
// decodes it; non-200 fails the test.
func (s *Server) List(t testing.TB, path string) *List {
	t.Helper()
	var l List
	s.GetJSON(t, path, &l)
	return &l
}

// Eventually polls cond every 100 ms until it returns true or timeout passes;
// then the test fails with the last message cond returned.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s: %s", timeout, what, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitForList polls a Clusterpedia list until match accepts it (404 and other
// errors count as "not yet": a resource is served only once its sync started).
func (p *Pedia) WaitForList(t testing.TB, timeout time.Duration, path string, match func(*List) (bool, string)) *List {
	t.Helper()
	var got *List
	Eventually(t, timeout, p.Name+" "+path, func() (bool, string) {
		if !p.Alive() {
			t.Fatalf("binding-apiserver %q exited; %s", p.Name, crashReport(p.Log))
		}
		code, body, err := p.Get(path)
		if err != nil {
			return false, err.Error()
		}
		if code != http.StatusOK {
			return false, fmt.Sprintf("%d %s", code, truncate(body, 300))
		}
		var l List
		if err := json.Unmarshal(body, &l); err != nil {
			return false, err.Error()
		}
		got = &l
		return match(&l)
	})
	return got
}

// WaitSynced waits until every PediaCluster of the Env is Ready and every
// resource in its status.syncResources reports Syncing (≈ servable), as seen
// on the kube-apiserver (status is written by the binding-apiserver(s)).
func (e *Env) WaitSynced(t testing.TB, timeout time.Duration) {
	t.Helper()
	for _, c := range e.Clusters {
		Eventually(t, timeout, "PediaCluster "+c+" synced", func() (bool, string) {
			var pc struct {
				Status struct {
					Conditions []struct {
						Type, Status, Reason, Message string
					} `json:"conditions"`
					SyncResources []struct {
						Group     string `json:"group"`
						Resources []struct {
							Name           string `json:"name"`
							SyncConditions []struct {
								Version string `json:"version"`
								Status  string `json:"status"`
								Reason  string `json:"reason"`
							} `json:"syncConditions"`
						} `json:"resources"`
					} `json:"syncResources"`
				} `json:"status"`
			}
			code, body, err := e.Kube.Get("/apis/cluster.clusterpedia.io/v1alpha2/pediaclusters/" + url.PathEscape(c))
			if err != nil || code != http.StatusOK {
				return false, fmt.Sprintf("%d %v", code, err)
			}
			if err := json.Unmarshal(body, &pc); err != nil {
				return false, err.Error()
			}
			ready := false
			for _, cond := range pc.Status.Conditions {
				if cond.Type == "Ready" && cond.Status == "True" {
					ready = true
				}
			}
			if !ready {
				return false, "not Ready: " + truncate(body, 300)
			}
			if len(pc.Status.SyncResources) == 0 {
				return false, "no status.syncResources yet"
			}
			for _, g := range pc.Status.SyncResources {
				for _, r := range g.Resources {
					if len(r.SyncConditions) == 0 {
						return false, g.Group + "/" + r.Name + " has no sync condition"
					}
					for _, sc := range r.SyncConditions {
						if sc.Status != "Syncing" {
							return false, fmt.Sprintf("%s/%s %s is %s (%s)", g.Group, r.Name, sc.Version, sc.Status, sc.Reason)
						}
					}
				}
			}
			return true, ""
		})
	}
}
