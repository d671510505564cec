// Package packaging holds the tests that keep memgraph's packaging consistent with
// the builds CI and developers run: the Dockerfile, .dockerignore and the image targets
// of the Makefile (checked through `make -n` and by reading the Dockerfile — no docker
// engine is needed), the Helm chart charts/clusterpedia-memgraph (helm lint and helm
// template with a real helm, see hack/build-helm.sh), `make chart-package` (the chart
// plus Clusterpedia's CRDs) and `make osc-package` (the Huawei Cloud OSC layout).
//
// Tests needing helm or the Clusterpedia source skip with one SKIP line each when it
// is missing. The package imports nothing from Clusterpedia, so it runs with the
// engine tests in `make test`.
package packaging
