package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExampleConfigParses(t *testing.T) {
	c, err := Load(filepath.Join("..", "config.yaml"))
	if err != nil {
		t.Fatalf("example config.yaml: %v", err)
	}
	if !c.Persistence.Enabled || c.Persistence.Dir != "./memgraph-data" || c.Persistence.SyncMode != SyncInterval {
		t.Fatalf("persistence = %+v", c.Persistence)
	}
	if c.Persistence.FlushInterval.Duration != time.Second || c.Persistence.SnapshotInterval.Duration != 10*time.Minute {
		t.Fatalf("intervals = %+v", c.Persistence)
	}
	if !c.ServerEnabled() || c.Server.ListenAddress != "127.0.0.1:8790" {
		t.Fatalf("server = %+v", c.Server)
	}
	if c.Graph != (Graph{DefaultDepth: 3, MaxDepth: 20, MaxNodes: 5000}) {
		t.Fatalf("graph = %+v", c.Graph)
	}
	if k := c.KubeStateMetrics; k.Enabled || strings.Join(k.Resources, ",") != strings.Join(KubeStateMetricsResources, ",") ||
		k.MaxPendingObjects != 262144 || len(k.MetricLabelsAllowlist) != 0 || len(k.MetricDenylist) != 0 {
		t.Fatalf("kubeStateMetrics = %+v", k)
	}
}

func TestDefaults(t *testing.T) {
	for _, src := range []string{"", "{}", "# only a comment\n"} {
		c, err := Parse([]byte(src))
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		d := Default()
		if c.Persistence != d.Persistence || c.Graph != d.Graph || c.Server.ListenAddress != d.Server.ListenAddress {
			t.Fatalf("Parse(%q) = %+v, want defaults %+v", src, c, d)
		}
		if c.Persistence.Enabled {
			t.Fatal("persistence must be off by default")
		}
	}
	if c, err := Load(""); err != nil || c.Persistence.Enabled {
		t.Fatalf("Load(\"\") = %+v, %v", c, err)
	}
}

func TestInvalidConfigNamesTheKey(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"unknown top-level key", "persistance:\n  enabled: true\n", "persistance"},
		{"unknown nested key", "persistence:\n  dirr: /x\n", "dirr"},
		{"wrong type", "graph:\n  maxDepth: deep\n", "deep"},
		{"bad duration", "persistence:\n  flushInterval: soon\n", "invalid duration \"soon\""},
		{"duration not a string", "persistence:\n  flushInterval: [1]\n", "duration"},
		{"enabled without dir", "persistence:\n  enabled: true\n", "persistence.dir"},
		{"bad sync mode", "persistence:\n  syncMode: sometimes\n", "persistence.syncMode"},
		{"negative flush", "persistence:\n  flushInterval: -1s\n", "persistence.flushInterval"},
		{"tiny snapshot interval", "persistence:\n  snapshotInterval: 10ms\n", "persistence.snapshotInterval"},
		{"listen without port", "server:\n  listenAddress: 127.0.0.1\n", "server.listenAddress"},
		{"cert without key", "server:\n  tlsCertFile: /c.pem\n", "server.tlsKeyFile"},
		{"client CA without TLS", "server:\n  clientCAFile: /ca.pem\n", "server.clientCAFile"},
		{"public without auth", "server:\n  listenAddress: 0.0.0.0:8790\n", "allowUnauthenticated"},
		{"small request bound", "server:\n  maxRequestBytes: 10\n", "server.maxRequestBytes"},
		{"zero max depth", "graph:\n  maxDepth: -1\n", "graph.maxDepth"},
		{"default depth over max", "graph:\n  defaultDepth: 30\n  maxDepth: 20\n", "graph.defaultDepth"},
		{"zero max nodes", "graph:\n  maxNodes: -5\n", "graph.maxNodes"},
		{"two documents", "graph: {}\n---\ngraph: {}\n", "more than one"},
		{"ksm unknown key", "kubeStateMetrics:\n  enable: true\n", "enable"},
		{"ksm enabled not a bool", "kubeStateMetrics:\n  enabled: maybe\n", "maybe"},
		{"ksm without server", "server:\n  enabled: false\nkubeStateMetrics:\n  enabled: true\n", "kubeStateMetrics.enabled"},
		{"ksm unknown resource", "kubeStateMetrics:\n  resources: [pods, configmaps]\n", "kubeStateMetrics.resources[1]"},
		{"ksm duplicate resource", "kubeStateMetrics:\n  resources: [pods, pods]\n", "kubeStateMetrics.resources[1]"},
		{"ksm resources not a list", "kubeStateMetrics:\n  resources: pods\n", "pods"},
		{"ksm clusters and denylist", "kubeStateMetrics:\n  clusters: [a]\n  clustersDenylist: [b]\n", "kubeStateMetrics.clustersDenylist"},
		{"ksm empty cluster", "kubeStateMetrics:\n  clusters: [\"\"]\n", "kubeStateMetrics.clusters[0]"},
		{"ksm namespaces and denylist", "kubeStateMetrics:\n  namespaces: [a]\n  namespacesDenylist: [b]\n", "kubeStateMetrics.namespacesDenylist"},
		{"ksm empty namespace", "kubeStateMetrics:\n  namespacesDenylist: [x, \" \"]\n", "kubeStateMetrics.namespacesDenylist[1]"},
		{"ksm allow and deny", "kubeStateMetrics:\n  metricAllowlist: [a]\n  metricDenylist: [b]\n", "kubeStateMetrics.metricDenylist"},
		{"ksm bad regexp", "kubeStateMetrics:\n  metricDenylist: [kube_pod_.*, \"kube_(\"]\n", "kubeStateMetrics.metricDenylist[1]"},
		{"ksm empty pattern", "kubeStateMetrics:\n  metricAllowlist: [\"\"]\n", "kubeStateMetrics.metricAllowlist[0]"},
		{"ksm empty opt-in", "kubeStateMetrics:\n  metricOptInList: [\"\"]\n", "kubeStateMetrics.metricOptInList[0]"},
		{"ksm labels unknown resource", "kubeStateMetrics:\n  metricLabelsAllowlist:\n    widgets: [app]\n", "kubeStateMetrics.metricLabelsAllowlist: resource \"widgets\""},
		{"ksm labels empty name", "kubeStateMetrics:\n  metricLabelsAllowlist:\n    pods: [app, \"\"]\n", "kubeStateMetrics.metricLabelsAllowlist.pods[1]"},
		{"ksm labels not a map", "kubeStateMetrics:\n  metricLabelsAllowlist: [app]\n", "line"},
		{"ksm annotations unknown resource", "kubeStateMetrics:\n  metricAnnotationsAllowlist:\n    configmaps: [\"*\"]\n", "kubeStateMetrics.metricAnnotationsAllowlist: resource \"configmaps\""},
		{"ksm negative pending", "kubeStateMetrics:\n  maxPendingObjects: -1\n", "kubeStateMetrics.maxPendingObjects"},
		{"not yaml", "persistence: [\n", "line"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src))
			if err == nil {
				t.Fatalf("Parse accepted %q", tc.src)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not name %q", err, tc.want)
			}
		})
	}
}

