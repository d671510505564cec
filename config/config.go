// Package config owns memgraph's runtime configuration: the file Clusterpedia passes with
// --storage-config. Parsing is strict — an unknown key, a bad value or an unreadable file is
// an error naming the key — and every key has a documented default (see config.yaml at the
// repository root, which the tests parse).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole storage configuration.
type Config struct {
	Persistence Persistence `yaml:"persistence"`
	Server      Server      `yaml:"server"`
	Graph       Graph       `yaml:"graph"`
	// KubeStateMetrics serves kube-state-metrics for every member cluster.
	KubeStateMetrics KubeStateMetrics `yaml:"kubeStateMetrics"`
}

// Persistence configures badger snapshots and the write-behind log.
type Persistence struct {
	// Enabled turns persistence on. Default false (memory only: a restart resyncs).
	Enabled bool `yaml:"enabled"`
	// Dir is the badger directory; required when enabled.
	Dir string `yaml:"dir"`
	// SyncMode: "interval" (default) — the write-behind log is flushed every FlushInterval,
	// so a crash loses at most the last FlushInterval of acknowledged writes; "strict" —
	// every write is durable before it is acknowledged.
	SyncMode string `yaml:"syncMode"`
	// FlushInterval of the write-behind log in interval mode. Default 1s.
	FlushInterval Duration `yaml:"flushInterval"`
	// SnapshotInterval between full point-in-time snapshots (which truncate the log).
	// Default 10m.
	SnapshotInterval Duration `yaml:"snapshotInterval"`
}

// Sync modes.
const (
	SyncInterval = "interval"
	SyncStrict   = "strict"
)

// Server configures memgraph's extension HTTP port (graph API, metrics, health).
type Server struct {
	// Enabled serves the port. Default true.
	Enabled *bool `yaml:"enabled"`
	// ListenAddress host:port. Default 127.0.0.1:8790 (loopback only).
	ListenAddress string `yaml:"listenAddress"`
	// TLSCertFile and TLSKeyFile serve HTTPS; both or neither.
	TLSCertFile string `yaml:"tlsCertFile"`
	TLSKeyFile  string `yaml:"tlsKeyFile"`
	// ClientCAFile requires client certificates signed by this CA (needs TLS).
	ClientCAFile string `yaml:"clientCAFile"`
	// BearerTokenFile holds the token clients must send as "Authorization: Bearer <token>".
	BearerTokenFile string `yaml:"bearerTokenFile"`
	// AllowUnauthenticated must be true to listen on a non-loopback address without a
	// bearer token or client CA. Default false.
	AllowUnauthenticated bool `yaml:"allowUnauthenticated"`
	// MaxRequestBytes bounds request URLs and bodies. Default 65536.
	MaxRequestBytes int64 `yaml:"maxRequestBytes"`
	// RequestTimeout bounds each request. Default 30s.
	RequestTimeout Duration `yaml:"requestTimeout"`
}

// Graph configures relationship queries.
type Graph struct {
	// DefaultDepth of a graph walk when the request gives none. Default 3.
	DefaultDepth int `yaml:"defaultDepth"`
	// MaxDepth a request may ask for. Default 20.
	MaxDepth int `yaml:"maxDepth"`
	// MaxNodes in one answer; bigger answers are cut and flagged truncated. Default 5000.
	MaxNodes int `yaml:"maxNodes"`
}

// KubeStateMetrics configures the multi-cluster kube-state-metrics endpoints on the
// extension port (kube-state-metrics v2.13.0 series of every member cluster, with a
// "cluster" label). The list keys follow kube-state-metrics' flags of the same names.
type KubeStateMetrics struct {
	// Enabled serves the endpoints (needs server.enabled). Default false.
	Enabled bool `yaml:"enabled"`
	// Resources to produce metrics for, out of KubeStateMetricsResources. Default: all.
	Resources []string `yaml:"resources"`
	// Clusters limits the metrics to these member clusters; ClustersDenylist excludes
	// clusters. At most one of the two. Default: every cluster.
	Clusters         []string `yaml:"clusters"`
	ClustersDenylist []string `yaml:"clustersDenylist"`
	// Namespaces limits namespaced objects to these namespaces; NamespacesDenylist excludes
	// namespaces (--namespaces / --namespaces-denylist). At most one of the two.
	// Cluster-scoped objects are not affected.
	Namespaces         []string `yaml:"namespaces"`
	NamespacesDenylist []string `yaml:"namespacesDenylist"`
	// MetricAllowlist / MetricDenylist: metric family names or regular expressions
	// (unanchored, as --metric-allowlist / --metric-denylist). At most one of the two.
	MetricAllowlist []string `yaml:"metricAllowlist"`
	MetricDenylist  []string `yaml:"metricDenylist"`
	// MetricOptInList enables opt-in families (--metric-opt-in-list).
	MetricOptInList []string `yaml:"metricOptInList"`
	// MetricLabelsAllowlist: resource ("pods", or "*" for all) → Kubernetes label names
	// (or "*") exposed by the kube_<kind>_labels families (--metric-labels-allowlist).
	MetricLabelsAllowlist map[string][]string `yaml:"metricLabelsAllowlist"`
	// MetricAnnotationsAllowlist: the same for annotations (--metric-annotations-allowlist).
	MetricAnnotationsAllowlist map[string][]string `yaml:"metricAnnotationsAllowlist"`
	// MaxPendingObjects bounds the objects waiting for their metrics to be rendered; when
	// it is reached, writes wait. Default 262144.
	MaxPendingObjects int `yaml:"maxPendingObjects"`
}

