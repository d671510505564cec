package packaging

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/clusterpedia-memgraph/memgraph/config"
)

// repoRoot is two levels up from this package (internal/packaging).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "Makefile")); err != nil {
		t.Fatalf("no Makefile at the repository root %s: %v", root, err)
	}
	return root
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// makeDryRun runs `make -n` at the repository root with a clean make
// environment (no inherited MAKEFLAGS or image variables) and returns the
// non-empty command lines.
func makeDryRun(t *testing.T, args ...string) []string {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("SKIP: make not found in PATH")
	}
	cmd := exec.Command("make", append([]string{"-n", "--no-print-directory"}, args...)...)
	cmd.Dir = repoRoot(t)
	drop := map[string]bool{"MAKEFLAGS": true, "MFLAGS": true, "MAKELEVEL": true, "MAKEOVERRIDES": true,
		"REGISTRY": true, "VERSION": true, "CLUSTERPEDIA_VERSIONS": true, "RELEASE_ARCHS": true,
		"DOCKER": true, "IMAGE_NAME": true, "PLUGIN_IMAGE_NAME": true}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

func assertLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rendered commands differ\n--- got\n%s\n--- want\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func build(target, image, cp, arch, mode string) string {
	return "docker buildx build --platform linux/" + arch + " --target " + target +
		" --build-arg CLUSTERPEDIA_VERSION=" + cp + " -t " + image + ":v9.9.9-" + cp + "-" + arch + " " + mode + " ."
}

// With the defaults (Clusterpedia v0.9.1 x amd64 arm64) the three targets render
// one buildx build per target and arch, and push-images ends with one
// multi-arch manifest per image named <version>-<clusterpedia version>.
func TestImageTargetsDefaults(t *testing.T) {
	const reg = "sentinel.registry.test/ns"
	api, plug := reg+"/binding-apiserver-memgraph", reg+"/memgraph-plugin"
	got := makeDryRun(t, "image", "image-plugin", "push-images", "VERSION=v9.9.9", "REGISTRY="+reg)
	var want []string
	for _, mode := range []string{"--load", "--push"} {
		for _, tgt := range []struct{ target, image string }{{"binding-apiserver", api}, {"plugin", plug}} {
			for _, arch := range []string{"amd64", "arm64"} {
				want = append(want, build(tgt.target, tgt.image, "v0.9.1", arch, mode))
			}
		}
	}
	for _, img := range []string{api, plug} {
		want = append(want, "docker buildx imagetools create -t "+img+":v9.9.9-v0.9.1 "+img+":v9.9.9-v0.9.1-amd64 "+img+":v9.9.9-v0.9.1-arm64")
	}
	assertLines(t, got, want)
}

// The matrix follows CLUSTERPEDIA_VERSIONS and RELEASE_ARCHS.
func TestImageTargetsMatrix(t *testing.T) {
	const reg = "r.test"
	got := makeDryRun(t, "image-plugin", "push-images", "VERSION=v9.9.9", "REGISTRY="+reg,
		"CLUSTERPEDIA_VERSIONS=v0.9.1 v0.9.2", "RELEASE_ARCHS=arm64")
	plug, api := reg+"/memgraph-plugin", reg+"/binding-apiserver-memgraph"
	want := []string{
		build("plugin", plug, "v0.9.1", "arm64", "--load"),
		build("plugin", plug, "v0.9.2", "arm64", "--load"),
		build("binding-apiserver", api, "v0.9.1", "arm64", "--push"),
		build("binding-apiserver", api, "v0.9.2", "arm64", "--push"),
		build("plugin", plug, "v0.9.1", "arm64", "--push"),
		build("plugin", plug, "v0.9.2", "arm64", "--push"),
		"docker buildx imagetools create -t " + api + ":v9.9.9-v0.9.1 " + api + ":v9.9.9-v0.9.1-arm64",
		"docker buildx imagetools create -t " + api + ":v9.9.9-v0.9.2 " + api + ":v9.9.9-v0.9.2-arm64",
		"docker buildx imagetools create -t " + plug + ":v9.9.9-v0.9.1 " + plug + ":v9.9.9-v0.9.1-arm64",
		"docker buildx imagetools create -t " + plug + ":v9.9.9-v0.9.2 " + plug + ":v9.9.9-v0.9.2-arm64",
	}
	assertLines(t, got, want)
}

// stage is one FROM block of the Dockerfile.
type stage struct {
	from, name   string
	instructions []string // "RUN ...", "COPY ...", continuation lines joined
}

