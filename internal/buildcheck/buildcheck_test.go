package buildcheck

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const (
	clusterpediaModule = "github.com/clusterpedia-io/clusterpedia"
	clusterpediaPrefix = "github.com/clusterpedia-io/" // also covers the api module
	wantClusterpedia   = "v0.9.1"
	wantGoLine         = "1.23.0"
	hostToolchain      = "go1.23.10"
)

// enginePackages must never import Clusterpedia: CI builds and tests them
// without the Clusterpedia source.
var enginePackages = []string{"index", "graph", "snapshot", "api", "config", "internal"}

func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := GoCommand(".", nil, "env", "GOMOD")
	if err != nil {
		t.Fatal(err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatal("not inside the memgraph module (go env GOMOD is empty)")
	}
	return filepath.Dir(gomod)
}

func readGoMod(t *testing.T, dir, file string) *GoModFile {
	t.Helper()
	args := []string{"mod", "edit", "-json"}
	if file != "" {
		args = append(args, file)
	}
	out, err := GoCommand(dir, []string{"GOWORK=off"}, args...)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseGoModJSON(out)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestSharedModulesMatchClusterpedia compares every module required by
// Clusterpedia v0.9.1's go.mod (fetched through the module proxy, so the check
// works in a clone whose ./clusterpedia folder is empty) with memgraph's build
// list. Any difference means memgraph's hosts would be built from other
// sources than upstream tested, and a plugin built elsewhere from upstream
// versions would not load.
func TestSharedModulesMatchClusterpedia(t *testing.T) {
	root := moduleRoot(t)
	own := readGoMod(t, root, "")

	version := ""
	for _, r := range own.Require {
		if r.Path == clusterpediaModule {
			version = r.Version
		}
	}
	if version != wantClusterpedia {
		t.Fatalf("go.mod requires %s %q, want %s", clusterpediaModule, version, wantClusterpedia)
	}

	// Outside the module: only the proxy (or the module cache) is consulted.
	out, err := GoCommand(t.TempDir(), []string{"GOWORK=off", "GOFLAGS=-mod=mod"},
		"mod", "download", "-json", clusterpediaModule+"@"+version)
	var dl struct{ GoMod, Error string }
	_ = json.Unmarshal(out, &dl) // on failure the reason is in the JSON's Error field
	if err != nil {
		proxy, _ := GoCommand(".", nil, "env", "GOPROXY")
		t.Fatalf("cannot fetch %s@%s's go.mod through the Go module proxy (GOPROXY=%s).\n"+
			"This check needs the proxy (or a module cache that already holds the module) and does not skip.\n%v\n%s",
			clusterpediaModule, version, strings.TrimSpace(string(proxy)), err, dl.Error)
	}
	if dl.Error != "" || dl.GoMod == "" {
		t.Fatalf("go mod download %s@%s: %s", clusterpediaModule, version, dl.Error)
	}
	host := readGoMod(t, t.TempDir(), dl.GoMod)
	hostReqs := host.Requirements()

	// -e: k8s.io/kubernetes' go.mod requires staging modules at v0.0.0, which
	// the proxy refuses; those are in the graph but provide no package. -e also
	// keeps this working when ./clusterpedia (the api replacement) is empty.
	listOut, err := GoCommand(root, nil, "list", "-e", "-m", "-json", "all")
	if err != nil {
		t.Fatalf("memgraph build list: %v", err)
	}
	build, err := ParseBuildList(listOut)
	if err != nil {
		t.Fatal(err)
	}

	mismatches, shared := Compare(hostReqs, build)
	t.Logf("compared %d modules present in both clusterpedia %s's go.mod (%d requirements) and memgraph's build list (%d modules)",
		shared, version, len(hostReqs), len(build))

	// A shared module that go list could not resolve is a problem too.
	hostSet := map[string]bool{}
	for _, h := range hostReqs {
		hostSet[h.Path] = true
	}
	for _, m := range build {
		if m.Error != nil && hostSet[m.Path] {
			t.Errorf("shared module %s@%s does not resolve: %s", m.Path, m.Version, m.Error.Err)
		}
	}
	if len(mismatches) > 0 {
		var lines []string
		for _, m := range mismatches {
			lines = append(lines, "  "+m.String())
		}
		t.Fatalf("%d module(s) differ between clusterpedia %s and memgraph; a plugin only loads into a host whose shared packages are identical:\n%s",
			len(mismatches), version, strings.Join(lines, "\n"))
	}
}

func TestGoModGoAndToolchainLines(t *testing.T) {
	f := readGoMod(t, moduleRoot(t), "")
	for _, p := range CheckGoVersions(f, wantGoLine, hostToolchain) {
		t.Error(p)
	}
}

// TestEngineDoesNotImportClusterpedia lists every package (tests included)
// that the engine packages pull in and fails on any Clusterpedia import.
func TestEngineDoesNotImportClusterpedia(t *testing.T) {
	root := moduleRoot(t)
	var patterns []string
	for _, p := range enginePackages {
		if st, err := os.Stat(filepath.Join(root, p)); err == nil && st.IsDir() {
			patterns = append(patterns, "./"+p+"/...")
		}
	}
	if len(patterns) == 0 {
		t.Skip("no engine package directories yet")
	}
	args := append([]string{"list", "-e", "-deps", "-test", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}"}, patterns...)
	out, err := GoCommand(root, nil, args...)
	if err != nil {
		t.Fatalf("go list engine packages: %v", err)
	}
	offenders := map[string][]string{}
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		// Test variants print as "pkg [pkg.test]": drop the bracket field.
		importer, imports := fields[0], fields[1:]
		if len(imports) > 0 && strings.HasPrefix(imports[0], "[") {
			imports = imports[1:]
		}
		if strings.HasPrefix(importer, clusterpediaPrefix) {
			continue // reported through its importer
		}
		if bad := ForbiddenImports(imports, clusterpediaPrefix); len(bad) > 0 {
			offenders[importer] = append(offenders[importer], bad...)
		}
	}
	if len(offenders) > 0 {
		var lines []string
		for k, v := range offenders {
			lines = append(lines, "  "+k+" imports "+strings.Join(v, ", "))
		}
		sort.Strings(lines)
		t.Fatalf("engine packages must not depend on Clusterpedia (CI builds them without its source):\n%s", strings.Join(lines, "\n"))
	}
}

// TestEngineBuildsForPlugin compiles the engine packages and all their
// dependencies the way -buildmode=plugin does (-dynlink for Go and assembly),
// without needing the Clusterpedia source. It catches dependencies whose
// assembly cannot be dynamically linked, e.g. klauspost/compress before
// v1.13.6: "when dynamic linking, R15 is clobbered by a global variable access".
func TestEngineBuildsForPlugin(t *testing.T) {
	root := moduleRoot(t)
	var patterns []string
	for _, p := range enginePackages {
		if st, err := os.Stat(filepath.Join(root, p)); err == nil && st.IsDir() {
			patterns = append(patterns, "./"+p+"/...")
		}
	}
	if len(patterns) == 0 {
		t.Skip("no engine package directories yet")
	}
	// Same flags as hack/build.sh, plus what -buildmode=plugin forces on amd64.
	args := append([]string{"build", "-trimpath", "-tags", "json1", "-gcflags=all=-dynlink", "-asmflags=all=-dynlink"}, patterns...)
	if _, err := GoCommand(root, []string{"CGO_ENABLED=1", "GOWORK=off"}, args...); err != nil {
		t.Fatalf("engine packages do not build for a plugin (fix: bump or replace the offending module; see docs/troubleshooting.md):\n%v", err)
	}
}
