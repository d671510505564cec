package packaging

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/clusterpedia-memgraph/memgraph/config"
)

const helmVersion = "v3.16.4" // hack/build-helm.sh's default

// helmBinary finds helm: $HELM, the copy hack/build-helm.sh caches, or PATH.
func helmBinary(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("HELM"); h != "" {
		return h
	}
	cache := os.Getenv("MEMGRAPH_CACHE")
	if cache == "" {
		if c, err := os.UserCacheDir(); err == nil {
			cache = filepath.Join(c, "memgraph")
		}
	}
	if cache != "" {
		if p := filepath.Join(cache, "helm-"+helmVersion, "bin", "helm"); isExecutable(p) {
			return p
		}
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	t.Skip("SKIP chart tests: no helm binary (make helm builds one into ~/.cache/memgraph, or set HELM)")
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

func chartDir(t *testing.T) string {
	return filepath.Join(repoRoot(t), "charts", "clusterpedia-memgraph")
}

func runHelm(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(helmBinary(t), args...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out)
}

// render pins --kube-version: a helm built from source defaults to v1.20.0.

// allFeatures turns on every optional part of the chart.
var allFeatures = []string{
	"--set", "persistence.enabled=true",
	"--set", "persistence.size=42Gi",
	"--set", "persistence.storageClass=fast-ssd",
	"--set", "metrics.serviceMonitor.enabled=true",
	"--set", "metrics.serviceMonitor.labels.release=prom",
	"--set", "server.bearerToken.value=s3cret",
	"--set", "tls.secretName=memgraph-tls",
	"--set", "nodeSelector.disktype=ssd",
	"--set", "tolerations[0].key=dedicated",
	"--set", "tolerations[0].operator=Exists",
	"--set", "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key=zone",
	"--set", "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator=Exists",
	"--set", "resources.limits.cpu=2",
	"--set", "extraArgs[0]=-v=3",
	"--set", "priorityClassName=system-cluster-critical",
	"--set", "global.imagePullSecrets[0].name=regcred",
	"--set", "server.tls.secretName=memgraph-ext-tls",
	"--set", "metrics.serviceMonitor.tlsConfig.insecureSkipVerify=true",
	"--set", "extraEnv[0].name=GOMEMLIMIT",
	"--set", "extraEnv[0].value=3GiB",
	"--set", "podAnnotations.team=search",
	"--set", "podLabels.tier=backend",
	"--set", "service.annotations.svc=apiserver",
	"--set", "extensionService.annotations.svc=extension",
	"--set", "serviceAccount.annotations.iam=memgraph-role",
	"--set", "apiService.caBundle=Q0E=",
	"--set", "kubeStateMetrics.enabled=true",
	"--set", "kubeStateMetrics.config.resources={pods,deployments}",
	"--set", "kubeStateMetrics.config.metricDenylist={kube_pod_container_.*}",
}

type obj = map[string]any

// render runs helm template and returns the documents keyed by "Kind/name".
func render(t *testing.T, args ...string) map[string]obj {
	t.Helper()
	out := runHelm(t, append([]string{"template", "mg", chartDir(t), "--namespace", "clusterpedia-system", "--kube-version", "v1.32.13"}, args...)...)
	docs := map[string]obj{}
	dec := yaml.NewDecoder(strings.NewReader(out))
	for {
		var d obj
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("helm template output is not YAML: %v\n%s", err, out)
		}
		if d == nil {
			continue
		}
		key := str(d, "kind") + "/" + str(d, "metadata", "name")
		if _, dup := docs[key]; dup {
			t.Fatalf("two %s", key)
		}
		docs[key] = d
	}
	return docs
}

// get walks maps (string keys) and lists (int keys).
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(obj)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any, path ...any) string { s, _ := get(v, path...).(string); return s }

func list(v any, path ...any) []any { l, _ := get(v, path...).([]any); return l }

func mustDoc(t *testing.T, docs map[string]obj, key string) obj {
	t.Helper()
	d, ok := docs[key]
	if !ok {
		var keys []string
		for k := range docs {
			keys = append(keys, k)
		}
		t.Fatalf("no %s rendered; have %v", key, keys)
	}
	return d
}