func parseDockerfile(t *testing.T, text string) (args map[string]string, stages map[string]*stage, last string) {
	t.Helper()
	args, stages = map[string]string{}, map[string]*stage{}
	var cur *stage
	var logical []string
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if b.Len() == 0 && (l == "" || strings.HasPrefix(l, "#")) {
			continue
		}
		if strings.HasSuffix(l, "\\") {
			b.WriteString(strings.TrimSuffix(l, "\\") + " ")
			continue
		}
		b.WriteString(l)
		logical = append(logical, b.String())
		b.Reset()
	}
	for _, l := range logical {
		f := strings.Fields(l)
		switch strings.ToUpper(f[0]) {
		case "FROM":
			cur = &stage{from: f[1]}
			if len(f) == 4 && strings.EqualFold(f[2], "AS") {
				cur.name = f[3]
			}
			if _, dup := stages[cur.name]; dup {
				t.Fatalf("duplicate stage %q", cur.name)
			}
			stages[cur.name] = cur
			last = cur.name
		case "ARG":
			if cur == nil {
				k, v, _ := strings.Cut(f[1], "=")
				args[k] = v
			} else {
				cur.instructions = append(cur.instructions, l)
			}
		default:
			if cur == nil {
				t.Fatalf("instruction before the first FROM: %s", l)
			}
			cur.instructions = append(cur.instructions, l)
		}
	}
	return args, stages, last
}

func (s *stage) find(prefix string) []string {
	var out []string
	for _, in := range s.instructions {
		if strings.HasPrefix(in, prefix) {
			out = append(out, in)
		}
	}
	return out
}

