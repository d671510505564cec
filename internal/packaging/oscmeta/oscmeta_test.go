package oscmeta

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func parseValues(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	return &n
}

func TestFindImages(t *testing.T) {
	for _, tc := range []struct {
		name, values string
		want         []image
		err          string
	}{
		{
			name:   "top-level image, empty tag is appVersion",
			values: "image:\n  registry: ghcr.io\n  repository: org/app\n  tag: \"\"\n  pullPolicy: IfNotPresent\n",
			want:   []image{{path: "image", registry: "ghcr.io", repository: "org/app", tag: "v1-v2"}},
		},
		{
			name:   "null tag is appVersion, nested images in document order",
			values: "image:\n  registry: r\n  repository: a\n  tag:\nsidecar:\n  image:\n    registry: \"\"\n    repository: lib/b\n    tag: \"1.2\"\n",
			want: []image{
				{path: "image", registry: "r", repository: "a", tag: "v1-v2"},
				{path: "sidecar.image", registry: "", repository: "lib/b", tag: "1.2"},
			},
		},
		{
			name:   "a block needs all three keys",
			values: "image:\n  repository: a\n  tag: x\nglobal:\n  imageRegistry: r\n",
		},
		{
			name:   "non-string tag",
			values: "image:\n  registry: r\n  repository: a\n  tag: 1.5\n",
			err:    "image.tag: want a string",
		},
		{
			name:   "empty repository",
			values: "image:\n  registry: r\n  repository: \"\"\n  tag: x\n",
			err:    "image.repository is empty",
		},
		{
			name:   "tag that is not an image tag",
			values: "image:\n  registry: r\n  repository: a\n  tag: \"v1 beta\"\n",
			err:    `image.tag: "v1 beta" is not a valid image tag`,
		},
		{
			name:   "key that cannot be a dotted path",
			values: "\"my.images\":\n  main:\n    registry: r\n    repository: a\n    tag: x\n",
			err:    `key "my.images" cannot be written as an OSC values path`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := findImages(parseValues(t, tc.values), "v1-v2")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseArchs(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []arch
		err  string
	}{
		{in: []string{"amd64", "arm64"}, want: []arch{{"amd64", "x86_64"}, {"arm64", "aarch64"}}},
		{in: []string{"arm64"}, want: []arch{{"arm64", "aarch64"}}},
		{in: nil, err: "RELEASE_ARCHS is empty"},
		{in: []string{"amd64", "s390x"}, err: `got "s390x"`},
		{in: []string{"amd64", "amd64"}, err: `"amd64" listed twice`},
	} {
		got, err := parseArchs(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v: got %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestCheckTarballName(t *testing.T) {
	for name, ok := range map[string]bool{
		"binding-apiserver-memgraph-v0.1.0-v0.9.1-x86_64.tar": true,
		"etcd-3.5.0-aarch64.tar":                              true,
		"a_b.c-1.tar":                                         true,
		"app-.tar":                                            false, // ends in '-' before .tar
		"app_.tar":                                            false,
		"app..tar":                                            false,
		"app:v1-x86_64.tar":                                   false,
		"app v1.tar":                                          false,
		"app-x86_64.tgz":                                      false,
	} {
		if err := checkTarballName(name); (err == nil) != ok {
			t.Errorf("checkTarballName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

func writeChart(t *testing.T, values string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: demo\nversion: 0.1.0\nappVersion: v1-v2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "values.yaml"), []byte(values), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// versionDefinition follows the only image, else the top-level "image".
func TestPlanInstanceImage(t *testing.T) {
	one := writeChart(t, "server:\n  image:\n    registry: r\n    repository: a/server\n    tag: \"\"\n")
	p, err := planFromChart(one, []string{"amd64"})
	if err != nil || p.instance.path != "server.image" {
		t.Fatalf("one image: instance %+v, %v", p, err)
	}
	two := writeChart(t, "helper:\n  registry: r\n  repository: a/helper\n  tag: \"1\"\nimage:\n  registry: r\n  repository: a/main\n  tag: \"\"\n")
	if p, err = planFromChart(two, []string{"amd64"}); err != nil || p.instance.path != "image" {
		t.Fatalf("two images: instance %+v, %v", p, err)
	}
	ambiguous := writeChart(t, "a:\n  registry: r\n  repository: x/a\n  tag: \"1\"\nb:\n  registry: r\n  repository: x/b\n  tag: \"1\"\n")
	if _, err = planFromChart(ambiguous, []string{"amd64"}); err == nil || !strings.Contains(err.Error(), "cannot tell which tag versionDefinition follows") {
		t.Fatalf("ambiguous: err = %v", err)
	}
	none := writeChart(t, "replicaCount: 1\n")
	if _, err = planFromChart(none, []string{"amd64"}); err == nil || !strings.Contains(err.Error(), "no image") {
		t.Fatalf("no image: err = %v", err)
	}
	bad := writeChart(t, "image:\n  registry: r\n  repository: org/my app\n  tag: \"\"\n")
	if _, err = planFromChart(bad, []string{"amd64"}); err == nil || !strings.Contains(err.Error(), "breaks OSC's rule") {
		t.Fatalf("repository with a space: err = %v", err)
	}
}

// run writes both files for the given arches and lists one tarball per image x arch.
func TestRunWritesFiles(t *testing.T) {
	chart := writeChart(t, "image:\n  registry: ghcr.io\n  repository: org/app\n  tag: \"\"\nsidecar:\n  image:\n    registry: docker.io\n    repository: lib/proxy\n    tag: \"1.0\"\n")
	out := t.TempDir()
	var listed strings.Builder
	if err := Run(chart, []string{"arm64"}, out, &listed); err != nil {
		t.Fatal(err)
	}
	if got, want := listed.String(), "app-v1-v2-aarch64.tar\tghcr.io/org/app:v1-v2-arm64\tghcr.io/org/app:v1-v2\n"+
		"proxy-1.0-aarch64.tar\tdocker.io/lib/proxy:1.0-arm64\tdocker.io/lib/proxy:1.0\n"; got != want {
		t.Errorf("listed tarballs:\n%s\nwant\n%s", got, want)
	}
	var m struct {
		Instance []struct {
			Image   string
			Tag     string
			Address map[string]string
			Package map[string]string
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "images", "mapping.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Instance) != 2 {
		t.Fatalf("instances = %+v", m.Instance)
	}
	if i := m.Instance[0]; i.Image != "app" || i.Tag != "v1-v2" ||
		!reflect.DeepEqual(i.Address, map[string]string{"endpoint": "image.registry", "repo": "image.repository", "tag": "image.tag"}) ||
		!reflect.DeepEqual(i.Package, map[string]string{"aarch64": "app-v1-v2-aarch64.tar"}) {
		t.Errorf("instance 0 = %+v", i)
	}
	if i := m.Instance[1]; i.Image != "proxy" || i.Tag != "1.0" || i.Address["endpoint"] != "sidecar.image.registry" ||
		!reflect.DeepEqual(i.Package, map[string]string{"aarch64": "proxy-1.0-aarch64.tar"}) {
		t.Errorf("instance 1 = %+v", i)
	}
	var v struct {
		VersionDefinition struct {
			Mode, Path string
			Tags       []string
		} `yaml:"versionDefinition"`
	}
	b, err = os.ReadFile(filepath.Join(out, "version-definition.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if d := v.VersionDefinition; d.Mode != "tag" || d.Path != "image.tag" || !reflect.DeepEqual(d.Tags, []string{"v1-v2"}) {
		t.Errorf("versionDefinition = %+v", d)
	}
	if !strings.Contains(string(b), `- "v1-v2"`) {
		t.Errorf("tags are not quoted (the guide asks for quotes so 2.0 stays a string):\n%s", b)
	}

	p, err := planFromChart(chart, []string{"amd64", "arm64"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tb := range p.tarballs() {
		got = append(got, tb.file+" "+tb.localImage+" "+tb.savedImage)
	}
	want := []string{
		"app-v1-v2-x86_64.tar ghcr.io/org/app:v1-v2-amd64 ghcr.io/org/app:v1-v2",
		"app-v1-v2-aarch64.tar ghcr.io/org/app:v1-v2-arm64 ghcr.io/org/app:v1-v2",
		"proxy-1.0-x86_64.tar docker.io/lib/proxy:1.0-amd64 docker.io/lib/proxy:1.0",
		"proxy-1.0-aarch64.tar docker.io/lib/proxy:1.0-arm64 docker.io/lib/proxy:1.0",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tarballs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
