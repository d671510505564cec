package api

import (
	"net/http"
	"time"

	"github.com/clusterpedia-memgraph/memgraph/graph"
	"github.com/clusterpedia-memgraph/memgraph/index"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if !s.ready() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

var relationHelp = [graph.NumRelations]string{
	graph.RelOwner:                "metadata.ownerReferences (every entry; controller flagged)",
	graph.RelServicePod:           "Service spec.selector → Pods of its namespace",
	graph.RelEndpointSliceService: "EndpointSlice label kubernetes.io/service-name → Service",
	graph.RelIngressService:       "Ingress default backend and rule backends → Service",
	graph.RelIngressClass:         "Ingress spec.ingressClassName → IngressClass",
	graph.RelIngressTLSSecret:     "Ingress spec.tls[].secretName → Secret",
	graph.RelHPATarget:            "HorizontalPodAutoscaler spec.scaleTargetRef → scaled object",
	graph.RelPDBPod:               "PodDisruptionBudget spec.selector → Pods of its namespace",
	graph.RelNetworkPolicyPod:     "NetworkPolicy spec.podSelector → Pods of its namespace",
	graph.RelPodNode:              "Pod spec.nodeName → Node",
	graph.RelPodPVC:               "Pod volumes (persistentVolumeClaim, generic ephemeral) → PersistentVolumeClaim",
	graph.RelPVCPV:                "PersistentVolumeClaim spec.volumeName → PersistentVolume",
	graph.RelPVCStorageClass:      "PersistentVolumeClaim spec.storageClassName → StorageClass",
	graph.RelPVStorageClass:       "PersistentVolume spec.storageClassName → StorageClass",
	graph.RelPodConfigMap:         "Pod volumes, projected volumes, env, envFrom → ConfigMap",
	graph.RelPodSecret:            "Pod volumes, projected volumes, env, envFrom, imagePullSecrets → Secret",
	graph.RelPodServiceAccount:    "Pod spec.serviceAccountName → ServiceAccount",
	graph.RelServiceAccountSecret: "ServiceAccount secrets and imagePullSecrets → Secret",
	graph.RelEventObject:          "Event involvedObject / regarding → object",
	graph.RelRoleBindingRole:      "(Cluster)RoleBinding roleRef → Role or ClusterRole",
	graph.RelRoleBindingSubject:   "(Cluster)RoleBinding subjects → ServiceAccount, or external User / Group",
}

type relationJSON struct {
	Kind        string `json:"kind"`
	Description string `json:"description"`
	Selector    bool   `json:"selector,omitempty"`
}

func (s *Server) relations(w http.ResponseWriter, r *http.Request) {
	if _, perr := parseQuery(r.URL.RawQuery); perr != nil {
		writeError(w, http.StatusBadRequest, perr.msg, perr.param)
		return
	}
	out := make([]relationJSON, 0, graph.NumRelations)
	for _, rel := range graph.Relations() {
		out = append(out, relationJSON{Kind: rel.String(), Description: relationHelp[rel], Selector: rel.IsSelector()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"kinds": out})
}

// start resolves the addressed object on a fresh snapshot: 404 when it is not stored.
func (s *Server) start(w http.ResponseWriter, q *query) (*index.View, *graph.Node, bool) {
	o, perr := q.object()
	if perr != nil {
		writeError(w, http.StatusBadRequest, perr.msg, perr.param)
		return nil, nil, false
	}
	v := s.store.View()
	var n *graph.Node
	var ok bool
	if o.uid != "" {
		n, ok = v.NodeByUID(o.cluster, o.uid)
	} else {
		n, ok = v.NodeByKey(o.key)
	}
	if !ok {
		writeError(w, http.StatusNotFound, "object not found: "+o.String(), "")
		return nil, nil, false
	}
	return v, n, true
}

func (s *Server) finish(w http.ResponseWriter, r *http.Request, op string, began time.Time) bool {
	s.m.ObserveQuery(op, time.Since(began))
	if r.Context().Err() != nil {
		writeError(w, http.StatusServiceUnavailable, "request timed out", "")
		return false
	}
	return true
}

var graphParams = append(append([]string{}, objectParams...), "direction", "depth", "kinds", "limit", "format")

func (s *Server) graphHandler(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	q, perr := parseQuery(r.URL.RawQuery, graphParams...)
	if perr == nil {
		perr = s.checkWalkParams(q)
	}
	if perr != nil {
		writeError(w, http.StatusBadRequest, perr.msg, perr.param)
		return
	}
	dir, _ := q.direction(graph.Both)
	depth, _ := q.intParam("depth", s.graph.DefaultDepth, 1, s.graph.MaxDepth)
	limit, _ := q.intParam("limit", s.graph.MaxNodes, 1, s.graph.MaxNodes)
	rels, _ := q.kinds()
	format, _ := q.format(formatJSON, formatDOT, formatMermaid)
	v, start, ok := s.start(w, q)
	if !ok {
		return
	}
	res := graph.Walk(v.Relations(), start, graph.WalkOptions{Direction: dir, Depth: depth, Rels: rels, MaxNodes: limit})
	if !s.finish(w, r, "graph", began) {
		return
	}
	switch format {
	case formatDOT:
		writeText(w, "text/vnd.graphviz; charset=utf-8", renderDOT(res))
	case formatMermaid:
		writeText(w, "text/plain; charset=utf-8", renderMermaid(res))
	default:
		writeJSON(w, http.StatusOK, toGraphJSON(res, dir, depth, rels))
	}
}

// checkWalkParams validates every walk parameter up front, so that a request is either
// rejected (400, naming the first bad parameter) or answered.
func (s *Server) checkWalkParams(q *query) *paramError {
	if _, perr := q.object(); perr != nil {
		return perr
	}
	if _, perr := q.direction(graph.Both); perr != nil {
		return perr
	}
	if _, perr := q.intParam("depth", s.graph.DefaultDepth, 1, s.graph.MaxDepth); perr != nil {
		return perr
	}
	if _, perr := q.intParam("limit", s.graph.MaxNodes, 1, s.graph.MaxNodes); perr != nil {
		return perr
	}
	if q.has("kinds") {
		if _, perr := q.kinds(); perr != nil {
			return perr
		}
	}
	if q.has("format") {
		if _, perr := q.format(formatJSON, formatDOT, formatMermaid); perr != nil {
			return perr
		}
	}
	return nil
}

func writeText(w http.ResponseWriter, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(body))
}

var ownerParams = append(append([]string{}, objectParams...), "depth", "limit")

type ancestorJSON struct {
	nodeJSON
	// Dependent is the id of the object whose ownerReference led here.
	Dependent  string `json:"dependent"`
	Controller bool   `json:"controller,omitempty"`
}

type ancestorsJSON struct {
	Object    nodeJSON       `json:"object"`
	Ancestors []ancestorJSON `json:"ancestors"`
	// Roots are the topmost owners reached: objects without owners, or owners that are not
	// stored (placeholders).
	Roots     []string `json:"roots"`
	Truncated bool     `json:"truncated"`
}

func (s *Server) ownerWalkParams(w http.ResponseWriter, r *http.Request) (*query, int, int, bool) {
	q, perr := parseQuery(r.URL.RawQuery, ownerParams...)
	var depth, limit int
	if perr == nil {
		_, perr = q.object()
	}
	if perr == nil {
		depth, perr = q.intParam("depth", s.graph.MaxDepth, 1, s.graph.MaxDepth)
	}
	if perr == nil {
		limit, perr = q.intParam("limit", s.graph.MaxNodes, 1, s.graph.MaxNodes)
	}
	if perr != nil {
		writeError(w, http.StatusBadRequest, perr.msg, perr.param)
		return nil, 0, 0, false
	}
	return q, depth, limit, true
}

var ownerOnly = graph.RelSet(0).With(graph.RelOwner)

func (s *Server) ancestors(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	q, depth, limit, ok := s.ownerWalkParams(w, r)
	if !ok {
		return
	}
	v, start, ok := s.start(w, q)
	if !ok {
		return
	}
	res := graph.Walk(v.Relations(), start, graph.WalkOptions{Direction: graph.Dependencies, Depth: depth, Rels: ownerOnly, MaxNodes: limit})
	if !s.finish(w, r, "owners_ancestors", began) {
		return
	}
	out := ancestorsJSON{Object: toNodeJSON(start, 0), Ancestors: []ancestorJSON{}, Roots: []string{}, Truncated: res.Truncated}
	hasOwner := map[graph.Key]bool{}
	via := map[graph.Key]graph.Edge{}
	for _, e := range res.Edges {
		hasOwner[e.From.Key()] = true
		if _, seen := via[e.To.Key()]; !seen {
			via[e.To.Key()] = e
		}
	}
	for _, n := range res.Nodes {
		if !hasOwner[n.Key()] {
			out.Roots = append(out.Roots, n.Key().String())
		}
		if n.Depth == 0 {
			continue
		}
		e := via[n.Key()]
		out.Ancestors = append(out.Ancestors, ancestorJSON{nodeJSON: toNodeJSON(n.Node, n.Depth), Dependent: e.From.Key().String(), Controller: e.Controller})
	}
	writeJSON(w, http.StatusOK, out)
}

type treeJSON struct {
	nodeJSON
	Controller bool        `json:"controller,omitempty"`
	Children   []*treeJSON `json:"children,omitempty"`
}

type descendantsJSON struct {
	Tree *treeJSON `json:"tree"`
	// Count is the number of descendants in the tree (the root excluded).
	Count     int  `json:"count"`
	Truncated bool `json:"truncated"`
}

func (s *Server) descendants(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	q, depth, limit, ok := s.ownerWalkParams(w, r)
	if !ok {
		return
	}
	v, start, ok := s.start(w, q)
	if !ok {
		return
	}
	res := graph.Walk(v.Relations(), start, graph.WalkOptions{Direction: graph.Dependents, Depth: depth, Rels: ownerOnly, MaxNodes: limit})
	if !s.finish(w, r, "owners_descendants", began) {
		return
	}
	// Each descendant hangs under the owner it was first reached from (breadth-first).
	tree := map[graph.Key]*treeJSON{}
	root := &treeJSON{nodeJSON: toNodeJSON(start, 0)}
	tree[start.Key()] = root
	depthOf := map[graph.Key]int{}
	for _, n := range res.Nodes {
		depthOf[n.Key()] = n.Depth
	}
	for _, e := range res.Edges {
		child, parent := e.From, e.To
		if _, done := tree[child.Key()]; done {
			continue
		}
		p := tree[parent.Key()]
		if p == nil || depthOf[child.Key()] != depthOf[parent.Key()]+1 {
			continue
		}
		t := &treeJSON{nodeJSON: toNodeJSON(child, depthOf[child.Key()]), Controller: e.Controller}
		tree[child.Key()] = t
		p.Children = append(p.Children, t)
	}
	writeJSON(w, http.StatusOK, descendantsJSON{Tree: root, Count: len(tree) - 1, Truncated: res.Truncated})
}
