package buildcheck

import (
	"reflect"
	"testing"
)

func TestCompareReportsEveryMismatch(t *testing.T) {
	host := []Module{
		{Path: "golang.org/x/net", Version: "v0.28.0"},
		{Path: "google.golang.org/protobuf", Version: "v1.34.2"},
		{Path: "k8s.io/api", Version: "v0.31.2"},
		{Path: "github.com/clusterpedia-io/api", Version: "v0.0.0", Replace: &Module{Path: "./staging/src/github.com/clusterpedia-io/api"}},
		{Path: "github.com/only/in-host", Version: "v1.0.0"},
		{Path: "github.com/pinned/by-host", Version: "v1.0.0", Replace: &Module{Path: "github.com/pinned/by-host", Version: "v1.0.1"}},
	}
	build := []Module{
		{Path: "github.com/clusterpedia-memgraph/memgraph"},
		{Path: "golang.org/x/net", Version: "v0.34.0"}, // bumped by a plugin dependency
		{Path: "google.golang.org/protobuf", Version: "v1.36.3", Replace: &Module{Path: "google.golang.org/protobuf", Version: "v1.34.2"}}, // pinned back: OK
		{Path: "k8s.io/api", Version: "v0.31.2"}, // equal
		{Path: "github.com/clusterpedia-io/api", Version: "v0.0.0", Replace: &Module{Path: "./clusterpedia/staging/src/github.com/clusterpedia-io/api"}},
		{Path: "github.com/pinned/by-host", Version: "v1.0.0"}, // host's replace not mirrored
		{Path: "github.com/hashicorp/go-memdb", Version: "v1.3.5"},
	}
	got, shared := Compare(host, build)
	want := []Mismatch{
		{Path: "github.com/pinned/by-host", Host: "v1.0.1", Memgraph: "v1.0.0"},
		{Path: "golang.org/x/net", Host: "v0.28.0", Memgraph: "v0.34.0"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Compare = %+v, want %+v", got, want)
	}
	if shared != 5 {
		t.Fatalf("shared = %d, want 5", shared)
	}
	if s := got[1].String(); s != "golang.org/x/net: clusterpedia v0.28.0, memgraph v0.34.0 (fix: go get golang.org/x/net@v0.28.0, or a replace pinning it)" {
		t.Fatalf("String() = %q", s)
	}
}

func TestCompareEqualLists(t *testing.T) {
	l := []Module{{Path: "a", Version: "v1"}, {Path: "b", Version: "v2"}}
	if got, shared := Compare(l, l); len(got) != 0 || shared != 2 {
		t.Fatalf("Compare(l, l) = %v, %d", got, shared)
	}
}

func TestRequirementsApplyReplaces(t *testing.T) {
	f, err := ParseGoModJSON([]byte(`{"Go":"1.23.0","Require":[{"Path":"a","Version":"v1.0.0"},{"Path":"b","Version":"v2.0.0"},{"Path":"c","Version":"v0.0.0"}],
		"Replace":[{"Old":{"Path":"a","Version":"v0.9.0"},"New":{"Path":"a","Version":"v0.8.0"}},
		           {"Old":{"Path":"b"},"New":{"Path":"b","Version":"v2.0.1"}},
		           {"Old":{"Path":"c"},"New":{"Path":"./staging/c"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range f.Requirements() {
		got[m.Path] = m.Effective()
	}
	want := map[string]string{"a": "v1.0.0", "b": "v2.0.1", "c": "dir:./staging/c"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Requirements = %v, want %v", got, want)
	}
}

func TestCheckGoVersions(t *testing.T) {
	cases := []struct {
		goLine, toolchain string
		problems          int
	}{
		{"1.23.0", "", 0},
		{"1.23.0", "go1.23.10", 0},
		{"1.23.0", "go1.23.4", 0},
		{"1.23.0", "go1.23.11", 1},
		{"1.23.0", "go1.24.0", 1},
		{"1.24.0", "", 1},
		{"1.22", "go1.26.8", 2},
	}
	for _, c := range cases {
		got := CheckGoVersions(&GoModFile{Go: c.goLine, Toolchain: c.toolchain}, "1.23.0", "go1.23.10")
		if len(got) != c.problems {
			t.Errorf("go %s / toolchain %s: %d problems %v, want %d", c.goLine, c.toolchain, len(got), got, c.problems)
		}
	}
}

func TestForbiddenImports(t *testing.T) {
	got := ForbiddenImports([]string{"fmt", "github.com/clusterpedia-io/api/clusterpedia", "k8s.io/api/core/v1", "github.com/clusterpedia-io/clusterpedia/pkg/storage"}, "github.com/clusterpedia-io/")
	want := []string{"github.com/clusterpedia-io/api/clusterpedia", "github.com/clusterpedia-io/clusterpedia/pkg/storage"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ForbiddenImports = %v", got)
	}
}
