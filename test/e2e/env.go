package e2e

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// KubeOptions configures StartKube.
type KubeOptions struct {
	// Clusters are the PediaCluster names (default c1, c2, c3). All point at
	// the same kube-apiserver, so every object appears once per cluster.
	Clusters []string
	// SyncResourcesYAML replaces the default spec.syncResources (a YAML list):
	// core pods/services/configmaps/namespaces and apps
	// deployments/replicasets/daemonsets/statefulsets with events for
	// deployments.
	SyncResourcesYAML string
	// SeparateMembers gives every cluster after the first its own
	// kube-apiserver (same etcd, own key prefix), so each PediaCluster syncs
	// its own objects; write to one with env.Member(name). Default: all
	// clusters are the host kube-apiserver.
	SeparateMembers bool
	// MemberManifests is YAML applied (kubectl apply -f) to every member
	// kube-apiserver before the PediaClusters are created, e.g. the CRD of a
	// synced custom resource.
	MemberManifests string
	// Keep leaves the work directory in place (also E2E_KEEP=1).
	Keep bool
	// ReadyTimeout defaults to 3 minutes.
	ReadyTimeout time.Duration
}

// Env is a running Kubernetes side: etcd, kube-apiserver, CRDs, PediaClusters.
type Env struct {
	Paths      Paths
	Dir        string   // work dir (logs: etcd.log, kube-apiserver.log, pedia-*/binding-apiserver.log)
	Kubeconfig string   // admin kubeconfig (embedded certs)
	Kubectl    string   // kubectl v1.32.13 binary (the one on PATH may be unusable)
	CAFile     string   // CA of every serving cert; also the client CA
	AdminCert  string   // client cert, O=system:masters
	AdminKey   string   //
	Clusters   []string // PediaCluster names
	Kube       *Server  // the host kube-apiserver (PediaClusters; the first member cluster)
	// Members are the member clusters by PediaCluster name: all the host
	// kube-apiserver unless KubeOptions.SeparateMembers.
	Members map[string]*Member

	servingCert, servingKey string
	sup                     *supervisor
	client                  *http.Client
}

