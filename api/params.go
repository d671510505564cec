package api

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/clusterpedia-memgraph/memgraph/graph"
	"github.com/clusterpedia-memgraph/memgraph/index"
)

// paramError is a bad request parameter: 400 with {"error", "parameter"}.
type paramError struct {
	param string
	msg   string
}

func (e *paramError) Error() string { return e.msg }

func badParam(p, format string, args ...any) *paramError {
	return &paramError{param: p, msg: fmt.Sprintf(format, args...)}
}

// maxParamLen bounds each parameter value (names are at most 253 bytes in Kubernetes).
const maxParamLen = 512

// query reads a request's parameters strictly: unknown or repeated parameters and values
// that are not clean UTF-8 are errors naming the parameter.
type query struct {
	v url.Values
}

func parseQuery(raw string, allowed ...string) (*query, *paramError) {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil, badParam("query", "malformed query string: %v", err)
	}
	for k, vals := range v {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			name := k
			if name == "" || len(name) > 64 || !utf8.ValidString(name) {
				name = strconv.QuoteToASCII(truncate(name, 64))
			}
			if len(allowed) == 0 {
				return nil, badParam(name, "unknown parameter %q: this endpoint takes no parameters", truncate(k, 64))
			}
			return nil, badParam(name, "unknown parameter %q (allowed: %s)", truncate(k, 64), strings.Join(allowed, ", "))
		}
		if len(vals) > 1 {
			return nil, badParam(k, "parameter %q given %d times", k, len(vals))
		}
		val := vals[0]
		if len(val) > maxParamLen {
			return nil, badParam(k, "parameter %q is longer than %d bytes", k, maxParamLen)
		}
		if !utf8.ValidString(val) || strings.ContainsRune(val, 0) {
			return nil, badParam(k, "parameter %q is not valid UTF-8 text", k)
		}
	}
	return &query{v: v}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func (q *query) get(k string) string { return q.v.Get(k) }
func (q *query) has(k string) bool   { _, ok := q.v[k]; return ok }

// intParam reads an integer in [lo, hi], def when absent.
func (q *query) intParam(k string, def, lo, hi int) (int, *paramError) {
	if !q.has(k) {
		return def, nil
	}
	s := q.get(k)
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, badParam(k, "parameter %q must be an integer (got %q)", k, truncate(s, 32))
	}
	if n < lo || n > hi {
		return 0, badParam(k, "parameter %q must be between %d and %d (got %d)", k, lo, hi, n)
	}
	return n, nil
}

// object is how a request addresses its start object.
type object struct {
	cluster string
	uid     string
	key     index.Key
}

var objectParams = []string{"cluster", "uid", "group", "version", "resource", "namespace", "name"}

func (q *query) object() (object, *paramError) {
	o := object{cluster: q.get("cluster")}
	if o.cluster == "" {
		return o, badParam("cluster", "parameter \"cluster\" is required")
	}
	if q.has("uid") {
		o.uid = q.get("uid")
		if o.uid == "" {
			return o, badParam("uid", "parameter \"uid\" must not be empty")
		}
		for _, p := range []string{"group", "version", "resource", "namespace", "name"} {
			if q.has(p) {
				return o, badParam(p, "parameter %q cannot be combined with \"uid\": address the object by uid, or by group/version/resource/namespace/name", p)
			}
		}
		return o, nil
	}
	if !q.has("name") {
		return o, badParam("name", "address the object with \"uid\", or with \"version\", \"resource\" and \"name\" (plus \"group\" and \"namespace\" where they apply)")
	}
	for _, p := range []string{"version", "resource", "name"} {
		if q.get(p) == "" {
			return o, badParam(p, "parameter %q is required with \"name\"", p)
		}
	}
	o.key = index.Key{Cluster: o.cluster, GVR: index.GVR{Group: q.get("group"), Version: q.get("version"), Resource: q.get("resource")},
		Namespace: q.get("namespace"), Name: q.get("name")}
	return o, nil
}

func (o object) String() string {
	if o.uid != "" {
		return fmt.Sprintf("cluster %q uid %q", o.cluster, o.uid)
	}
	return fmt.Sprintf("%s %s %q in cluster %q", o.key.GVR, namespaced(o.key.Namespace), o.key.Name, o.cluster)
}

func namespaced(ns string) string {
	if ns == "" {
		return "(cluster-scoped)"
	}
	return "namespace " + strconv.Quote(ns)
}

func (q *query) direction(def graph.Direction) (graph.Direction, *paramError) {
	if !q.has("direction") {
		return def, nil
	}
	d, ok := graph.ParseDirection(q.get("direction"))
	if !ok {
		return 0, badParam("direction", "parameter \"direction\" must be one of dependencies, dependents, both (got %q)", truncate(q.get("direction"), 32))
	}
	return d, nil
}

func (q *query) kinds() (graph.RelSet, *paramError) {
	s, err := graph.ParseRelSet(q.get("kinds"))
	if err != nil {
		return 0, badParam("kinds", "parameter \"kinds\": %v", err)
	}
	return s, nil
}

const (
	formatJSON    = "json"
	formatDOT     = "dot"
	formatMermaid = "mermaid"
)

func (q *query) format(allowed ...string) (string, *paramError) {
	if !q.has("format") {
		return formatJSON, nil
	}
	f := q.get("format")
	for _, a := range allowed {
		if a == f {
			return f, nil
		}
	}
	return "", badParam("format", "parameter \"format\" must be one of %s (got %q)", strings.Join(allowed, ", "), truncate(f, 32))
}
