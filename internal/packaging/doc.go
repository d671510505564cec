// Package packaging holds the tests that keep memgraph's container packaging
// (Dockerfile, .dockerignore and the image targets of the Makefile) consistent
// with the builds CI and developers run. No docker engine is needed: the image
// targets are checked through `make -n`, the Dockerfile by reading it.
//
// The package imports nothing from Clusterpedia, so it runs with the engine
// tests in `make test`.
package packaging