func TestNonLoopbackAllowedWithAuth(t *testing.T) {
	for _, src := range []string{
		"server:\n  listenAddress: 0.0.0.0:8790\n  bearerTokenFile: /t\n",
		"server:\n  listenAddress: 0.0.0.0:8790\n  tlsCertFile: /c\n  tlsKeyFile: /k\n  clientCAFile: /ca\n",
		"server:\n  listenAddress: 0.0.0.0:8790\n  allowUnauthenticated: true\n",
		"server:\n  listenAddress: '[::1]:8790'\n",
		"server:\n  listenAddress: localhost:8790\n",
		"server:\n  enabled: false\n  listenAddress: 0.0.0.0:8790\n",
	} {
		if _, err := Parse([]byte(src)); err != nil {
			t.Errorf("Parse(%q): %v", src, err)
		}
	}
}

func TestKubeStateMetricsConfig(t *testing.T) {
	c, err := Parse([]byte(`kubeStateMetrics:
  enabled: true
  resources: [pods, deployments]
  clustersDenylist: [staging]
  namespaces: [shop]
  metricDenylist: ["kube_pod_container_.*", kube_secret_info]
  metricOptInList: [kube_pod_tolerations]
  metricLabelsAllowlist:
    pods: [app, team]
    "*": ["*"]
  metricAnnotationsAllowlist:
    deployments: [owner]
  maxPendingObjects: 1000
`))
	if err != nil {
		t.Fatal(err)
	}
	k := c.KubeStateMetrics
	if !k.Enabled || strings.Join(k.Resources, ",") != "pods,deployments" || strings.Join(k.ClustersDenylist, ",") != "staging" ||
		strings.Join(k.Namespaces, ",") != "shop" || len(k.MetricDenylist) != 2 || k.MetricOptInList[0] != "kube_pod_tolerations" ||
		strings.Join(k.MetricLabelsAllowlist["pods"], ",") != "app,team" || k.MetricLabelsAllowlist["*"][0] != "*" ||
		k.MetricAnnotationsAllowlist["deployments"][0] != "owner" || k.MaxPendingObjects != 1000 {
		t.Fatalf("kubeStateMetrics = %+v", k)
	}
	// Off by default, every covered resource, the default bound.
	d := Default().KubeStateMetrics
	if d.Enabled || len(d.Resources) != 13 || d.MaxPendingObjects != 1<<18 {
		t.Fatalf("default kubeStateMetrics = %+v", d)
	}
	// A zero section (api.New validates a Config built without defaults) is valid.
	if err := (&Config{Persistence: Default().Persistence, Server: Default().Server, Graph: Default().Graph}).Validate(); err != nil {
		t.Fatalf("zero kubeStateMetrics section: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("missing file error = %v", err)
	}
	p := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(p, []byte("nope: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "bad.yaml") || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("bad file error = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	data, _ := os.ReadFile(filepath.Join("..", "config.yaml"))
	f.Add(string(data))
	f.Add("persistence:\n  enabled: true\n  dir: /x\n")
	f.Add("server: {listenAddress: ':0'}")
	f.Fuzz(func(t *testing.T, src string) {
		c, err := Parse([]byte(src))
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("Parse returned a config that fails Validate: %v", verr)
			}
		}
	})
}
