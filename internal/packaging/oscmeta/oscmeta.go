// Package oscmeta writes the metadata files of memgraph's Huawei Cloud OSC (Operator
// Service Center) service package; hack/osc-package.sh (make osc-package) runs it and
// does the rest (chart archive, image tarballs).
//
// The format follows the Huawei Cloud OSC developer guide (support.huaweicloud.com,
// accessg-osc): "服务包目录结构约束" / "制作服务包目录" (a package/ folder holding exactly one
// chart archive and an images/ folder holding the image tarballs and mapping.yaml),
// "服务包镜像名称约束" (tarball names: letters, digits, '_', '-', '.', not ending in one of
// the last three; one tarball per CPU architecture, x86_64 and/or aarch64),
// "替换镜像地址配置" (osc_sp_0012: mapping.yaml's `instance` list — image, tag, address
// naming the values.yaml paths OSC rewrites, package naming the tarball per
// architecture; this chart splits images as registry/repository/tag, so address uses
// endpoint/repo/tag as in the guide's Helm example) and "自定义服务CSD: versionDefinition"
// (mode tag: OSC writes the bare tag to `path`, here the values path of the
// instance image's tag).
//
// Every image is found in values.yaml, not listed by hand: each mapping that has the
// keys registry, repository and tag is one image (image.registry/... for the chart's
// binding-apiserver). An empty tag means the chart's appVersion, as the chart's
// templates do.
//
// Run writes <out>/images/mapping.yaml and <out>/version-definition.yaml and lists one
// line per tarball to produce: "<tarball>\t<local image>\t<image saved in the tarball>",
// where the local image is the per-architecture tag `make image` builds
// (<registry>/<repository>:<tag>-<arch>).
//
// The package is a library so that it builds with the engine packages (CI builds
// ./internal/... for a plugin, where a main package cannot link); the script runs it
// through the ignored cmd.go: go run internal/packaging/oscmeta/cmd.go -chart ... .
package oscmeta

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Run writes the OSC metadata of the chart in chartDir for archs (Go/Debian names, as in
// RELEASE_ARCHS) into the OSC package directory out, and lists the tarballs to produce
// on w, one "<tarball>\t<local image>\t<image saved in the tarball>" line each.
func Run(chartDir string, archs []string, out string, w io.Writer) error {
	p, err := planFromChart(chartDir, archs)
	if err != nil {
		return err
	}
	mapping, err := p.mappingYAML()
	if err != nil {
		return err
	}
	version, err := p.versionDefinitionYAML()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(out, "images"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "images", "mapping.yaml"), mapping, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "version-definition.yaml"), version, 0o644); err != nil {
		return err
	}
	for _, t := range p.tarballs() {
		if _, err := fmt.Fprintf(w, "%s\t%s\t%s\n", t.file, t.localImage, t.savedImage); err != nil {
			return err
		}
	}
	return nil
}

// image is one registry/repository/tag block of values.yaml.
type image struct {
	path                      string // dotted values path of the block, e.g. "image"
	registry, repository, tag string // tag: the block's tag, else the chart's appVersion
}

func (i image) name() string { return path.Base(i.repository) }

func (i image) ref() string {
	if i.registry == "" {
		return i.repository + ":" + i.tag
	}
	return i.registry + "/" + i.repository + ":" + i.tag
}

// plan is what the OSC package holds for one chart.
type plan struct {
	chartName, appVersion string
	images                []image
	archs                 []arch
	instance              image // the image whose tag versionDefinition points at
}

// arch pairs a Go/Debian architecture (make image's tag suffix) with OSC's name.
type arch struct{ goarch, osc string }

var oscArchs = map[string]string{"amd64": "x86_64", "arm64": "aarch64"}

func parseArchs(names []string) ([]arch, error) {
	if len(names) == 0 {
		return nil, errors.New("RELEASE_ARCHS is empty: OSC needs at least one of amd64 (x86_64), arm64 (aarch64)")
	}
	var out []arch
	seen := map[string]bool{}
	for _, n := range names {
		o, ok := oscArchs[n]
		if !ok {
			return nil, fmt.Errorf("RELEASE_ARCHS: OSC packages only amd64 (x86_64) and arm64 (aarch64) images, got %q", n)
		}
		if seen[n] {
			return nil, fmt.Errorf("RELEASE_ARCHS: %q listed twice", n)
		}
		seen[n] = true
		out = append(out, arch{n, o})
	}
	return out, nil
}

