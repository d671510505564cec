package e2e

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// helmVersion is hack/build-helm.sh's default (make helm).
const helmVersion = "v3.16.4"

// chartFeatureSets are the value sets the chart is validated with: the defaults,
// every optional feature on, and everything optional off.
var chartFeatureSets = map[string][]string{
	"defaults": nil,
	"all-features": {
		"--set", "persistence.enabled=true",
		"--set", "persistence.size=42Gi",
		"--set", "persistence.storageClass=fast-ssd",
		"--set", "metrics.serviceMonitor.enabled=true",
		"--set", "metrics.serviceMonitor.labels.release=prom",
		"--set", "metrics.serviceMonitor.tlsConfig.insecureSkipVerify=true",
		"--set", "server.bearerToken.value=s3cret",
		"--set", "server.tls.secretName=memgraph-ext-tls",
		"--set", "tls.secretName=memgraph-tls",
		"--set", "apiService.caBundle=Q0E=",
		"--set", "nodeSelector.disktype=ssd",
		"--set", "tolerations[0].key=dedicated",
		"--set", "tolerations[0].operator=Exists",
		"--set", "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key=zone",
		"--set", "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator=Exists",
		"--set", "resources.limits.cpu=2",
		"--set", "extraArgs[0]=-v=3",
		"--set", "extraEnv[0].name=GOMEMLIMIT",
		"--set", "extraEnv[0].value=3GiB",
		"--set", "priorityClassName=system-cluster-critical",
		"--set", "global.imagePullSecrets[0].name=regcred",
		"--set", "global.imageRegistry=registry.example.com",
		"--set", "podAnnotations.team=search",
		"--set", "podLabels.tier=backend",
		"--set", "service.annotations.svc=apiserver",
		"--set", "extensionService.annotations.svc=extension",
		"--set", "serviceAccount.annotations.iam=memgraph-role",
	},
	"minimal": {
		"--set", "persistence.enabled=true",
		"--set", "persistence.existingClaim=memgraph-data",
		"--set", "server.allowUnauthenticated=true",
		"--set", "serviceAccount.create=false",
		"--set", "rbac.create=false",
		"--set", "apiService.enabled=false",
		"--set", "extensionService.type=NodePort",
	},
}

// serviceMonitorCRD is a minimal monitoring.coreos.com/v1 ServiceMonitor CRD written
// for this test: no Prometheus Operator is installed here, so the chart's
// ServiceMonitor is validated (strict field validation) against this subset of the
// operator's schema — the fields the chart renders, their types, the scheme enum and
// the duration pattern — not against the operator's full schema.
const serviceMonitorCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: servicemonitors.monitoring.coreos.com
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names: {kind: ServiceMonitor, listKind: ServiceMonitorList, plural: servicemonitors, singular: servicemonitor}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          required: [spec]
          properties:
            apiVersion: {type: string}
            kind: {type: string}
            metadata: {type: object}
            spec:
              type: object
              required: [selector]
              properties:
                selector:
                  type: object
                  properties:
                    matchLabels: {type: object, additionalProperties: {type: string}}
                namespaceSelector:
                  type: object
                  properties:
                    any: {type: boolean}
                    matchNames: {type: array, items: {type: string}}
                endpoints:
                  type: array
                  items:
                    type: object
                    properties:
                      port: {type: string}
                      path: {type: string}
                      scheme: {type: string, enum: [http, https]}
                      interval: {type: string, pattern: '^(0|(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$'}
                      scrapeTimeout: {type: string, pattern: '^(0|(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$'}
                      bearerTokenSecret:
                        type: object
                        required: [key]
                        properties:
                          name: {type: string}
                          key: {type: string}
                          optional: {type: boolean}
                      tlsConfig:
                        type: object
                        properties:
                          insecureSkipVerify: {type: boolean}
                          serverName: {type: string}
                          ca: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

// findHelm returns the helm binary (HELM, the make helm cache, PATH), or skips/fails
// like the harness does for missing prerequisites.
func findHelm(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("HELM"); h != "" {
		return h
	}
	cache := os.Getenv("MEMGRAPH_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, _ := os.UserHomeDir()
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "memgraph")
	}
	if p := filepath.Join(cache, "helm-"+helmVersion, "bin", "helm"); isExecutableFile(p) {
		return p
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	msg := "e2e prerequisites missing: helm (make helm builds it into " + filepath.Join(cache, "helm-"+helmVersion, "bin") + ")"
	if Forced() {
		t.Fatal(msg + " (E2E is set, so this is a failure)")
	}
	t.Skip("SKIP " + msg)
	return ""
}

func isExecutableFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

func runCmd(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// renderedObjects returns "kind/name" of every document in a multi-document YAML.
func renderedObjects(t *testing.T, manifests string) []string {
	t.Helper()
	var out []string
	dec := yaml.NewDecoder(strings.NewReader(manifests))
	for {
		var d struct {
			Kind     string `yaml:"kind"`
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
		}
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("rendered chart is not YAML: %v", err)
		}
		if d.Kind != "" {
			out = append(out, strings.ToLower(d.Kind)+"/"+d.Metadata.Name)
		}
	}
	sort.Strings(out)
	return out
}

// TestChartDryRun packages the chart with hack/chart-package.sh (chart + Clusterpedia's
// CRDs), renders it with the defaults, with every optional feature on and with
// everything optional off, and applies every rendered object, the packaged CRDs
// included, with a server-side dry run against a real kube-apiserver v1.32.13 (strict
// field validation, admission, RBAC). Every object must be accepted. No
// binding-apiserver is started.
func TestChartDryRun(t *testing.T) {
	helm := findHelm(t)
	env := StartKube(t, KubeOptions{Clusters: []string{"c1"}})
	kubectl := func(args ...string) string {
		return runCmd(t, "", nil, env.Kubectl, append([]string{"--kubeconfig", env.Kubeconfig}, args...)...)
	}

	out := t.TempDir()
	archive := strings.TrimSpace(runCmd(t, env.Paths.Root,
		[]string{"CLUSTERPEDIA_REPO=" + env.Paths.ClusterpediaRepo, "OUTPUT_DIR=" + out, "HELM=" + helm},
		"bash", filepath.Join(env.Paths.Root, "hack", "chart-package.sh")))
	if i := strings.LastIndex(archive, "\n"); i >= 0 {
		archive = archive[i+1:]
	}

	crd := filepath.Join(out, "servicemonitor-crd.yaml")
	if err := os.WriteFile(crd, []byte(serviceMonitorCRD), 0o644); err != nil {
		t.Fatal(err)
	}
	kubectl("apply", "--server-side", "-f", crd)
	kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/servicemonitors.monitoring.coreos.com")

	names := make([]string, 0, len(chartFeatureSets))
	for n := range chartFeatureSets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			home := t.TempDir()
			manifests := runCmd(t, "", []string{"HELM_CACHE_HOME=" + home, "HELM_CONFIG_HOME=" + home, "HELM_DATA_HOME=" + home},
				helm, append([]string{"template", "mg", archive, "--include-crds", "--namespace", "clusterpedia-system", "--kube-version", "v1.32.13"},
					chartFeatureSets[name]...)...)
			file := filepath.Join(t.TempDir(), name+".yaml")
			if err := os.WriteFile(file, []byte(manifests), 0o644); err != nil {
				t.Fatal(err)
			}
			want := renderedObjects(t, manifests)
			for _, crd := range []string{"customresourcedefinition/pediaclusters.cluster.clusterpedia.io", "customresourcedefinition/clustersyncresources.cluster.clusterpedia.io"} {
				if i := sort.SearchStrings(want, crd); i == len(want) || want[i] != crd {
					t.Errorf("the packaged chart does not render %s", crd)
				}
			}
			if name == "all-features" {
				if i := sort.SearchStrings(want, "servicemonitor/mg-clusterpedia-memgraph"); i == len(want) || want[i] != "servicemonitor/mg-clusterpedia-memgraph" {
					t.Errorf("all-features renders no ServiceMonitor: %v", want)
				}
			}

			applied := kubectl("apply", "--server-side", "--dry-run=server", "--field-manager=memgraph-chart-test", "-o", "name", "-f", file)
			var got []string
			for _, l := range strings.Fields(applied) {
				res, objName, ok := strings.Cut(l, "/")
				if !ok {
					t.Fatalf("unexpected kubectl output line %q", l)
				}
				res, _, _ = strings.Cut(res, ".")
				got = append(got, res+"/"+objName)
			}
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("server accepted\n%s\nrendered\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			t.Logf("%s: %d objects accepted by a server-side dry run in %s", name, len(got), time.Since(start).Round(10*time.Millisecond))
		})
	}
}
