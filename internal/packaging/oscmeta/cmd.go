//go:build ignore

// Command line for package oscmeta, run by hack/osc-package.sh:
//
//	go run internal/packaging/oscmeta/cmd.go -chart charts/clusterpedia-memgraph -archs "amd64 arm64" -out _output/osc
//
// Excluded from builds (the engine packages are built for a plugin in CI, where a main
// package cannot link); `go run` with the file named still compiles it.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/clusterpedia-memgraph/memgraph/internal/packaging/oscmeta"
)

func main() {
	chart := flag.String("chart", "charts/clusterpedia-memgraph", "chart directory (Chart.yaml, values.yaml)")
	archs := flag.String("archs", "amd64 arm64", "image architectures, Go/Debian names (RELEASE_ARCHS)")
	out := flag.String("out", "_output/osc", "OSC package directory")
	flag.Parse()
	if err := oscmeta.Run(*chart, strings.Fields(*archs), *out, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "oscmeta:", err)
		os.Exit(1)
	}
}
