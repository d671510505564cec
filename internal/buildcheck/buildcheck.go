// Package buildcheck holds the checks that keep memgraph.so loadable into a
// Clusterpedia v0.9.1 host.
//
// A Go plugin only loads into a host whose shared packages were compiled from
// identical sources with the same toolchain. memgraph builds its hosts from its
// own module graph (make build-components), so plugin and host always agree
// with each other; what can drift is memgraph's graph versus the versions
// Clusterpedia v0.9.1 itself was tested and vendored with. The test in this
// package fails when any module required by Clusterpedia's go.mod resolves to a
// different version in memgraph's build list, when go.mod asks for a newer
// language or toolchain than go1.23.10, or when an engine package imports
// Clusterpedia (engine packages must build and test without its source).
//
// The package imports nothing from Clusterpedia and shells out to the go
// command, so it runs in CI where only the module proxy is reachable.
package buildcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"
)

// Module is one entry of a build list or of a go.mod require block.
type Module struct {
	Path    string
	Version string
	// Replace is the effective replacement, if any; for a directory
	// replacement Replace.Path is the directory and Replace.Version is empty.
	Replace *Module
	// Error is set by `go list -e -m` for modules it could not resolve.
	Error *struct{ Err string }
}

// Effective returns the version the module really builds from: the replacement
// version when it is replaced by another module version, "dir:<path>" when it
// is replaced by a directory, and Version otherwise.
func (m Module) Effective() string {
	if m.Replace != nil {
		if m.Replace.Version != "" {
			if m.Replace.Path != m.Path {
				return m.Replace.Path + "@" + m.Replace.Version
			}
			return m.Replace.Version
		}
		return "dir:" + m.Replace.Path
	}
	return m.Version
}

// IsDirReplace reports whether the module is replaced by a local directory.
func (m Module) IsDirReplace() bool { return m.Replace != nil && m.Replace.Version == "" }

// Mismatch is a module present in both the host's go.mod and memgraph's build
// list at different effective versions.
type Mismatch struct {
	Path     string
	Host     string // effective version in Clusterpedia's go.mod
	Memgraph string // effective version in memgraph's build list
}

func (m Mismatch) String() string {
	return fmt.Sprintf("%s: clusterpedia %s, memgraph %s (fix: go get %s@%s, or a replace pinning it)",
		m.Path, m.Host, m.Memgraph, m.Path, strings.TrimPrefix(m.Host, "dir:"))
}

// Compare returns, sorted by path, every module that appears in both host and
// build with different effective versions, plus the number of shared modules
// it compared. Two directory replacements count as equal (both sides point at
// a local copy of the same staging module; the source itself is not compared).
func Compare(host, build []Module) (mismatches []Mismatch, shared int) {
	byPath := make(map[string]Module, len(build))
	for _, m := range build {
		byPath[m.Path] = m
	}
	for _, h := range host {
		b, ok := byPath[h.Path]
		if !ok {
			continue
		}
		shared++
		if h.IsDirReplace() && b.IsDirReplace() {
			continue
		}
		if h.Effective() != b.Effective() {
			mismatches = append(mismatches, Mismatch{Path: h.Path, Host: h.Effective(), Memgraph: b.Effective()})
		}
	}
	sort.Slice(mismatches, func(i, j int) bool { return mismatches[i].Path < mismatches[j].Path })
	return mismatches, shared
}

// GoModFile is the part of `go mod edit -json` output the checks use.
type GoModFile struct {
	Module    struct{ Path string }
	Go        string
	Toolchain string
	Require   []Module
	Replace   []struct {
		Old Module
		New Module
	}
}

// ParseGoModJSON decodes `go mod edit -json` output.
func ParseGoModJSON(data []byte) (*GoModFile, error) {
	var f GoModFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("decode go mod edit -json: %w", err)
	}
	return &f, nil
}

// Requirements returns the go.mod require list with the file's replace
// directives applied (a replace without an old version applies to every
// version), i.e. what the module builds with when it is the main module.
func (f *GoModFile) Requirements() []Module {
	out := make([]Module, 0, len(f.Require))
	for _, r := range f.Require {
		m := Module{Path: r.Path, Version: r.Version}
		for _, rep := range f.Replace {
			if rep.Old.Path == r.Path && (rep.Old.Version == "" || rep.Old.Version == r.Version) {
				n := rep.New
				m.Replace = &Module{Path: n.Path, Version: n.Version}
			}
		}
		out = append(out, m)
	}
	return out
}

// ParseBuildList decodes the concatenated JSON objects printed by
// `go list -m -json all`.
func ParseBuildList(data []byte) ([]Module, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []Module
	for {
		var m Module
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decode go list -m -json: %w", err)
		}
		out = append(out, m)
	}
}

// CheckGoVersions validates go.mod's go and toolchain lines against the
// toolchain the hosts are built with (go1.23.10): the go line must be exactly
// wantGo and a toolchain line, if any, must not be newer than maxToolchain.
func CheckGoVersions(f *GoModFile, wantGo, maxToolchain string) []string {
	var problems []string
	if f.Go != wantGo {
		problems = append(problems, fmt.Sprintf("go.mod says `go %s`, want `go %s` (hosts are built with %s)", f.Go, wantGo, maxToolchain))
	}
	if f.Toolchain != "" && CompareGoVersions(f.Toolchain, maxToolchain) > 0 {
		problems = append(problems, fmt.Sprintf("go.mod has `toolchain %s`, newer than %s: a plugin built with it crashes the host (runtime: no plugin module data)", f.Toolchain, maxToolchain))
	}
	return problems
}

// CompareGoVersions compares two release versions such as "go1.23.10" or
// "1.23.0" numerically (pre-release suffixes sort before the release).
func CompareGoVersions(a, b string) int {
	pa, pb := splitGoVersion(a), splitGoVersion(b)
	for i := 0; i < 3; i++ {
		if pa[i] != pb[i] {
			if pa[i] < pb[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

func splitGoVersion(v string) [3]int {
	v = strings.TrimPrefix(v, "go")
	var out [3]int
	for i, part := range strings.SplitN(v, ".", 3) {
		n := 0
		for _, c := range part {
			if c < '0' || c > '9' {
				break // "23rc1" → 23; good enough for ordering releases
			}
			n = n*10 + int(c-'0')
		}
		out[i] = n
	}
	return out
}

// ForbiddenImports returns the packages among deps (import paths printed by
// `go list -deps`, one per line, optionally "pkg <- importer") that belong to
// any of the forbidden path prefixes.
func ForbiddenImports(deps []string, prefixes ...string) []string {
	var out []string
	for _, d := range deps {
		d = strings.TrimSpace(d)
		for _, p := range prefixes {
			if strings.HasPrefix(d, p) {
				out = append(out, d)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// GoCommand runs the go command in dir with extra environment entries and
// returns stdout; stderr is folded into the error.
func GoCommand(dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	if len(env) > 0 {
		cmd.Env = append(cmd.Environ(), env...)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
