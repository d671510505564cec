package api

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterpedia-memgraph/memgraph/config"
	"github.com/clusterpedia-memgraph/memgraph/index"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func testConfig() (config.Server, config.Graph) {
	c := config.Default()
	c.Server.ListenAddress = "127.0.0.1:0"
	return c.Server, c.Graph
}

// startServer starts a server on a real loopback listener.
func startServer(t testing.TB, cfg config.Server, g config.Graph, s *index.Store, m *Metrics, ready func() bool) *Server {
	t.Helper()
	srv, err := New(cfg, g, s, m, ready)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return srv
}

func get(t testing.TB, c *http.Client, url string, hdr ...string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./api -run Golden -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

const (
	euPod    = "6a1b0000-0000-4000-8000-000000000012"
	euSecret = "6a1b0000-0000-4000-8000-000000000004"
)

type goldenCase struct {
	file   string
	path   string
	status int
	ctype  string
}

var goldenCases = []goldenCase{
	{"graph-deployment.json", "/api/v1/graph?cluster=prod-eu&group=apps&version=v1&resource=deployments&namespace=shop&name=web&depth=2", 200, "application/json"},
	{"graph-deployment.dot", "/api/v1/graph?cluster=prod-eu&group=apps&version=v1&resource=deployments&namespace=shop&name=web&direction=dependents&depth=2&format=dot", 200, "text/vnd.graphviz; charset=utf-8"},
	{"graph-deployment.mermaid", "/api/v1/graph?cluster=prod-eu&group=apps&version=v1&resource=deployments&namespace=shop&name=web&direction=dependents&depth=2&format=mermaid", 200, "text/plain; charset=utf-8"},
	{"graph-service-pods.json", "/api/v1/graph?cluster=prod-eu&version=v1&resource=services&namespace=shop&name=web&direction=dependencies&depth=1&kinds=service-pod", 200, "application/json"},
	{"graph-pod-dependencies.json", "/api/v1/graph?cluster=prod-eu&uid=" + euPod + "&direction=dependencies&depth=1", 200, "application/json"},
	{"graph-pod-storage.json", "/api/v1/graph?cluster=prod-eu&version=v1&resource=pods&namespace=shop&name=db-0&direction=dependencies&depth=3&kinds=pod-pvc,pvc-pv,pv-storageclass", 200, "application/json"},
	{"graph-secret-dependents.json", "/api/v1/graph?cluster=prod-eu&uid=" + euSecret + "&direction=dependents&depth=2&kinds=pod-secret,owner", 200, "application/json"},
	{"graph-truncated.json", "/api/v1/graph?cluster=prod-eu&version=v1&resource=nodes&name=node-a&direction=dependents&depth=2&limit=3", 200, "application/json"},
	{"owners-ancestors.json", "/api/v1/owners/ancestors?cluster=prod-eu&uid=" + euPod, 200, "application/json"},
	{"owners-descendants.json", "/api/v1/owners/descendants?cluster=prod-eu&group=apps&version=v1&resource=deployments&namespace=shop&name=web", 200, "application/json"},
	{"relations.json", "/api/v1/relations", 200, "application/json"},
	{"healthz.json", "/healthz", 200, "application/json"},
	{"readyz.json", "/readyz", 200, "application/json"},
}

// errorCases are every error path of the API, recorded in testdata/errors.golden.
var errorCases = []struct {
	method, path string
	status       int
	param        string
}{
	{"GET", "/api/v1/graph?group=apps&version=v1&resource=deployments&namespace=shop&name=web", 400, "cluster"},
	{"GET", "/api/v1/graph?cluster=prod-eu", 400, "name"},
	{"GET", "/api/v1/graph?cluster=prod-eu&name=web&resource=deployments", 400, "version"},
	{"GET", "/api/v1/graph?cluster=prod-eu&name=web&version=v1", 400, "resource"},
	{"GET", "/api/v1/graph?cluster=prod-eu&uid=" + euPod + "&name=web", 400, "name"},
	{"GET", "/api/v1/graph?cluster=prod-eu&uid=", 400, "uid"},
	{"GET", "/api/v1/graph?cluster=prod-eu&uid=" + euPod + "&depth=0", 400, "depth"},
	{"GET", "/api/v1/graph?cluster=prod-eu&uid=" + euPod + "&depth=21", 400, "depth"},
	{"GET", "/api/v1/graph?cluster=prod-eu&uid=" + euPod + "&depth=deep", 400, "depth"},
	{"GET", "/api/v1/graph?cluster=prod-eu&uid=" + euPod + "&limit=0", 400, "limit"},
	{"GET", "/api/v1/graph?cluster=prod-eu&uid=" + euPod + "&limit=5001", 400, "limit"},
	{"GET", "/api/v1/graph?cluster=prod-eu&uid=" + euPod + "&direction=up", 400, "direction"},
	{"GET", "/api/v1/graph?cluster=prod-eu&uid=" + euPod + "&kinds=owner,parent", 400, "kinds"},
	{"GET", "/api/v1/graph?cluster=prod-eu&uid=" + euPod + "&format=svg", 400, "format"},
	{"GET", "/api/v1/graph?cluster=prod-eu&uid=" + euPod + "&dept=2", 400, "dept"},
	{"GET", "/api/v1/graph?cluster=prod-eu&uid=" + euPod + "&depth=1&depth=2", 400, "depth"},
	{"GET", "/api/v1/graph?cluster=prod-eu&uid=%ff", 400, "uid"},
	{"GET", "/api/v1/graph?cluster=prod-eu&uid=" + euPod + "&%zz", 400, "query"},
	{"GET", "/api/v1/owners/ancestors?cluster=prod-eu&uid=" + euPod + "&format=dot", 400, "format"},
	{"GET", "/api/v1/owners/descendants?cluster=prod-eu&uid=" + euPod + "&depth=-1", 400, "depth"},
	{"GET", "/api/v1/relations?kinds=owner", 400, "kinds"},
	{"GET", "/api/v1/graph?cluster=prod-eu&group=apps&version=v1&resource=deployments&namespace=shop&name=nope", 404, ""},
	{"GET", "/api/v1/graph?cluster=prod-ap&uid=" + euPod, 404, ""},
	{"GET", "/api/v1/owners/ancestors?cluster=prod-eu&version=v1&resource=pods&namespace=shop&name=gone", 404, ""},
	{"GET", "/api/v1/nothing", 404, ""},
	{"POST", "/api/v1/graph?cluster=prod-eu&uid=" + euPod, 405, ""},
	{"GET", "/api/v1/graph?cluster=prod-eu&name=" + strings.Repeat("x", 70000), 414, ""},
}

func TestGoldenResponses(t *testing.T) {
	s, m := newFixtureStore(t)
	cfg, g := testConfig()
	srv := startServer(t, cfg, g, s, m, nil)
	base := "http://" + srv.Addr()
	c := &http.Client{Timeout: 10 * time.Second}
	for _, gc := range goldenCases {
		t.Run(gc.file, func(t *testing.T) {
			code, ctype, body := get(t, c, base+gc.path)
			if code != gc.status || ctype != gc.ctype {
				t.Fatalf("%s: %d %q, want %d %q\n%s", gc.path, code, ctype, gc.status, gc.ctype, body)
			}
			if strings.HasSuffix(gc.file, ".json") && !json.Valid([]byte(body)) {
				t.Fatalf("invalid JSON: %s", body)
			}
			golden(t, gc.file, body)
		})
	}
	var all strings.Builder
	for _, ec := range errorCases {
		req, _ := http.NewRequest(ec.method, base+ec.path, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != ec.status {
			t.Errorf("%s %s: %d, want %d: %s", ec.method, truncate(ec.path, 120), resp.StatusCode, ec.status, b)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: content type %q", truncate(ec.path, 120), ct)
		}
		var e errorJSON
		if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
			t.Errorf("%s: not a JSON error: %s", truncate(ec.path, 120), b)
		}
		if e.Parameter != ec.param {
			t.Errorf("%s: parameter %q, want %q (%s)", truncate(ec.path, 120), e.Parameter, ec.param, e.Error)
		}
		fmt.Fprintf(&all, "%s %s\n%d %s", ec.method, truncate(ec.path, 120), resp.StatusCode, b)
	}
	t.Run("errors.golden", func(t *testing.T) { golden(t, "errors.golden", all.String()) })

	// The metrics a scrape returns after the fixture was written (build info, request
	// counters and durations vary and are left out).
	_, ctype, body := get(t, c, base+"/metrics")
	if !strings.HasPrefix(ctype, "text/plain") {
		t.Fatalf("metrics content type %q", ctype)
	}
	var keep []string
	for _, l := range strings.Split(body, "\n") {
		for _, p := range []string{"memgraph_objects", "memgraph_stored_bytes", "memgraph_graph_edges", "memgraph_graph_placeholder_nodes"} {
			if strings.HasPrefix(l, p) || strings.HasPrefix(l, "# HELP "+p) || strings.HasPrefix(l, "# TYPE "+p) {
				keep = append(keep, l)
				break
			}
		}
	}
	t.Run("metrics.golden", func(t *testing.T) { golden(t, "metrics.golden", strings.Join(keep, "\n")+"\n") })
	for _, want := range []string{`memgraph_build_info{goversion="`, `memgraph_query_duration_seconds_count{operation="graph"}`, `memgraph_http_requests_total{code="200",route="/api/v1/graph"}`, `memgraph_http_requests_total{code="400",route="/api/v1/graph"}`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "go_goroutines") || strings.Contains(body, "process_cpu") {
		t.Error("/metrics must serve the private registry only, not the default Go/process collectors")
	}
}

// TestNoSecretData walks everything from everywhere, in every format, and checks that no
// answer carries object bodies or Secret data.
func TestNoSecretData(t *testing.T) {
	s, m := newFixtureStore(t)
	cfg, g := testConfig()
	srv := startServer(t, cfg, g, s, m, nil)
	base := "http://" + srv.Addr()
	c := &http.Client{Timeout: 10 * time.Second}
	v := s.View()
	n := 0
	v.All(func(r *index.Record) bool {
		for _, p := range []string{
			"/api/v1/graph?direction=both&depth=20&format=json",
			"/api/v1/graph?direction=both&depth=20&format=dot",
			"/api/v1/graph?direction=both&depth=20&format=mermaid",
			"/api/v1/owners/ancestors?x=1",
			"/api/v1/owners/descendants?x=1",
		} {
			p = strings.Replace(p, "x=1", "depth=20", 1)
			code, _, body := get(t, c, base+p+"&cluster="+r.Cluster+"&uid="+r.UID)
			if code != 200 {
				t.Fatalf("%s: %d %s", p, code, body)
			}
			for _, bad := range []string{secretValue, "super-secret", `"data"`, "LOG_LEVEL", "podIP", "10.0.0.1", `"spec"`, `"status"`} {
				if strings.Contains(body, bad) {
					t.Fatalf("%s for %s/%s leaks %q:\n%s", p, r.Kind, r.Name, bad, body)
				}
			}
			n++
		}
		return true
	})
	if n == 0 {
		t.Fatal("nothing walked")
	}
}

func TestSeparateClusters(t *testing.T) {
	s, m := newFixtureStore(t)
	cfg, g := testConfig()
	srv := startServer(t, cfg, g, s, m, nil)
	c := &http.Client{Timeout: 10 * time.Second}
	_, _, body := get(t, c, "http://"+srv.Addr()+"/api/v1/graph?cluster=prod-us&version=v1&resource=services&namespace=shop&name=web&depth=5")
	var gj graphJSON
	if err := json.Unmarshal([]byte(body), &gj); err != nil {
		t.Fatal(err)
	}
	if len(gj.Nodes) != 4 { // Service, Pod, ReplicaSet, Deployment (+ Node placeholder? depth: node-b)
		// Service → Pod → (ReplicaSet → Deployment, Node node-b placeholder)
		if len(gj.Nodes) != 5 {
			t.Fatalf("prod-us graph has %d nodes: %s", len(gj.Nodes), body)
		}
	}
	for _, n := range gj.Nodes {
		if n.Cluster != "prod-us" {
			t.Fatalf("node from %s in a prod-us walk", n.Cluster)
		}
	}
}

func TestReadiness(t *testing.T) {
	s, m := newFixtureStore(t)
	cfg, g := testConfig()
	ready := false
	srv := startServer(t, cfg, g, s, m, func() bool { return ready })
	c := &http.Client{Timeout: 10 * time.Second}
	if code, _, body := get(t, c, "http://"+srv.Addr()+"/readyz"); code != 503 || !strings.Contains(body, "not ready") {
		t.Fatalf("readyz before restore: %d %s", code, body)
	}
	if code, _, _ := get(t, c, "http://"+srv.Addr()+"/healthz"); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
	ready = true
	if code, _, _ := get(t, c, "http://"+srv.Addr()+"/readyz"); code != 200 {
		t.Fatalf("readyz after restore: %d", code)
	}
}

func TestRequestTimeoutEnforced(t *testing.T) {
	s, m := newFixtureStore(t)
	cfg, g := testConfig()
	cfg.RequestTimeout.Duration = time.Nanosecond
	srv := startServer(t, cfg, g, s, m, nil)
	c := &http.Client{Timeout: 10 * time.Second}
	code, _, body := get(t, c, "http://"+srv.Addr()+"/api/v1/graph?cluster=prod-eu&uid="+euPod)
	if code != 503 || !strings.Contains(body, "timed out") {
		t.Fatalf("%d %s", code, body)
	}
}

func TestBodyLimit(t *testing.T) {
	s, m := newFixtureStore(t)
	cfg, g := testConfig()
	cfg.MaxRequestBytes = 2048
	srv := startServer(t, cfg, g, s, m, nil)
	req, _ := http.NewRequest(http.MethodGet, "http://"+srv.Addr()+"/api/v1/relations", bytes.NewReader(make([]byte, 4096)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "longer than 2048") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}

// --- authentication ---

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBearerToken(t *testing.T) {
	s, m := newFixtureStore(t)
	cfg, g := testConfig()
	cfg.BearerTokenFile = writeFile(t, t.TempDir(), "token", "s3cr3t-token\n")
	srv := startServer(t, cfg, g, s, m, nil)
	c := &http.Client{Timeout: 10 * time.Second}
	base := "http://" + srv.Addr()
	for _, p := range []string{"/metrics", "/api/v1/relations", "/api/v1/graph?cluster=prod-eu&uid=" + euPod} {
		for _, hdr := range [][]string{nil, {"Authorization", "Bearer wrong"}, {"Authorization", "s3cr3t-token"}, {"Authorization", "Basic czNjcjN0LXRva2Vu"}} {
			code, _, body := get(t, c, base+p, hdr...)
			if code != 401 || !strings.Contains(body, "bearer token") {
				t.Fatalf("%s with %v: %d %s", p, hdr, code, body)
			}
		}
		if code, _, body := get(t, c, base+p, "Authorization", "Bearer s3cr3t-token"); code != 200 {
			t.Fatalf("%s with the token: %d %s", p, code, body)
		}
	}
	// Probes need no token.
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, _, _ := get(t, c, base+p); code != 200 {
			t.Fatalf("%s: %d", p, code)
		}
	}
}

func TestListenAddressPolicy(t *testing.T) {
	s, _ := newFixtureStore(t)
	cfg, g := testConfig()
	cfg.ListenAddress = "0.0.0.0:0"
	if _, err := New(cfg, g, s, nil, nil); err == nil || !strings.Contains(err.Error(), "allowUnauthenticated") {
		t.Fatalf("non-loopback without authentication: %v", err)
	}
	cfg.AllowUnauthenticated = true
	if _, err := New(cfg, g, s, nil, nil); err != nil {
		t.Fatalf("explicitly allowed: %v", err)
	}
	cfg.AllowUnauthenticated = false
	cfg.BearerTokenFile = writeFile(t, t.TempDir(), "token", "x")
	if _, err := New(cfg, g, s, nil, nil); err != nil {
		t.Fatalf("with a token: %v", err)
	}
	cfg.BearerTokenFile = writeFile(t, t.TempDir(), "empty", " \n")
	if _, err := New(cfg, g, s, nil, nil); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty token file: %v", err)
	}
	cfg.BearerTokenFile = "/nonexistent/token"
	if _, err := New(cfg, g, s, nil, nil); err == nil {
		t.Fatal("missing token file accepted")
	}
	// Start reports bind errors.
	cfg2, g2 := testConfig()
	srv := startServer(t, cfg2, g2, s, nil, nil)
	cfg2.ListenAddress = srv.Addr()
	dup, err := New(cfg2, g2, s, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := dup.Start(); err == nil {
		t.Fatal("binding a used port must fail")
	}
	if _, err := New(cfg2, g2, nil, nil, nil); err == nil {
		t.Fatal("nil store accepted")
	}
}

type pki struct {
	dir                   string
	caFile                string
	serverCert, serverKey string
	client                tls.Certificate
	pool                  *x509.CertPool
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "memgraph test CA"}, IsCA: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTpl, caTpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(cn string, usage x509.ExtKeyUsage, ip bool) ([]byte, []byte) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature}
		if ip {
			tpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kb, _ := x509.MarshalECPrivateKey(key)
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	}
	p := &pki{dir: dir, pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.caFile = writeFile(t, dir, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})))
	sc, sk := issue("memgraph", x509.ExtKeyUsageServerAuth, true)
	p.serverCert, p.serverKey = writeFile(t, dir, "server.pem", string(sc)), writeFile(t, dir, "server-key.pem", string(sk))
	cc, ck := issue("client", x509.ExtKeyUsageClientAuth, false)
	p.client, err = tls.X509KeyPair(cc, ck)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTLSAndClientCA(t *testing.T) {
	s, m := newFixtureStore(t)
	p := newPKI(t)
	cfg, g := testConfig()
	cfg.TLSCertFile, cfg.TLSKeyFile = p.serverCert, p.serverKey
	// TLS alone on loopback: served, no client certificate needed.
	srv := startServer(t, cfg, g, s, m, nil)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.pool}}}
	if code, _, body := get(t, c, "https://"+srv.Addr()+"/api/v1/relations"); code != 200 {
		t.Fatalf("TLS: %d %s", code, body)
	}
	// With a client CA every request needs a certificate signed by it.
	cfg.ClientCAFile = p.caFile
	cfg.ListenAddress = "127.0.0.1:0"
	srv2 := startServer(t, cfg, g, s, m, nil)
	url := "https://" + srv2.Addr() + "/api/v1/graph?cluster=prod-eu&uid=" + euPod
	if _, err := c.Get(url); err == nil {
		t.Fatal("request without a client certificate succeeded")
	}
	withCert := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.client}}}}
	if code, _, body := get(t, withCert, url); code != 200 {
		t.Fatalf("with a client certificate: %d %s", code, body)
	}
	// A client CA makes a non-loopback address acceptable.
	cfg.ListenAddress = "0.0.0.0:0"
	if _, err := New(cfg, g, s, m, nil); err != nil {
		t.Fatalf("non-loopback with client CA: %v", err)
	}
	// Bad files are reported.
	bad := cfg
	bad.ClientCAFile = writeFile(t, p.dir, "notpem", "hello")
	if _, err := New(bad, g, s, m, nil); err == nil || !strings.Contains(err.Error(), "PEM") {
		t.Fatalf("bad CA: %v", err)
	}
	bad = cfg
	bad.TLSKeyFile = p.caFile
	if _, err := New(bad, g, s, m, nil); err == nil {
		t.Fatal("mismatched key accepted")
	}
	bad = cfg
	bad.TLSCertFile, bad.TLSKeyFile = "", ""
	if _, err := New(bad, g, s, m, nil); err == nil || !strings.Contains(err.Error(), "clientCAFile") {
		t.Fatalf("client CA without TLS: %v", err)
	}
}