// StartKube starts the Kubernetes side (test/e2e/hack/kube-up.sh) and stops
// it when the test ends. It skips or fails through Require first.
func StartKube(t testing.TB, opts KubeOptions) *Env {
	t.Helper()
	p := Require(t, NeedClusterpediaSource, NeedKube)
	dir, err := os.MkdirTemp("", "memgraph-e2e.")
	if err != nil {
		t.Fatal(err)
	}
	env := []string{
		"E2E_DIR=" + dir,
		"CLUSTERPEDIA_REPO=" + p.ClusterpediaRepo,
		"KUBE_BIN=" + p.KubeBin,
	}
	if len(opts.Clusters) > 0 {
		env = append(env, "E2E_CLUSTERS="+strings.Join(opts.Clusters, " "))
	}
	if opts.SyncResourcesYAML != "" {
		f := filepath.Join(dir, "sync-resources.in.yaml")
		if err := os.WriteFile(f, []byte(opts.SyncResourcesYAML), 0o644); err != nil {
			t.Fatal(err)
		}
		env = append(env, "E2E_SYNC_RESOURCES="+f)
	}
	if opts.SeparateMembers {
		env = append(env, "E2E_MEMBERS=separate")
	}
	if opts.MemberManifests != "" {
		f := filepath.Join(dir, "member-manifests.in.yaml")
		if err := os.WriteFile(f, []byte(opts.MemberManifests), 0o644); err != nil {
			t.Fatal(err)
		}
		env = append(env, "E2E_MEMBER_MANIFESTS="+f)
	}
	if opts.Keep {
		env = append(env, "E2E_KEEP=1")
	}
	timeout := opts.ReadyTimeout
	if timeout == 0 {
		timeout = 3 * time.Minute
	}
	start := time.Now()
	sup := startScript(t, "kube-up.sh", filepath.Join(p.Root, "test", "e2e", "hack", "kube-up.sh"), env)
	e := &Env{Paths: p, Dir: dir, sup: sup}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kube-apiserver.log (tail):\n%s", tail(filepath.Join(dir, "kube-apiserver.log"), 30))
		}
		sup.stop()
		if !opts.Keep && os.Getenv("E2E_KEEP") != "1" {
			_ = os.RemoveAll(dir)
		} else {
			t.Logf("e2e work dir kept: %s", dir)
		}
	})
	sup.waitReady(t, filepath.Join(dir, "kube.ready"), timeout)
	vals, err := readEnvFile(filepath.Join(dir, "kube.env"))
	if err != nil {
		t.Fatal(err)
	}
	e.Kubeconfig, e.Kubectl = vals["KUBECONFIG_FILE"], vals["KUBECTL"]
	e.CAFile, e.AdminCert, e.AdminKey = vals["CA_FILE"], vals["ADMIN_CERT"], vals["ADMIN_KEY"]
	e.servingCert, e.servingKey = vals["SERVING_CERT"], vals["SERVING_KEY"]
	e.Clusters = strings.Fields(vals["CLUSTERS"])
	e.client = e.newClient(t)
	e.Kube = &Server{URL: vals["KUBE_SERVER"], Client: e.client}
	e.Members = map[string]*Member{}
	servers, kubeconfigs := envPairs(vals["MEMBER_SERVERS"]), envPairs(vals["MEMBER_KUBECONFIGS"])
	for _, c := range e.Clusters {
		srv := e.Kube
		if u := servers[c]; u != "" && u != e.Kube.URL {
			srv = &Server{URL: u, Client: e.client}
		}
		kc := kubeconfigs[c]
		if kc == "" {
			kc = e.Kubeconfig
		}
		e.Members[c] = &Member{Server: srv, Name: c, Kubeconfig: kc}
	}
	t.Logf("kube side up in %s (%s): kube-apiserver %s, PediaClusters %v", time.Since(start).Round(100*time.Millisecond), dir, e.Kube.URL, e.Clusters)
	return e
}

// envPairs parses "a=x b=y" into a map.
func envPairs(s string) map[string]string {
	out := map[string]string{}
	for _, f := range strings.Fields(s) {
		if k, v, ok := strings.Cut(f, "="); ok {
			out[k] = v
		}
	}
	return out
}

// Member returns the member cluster behind PediaCluster name (fails the test
// for an unknown name).
func (e *Env) Member(t testing.TB, name string) *Member {
	t.Helper()
	m := e.Members[name]
	if m == nil {
		t.Fatalf("no member cluster %q (clusters %v)", name, e.Clusters)
	}
	return m
}

// Host is the host kube-apiserver as a write target (what Env's own
// Create/CreateNamespace/... helpers use).
func (e *Env) Host() *Member { return &Member{Server: e.Kube, Kubeconfig: e.Kubeconfig} }

// HTTPClient returns a client that trusts the e2e CA and presents the admin
// client certificate (accepted by kube-apiserver and every binding-apiserver).
func (e *Env) HTTPClient() *http.Client { return e.client }

func (e *Env) newClient(t testing.TB) *http.Client {
	t.Helper()
	caPEM, err := os.ReadFile(e.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	cert, err := tls.LoadX509KeyPair(e.AdminCert, e.AdminKey)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
			MaxIdleConnsPerHost: 16,
		},
	}
}

// PediaOptions configures one binding-apiserver.
type PediaOptions struct {
	// StorageName is --storage-name: "memgraph" or "internal" (SQLite in the
	// work dir when StorageConfig is empty).
	StorageName string
	// StorageConfig is the --storage-config file (optional).
	StorageConfig string
	// Name distinguishes several servers in one Env (default StorageName).
	Name string
	// PluginDir is STORAGE_PLUGINS. Default for "memgraph": a private dir
	// holding only Paths.Plugin.
	PluginDir string
	// Args are extra binding-apiserver flags.
	Args []string
	// ReadyTimeout (for /readyz) defaults to 2 minutes.
	ReadyTimeout time.Duration
}