// KubeStateMetricsResources are the resources kube-state-metrics is served for (the ones
// Clusterpedia v0.9.1's kube-state-metrics covers).
var KubeStateMetricsResources = []string{
	"cronjobs", "daemonsets", "deployments", "ingressclasses", "ingresses", "jobs", "namespaces",
	"nodes", "pods", "replicasets", "secrets", "services", "statefulsets",
}

// Duration is a time.Duration written as a Go duration string ("500ms", "10m").
type Duration struct{ time.Duration }

// UnmarshalYAML parses a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: want a duration such as \"1s\" or \"10m\"", n.Line)
	}
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("line %d: invalid duration %q", n.Line, s)
	}
	d.Duration = v
	return nil
}

// MarshalYAML writes the duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// ServerEnabled reports Server.Enabled with its default.
func (c *Config) ServerEnabled() bool { return c.Server.Enabled == nil || *c.Server.Enabled }

// Default returns the configuration used when no file is given.
func Default() *Config {
	c := &Config{}
	c.applyDefaults()
	return c
}

func (c *Config) applyDefaults() {
	p := &c.Persistence
	if p.SyncMode == "" {
		p.SyncMode = SyncInterval
	}
	if p.FlushInterval.Duration == 0 {
		p.FlushInterval.Duration = time.Second
	}
	if p.SnapshotInterval.Duration == 0 {
		p.SnapshotInterval.Duration = 10 * time.Minute
	}
	s := &c.Server
	if s.ListenAddress == "" {
		s.ListenAddress = "127.0.0.1:8790"
	}
	if s.MaxRequestBytes == 0 {
		s.MaxRequestBytes = 64 << 10
	}
	if s.RequestTimeout.Duration == 0 {
		s.RequestTimeout.Duration = 30 * time.Second
	}
	g := &c.Graph
	if g.DefaultDepth == 0 {
		g.DefaultDepth = 3
	}
	if g.MaxDepth == 0 {
		g.MaxDepth = 20
	}
	if g.MaxNodes == 0 {
		g.MaxNodes = 5000
	}
	k := &c.KubeStateMetrics
	if len(k.Resources) == 0 {
		k.Resources = append([]string(nil), KubeStateMetricsResources...)
	}
	if k.MaxPendingObjects == 0 {
		k.MaxPendingObjects = 1 << 18
	}
}

