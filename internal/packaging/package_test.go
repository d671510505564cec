package packaging

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The CRDs chart-package adds: the kinds binding-apiserver watches.
var packagedCRDs = map[string]string{
	"cluster.clusterpedia.io_pediaclusters.yaml":        "PediaCluster",
	"cluster.clusterpedia.io_clustersyncresources.yaml": "ClusterSyncResources",
}

// clusterpediaRepo returns the Clusterpedia source holding the CRDs, or skips.
func clusterpediaRepo(t *testing.T) string {
	t.Helper()
	repo := os.Getenv("CLUSTERPEDIA_REPO")
	if repo == "" {
		repo = filepath.Join(repoRoot(t), "clusterpedia")
	}
	for f := range packagedCRDs {
		if upstreamCRD(repo, f) == "" {
			t.Skipf("SKIP chart/OSC package tests: no Clusterpedia v0.9.1 CRDs at %s (git submodule update --init clusterpedia, or set CLUSTERPEDIA_REPO)", repo)
		}
	}
	return repo
}

// upstreamCRD is where hack/chart-package.sh takes a CRD from ("" if absent).
func upstreamCRD(repo, file string) string {
	for _, dir := range []string{"kustomize/crds", "deploy"} {
		if p := filepath.Join(repo, dir, file); fileExists(p) {
			return p
		}
	}
	return ""
}

func fileExists(p string) bool { fi, err := os.Stat(p); return err == nil && !fi.IsDir() }

type scriptResult struct {
	stdout, stderr string
	err            error
}

// runScript runs a hack/ script from the repository root with extra environment.
func runScript(t *testing.T, script string, env ...string) scriptResult {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("SKIP: bash not found in PATH")
	}
	cmd := exec.Command("bash", filepath.Join(repoRoot(t), "hack", script))
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return scriptResult{stdout.String(), stderr.String(), err}
}

func (r scriptResult) mustSucceed(t *testing.T, what string) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", what, r.err, r.stdout, r.stderr)
	}
}

// readTgz returns the regular files of a .tgz by path.
func readTgz(t *testing.T, file string) map[string][]byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	tr := tar.NewReader(gz)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = b
	}
}

func chartMeta(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("Chart.yaml: %v", err)
	}
	return m
}