func container(t *testing.T, docs map[string]obj) obj {
	t.Helper()
	c, _ := get(mustDoc(t, docs, "Deployment/mg-clusterpedia-memgraph"), "spec", "template", "spec", "containers", 0).(obj)
	if c == nil {
		t.Fatal("deployment has no container")
	}
	return c
}

func volume(t *testing.T, docs map[string]obj, name string) obj {
	t.Helper()
	for _, v := range list(mustDoc(t, docs, "Deployment/mg-clusterpedia-memgraph"), "spec", "template", "spec", "volumes") {
		if str(v, "name") == name {
			return v.(obj)
		}
	}
	return nil
}

// storageConfig parses the rendered config.yaml with memgraph's own strict parser.
func storageConfig(t *testing.T, docs map[string]obj) *config.Config {
	t.Helper()
	raw := str(mustDoc(t, docs, "ConfigMap/mg-clusterpedia-memgraph-config"), "data", "config.yaml")
	c, err := config.Parse([]byte(raw))
	if err != nil {
		t.Fatalf("rendered storage config rejected by memgraph: %v\n%s", err, raw)
	}
	return c
}

func TestChartLint(t *testing.T) {
	runHelm(t, "lint", "--strict", chartDir(t))
	runHelm(t, append([]string{"lint", "--strict", chartDir(t)}, allFeatures...)...)
	runHelm(t, "lint", "--strict", chartDir(t), "--set", "server.allowUnauthenticated=true")
}

func TestChartDefaults(t *testing.T) {
	docs := render(t)
	for _, key := range []string{
		"ServiceAccount/mg-clusterpedia-memgraph", "ConfigMap/mg-clusterpedia-memgraph-config",
		"Secret/mg-clusterpedia-memgraph-token", "Service/mg-clusterpedia-memgraph",
		"Service/mg-clusterpedia-memgraph-extension", "Deployment/mg-clusterpedia-memgraph",
		"APIService/v1beta1.clusterpedia.io", "ClusterRole/mg-clusterpedia-memgraph",
		"ClusterRoleBinding/mg-clusterpedia-memgraph", "ClusterRoleBinding/mg-clusterpedia-memgraph-auth-delegator",
		"RoleBinding/mg-clusterpedia-memgraph-auth-reader", "Role/mg-clusterpedia-memgraph-secrets",
		"RoleBinding/mg-clusterpedia-memgraph-secrets",
	} {
		mustDoc(t, docs, key)
	}
	for key := range docs {
		if strings.HasPrefix(key, "PersistentVolumeClaim/") || strings.HasPrefix(key, "ServiceMonitor/") {
			t.Errorf("%s rendered with defaults", key)
		}
	}

	c := container(t, docs)
	args := strings.Join(strings.Fields(strings.Trim(strings.ReplaceAll(strings.Join(toStrings(list(c, "args")), " "), "\n", " "), " ")), " ")
	for _, want := range []string{"--storage-name=memgraph", "--storage-config=/etc/memgraph/config.yaml", "--secure-port=8443", "--cert-dir=/tmp/apiserver-certs"} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %s", args, want)
		}
	}
	assertProbes(t, c, "HTTP")
	if get(volume(t, docs, "data"), "emptyDir") == nil {
		t.Errorf("without persistence the data volume must be an emptyDir: %v", volume(t, docs, "data"))
	}
	cfg := storageConfig(t, docs)
	if cfg.Persistence.Enabled || cfg.Server.ListenAddress != "0.0.0.0:8790" || cfg.Server.BearerTokenFile != "/etc/memgraph/token/token" {
		t.Errorf("storage config = %+v", cfg)
	}
	if cfg.KubeStateMetrics.Enabled {
		t.Errorf("kube-state-metrics is on by default: %+v", cfg.KubeStateMetrics)
	}

	svc := mustDoc(t, docs, "Service/mg-clusterpedia-memgraph")
	if get(svc, "spec", "ports", 0, "port") != 443 || str(svc, "spec", "ports", 0, "targetPort") != "https" {
		t.Errorf("apiserver Service ports = %v", get(svc, "spec", "ports"))
	}
	ports := map[string]any{}
	for _, p := range list(c, "ports") {
		ports[str(p, "name")] = get(p, "containerPort")
	}
	if ports["https"] != 8443 || ports["http-memgraph"] != 8790 {
		t.Errorf("container ports = %v", ports)
	}
	ext := mustDoc(t, docs, "Service/mg-clusterpedia-memgraph-extension")
	if get(ext, "spec", "ports", 0, "port") != 8790 || str(ext, "spec", "ports", 0, "targetPort") != "http-memgraph" {
		t.Errorf("extension Service ports = %v", get(ext, "spec", "ports"))
	}
	as := mustDoc(t, docs, "APIService/v1beta1.clusterpedia.io")
	if str(as, "spec", "group") != "clusterpedia.io" || str(as, "spec", "version") != "v1beta1" ||
		str(as, "spec", "service", "name") != "mg-clusterpedia-memgraph" || str(as, "spec", "service", "namespace") != "clusterpedia-system" ||
		get(as, "spec", "service", "port") != 443 {
		t.Errorf("APIService spec = %v", get(as, "spec"))
	}
	if sa := str(mustDoc(t, docs, "Deployment/mg-clusterpedia-memgraph"), "spec", "template", "spec", "serviceAccountName"); sa != "mg-clusterpedia-memgraph" {
		t.Errorf("serviceAccountName = %q", sa)
	}
}

