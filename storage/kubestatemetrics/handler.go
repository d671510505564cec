package kubestatemetrics

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/common/expfmt"
	"k8s.io/klog/v2"
)

// The paths the Exporter is served at on memgraph's extension port.
const (
	// FleetPath serves every member cluster.
	FleetPath = "/metrics/kube-state"
	// ClusterPathPattern serves one member cluster (chi pattern: {cluster} is one path
	// segment).
	ClusterPathPattern = "/clusters/{cluster}/metrics"
)

// Query parameters a scrape may narrow the answer with (repeatable, or comma-separated).
const (
	ParamCluster   = "cluster"
	ParamNamespace = "namespace"
	ParamFamily    = "family"
)

// Handler serves FleetPath and ClusterPathPattern (mount it at both): the selected series
// in the Prometheus text format, or OpenMetrics when the client asks for it, gzipped when
// the client accepts it — as Clusterpedia's kube-state-metrics handler does. Query
// parameters cluster, namespace and family narrow the answer. A cluster path of a cluster
// memgraph holds no object of is a 404.
func (e *Exporter) Handler() http.Handler { return http.HandlerFunc(e.serveHTTP) }

func writeError(w http.ResponseWriter, code int, msg, param string) {
	b, _ := json.Marshal(struct {
		Error     string `json:"error"`
		Parameter string `json:"parameter,omitempty"`
	}{msg, param})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// clusterFromPath returns <name> of /clusters/<name>/metrics, ok false for other paths.
func clusterFromPath(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, "/clusters/")
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(rest, "/metrics")
	return name, ok
}

// parseSelection reads the query parameters; the error names the offending parameter.
func parseSelection(rawQuery string) (Selection, string, error) {
	var sel Selection
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return sel, "", fmt.Errorf("malformed query: %v", err)
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var names []string
		for _, v := range q[k] {
			for _, n := range strings.Split(v, ",") {
				if n = strings.TrimSpace(n); n != "" {
					names = append(names, n)
				}
			}
		}
		if len(names) == 0 {
			return sel, k, fmt.Errorf("parameter %q has no value", k)
		}
		switch k {
		case ParamCluster:
			sel.Clusters = names
		case ParamNamespace:
			sel.Namespaces = names
		case ParamFamily:
			sel.Families = names
		default:
			return sel, k, fmt.Errorf("unknown parameter %q (known: %s, %s, %s)", k, ParamCluster, ParamNamespace, ParamFamily)
		}
	}
	return sel, "", nil
}

func (e *Exporter) serveHTTP(w http.ResponseWriter, r *http.Request) {
	sel, param, err := parseSelection(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), param)
		return
	}
	if cluster, ok := clusterFromPath(r.URL.Path); ok {
		if sel.Clusters != nil {
			writeError(w, http.StatusBadRequest, "parameter \"cluster\" is not allowed on a cluster path", ParamCluster)
			return
		}
		if code, msg := e.checkCluster(cluster); code != http.StatusOK {
			writeError(w, code, msg, "")
			return
		}
		sel.Clusters = []string{cluster}
	}
	if !e.started.Load() {
		writeError(w, http.StatusServiceUnavailable, "kube-state-metrics is not started", "")
		return
	}

	format := expfmt.NegotiateIncludingOpenMetrics(r.Header)
	if format.FormatType() != expfmt.TypeOpenMetrics {
		format = expfmt.NewFormat(expfmt.TypeTextPlain)
	}
	h := w.Header()
	h.Set("Content-Type", string(format))
	var out io.Writer = w
	var gz *gzip.Writer
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		gz, _ = gzip.NewWriterLevel(w, gzip.BestSpeed)
		out = gz
	}
	h.Add("Vary", "Accept-Encoding")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	err = e.WriteTo(bw, sel)
	if err == nil && format.FormatType() == expfmt.TypeOpenMetrics {
		_, err = bw.WriteString("# EOF\n")
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && gz != nil {
		err = gz.Close()
	}
	if err != nil {
		klog.V(2).InfoS("memgraph kube-state-metrics: scrape aborted", "path", r.URL.Path, "err", err)
	}
}

func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		part = strings.TrimSpace(part)
		if part == "gzip" || strings.HasPrefix(part, "gzip;") {
			return true
		}
	}
	return false
}

// checkCluster answers a cluster path: 404 for a cluster memgraph holds nothing of, or one
// the configuration excludes.
func (e *Exporter) checkCluster(cluster string) (int, string) {
	if cluster == "" {
		return http.StatusNotFound, "empty cluster name"
	}
	if e.clusterOK != nil && !e.clusterOK(cluster) {
		return http.StatusNotFound, fmt.Sprintf("cluster %q is excluded by %s", cluster, e.excludedBy)
	}
	if e.hasCluster(cluster) {
		return http.StatusOK, ""
	}
	if s := e.store.Load(); s != nil {
		for _, c := range s.View().Clusters() {
			if c == cluster {
				return http.StatusOK, ""
			}
		}
	}
	return http.StatusNotFound, fmt.Sprintf("no member cluster %q", cluster)
}

// familyFilter passes through the selected metric families and drops the others. It
// relies on how kube-state-metrics' MetricsWriter writes: a family's HELP and TYPE lines
// with one Write, then the family's series with one Write per object, every line of which
// starts with the family name. So one decision per write: the family of the last header
// decides for the writes that follow it, and a write whose first line names another family
// is looked up on its own.
type familyFilter struct {
	w       io.Writer
	keep    map[string]bool
	current []byte // the family of the last write
	kept    bool   // whether current is kept
}

func newFamilyFilter(w io.Writer, families []string) *familyFilter {
	keep := make(map[string]bool, len(families))
	for _, f := range families {
		keep[f] = true
	}
	return &familyFilter{w: w, keep: keep}
}

// family returns the metric name the first line of p is about: the third word of a
// "# HELP <name> ..." or "# TYPE <name> <type>" line, else what precedes the labels or the
// value.
func family(p []byte) []byte {
	if len(p) > 7 && p[0] == '#' {
		p = p[7:] // "# HELP " / "# TYPE "
	}
	for i, c := range p {
		if c == '{' || c == ' ' || c == '\n' {
			return p[:i]
		}
	}
	return p
}

// sameFamily reports whether the series line p starts with the metric name name.
func sameFamily(p, name []byte) bool {
	return len(name) > 0 && len(p) > len(name) && (p[len(name)] == '{' || p[len(name)] == ' ') && string(p[:len(name)]) == string(name)
}

func (f *familyFilter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if p[0] == '#' || !sameFamily(p, f.current) {
		name := family(p)
		f.current = append(f.current[:0], name...)
		f.kept = f.keep[string(name)]
	}
	if !f.kept {
		return len(p), nil
	}
	return f.w.Write(p)
}