// Pedia is a running binding-apiserver.
type Pedia struct {
	*Server
	Name string
	Log  string // binding-apiserver log file
	env  *Env
	sup  *supervisor
}

// StartClusterpedia starts a binding-apiserver (test/e2e/hack/pedia-up.sh)
// that syncs the Env's PediaClusters into the chosen storage; it is stopped
// before the Kubernetes side when the test ends.
func (e *Env) StartClusterpedia(t testing.TB, opts PediaOptions) *Pedia {
	t.Helper()
	needs := []Need{NeedHost}
	if opts.StorageName == "memgraph" && opts.PluginDir == "" {
		needs = append(needs, NeedPlugin)
	}
	Require(t, needs...)
	if opts.StorageName == "" {
		opts.StorageName = "internal"
	}
	if opts.Name == "" {
		opts.Name = opts.StorageName
	}
	if opts.StorageName == "memgraph" && opts.PluginDir == "" {
		opts.PluginDir = filepath.Join(e.Dir, "pedia-"+opts.Name, "plugins")
		if err := os.MkdirAll(opts.PluginDir, 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(e.Paths.Plugin)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(opts.PluginDir, "memgraph.so"), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{
		"E2E_DIR=" + e.Dir,
		"STORAGE_NAME=" + opts.StorageName,
		"STORAGE_CONFIG=" + opts.StorageConfig,
		"STORAGE_PLUGINS=" + opts.PluginDir,
		"PEDIA_NAME=" + opts.Name,
		"BINDING_APISERVER=" + e.Paths.BindingAPIServer,
		"PEDIA_ARGS=" + strings.Join(opts.Args, " "),
	}
	timeout := opts.ReadyTimeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	env = append(env, fmt.Sprintf("PEDIA_READY_TIMEOUT=%d", int(timeout.Seconds())))
	start := time.Now()
	sup := startScript(t, "pedia-up.sh "+opts.Name, filepath.Join(e.Paths.Root, "test", "e2e", "hack", "pedia-up.sh"), env)
	logFile := filepath.Join(e.Dir, "pedia-"+opts.Name, "binding-apiserver.log")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("binding-apiserver %q: %s", opts.Name, crashReport(logFile))
		}
		sup.stop()
	})
	sup.waitReady(t, filepath.Join(e.Dir, "pedia-"+opts.Name+".ready"), timeout+10*time.Second)
	vals, err := readEnvFile(filepath.Join(e.Dir, "pedia-"+opts.Name+".env"))
	if err != nil {
		t.Fatal(err)
	}
	p := &Pedia{Server: &Server{URL: vals["PEDIA_URL"], Client: e.client}, Name: opts.Name, Log: logFile, env: e, sup: sup}
	t.Logf("binding-apiserver %q (--storage-name=%s) ready at %s in %s", opts.Name, opts.StorageName, p.URL, time.Since(start).Round(100*time.Millisecond))
	return p
}

// Alive reports whether the binding-apiserver is still running.
func (p *Pedia) Alive() bool { return !p.sup.exited() }

// Stop stops the binding-apiserver (SIGTERM through its supervisor script,
// which waits for it to exit); StartClusterpedia with the same options starts
// it again on a new port with the same work dir (and so the same on-disk
// storage, if any).
func (p *Pedia) Stop() { p.sup.stop() }

// Server is an HTTPS endpoint reached with the admin client certificate.
type Server struct {
	URL    string
	Client *http.Client
}

// Do sends a request; body (if not nil and not []byte) is JSON-encoded.
// It returns the status code and the response body.
func (s *Server) Do(method, path string, body any, header ...string) (int, []byte, error) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.URL+path, r)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// Get is Do("GET", path, nil).
func (s *Server) Get(path string) (int, []byte, error) { return s.Do(http.MethodGet, path, nil) }

// GetJSON GETs path, requires 200 and decodes the body into out.
func (s *Server) GetJSON(t testing.TB, path string, out any) {
	t.Helper()
	code, body, err := s.Get(path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, code, truncate(body, 500))
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("GET %s: decode: %v", path, err)
	}
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