// assertProbes checks the three probes hit memgraph's health endpoints with scheme.
func assertProbes(t *testing.T, c obj, scheme string) {
	t.Helper()
	for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz", "startupProbe": "/healthz"} {
		if got := str(c, probe, "httpGet", "path"); got != path || str(c, probe, "httpGet", "port") != "http-memgraph" || str(c, probe, "httpGet", "scheme") != scheme {
			t.Errorf("%s = %v, want %s %s on http-memgraph", probe, get(c, probe, "httpGet"), scheme, path)
		}
	}
}

func toStrings(l []any) []string {
	var out []string
	for _, v := range l {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// The permissions binding-apiserver (apiserver + embedded synchro manager) uses.
func TestChartRBAC(t *testing.T) {
	docs := render(t)
	verbs := map[string]string{}
	for _, r := range list(mustDoc(t, docs, "ClusterRole/mg-clusterpedia-memgraph"), "rules") {
		for _, g := range toStrings(list(r, "apiGroups")) {
			for _, res := range toStrings(list(r, "resources")) {
				verbs[g+"/"+res] = strings.Join(toStrings(list(r, "verbs")), ",")
			}
		}
	}
	for res, want := range map[string]string{
		"cluster.clusterpedia.io/pediaclusters":        "get,list,watch,update,patch",
		"cluster.clusterpedia.io/pediaclusters/status": "get,update,patch",
		"cluster.clusterpedia.io/clustersyncresources": "get,list,watch",
	} {
		if verbs[res] != want {
			t.Errorf("ClusterRole %s verbs = %q, want %q", res, verbs[res], want)
		}
	}
	if len(verbs) != 3 {
		t.Errorf("ClusterRole grants more than Clusterpedia needs: %v", verbs)
	}
	role := mustDoc(t, docs, "Role/mg-clusterpedia-memgraph-secrets")
	if str(role, "metadata", "namespace") != "clusterpedia-system" || strings.Join(toStrings(list(role, "rules", 0, "resources")), ",") != "secrets" ||
		strings.Join(toStrings(list(role, "rules", 0, "verbs")), ",") != "get,list,watch" {
		t.Errorf("secrets Role = %v", role)
	}
	if r := mustDoc(t, docs, "ClusterRoleBinding/mg-clusterpedia-memgraph-auth-delegator"); str(r, "roleRef", "name") != "system:auth-delegator" {
		t.Errorf("auth-delegator binding = %v", r)
	}
	if r := mustDoc(t, docs, "RoleBinding/mg-clusterpedia-memgraph-auth-reader"); str(r, "metadata", "namespace") != "kube-system" ||
		str(r, "roleRef", "name") != "extension-apiserver-authentication-reader" {
		t.Errorf("auth-reader binding = %v", r)
	}
	for key, d := range docs {
		if strings.Contains(key, "Binding/") {
			if s := get(d, "subjects", 0); str(s, "name") != "mg-clusterpedia-memgraph" || str(s, "namespace") != "clusterpedia-system" {
				t.Errorf("%s subject = %v", key, s)
			}
		}
	}
}

func TestChartAllFeatures(t *testing.T) {
	docs := render(t, allFeatures...)
	pvc := mustDoc(t, docs, "PersistentVolumeClaim/mg-clusterpedia-memgraph-data")
	if str(pvc, "spec", "resources", "requests", "storage") != "42Gi" || str(pvc, "spec", "storageClassName") != "fast-ssd" {
		t.Errorf("PVC spec = %v", get(pvc, "spec"))
	}
	if str(volume(t, docs, "data"), "persistentVolumeClaim", "claimName") != "mg-clusterpedia-memgraph-data" {
		t.Errorf("data volume = %v", volume(t, docs, "data"))
	}
	cfg := storageConfig(t, docs)
	if !cfg.Persistence.Enabled || cfg.Persistence.Dir != "/var/lib/memgraph/data" {
		t.Errorf("persistence config = %+v", cfg.Persistence)
	}
	if k := cfg.KubeStateMetrics; !k.Enabled || strings.Join(k.Resources, ",") != "pods,deployments" || strings.Join(k.MetricDenylist, ",") != "kube_pod_container_.*" {
		t.Errorf("kubeStateMetrics config = %+v", k)
	}
	c := container(t, docs)
	var mounted bool
	for _, m := range list(c, "volumeMounts") {
		mounted = mounted || (str(m, "name") == "data" && str(m, "mountPath") == cfg.Persistence.Dir)
	}
	if !mounted {
		t.Errorf("persistence dir %s is not the data volume's mount: %v", cfg.Persistence.Dir, list(c, "volumeMounts"))
	}
	dep := mustDoc(t, docs, "Deployment/mg-clusterpedia-memgraph")
	if str(dep, "spec", "strategy", "type") != "Recreate" {
		t.Errorf("with persistence the Deployment must Recreate: %v", get(dep, "spec", "strategy"))
	}
	pod := get(dep, "spec", "template", "spec")
	if str(pod, "nodeSelector", "disktype") != "ssd" || str(pod, "tolerations", 0, "key") != "dedicated" ||
		get(pod, "affinity", "nodeAffinity") == nil || str(pod, "priorityClassName") != "system-cluster-critical" ||
		str(pod, "imagePullSecrets", 0, "name") != "regcred" {
		t.Errorf("pod scheduling fields = %v", pod)
	}
	if get(c, "resources", "limits", "cpu") != 2 && str(c, "resources", "limits", "cpu") != "2" {
		t.Errorf("resources = %v", get(c, "resources"))
	}
	args := strings.Join(toStrings(list(c, "args")), " ")
	for _, want := range []string{"-v=3", "--tls-cert-file=/etc/memgraph/tls/tls.crt", "--tls-private-key-file=/etc/memgraph/tls/tls.key"} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %s", args, want)
		}
	}
	if strings.Contains(args, "--cert-dir") {
		t.Errorf("args %q: --cert-dir with a TLS secret", args)
	}
	sec := mustDoc(t, docs, "Secret/mg-clusterpedia-memgraph-token")
	if str(sec, "data", "token") != "czNjcmV0" { // base64("s3cret")
		t.Errorf("token Secret data = %v", get(sec, "data"))
	}
	sm := mustDoc(t, docs, "ServiceMonitor/mg-clusterpedia-memgraph")
	ep := get(sm, "spec", "endpoints", 0)
	if str(ep, "port") != "http-memgraph" || str(ep, "path") != "/metrics" || str(ep, "bearerTokenSecret", "name") != "mg-clusterpedia-memgraph-token" ||
		str(sm, "metadata", "labels", "release") != "prom" || str(sm, "spec", "selector", "matchLabels", "app.kubernetes.io/part") != "extension" {
		t.Errorf("ServiceMonitor = %v", sm)
	}
	if str(mustDoc(t, docs, "Service/mg-clusterpedia-memgraph-extension"), "metadata", "labels", "app.kubernetes.io/part") != "extension" {
		t.Error("extension Service lacks the label the ServiceMonitor selects")
	}

	// HTTPS on the extension port: memgraph serves the Secret's pair, probes and
	// ServiceMonitor follow.
	if cfg.Server.TLSCertFile != "/etc/memgraph/server-tls/tls.crt" || cfg.Server.TLSKeyFile != "/etc/memgraph/server-tls/tls.key" {
		t.Errorf("server TLS config = %q %q", cfg.Server.TLSCertFile, cfg.Server.TLSKeyFile)
	}
	if str(volume(t, docs, "server-tls"), "secret", "secretName") != "memgraph-ext-tls" {
		t.Errorf("server-tls volume = %v", volume(t, docs, "server-tls"))
	}
	var tlsMounted bool
	for _, m := range list(c, "volumeMounts") {
		tlsMounted = tlsMounted || (str(m, "name") == "server-tls" && str(m, "mountPath")+"/tls.crt" == cfg.Server.TLSCertFile)
	}
	if !tlsMounted {
		t.Errorf("server TLS files are not on the server-tls mount: %v", list(c, "volumeMounts"))
	}
	assertProbes(t, c, "HTTPS")
	if str(ep, "scheme") != "https" || get(ep, "tlsConfig", "insecureSkipVerify") != true {
		t.Errorf("ServiceMonitor endpoint with TLS = %v", ep)
	}

	// Pass-through metadata and the APIService CA.
	var env []string
	for _, e := range list(c, "env") {
		env = append(env, str(e, "name")+"="+str(e, "value"))
	}
	if !strings.Contains(strings.Join(env, " "), "GOMEMLIMIT=3GiB") {
		t.Errorf("env = %v", env)
	}
	tmpl := get(dep, "spec", "template", "metadata")
	if str(tmpl, "annotations", "team") != "search" || str(tmpl, "annotations", "checksum/config") == "" || str(tmpl, "labels", "tier") != "backend" ||
		str(tmpl, "labels", "app.kubernetes.io/name") != "clusterpedia-memgraph" {
		t.Errorf("pod template metadata = %v", tmpl)
	}
	for key, want := range map[string]string{
		"Service/mg-clusterpedia-memgraph":           "apiserver",
		"Service/mg-clusterpedia-memgraph-extension": "extension",
	} {
		if got := str(mustDoc(t, docs, key), "metadata", "annotations", "svc"); got != want {
			t.Errorf("%s annotation svc = %q, want %q", key, got, want)
		}
	}
	if got := str(mustDoc(t, docs, "ServiceAccount/mg-clusterpedia-memgraph"), "metadata", "annotations", "iam"); got != "memgraph-role" {
		t.Errorf("ServiceAccount annotation iam = %q", got)
	}
	as := mustDoc(t, docs, "APIService/v1beta1.clusterpedia.io")
	if str(as, "spec", "caBundle") != "Q0E=" || get(as, "spec", "insecureSkipTLSVerify") != nil {
		t.Errorf("APIService with caBundle = %v", get(as, "spec"))
	}
}