func TestMetricsIncremental(t *testing.T) {
	s, m := newFixtureStore(t)
	count := func(name string) string {
		m.catchUp() // as the /metrics handler does
		mfs, err := m.Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
			for _, mt := range mf.GetMetric() {
				var lv []string
				for _, l := range mt.GetLabel() {
					lv = append(lv, l.GetValue())
				}
				out = append(out, fmt.Sprintf("%s=%v", strings.Join(lv, "/"), mt.GetGauge().GetValue()))
			}
		}
		return strings.Join(out, " ")
	}
	if got := count("memgraph_objects"); !strings.Contains(got, "prod-eu//pods/v1=3") || !strings.Contains(got, "prod-us//pods/v1=1") {
		t.Fatalf("objects: %s", got)
	}
	if _, err := s.CleanResource("prod-eu", gvrPod); err != nil {
		t.Fatal(err)
	}
	if got := count("memgraph_objects"); strings.Contains(got, "prod-eu//pods/v1") {
		t.Fatalf("cleaned resource still reported: %s", got)
	}
	if got := count("memgraph_graph_edges"); !strings.Contains(got, "pod-node=1") || !strings.Contains(got, "service-pod=1") {
		t.Fatalf("edges after clean: %s", got)
	}
	if _, err := s.CleanCluster("prod-eu"); err != nil {
		t.Fatal(err)
	}
	if got := count("memgraph_objects"); strings.Contains(got, "prod-eu") {
		t.Fatalf("cleaned cluster still reported: %s", got)
	}
	// Resync from a snapshot gives the same gauges.
	before := count("memgraph_objects") + count("memgraph_stored_bytes")
	m.Resync(s.View())
	if after := count("memgraph_objects") + count("memgraph_stored_bytes"); after != before {
		t.Fatalf("resync %s != %s", after, before)
	}
	// Snapshot metrics come from plain values.
	last := time.Now().Add(-90 * time.Second)
	if err := m.RegisterSnapshot(func() SnapshotStats {
		return SnapshotStats{LastSuccess: last, LastDuration: 1500 * time.Millisecond, Failures: 2, Snapshots: 7}
	}); err != nil {
		t.Fatal(err)
	}
	mfs, _ := m.Registry().Gather()
	seen := map[string]float64{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			seen[mf.GetName()] = mt.GetGauge().GetValue() + mt.GetCounter().GetValue()
		}
	}
	for _, name := range []string{"memgraph_graph_lag_commits", "memgraph_graph_update_failures_total"} {
		if v, ok := seen[name]; !ok || v != 0 {
			t.Fatalf("%s = %v (exported: %v), want 0", name, v, ok)
		}
	}
	if a := seen["memgraph_snapshot_age_seconds"]; a < 89 || a > 200 {
		t.Fatalf("snapshot age %v", a)
	}
	if seen["memgraph_snapshot_duration_seconds"] != 1.5 || seen["memgraph_snapshot_failures_total"] != 2 || seen["memgraph_snapshots_total"] != 7 {
		t.Fatalf("snapshot metrics %v", seen)
	}
	m.ObserveWrite("create", time.Millisecond)
	m.ObserveQuery("list", time.Millisecond)
}

func TestHeadAndMethods(t *testing.T) {
	s, m := newFixtureStore(t)
	cfg, g := testConfig()
	srv := startServer(t, cfg, g, s, m, nil)
	for _, c := range []struct {
		method, path string
		code         int
	}{
		{http.MethodHead, "/healthz", 200},
		{http.MethodHead, "/api/v1/graph?cluster=prod-eu&uid=" + euPod, 200},
		{http.MethodDelete, "/api/v1/relations", 405},
		{http.MethodPut, "/metrics", 405},
	} {
		req, _ := http.NewRequest(c.method, "http://"+srv.Addr()+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.code)
		}
		if c.code == 405 && resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("Allow %q", resp.Header.Get("Allow"))
		}
	}
}