func makeVar(t *testing.T, makefile, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s*[:?]?=\s*(.*)$`).FindStringSubmatch(makefile)
	if m == nil {
		t.Fatalf("Makefile sets no %s", name)
	}
	return strings.TrimSpace(m[1])
}

// The build stage runs exactly the targets of `make build` (the local build,
// hack/build.sh for plugin and hosts), with the toolchain the Makefile pins,
// on the target platform; the runtime stage holds what those targets produce.
func TestDockerfile(t *testing.T) {
	root := repoRoot(t)
	makefile := readFile(t, filepath.Join(root, "Makefile"))
	args, stages, last := parseDockerfile(t, readFile(t, filepath.Join(root, "Dockerfile")))

	toolchain := makeVar(t, makefile, "GO_TOOLCHAIN")
	if want := "golang:" + strings.TrimPrefix(toolchain, "go") + "-bookworm"; args["GO_IMAGE"] != want {
		t.Errorf("ARG GO_IMAGE=%q, want %q (the Makefile's GO_TOOLCHAIN %s)", args["GO_IMAGE"], want, toolchain)
	}
	if !strings.HasPrefix(args["BASE_IMAGE"], "debian:bookworm") {
		t.Errorf("ARG BASE_IMAGE=%q, want a debian bookworm (glibc, same as the build image)", args["BASE_IMAGE"])
	}

	bs := stages["build"]
	if bs == nil {
		t.Fatal("no build stage (FROM ... AS build)")
	}
	if bs.from != "${GO_IMAGE}" {
		t.Errorf("build stage FROM %s, want ${GO_IMAGE} (no --platform: the cgo plugin is built natively per arch)", bs.from)
	}
	var makeRuns []string
	for _, r := range bs.find("RUN") {
		if m := regexp.MustCompile(`\bmake ((?:[\w-]+ ?)+)`).FindStringSubmatch(r); m != nil {
			makeRuns = append(makeRuns, strings.Fields(m[1])...)
		}
	}
	m := regexp.MustCompile(`(?m)^build:\s*(.*)$`).FindStringSubmatch(makefile)
	if m == nil {
		t.Fatal("Makefile has no build target")
	}
	buildTargets := strings.Fields(m[1])
	sort.Strings(makeRuns)
	sort.Strings(buildTargets)
	if strings.Join(makeRuns, " ") != strings.Join(buildTargets, " ") {
		t.Errorf("Dockerfile build stage runs make %v, `make build` runs %v", makeRuns, buildTargets)
	}
	// Those targets produce plugins/memgraph.so and bin/binding-apiserver through hack/build.sh.
	dry := strings.Join(makeDryRun(t, "build"), "\n")
	for _, want := range []string{"hack/build.sh plugin", "hack/build.sh components binding-apiserver"} {
		if !strings.Contains(dry, want) {
			t.Errorf("make -n build does not run %q:\n%s", want, dry)
		}
	}

	rt := stages["binding-apiserver"]
	if rt == nil {
		t.Fatal("no runtime stage (FROM ${BASE_IMAGE} AS binding-apiserver)")
	}
	if rt.from != "${BASE_IMAGE}" {
		t.Errorf("runtime stage FROM %s, want ${BASE_IMAGE}", rt.from)
	}
	copies := strings.Join(rt.find("COPY"), "\n")
	for _, want := range []string{
		"COPY --from=build /src/bin/binding-apiserver /usr/local/bin/binding-apiserver",
		"COPY --from=build /src/plugins/memgraph.so /plugins/memgraph.so",
		"COPY hack/image/config.yaml /etc/memgraph/config.yaml",
	} {
		if !strings.Contains(copies, want) {
			t.Errorf("runtime stage lacks %q; has:\n%s", want, copies)
		}
	}
	if env := rt.find("ENV"); len(env) != 1 || env[0] != "ENV STORAGE_PLUGINS=/plugins" {
		t.Errorf("runtime ENV = %q, want [ENV STORAGE_PLUGINS=/plugins]", env)
	}
	users := rt.find("USER")
	if len(users) == 0 {
		t.Error("runtime stage has no USER: it would run as root")
	} else if u, _, _ := strings.Cut(strings.Fields(users[len(users)-1])[1], ":"); u == "0" || u == "root" {
		t.Errorf("runtime stage runs as %s", users[len(users)-1])
	}
	// Self-signed serving certs land in the work directory: it must not be / (root-owned).
	if wd := rt.find("WORKDIR"); len(wd) == 0 || wd[len(wd)-1] == "WORKDIR /" {
		t.Errorf("runtime WORKDIR = %q, want a directory the non-root user owns", wd)
	} else if dir := strings.Fields(wd[len(wd)-1])[1]; !strings.Contains(strings.Join(rt.find("RUN"), "\n"), "chown 65532:65532 "+dir) {
		t.Errorf("runtime stage does not chown WORKDIR %s to 65532:65532", dir)
	}
	cmd := strings.Join(rt.find("CMD"), " ")
	for _, want := range []string{`"--storage-name=memgraph"`, `"--storage-config=/etc/memgraph/config.yaml"`} {
		if !strings.Contains(cmd, want) {
			t.Errorf("runtime CMD %s lacks %s", cmd, want)
		}
	}
	if ep := rt.find("ENTRYPOINT"); len(ep) != 1 || !strings.Contains(ep[0], `"/usr/local/bin/binding-apiserver"`) {
		t.Errorf("runtime ENTRYPOINT = %q", ep)
	}
	// The baked-in storage config must pass memgraph's strict parser.
	if _, err := config.Load(filepath.Join(root, "hack", "image", "config.yaml")); err != nil {
		t.Errorf("hack/image/config.yaml: %v", err)
	}

	ps := stages["plugin"]
	if ps == nil {
		t.Fatal("no plugin stage (FROM scratch AS plugin)")
	}
	if ps.from != "scratch" {
		t.Errorf("plugin stage FROM %s, want scratch", ps.from)
	}
	if got := ps.instructions; len(got) != 1 || got[0] != "COPY --from=build /src/plugins/memgraph.so /plugins/memgraph.so" {
		t.Errorf("plugin stage = %q, want only the plugin copied to /plugins/memgraph.so", got)
	}
	// Default target (last stage) is the runnable image.
	if last != "binding-apiserver" {
		t.Errorf("last stage is %q: binding-apiserver must be last (the default docker build target)", last)
	}
}

// The context keeps the clusterpedia submodule source and drops local outputs.
func TestDockerignore(t *testing.T) {
	lines := map[string]bool{}
	for _, l := range strings.Split(readFile(t, filepath.Join(repoRoot(t), ".dockerignore")), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			lines[strings.TrimPrefix(l, "/")] = true
		}
	}
	for _, bad := range []string{"clusterpedia", "clusterpedia/", "clusterpedia/*", "clusterpedia/**", "clusterpedia/staging", "*", "**"} {
		if lines[bad] {
			t.Errorf(".dockerignore excludes %q: the build compiles the clusterpedia submodule source", bad)
		}
	}
	for _, want := range []string{"bin/", "plugins/", "_output/"} {
		if !lines[want] {
			t.Errorf(".dockerignore does not exclude %s (host build outputs must not leak into the image)", want)
		}
	}
}