// The annotations the Huawei Cloud OSC guide reads from Chart.yaml (accessg-osc
// "服务内容说明"): source ISV for a partner chart, one of the guide's categories, the
// image architectures osc-package ships, a maintainer; and the images annotation
// names the image the chart deploys by default.
func TestChartOSCMetadata(t *testing.T) {
	var meta struct {
		AppVersion  string              `yaml:"appVersion"`
		Maintainers []map[string]string `yaml:"maintainers"`
		Annotations map[string]string   `yaml:"annotations"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join(chartDir(t), "Chart.yaml"))), &meta); err != nil {
		t.Fatal(err)
	}
	a := meta.Annotations
	if a["source"] != "ISV" {
		t.Errorf("annotation source = %q, want ISV", a["source"])
	}
	categories := []string{"AI/Machine Learning", "Application Runtime", "Big Data", "Database", "Monitoring", "Security",
		"Streaming & Messaging", "Integration & Delivery", "Logging & Tracing", "Developer Tools", "Networking", "Others"}
	found := false
	for _, c := range categories {
		found = found || a["categories"] == c
	}
	if !found {
		t.Errorf("annotation categories = %q, want one of %q", a["categories"], categories)
	}
	var archs []string
	for _, arch := range strings.Fields(makeVar(t, readFile(t, filepath.Join(repoRoot(t), "Makefile")), "RELEASE_ARCHS")) {
		archs = append(archs, map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[arch])
	}
	if a["architecture"] != strings.Join(archs, ",") {
		t.Errorf("annotation architecture = %q, want %q (the Makefile's RELEASE_ARCHS)", a["architecture"], strings.Join(archs, ","))
	}
	if len(meta.Maintainers) == 0 || meta.Maintainers[0]["name"] == "" {
		t.Errorf("maintainers = %v: the OSC guide needs a maintainer or provider", meta.Maintainers)
	}
	var images []map[string]string
	if err := yaml.Unmarshal([]byte(a["images"]), &images); err != nil {
		t.Fatalf("annotation images: %v", err)
	}
	def := str(container(t, render(t)), "image")
	if len(images) != 1 || images[0]["image"] != def {
		t.Errorf("annotation images = %v, want the default image %s", images, def)
	}
}

func TestChartUnauthenticated(t *testing.T) {
	docs := render(t, "--set", "server.allowUnauthenticated=true")
	if _, ok := docs["Secret/mg-clusterpedia-memgraph-token"]; ok {
		t.Error("token Secret rendered with allowUnauthenticated and no token")
	}
	if volume(t, docs, "token") != nil {
		t.Error("token volume mounted with allowUnauthenticated and no token")
	}
	if cfg := storageConfig(t, docs); !cfg.Server.AllowUnauthenticated || cfg.Server.BearerTokenFile != "" {
		t.Errorf("server config = %+v", cfg.Server)
	}
	docs = render(t, "--set", "server.bearerToken.existingSecret=mine", "--set", "server.bearerToken.secretKey=k")
	if _, ok := docs["Secret/mg-clusterpedia-memgraph-token"]; ok {
		t.Error("token Secret rendered although existingSecret is set")
	}
	if str(volume(t, docs, "token"), "secret", "secretName") != "mine" || storageConfig(t, docs).Server.BearerTokenFile != "/etc/memgraph/token/k" {
		t.Errorf("existingSecret not used: volume %v", volume(t, docs, "token"))
	}
}

// Every rendered image comes from values' registry (image.registry, or
// global.imageRegistry over it).
func TestChartImageRegistry(t *testing.T) {
	for name, args := range map[string][]string{
		"image.registry":       {"--set", "image.registry=sentinel.registry.invalid"},
		"global.imageRegistry": {"--set", "global.imageRegistry=sentinel.registry.invalid", "--set", "image.registry=other.invalid"},
	} {
		docs := render(t, append(args, allFeatures...)...)
		n := 0
		for key, d := range docs {
			walkImages(d, func(img string) {
				n++
				if !strings.HasPrefix(img, "sentinel.registry.invalid/") {
					t.Errorf("%s: %s renders image %q not from the sentinel registry", name, key, img)
				}
			})
		}
		if n == 0 {
			t.Errorf("%s: no image rendered", name)
		}
	}
	c := container(t, render(t))
	if got := str(c, "image"); got != "ghcr.io/clusterpedia-memgraph/binding-apiserver-memgraph:v0.1.0-v0.9.1" {
		t.Errorf("default image = %q", got)
	}
}

// walkImages calls f for every "image" string value anywhere in a document.
func walkImages(v any, f func(string)) {
	switch x := v.(type) {
	case obj:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "image" {
				f(s)
			} else {
				walkImages(e, f)
			}
		}
	case []any:
		for _, e := range x {
			walkImages(e, f)
		}
	}
}
