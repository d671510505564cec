// Package e2e is memgraph's end-to-end harness: a real etcd + kube-apiserver
// v1.32.13 on 127.0.0.1, the Clusterpedia CRDs, PediaClusters c1..cN that all
// point at that one kube-apiserver, and one or more binding-apiservers (built
// from this module by make build-components) with a chosen storage layer.
//
// The processes are started by the bash scripts in test/e2e/hack (usable by
// hand too: test/e2e/hack/up.sh); this package wraps them for Go tests and
// imports nothing from Clusterpedia. See test/e2e/README.md.
package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Paths is where the harness finds its inputs. Every field can be overridden
// by the environment variable named in its comment (make e2e sets them).
type Paths struct {
	Root             string // E2E_ROOT: the memgraph checkout
	ClusterpediaRepo string // CLUSTERPEDIA_REPO: v0.9.1 source (CRDs)
	KubeBin          string // KUBE_BIN: kube-apiserver + kubectl
	BindingAPIServer string // BINDING_APISERVER: host binary
	Plugin           string // MEMGRAPH_PLUGIN: memgraph.so
}

// DefaultPaths resolves Paths from the environment and the repository layout.
func DefaultPaths() Paths {
	_, file, _, _ := runtime.Caller(0)
	root := envOr("E2E_ROOT", filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..")))
	cache := os.Getenv("MEMGRAPH_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, _ := os.UserHomeDir()
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "memgraph")
	}
	return Paths{
		Root:             root,
		ClusterpediaRepo: envOr("CLUSTERPEDIA_REPO", filepath.Join(root, "clusterpedia")),
		KubeBin:          envOr("KUBE_BIN", filepath.Join(cache, "kube-"+envOr("KUBE_VERSION", "v1.32.13"), "bin")),
		BindingAPIServer: envOr("BINDING_APISERVER", filepath.Join(root, "bin", "binding-apiserver")),
		Plugin:           envOr("MEMGRAPH_PLUGIN", filepath.Join(root, "plugins", "memgraph.so")),
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// Forced reports whether E2E is set (1/true): missing prerequisites are then
// failures instead of skips.
func Forced() bool {
	v := strings.ToLower(os.Getenv("E2E"))
	return v == "1" || v == "true" || v == "yes"
}

// Need names one prerequisite of a test.
type Need int

const (
	NeedClusterpediaSource Need = iota // CRDs + staging api
	NeedKube                           // kube-apiserver, kubectl, etcd, openssl, curl
	NeedHost                           // bin/binding-apiserver
	NeedPlugin                         // plugins/memgraph.so
)

// Missing returns a human description of every missing prerequisite.
func (p Paths) Missing(needs ...Need) []string {
	var out []string
	exists := func(f string) bool { _, err := os.Stat(f); return err == nil }
	for _, n := range needs {
		switch n {
		case NeedClusterpediaSource:
			if !exists(filepath.Join(p.ClusterpediaRepo, "kustomize", "crds", "kustomization.yaml")) {
				out = append(out, "Clusterpedia source at "+p.ClusterpediaRepo)
			}
		case NeedKube:
			for _, b := range []string{"kube-apiserver", "kubectl"} {
				if !exists(filepath.Join(p.KubeBin, b)) {
					out = append(out, b+" in "+p.KubeBin+" (make kube-binaries)")
				}
			}
			for _, c := range []string{"etcd", "openssl", "curl"} {
				if _, err := exec.LookPath(c); err != nil {
					out = append(out, c+" on PATH (test/e2e/hack/install-deps.sh)")
				}
			}
		case NeedHost:
			if !exists(p.BindingAPIServer) {
				out = append(out, p.BindingAPIServer+" (make build-components)")
			}
		case NeedPlugin:
			if !exists(p.Plugin) {
				out = append(out, p.Plugin+" (make build-plugin)")
			}
		}
	}
	return out
}

// Require skips the test (one line) when a prerequisite is missing, or fails
// it when E2E=1 forces e2e tests to run.
func Require(t testing.TB, needs ...Need) Paths {
	t.Helper()
	p := DefaultPaths()
	if miss := p.Missing(needs...); len(miss) > 0 {
		msg := "e2e prerequisites missing: " + strings.Join(miss, "; ")
		if Forced() {
			t.Fatal(msg + " (E2E is set, so this is a failure)")
		}
		t.Skip("SKIP " + msg + " (make e2e builds them; E2E=1 turns this skip into a failure)")
	}
	return p
}

// supervisor is one running hack script (kube-up.sh or pedia-up.sh).
type supervisor struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error
}

func startScript(t testing.TB, name, script string, env []string) *supervisor {
	t.Helper()
	cmd := exec.Command("bash", script)
	cmd.Env = append(os.Environ(), env...)
	s := &supervisor{name: name, cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout = s.out
	cmd.Stderr = s.out
	setParentDeathSignal(cmd) // the script's trap stops everything if the test binary dies
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", script, err)
	}
	go func() { s.err = cmd.Wait(); close(s.done) }()
	return s
}

// waitReady waits for readyFile or the script's exit.
func (s *supervisor) waitReady(t testing.TB, readyFile string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if _, err := os.Stat(readyFile); err == nil {
			return
		}
		select {
		case <-s.done:
			t.Fatalf("%s exited before it was ready (%v):\n%s", s.name, s.err, s.out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after %s:\n%s", s.name, timeout, s.out.String())
		}
	}
}

// stop sends SIGTERM (the script stops its children by PID and cleans up)
// and waits; SIGKILL after 60 s.
func (s *supervisor) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func (s *supervisor) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// readEnvFile parses the KEY="VALUE" lines the scripts write.
func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			out[k] = strings.TrimSuffix(strings.TrimPrefix(v, `"`), `"`)
		}
	}
	return out, sc.Err()
}

// crashReport describes how a process whose log is path ended: the first
// "panic:"/"fatal error:" line with the 60 lines after it (the failing
// goroutine), else the log's last 40 lines.
func crashReport(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	lines := strings.Split(lastRun(string(data)), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
			end := i + 60
			if end > len(lines) {
				end = len(lines)
			}
			return "it crashed (" + path + "):\n" + strings.Join(lines[i:end], "\n")
		}
	}
	return "log tail (" + path + "):\n" + tail(path, 40)
}

// lastRun returns the part of a binding-apiserver log written by its latest
// start (pedia-up.sh appends a "==== … starting" line per start).
func lastRun(log string) string {
	if i := strings.LastIndex(log, "\n==== "); i >= 0 {
		return log[i+1:]
	}
	return log
}

// tail returns the last n lines of a file (for failure reports).
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	defer f.Close()
	data, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