// Without the Clusterpedia source chart-package stops before doing anything, with a
// message naming the missing file and the fix. Needs neither helm nor the source.
func TestChartPackageNeedsClusterpediaSource(t *testing.T) {
	out := t.TempDir()
	r := runScript(t, "chart-package.sh", "CLUSTERPEDIA_REPO="+t.TempDir(), "OUTPUT_DIR="+out, "HELM=/nonexistent/helm")
	if r.err == nil {
		t.Fatalf("chart-package succeeded without CRDs:\n%s%s", r.stdout, r.stderr)
	}
	for _, want := range []string{"CLUSTERPEDIA_REPO=", "has no cluster.clusterpedia.io_pediaclusters.yaml", "git submodule update --init clusterpedia"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("error message lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("want one error line, got:\n%s", r.stderr)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("chart-package wrote %d files although it failed", len(entries))
	}
}

// The CRDs are added at package time only: the source chart has no crds/ and git
// ignores one if it appears.
func TestChartSourceHasNoCRDs(t *testing.T) {
	dir := chartDir(t)
	if _, err := os.Stat(filepath.Join(dir, "crds")); err == nil {
		t.Errorf("%s/crds exists: Clusterpedia's CRDs are upstream files, added only by make chart-package", dir)
	}
	root := repoRoot(t)
	if _, err := exec.LookPath("git"); err != nil || !fileExists(filepath.Join(root, ".git")) && !dirExists(filepath.Join(root, ".git")) {
		return
	}
	cmd := exec.Command("git", "check-ignore", "-q", "charts/clusterpedia-memgraph/crds/cluster.clusterpedia.io_pediaclusters.yaml")
	cmd.Dir = root
	if err := cmd.Run(); err != nil {
		t.Errorf("git does not ignore charts/clusterpedia-memgraph/crds/ (.gitignore): %v", err)
	}
}

func dirExists(p string) bool { fi, err := os.Stat(p); return err == nil && fi.IsDir() }

// make chart-package: one archive named after the chart, holding the source chart
// unchanged plus the two CRDs copied byte for byte from the Clusterpedia source, and
// Helm installs those CRDs from it.
func TestChartPackage(t *testing.T) {
	helm := helmBinary(t)
	repo := clusterpediaRepo(t)
	out := t.TempDir()
	r := runScript(t, "chart-package.sh", "CLUSTERPEDIA_REPO="+repo, "OUTPUT_DIR="+out, "HELM="+helm)
	r.mustSucceed(t, "chart-package.sh")

	src := chartDir(t)
	meta := chartMeta(t, []byte(readFile(t, filepath.Join(src, "Chart.yaml"))))
	archive := filepath.Join(out, fmt.Sprintf("%s-%s.tgz", meta["name"], meta["version"]))
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if got := lines[len(lines)-1]; got != archive {
		t.Fatalf("chart-package printed %q, want the archive %s", got, archive)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 1 {
		t.Errorf("OUTPUT_DIR holds %d entries, want only the archive", len(entries))
	}

	files := readTgz(t, archive)
	prefix := meta["name"].(string) + "/"
	want := map[string]bool{}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		name := prefix + filepath.ToSlash(rel)
		want[name] = true
		got, ok := files[name]
		switch {
		case !ok:
			t.Errorf("archive lacks %s", name)
		case rel == "Chart.yaml": // helm re-serialises it: compare the content
			if g, w := chartMeta(t, got), chartMeta(t, []byte(readFile(t, p))); !reflect.DeepEqual(g, w) {
				t.Errorf("packaged Chart.yaml differs:\n%v\nwant\n%v", g, w)
			}
		case !bytes.Equal(got, []byte(readFile(t, p))):
			t.Errorf("archive's %s differs from the source chart", name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for file, kind := range packagedCRDs {
		name := prefix + "crds/" + file
		want[name] = true
		got, ok := files[name]
		if !ok {
			t.Errorf("archive lacks %s", name)
			continue
		}
		if !bytes.Equal(got, []byte(readFile(t, upstreamCRD(repo, file)))) {
			t.Errorf("%s is not the upstream file %s", name, upstreamCRD(repo, file))
		}
		var crd struct {
			Kind string `yaml:"kind"`
			Spec struct {
				Group string `yaml:"group"`
				Names struct {
					Kind string `yaml:"kind"`
				} `yaml:"names"`
			} `yaml:"spec"`
		}
		if err := yaml.Unmarshal(got, &crd); err != nil || crd.Kind != "CustomResourceDefinition" ||
			crd.Spec.Group != "cluster.clusterpedia.io" || crd.Spec.Names.Kind != kind {
			t.Errorf("%s: kind %q group %q names.kind %q (%v), want the %s CRD", name, crd.Kind, crd.Spec.Group, crd.Spec.Names.Kind, err, kind)
		}
	}
	for name := range files {
		if !want[name] {
			t.Errorf("archive holds unexpected %s", name)
		}
	}

	// Helm itself sees the CRDs (crds/ is installed before the templates).
	rendered := runHelm(t, "template", "mg", archive, "--include-crds", "--namespace", "clusterpedia-system", "--kube-version", "v1.32.13")
	for _, kind := range packagedCRDs {
		if !strings.Contains(rendered, "    kind: "+kind+"\n") {
			t.Errorf("helm template --include-crds of the archive does not render the %s CRD", kind)
		}
	}
	if !strings.Contains(rendered, "kind: Deployment") {
		t.Error("helm template of the archive renders no Deployment")
	}
}

// oscArch is the OSC name of a Go/Debian architecture.
var oscArch = map[string]string{"amd64": "x86_64", "arm64": "aarch64"}

// valuesImage is a registry/repository/tag block of values.yaml, found here
// independently of internal/packaging/oscmeta.
type valuesImage struct{ path, registry, repository, tag string }

func valuesImages(v any, keys []string, out *[]valuesImage) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	_, hasReg := m["registry"]
	_, hasRepo := m["repository"]
	_, hasTag := m["tag"]
	if hasReg && hasRepo && hasTag {
		s := func(k string) string { x, _ := m[k].(string); return x }
		*out = append(*out, valuesImage{strings.Join(keys, "."), s("registry"), s("repository"), s("tag")})
		return
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		valuesImages(m[k], append(append([]string(nil), keys...), k), out)
	}
}

// lookupValue follows a dotted path through values.yaml.
func lookupValue(values map[string]any, dotted string) (any, bool) {
	var v any = values
	for _, k := range strings.Split(dotted, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

type oscMapping struct {
	Instance []struct {
		Image   string `yaml:"image"`
		Tag     string `yaml:"tag"`
		Address struct {
			Endpoint string `yaml:"endpoint"`
			Repo     string `yaml:"repo"`
			Tag      string `yaml:"tag"`
		} `yaml:"address"`
		Package map[string]string `yaml:"package"`
	} `yaml:"instance"`
}

type oscVersionDefinition struct {
	VersionDefinition struct {
		Description string   `yaml:"description"`
		Mode        string   `yaml:"mode"`
		Path        string   `yaml:"path"`
		Tags        []string `yaml:"tags"`
	} `yaml:"versionDefinition"`
}

func strictYAML(t *testing.T, file string, v any) {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(readFile(t, file)))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// make osc-package without a docker engine: the layout is complete except the
// tarballs, one line says which tarballs are missing and why, and the mapping and
// version definition agree with the chart — checked by rendering the chart with
// sentinel values at the paths they name.
func TestOSCPackage(t *testing.T) {
	helm := helmBinary(t)
	repo := clusterpediaRepo(t)
	root := repoRoot(t)
	archs := strings.Fields(makeVar(t, readFile(t, filepath.Join(root, "Makefile")), "RELEASE_ARCHS"))
	out := t.TempDir()
	r := runScript(t, "osc-package.sh", "CLUSTERPEDIA_REPO="+repo, "OUTPUT_DIR="+out, "HELM="+helm,
		"DOCKER=/nonexistent/docker", "RELEASE_ARCHS="+strings.Join(archs, " "), "OSC_REQUIRE_IMAGES=")
	r.mustSucceed(t, "osc-package.sh without docker")
	osc := filepath.Join(out, "osc")

	// package/: exactly the chart-package archive.
	pkgs, err := os.ReadDir(filepath.Join(osc, "package"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 || !strings.HasSuffix(pkgs[0].Name(), ".tgz") {
		t.Fatalf("package/ holds %v, want exactly one chart archive", pkgs)
	}
	packaged := readTgz(t, filepath.Join(osc, "package", pkgs[0].Name()))
	for file := range packagedCRDs {
		if _, ok := packaged["clusterpedia-memgraph/crds/"+file]; !ok {
			t.Errorf("package/%s lacks crds/%s: it is not the chart-package archive", pkgs[0].Name(), file)
		}
	}
	pkgMeta := chartMeta(t, packaged["clusterpedia-memgraph/Chart.yaml"])
	if ann, _ := pkgMeta["annotations"].(map[string]any); ann["source"] != "ISV" {
		t.Errorf("packaged Chart.yaml annotations = %v, want source: ISV", ann)
	}

	// The one-line report of the tarballs it could not produce.
	var values map[string]any
	if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join(chartDir(t), "values.yaml"))), &values); err != nil {
		t.Fatal(err)
	}
	meta := chartMeta(t, []byte(readFile(t, filepath.Join(chartDir(t), "Chart.yaml"))))
	appVersion := meta["appVersion"].(string)
	var images []valuesImage
	valuesImages(values, nil, &images)
	if len(images) == 0 {
		t.Fatal("values.yaml has no registry/repository/tag image block")
	}
	var report []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(l, "osc-package: image tarballs NOT produced") {
			report = append(report, l)
		}
	}
	if len(report) != 1 || !strings.Contains(report[0], "no docker engine") || !strings.Contains(report[0], "/nonexistent/docker") {
		t.Fatalf("want one line naming the missing engine, got %q\nstderr:\n%s", report, r.stderr)
	}
	var wantTarballs []string
	for _, im := range images {
		tag := im.tag
		if tag == "" {
			tag = appVersion
		}
		for _, a := range archs {
			wantTarballs = append(wantTarballs, fmt.Sprintf("%s-%s-%s.tar", path.Base(im.repository), tag, oscArch[a]))
		}
	}
	for _, tb := range wantTarballs {
		if !strings.Contains(report[0], "images/"+tb) {
			t.Errorf("report does not name images/%s: %s", tb, report[0])
		}
	}
	imgs, _ := os.ReadDir(filepath.Join(osc, "images"))
	if len(imgs) != 1 || imgs[0].Name() != "mapping.yaml" {
		t.Errorf("images/ holds %v, want only mapping.yaml without docker", imgs)
	}

	// mapping.yaml: one instance per values image, its paths exist in values.yaml,
	// one tarball per RELEASE_ARCHS arch, OSC-valid names.
	var m oscMapping
	strictYAML(t, filepath.Join(osc, "images", "mapping.yaml"), &m)
	if len(m.Instance) != len(images) {
		t.Fatalf("mapping.yaml has %d instances, values.yaml %d images (%v)", len(m.Instance), len(images), images)
	}
	nameRE := regexp.MustCompile(`^[A-Za-z0-9_.-]*[A-Za-z0-9]\.tar$`)
	var setSentinels []string
	sentinelRefs := map[string]bool{}
	for i, im := range images {
		found := -1
		for j, inst := range m.Instance {
			if inst.Address.Endpoint == im.path+".registry" {
				found = j
			}
		}
		if found < 0 {
			t.Errorf("no mapping instance for values image %s", im.path)
			continue
		}
		inst := m.Instance[found]
		tag := im.tag
		if tag == "" {
			tag = appVersion
		}
		if inst.Image != path.Base(im.repository) || inst.Tag != tag ||
			inst.Address.Repo != im.path+".repository" || inst.Address.Tag != im.path+".tag" {
			t.Errorf("mapping instance %+v does not match values image %+v (tag %s)", inst, im, tag)
		}
		for _, p := range []string{inst.Address.Endpoint, inst.Address.Repo, inst.Address.Tag} {
			if _, ok := lookupValue(values, p); !ok {
				t.Errorf("mapping path %s does not exist in values.yaml", p)
			}
		}
		var gotArchs []string
		for a, file := range inst.Package {
			gotArchs = append(gotArchs, a)
			if !nameRE.MatchString(file) {
				t.Errorf("tarball name %q breaks OSC's naming rule", file)
			}
			if !strings.Contains(report[0], "images/"+file) {
				t.Errorf("mapping names %s, the report does not", file)
			}
		}
		var wantArchs []string
		for _, a := range archs {
			wantArchs = append(wantArchs, oscArch[a])
		}
		sort.Strings(gotArchs)
		sort.Strings(wantArchs)
		if strings.Join(gotArchs, ",") != strings.Join(wantArchs, ",") {
			t.Errorf("%s: package arches %v, want %v (RELEASE_ARCHS %v)", inst.Image, gotArchs, wantArchs, archs)
		}
		reg, rep, tg := fmt.Sprintf("osc-reg-%d.invalid", i), fmt.Sprintf("osc/repo-%d", i), fmt.Sprintf("osc-tag-%d", i)
		setSentinels = append(setSentinels, "--set", inst.Address.Endpoint+"="+reg, "--set", inst.Address.Repo+"="+rep, "--set", inst.Address.Tag+"="+tg)
		sentinelRefs[reg+"/"+rep+":"+tg] = true
	}

	// Rewriting the mapped paths (what OSC does) moves every image the chart renders,
	// with every feature on.
	docs := render(t, append(append([]string{}, allFeatures...), setSentinels...)...)
	seen := map[string]bool{}
	for key, d := range docs {
		walkImages(d, func(img string) {
			seen[img] = true
			if !sentinelRefs[img] {
				t.Errorf("%s renders image %q, not one OSC rewrites through mapping.yaml (%v)", key, img, sentinelRefs)
			}
		})
	}
	for ref := range sentinelRefs {
		if !seen[ref] {
			t.Errorf("mapping instance %s is not used by any rendered image", ref)
		}
	}

	// versionDefinition: mode tag on the values path of the instance image's tag.
	var vd oscVersionDefinition
	strictYAML(t, filepath.Join(osc, "version-definition.yaml"), &vd)
	v := vd.VersionDefinition
	if v.Mode != "tag" {
		t.Errorf("versionDefinition.mode = %q, want tag", v.Mode)
	}
	if _, ok := lookupValue(values, v.Path); !ok {
		t.Fatalf("versionDefinition.path %q does not exist in values.yaml", v.Path)
	}
	if len(v.Tags) == 0 || v.Tags[0] != appVersion {
		t.Errorf("versionDefinition.tags = %v, want [%s] (the chart's appVersion)", v.Tags, appVersion)
	}
	c := container(t, render(t, "--set", v.Path+"=v9.9.9-osc"))
	if img := str(c, "image"); !strings.HasSuffix(img, ":v9.9.9-osc") {
		t.Errorf("setting versionDefinition.path %s does not change the instance image tag: %s", v.Path, img)
	}

	// OSC_REQUIRE_IMAGES=1 turns the missing tarballs into a failure.
	r = runScript(t, "osc-package.sh", "CLUSTERPEDIA_REPO="+repo, "OUTPUT_DIR="+t.TempDir(), "HELM="+helm,
		"DOCKER=/nonexistent/docker", "RELEASE_ARCHS="+strings.Join(archs, " "), "OSC_REQUIRE_IMAGES=1")
	if r.err == nil {
		t.Errorf("OSC_REQUIRE_IMAGES=1 without docker succeeded:\n%s", r.stderr)
	}
}

// With an engine, every tarball whose per-arch image exists is saved under the
// unsuffixed tag, and the ones that do not exist are reported in one line. The engine
// is a recording stand-in for the docker CLI (none runs here).
func TestOSCPackageWithEngine(t *testing.T) {
	helm := helmBinary(t)
	repo := clusterpediaRepo(t)
	bin := t.TempDir()
	log := filepath.Join(bin, "docker.log")
	fake := `#!/usr/bin/env bash
echo "$*" >>"` + log + `"
case "$1" in
  info) exit 0 ;;
  image) [[ "$2" == inspect && "$3" == *-amd64 ]] ;;
  tag) exit 0 ;;
  save) [[ "$2" == -o ]] && printf 'image %s\n' "$4" >"$3" ;;
  *) exit 2 ;;
esac
`
	docker := filepath.Join(bin, "docker")
	if err := os.WriteFile(docker, []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	r := runScript(t, "osc-package.sh", "CLUSTERPEDIA_REPO="+repo, "OUTPUT_DIR="+out, "HELM="+helm,
		"DOCKER="+docker, "RELEASE_ARCHS=amd64 arm64", "OSC_REQUIRE_IMAGES=")
	r.mustSucceed(t, "osc-package.sh with a partial engine")

	c := container(t, render(t))
	ref := str(c, "image") // the default image: registry/repository:appVersion
	name := path.Base(strings.SplitN(ref[strings.Index(ref, "/")+1:], ":", 2)[0])
	tag := ref[strings.LastIndex(ref, ":")+1:]
	amd := filepath.Join(out, "osc", "images", name+"-"+tag+"-x86_64.tar")
	arm := "images/" + name + "-" + tag + "-aarch64.tar"
	if got, err := os.ReadFile(amd); err != nil || string(got) != "image "+ref+"\n" {
		t.Errorf("x86_64 tarball = %q, %v; want the saved image %s", got, err, ref)
	}
	if fileExists(filepath.Join(out, "osc", arm)) {
		t.Errorf("%s written although its image does not exist", arm)
	}
	calls := readFile(t, log)
	for _, want := range []string{"tag " + ref + "-amd64 " + ref + "\n", "save -o " + amd + " " + ref + "\n", "image inspect " + ref + "-arm64\n"} {
		if !strings.Contains(calls, want) {
			t.Errorf("docker was not called with %q; calls:\n%s", want, calls)
		}
	}
	var report []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(l, "osc-package: image tarballs NOT produced") {
			report = append(report, l)
		}
	}
	if len(report) != 1 || !strings.Contains(report[0], arm+" (no local image "+ref+"-arm64") || strings.Contains(report[0], "x86_64") {
		t.Errorf("want one line naming only %s and its missing image, got %q", arm, report)
	}
}
