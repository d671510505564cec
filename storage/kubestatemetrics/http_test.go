package kubestatemetrics

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/clusterpedia-memgraph/memgraph/api"
	"github.com/clusterpedia-memgraph/memgraph/config"
	"github.com/clusterpedia-memgraph/memgraph/index"
)

const testToken = "ksm-test-token"

// serve mounts e on a real api.Server (bearer token required) and returns its base URL.
func serve(t *testing.T, e *Exporter, s *index.Store) string {
	t.Helper()
	c := config.Default()
	c.Server.ListenAddress = "127.0.0.1:0"
	c.Server.BearerTokenFile = filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(c.Server.BearerTokenFile, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(c.Server, c.Graph, s, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{FleetPath, ClusterPathPattern} {
		if err := srv.Handle(p, e.Handler()); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return "http://" + srv.Addr()
}

type httpResult struct {
	code     int
	header   http.Header
	body     string
	errorMsg string
	param    string
}

// fetch GETs url (raw: no transparent gzip) with the token unless noAuth.
func fetch(t *testing.T, method, url string, noAuth bool, hdr ...string) httpResult {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !noAuth {
		req.Header.Set("Authorization", "Bearer "+testToken)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableCompression: true}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rd io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		rd = gz
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	r := httpResult{code: resp.StatusCode, header: resp.Header, body: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		var e struct{ Error, Parameter string }
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("%s: error body %q: %v", url, b, err)
		}
		r.errorMsg, r.param = e.Error, e.Parameter
	}
	return r
}

// TestHTTP: both paths through a real listener behind the extension server's bearer
// token: the answers equal kube-state-metrics' output for the selection, in the text
// format (gzipped or OpenMetrics on request); bad requests and unknown clusters are
// clear errors.
func TestHTTP(t *testing.T) {
	s, e := newObservedStore(t, Options{})
	m := model{}
	var muts []index.Mutation
	for _, c := range []string{"c1", "c2"} {
		for _, o := range fixtures(c, 3) {
			muts = append(muts, upsert(t, c, o))
			m.put(t, c, o)
		}
	}
	// c3 holds only a resource without kube-state-metrics families.
	muts = append(muts, index.Mutation{Op: index.OpUpsert, Record: &index.Record{Cluster: "c3", GVR: index.GVR{Version: "v1", Resource: "configmaps"},
		Namespace: "shop", Name: "cfg", Object: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","namespace":"shop"}}`)}})
	apply(t, s, muts...)
	syncExporter(t, e)
	base := serve(t, e, s)
	const textFormat = "text/plain; version=0.0.4; charset=utf-8"

	ok := []struct {
		name, path string
		sel        Selection
		hdr        []string
	}{
		{"fleet", FleetPath, Selection{}, nil},
		{"one cluster", "/clusters/c1/metrics", Selection{Clusters: []string{"c1"}}, nil},
		{"fleet, cluster parameter", FleetPath + "?cluster=c2", Selection{Clusters: []string{"c2"}}, nil},
		{"fleet, namespace and families", FleetPath + "?namespace=shop&family=kube_pod_status_phase,kube_deployment_created&family=kube_namespace_created",
			Selection{Namespaces: []string{"shop"}, Families: []string{"kube_pod_status_phase", "kube_deployment_created", "kube_namespace_created"}}, nil},
		{"one cluster, namespace", "/clusters/c2/metrics?namespace=kube-system", Selection{Clusters: []string{"c2"}, Namespaces: []string{"kube-system"}}, nil},
		{"gzip", FleetPath, Selection{}, []string{"Accept-Encoding", "gzip"}},
		{"one cluster, gzip", "/clusters/c2/metrics", Selection{Clusters: []string{"c2"}}, []string{"Accept-Encoding", "deflate, gzip;q=0.9"}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			r := fetch(t, http.MethodGet, base+tc.path, false, tc.hdr...)
			if r.code != 200 || r.header.Get("Content-Type") != textFormat {
				t.Fatalf("%d %q %s", r.code, r.header.Get("Content-Type"), r.body)
			}
			if gz := r.header.Get("Content-Encoding") == "gzip"; gz != (len(tc.hdr) > 0) {
				t.Errorf("Content-Encoding %q", r.header.Get("Content-Encoding"))
			}
			want := normalized(ksmOutput(t, Options{}, m, tc.sel))
			if len(want) == 0 {
				t.Fatal("the oracle is empty")
			}
			if d := diffLines(normalized(r.body), want); d != "" {
				t.Errorf("body differs from kube-state-metrics':\n%s", d)
			}
			var p expfmt.TextParser
			if _, err := p.TextToMetricFamilies(strings.NewReader(r.body)); err != nil {
				t.Errorf("the body does not parse as the Prometheus text format: %v", err)
			}
		})
	}

	t.Run("openmetrics", func(t *testing.T) {
		r := fetch(t, http.MethodGet, base+"/clusters/c1/metrics", false, "Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
		if r.code != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/openmetrics-text") {
			t.Fatalf("%d %q", r.code, r.header.Get("Content-Type"))
		}
		body, eof := strings.CutSuffix(r.body, "# EOF\n")
		if !eof {
			t.Fatalf("no # EOF at the end: ...%s", r.body[max(0, len(r.body)-100):])
		}
		if d := diffLines(normalized(body), normalized(ksmOutput(t, Options{}, m, Selection{Clusters: []string{"c1"}}))); d != "" {
			t.Errorf("body differs:\n%s", d)
		}
	})

	t.Run("head", func(t *testing.T) {
		r := fetch(t, http.MethodHead, base+FleetPath, false)
		if r.code != 200 || r.body != "" || r.header.Get("Content-Type") != textFormat {
			t.Errorf("HEAD: %d %q %d bytes", r.code, r.header.Get("Content-Type"), len(r.body))
		}
	})

	t.Run("empty cluster", func(t *testing.T) {
		// Known to the store, nothing kube-state-metrics covers.
		if r := fetch(t, http.MethodGet, base+"/clusters/c3/metrics", false); r.code != 200 || r.body != "" {
			t.Errorf("%d %q", r.code, r.body)
		}
	})

	bad := []struct {
		name, path string
		noAuth     bool
		code       int
		msg, param string
	}{
		{"fleet without the token", FleetPath, true, 401, "bearer token", ""},
		{"cluster without the token", "/clusters/c1/metrics", true, 401, "bearer token", ""},
		{"unknown cluster", "/clusters/nope/metrics", false, 404, `no member cluster "nope"`, ""},
		{"unknown parameter", FleetPath + "?namespaces=shop", false, 400, `unknown parameter "namespaces"`, "namespaces"},
		{"empty parameter", FleetPath + "?family=,", false, 400, `parameter "family" has no value`, "family"},
		{"cluster parameter on a cluster path", "/clusters/c1/metrics?cluster=c2", false, 400, `not allowed on a cluster path`, "cluster"},
		{"malformed query", FleetPath + "?namespace=%zz", false, 400, "malformed query", ""},
		{"other path", "/clusters/c1/metricsx", false, 404, "no such endpoint", ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := fetch(t, http.MethodGet, base+tc.path, tc.noAuth)
			if r.code != tc.code || !strings.Contains(r.errorMsg, tc.msg) || r.param != tc.param {
				t.Errorf("%d %q (parameter %q), want %d %q (parameter %q)", r.code, r.errorMsg, r.param, tc.code, tc.msg, tc.param)
			}
		})
	}

	t.Run("excluded cluster", func(t *testing.T) {
		e2 := startExporter(t, Options{ClustersDenylist: []string{"c2"}}, s)
		syncExporter(t, e2)
		base2 := serve(t, e2, s)
		r := fetch(t, http.MethodGet, base2+"/clusters/c2/metrics", false)
		if r.code != 404 || !strings.Contains(r.errorMsg, "kubeStateMetrics.clustersDenylist") {
			t.Errorf("%d %q", r.code, r.errorMsg)
		}
		r = fetch(t, http.MethodGet, base2+FleetPath, false)
		if r.code != 200 || strings.Contains(r.body, `cluster="c2"`) || !strings.Contains(r.body, `cluster="c1"`) {
			t.Errorf("fleet with c2 excluded: %d, c2 present %v", r.code, strings.Contains(r.body, `cluster="c2"`))
		}
	})
}