// Load reads and validates the file at path; an empty path means Default().
func Load(path string) (*Config, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("memgraph config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("memgraph config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes and validates a configuration document. Unknown keys are errors.
func Parse(data []byte) (*Config, error) {
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one YAML document")
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks values; the error names the key.
func (c *Config) Validate() error {
	p := c.Persistence
	if p.Enabled && strings.TrimSpace(p.Dir) == "" {
		return errors.New("persistence.dir: required when persistence.enabled is true")
	}
	if p.SyncMode != SyncInterval && p.SyncMode != SyncStrict {
		return fmt.Errorf("persistence.syncMode: %q is not one of %q, %q", p.SyncMode, SyncInterval, SyncStrict)
	}
	if p.FlushInterval.Duration < 0 {
		return fmt.Errorf("persistence.flushInterval: must be positive (got %s)", p.FlushInterval)
	}
	if p.SnapshotInterval.Duration < time.Second {
		return fmt.Errorf("persistence.snapshotInterval: must be at least 1s (got %s)", p.SnapshotInterval)
	}
	s := c.Server
	host, port, err := net.SplitHostPort(s.ListenAddress)
	if err != nil {
		return fmt.Errorf("server.listenAddress: %q is not host:port: %v", s.ListenAddress, err)
	}
	if port == "" {
		return fmt.Errorf("server.listenAddress: %q has no port", s.ListenAddress)
	}
	if (s.TLSCertFile == "") != (s.TLSKeyFile == "") {
		return errors.New("server.tlsCertFile and server.tlsKeyFile: set both or neither")
	}
	if s.ClientCAFile != "" && s.TLSCertFile == "" {
		return errors.New("server.clientCAFile: needs server.tlsCertFile and server.tlsKeyFile")
	}
	if c.ServerEnabled() && !IsLoopback(host) && s.BearerTokenFile == "" && s.ClientCAFile == "" && !s.AllowUnauthenticated {
		return fmt.Errorf("server.listenAddress: %q is not a loopback address and neither server.bearerTokenFile nor server.clientCAFile is set; set one, or set server.allowUnauthenticated: true to serve without authentication", s.ListenAddress)
	}
	if s.MaxRequestBytes < 1024 {
		return fmt.Errorf("server.maxRequestBytes: must be at least 1024 (got %d)", s.MaxRequestBytes)
	}
	if s.RequestTimeout.Duration <= 0 {
		return fmt.Errorf("server.requestTimeout: must be positive (got %s)", s.RequestTimeout)
	}
	g := c.Graph
	if g.MaxDepth < 1 {
		return fmt.Errorf("graph.maxDepth: must be at least 1 (got %d)", g.MaxDepth)
	}
	if g.DefaultDepth < 1 || g.DefaultDepth > g.MaxDepth {
		return fmt.Errorf("graph.defaultDepth: must be between 1 and graph.maxDepth (%d) (got %d)", g.MaxDepth, g.DefaultDepth)
	}
	if g.MaxNodes < 1 {
		return fmt.Errorf("graph.maxNodes: must be at least 1 (got %d)", g.MaxNodes)
	}
	return c.validateKubeStateMetrics()
}

func (c *Config) validateKubeStateMetrics() error {
	k := c.KubeStateMetrics
	const p = "kubeStateMetrics."
	if k.Enabled && !c.ServerEnabled() {
		return errors.New(p + "enabled: the metrics are served on memgraph's HTTP port; set server.enabled: true")
	}
	known := map[string]bool{}
	for _, r := range KubeStateMetricsResources {
		known[r] = true
	}
	supported := strings.Join(KubeStateMetricsResources, ", ")
	seen := map[string]bool{}
	for i, r := range k.Resources {
		if !known[r] {
			return fmt.Errorf("%sresources[%d]: %q is not one of %s", p, i, r, supported)
		}
		if seen[r] {
			return fmt.Errorf("%sresources[%d]: %q is listed twice", p, i, r)
		}
		seen[r] = true
	}
	for _, l := range []struct {
		key  string
		vals []string
	}{{"clusters", k.Clusters}, {"clustersDenylist", k.ClustersDenylist},
		{"namespaces", k.Namespaces}, {"namespacesDenylist", k.NamespacesDenylist},
		{"metricOptInList", k.MetricOptInList}} {
		for i, v := range l.vals {
			if strings.TrimSpace(v) == "" {
				return fmt.Errorf("%s%s[%d]: empty name", p, l.key, i)
			}
		}
	}
	if len(k.Clusters) > 0 && len(k.ClustersDenylist) > 0 {
		return errors.New(p + "clusters and " + p + "clustersDenylist: set at most one")
	}
	if len(k.Namespaces) > 0 && len(k.NamespacesDenylist) > 0 {
		return errors.New(p + "namespaces and " + p + "namespacesDenylist: set at most one")
	}
	if len(k.MetricAllowlist) > 0 && len(k.MetricDenylist) > 0 {
		return errors.New(p + "metricAllowlist and " + p + "metricDenylist: set at most one")
	}
	for _, l := range []struct {
		key  string
		vals []string
	}{{"metricAllowlist", k.MetricAllowlist}, {"metricDenylist", k.MetricDenylist}} {
		for i, v := range l.vals {
			if v == "" {
				return fmt.Errorf("%s%s[%d]: empty pattern", p, l.key, i)
			}
			if _, err := regexp.Compile(v); err != nil {
				return fmt.Errorf("%s%s[%d]: %q is not a regular expression: %v", p, l.key, i, v, err)
			}
		}
	}
	for _, l := range []struct {
		key string
		m   map[string][]string
	}{{"metricLabelsAllowlist", k.MetricLabelsAllowlist}, {"metricAnnotationsAllowlist", k.MetricAnnotationsAllowlist}} {
		resources := make([]string, 0, len(l.m))
		for r := range l.m {
			resources = append(resources, r)
		}
		sort.Strings(resources)
		for _, r := range resources {
			if r != "*" && !known[r] {
				return fmt.Errorf("%s%s: resource %q is not \"*\" or one of %s", p, l.key, r, supported)
			}
			for i, name := range l.m[r] {
				if strings.TrimSpace(name) == "" {
					return fmt.Errorf("%s%s.%s[%d]: empty name", p, l.key, r, i)
				}
			}
		}
	}
	if k.MaxPendingObjects < 0 {
		return fmt.Errorf("%smaxPendingObjects: must be positive (got %d)", p, k.MaxPendingObjects)
	}
	return nil
}

// IsLoopback reports whether host (from host:port) only listens on loopback.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