func planFromChart(dir string, archNames []string) (*plan, error) {
	archs, err := parseArchs(archNames)
	if err != nil {
		return nil, err
	}
	var meta struct {
		Name       string `yaml:"name"`
		AppVersion string `yaml:"appVersion"`
	}
	if err := readYAML(filepath.Join(dir, "Chart.yaml"), &meta); err != nil {
		return nil, err
	}
	if meta.Name == "" || meta.AppVersion == "" {
		return nil, fmt.Errorf("%s: name and appVersion are required", filepath.Join(dir, "Chart.yaml"))
	}
	var values yaml.Node
	if err := readYAML(filepath.Join(dir, "values.yaml"), &values); err != nil {
		return nil, err
	}
	images, err := findImages(&values, meta.AppVersion)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "values.yaml"), err)
	}
	p := &plan{chartName: meta.Name, appVersion: meta.AppVersion, images: images, archs: archs}
	switch {
	case len(images) == 0:
		return nil, fmt.Errorf("%s: no image (a block with registry, repository and tag)", filepath.Join(dir, "values.yaml"))
	case len(images) == 1:
		p.instance = images[0]
	default:
		found := false
		for _, im := range images {
			if im.path == "image" {
				p.instance, found = im, true
			}
		}
		if !found {
			return nil, fmt.Errorf("%s: %d images and none at the top-level key image: cannot tell which tag versionDefinition follows", filepath.Join(dir, "values.yaml"), len(images))
		}
	}
	for _, t := range p.tarballs() {
		if err := checkTarballName(t.file); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func readYAML(file string, v any) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

var (
	keyRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	// Docker tag grammar.
	tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

// findImages returns every mapping of the values document that has the keys registry,
// repository and tag, in document order, with its dotted path.
func findImages(doc *yaml.Node, appVersion string) ([]image, error) {
	var out []image
	var walk func(n *yaml.Node, keys []string) error
	walk = func(n *yaml.Node, keys []string) error {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				if err := walk(c, keys); err != nil {
					return err
				}
			}
		case yaml.MappingNode:
			fields := map[string]*yaml.Node{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				fields[n.Content[i].Value] = n.Content[i+1]
			}
			reg, repo, tag := fields["registry"], fields["repository"], fields["tag"]
			if reg != nil && repo != nil && tag != nil {
				p := strings.Join(keys, ".")
				for _, k := range keys {
					if !keyRE.MatchString(k) {
						return fmt.Errorf("image at %q: key %q cannot be written as an OSC values path", p, k)
					}
				}
				for name, v := range map[string]*yaml.Node{"registry": reg, "repository": repo, "tag": tag} {
					if v.Kind != yaml.ScalarNode || (v.Tag != "!!str" && v.Tag != "!!null") {
						return fmt.Errorf("%s.%s: want a string, got %s at line %d", p, name, v.Tag, v.Line)
					}
				}
				im := image{path: p, registry: reg.Value, repository: repo.Value, tag: tag.Value}
				if im.tag == "" {
					im.tag = appVersion
				}
				if im.repository == "" {
					return fmt.Errorf("%s.repository is empty", p)
				}
				if !tagRE.MatchString(im.tag) {
					return fmt.Errorf("%s.tag: %q is not a valid image tag", p, im.tag)
				}
				out = append(out, im)
				return nil
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				if err := walk(n.Content[i+1], append(append([]string(nil), keys...), n.Content[i].Value)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return out, walk(doc, nil)
}

type tarball struct{ file, localImage, savedImage string }

// tarballs lists one tarball per image and architecture.
func (p *plan) tarballs() []tarball {
	var out []tarball
	for _, im := range p.images {
		for _, a := range p.archs {
			out = append(out, tarball{
				file:       tarballName(im, a),
				localImage: im.ref() + "-" + a.goarch,
				savedImage: im.ref(),
			})
		}
	}
	return out
}

func tarballName(im image, a arch) string { return im.name() + "-" + im.tag + "-" + a.osc + ".tar" }

var tarballRE = regexp.MustCompile(`^[A-Za-z0-9_.-]*[A-Za-z0-9]\.tar$`)

// checkTarballName applies the guide's image file name rule.
func checkTarballName(name string) error {
	if !tarballRE.MatchString(name) {
		return fmt.Errorf("image tarball name %q breaks OSC's rule (letters, digits, '_', '-', '.'; not ending in '_', '-' or '.')", name)
	}
	return nil
}

type mappingFile struct {
	Instance []mappingInstance `yaml:"instance"`
}

type mappingInstance struct {
	Image   string            `yaml:"image"`
	Tag     string            `yaml:"tag"`
	Address mappingAddress    `yaml:"address"`
	Package map[string]string `yaml:"package"`
}

type mappingAddress struct {
	Endpoint string `yaml:"endpoint"` // values path of the registry host
	Repo     string `yaml:"repo"`     // values path of the repository (no host)
	Tag      string `yaml:"tag"`      // values path of the tag
}

const generatedBy = "# Generated by hack/osc-package.sh (internal/packaging/oscmeta) from %s/values.yaml; do not edit.\n"

func (p *plan) mappingYAML() ([]byte, error) {
	var m mappingFile
	for _, im := range p.images {
		pkg := map[string]string{}
		for _, a := range p.archs {
			pkg[a.osc] = tarballName(im, a)
		}
		m.Instance = append(m.Instance, mappingInstance{
			Image: im.name(),
			Tag:   im.tag,
			Address: mappingAddress{
				Endpoint: im.path + ".registry",
				Repo:     im.path + ".repository",
				Tag:      im.path + ".tag",
			},
			Package: pkg,
		})
	}
	b, err := marshal(m)
	if err != nil {
		return nil, err
	}
	return append([]byte(fmt.Sprintf(generatedBy, p.chartName)+
		"# OSC rewrites these values paths to the images it stores from the tarballs in this folder.\n"), b...), nil
}

func (p *plan) versionDefinitionYAML() ([]byte, error) {
	tags := &yaml.Node{Kind: yaml.SequenceNode}
	tags.Content = append(tags.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: p.instance.tag, Style: yaml.DoubleQuotedStyle})
	doc := map[string]any{
		"versionDefinition": map[string]any{
			"description": "Upgrades the " + p.chartName + " instance to another image tag; the binding-apiserver restarts and, with persistence, restores its store from disk.",
			"mode":        "tag",
			"path":        p.instance.path + ".tag",
			"tags":        tags,
		},
	}
	b, err := marshal(doc)
	if err != nil {
		return nil, err
	}
	return append([]byte(fmt.Sprintf(generatedBy, p.chartName)+
		"# The instance version definition (OSC CSD versionDefinition): mode tag writes the bare\n"+
		"# image tag to the values path below.\n"), b...), nil
}

// marshal writes YAML with two-space indentation.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
