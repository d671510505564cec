# memgraph — build and test entry points. `make test` is the command README and .ci/run use.
SHELL := /bin/bash
GO_TOOLCHAIN ?= go1.23.10
export GOTOOLCHAIN := $(GO_TOOLCHAIN)
export CGO_ENABLED := 1
GO ?= go

# Packages that never import Clusterpedia: always built and tested (CI has no upstream source).
ENGINE_PKGS := ./index/... ./graph/... ./snapshot/... ./api/... ./config/... ./internal/...
CLUSTERPEDIA_REPO ?= $(CURDIR)/clusterpedia
HAVE_CLUSTERPEDIA := $(shell test -f $(CLUSTERPEDIA_REPO)/staging/src/github.com/clusterpedia-io/api/go.mod && echo yes)

.PHONY: test test-engine test-upstream vet bench
.PHONY: build build-plugin build-components build-binding-apiserver kube-binaries e2e e2e-deps e2e-env run demo clean
test: vet test-engine test-upstream

vet:
	$(GO) vet $(ENGINE_PKGS)

test-engine:
	$(GO) test -race -count=1 $(ENGINE_PKGS)

test-upstream:
ifeq ($(HAVE_CLUSTERPEDIA),yes)
	@echo "clusterpedia source found at $(CLUSTERPEDIA_REPO): running adapter tests and the plugin load test"
	@if ls storage/*_test.go >/dev/null 2>&1; then GOWORK=$$(hack/build.sh gowork) $(GO) test -race -count=1 ./storage/...; fi
	@$(MAKE) --no-print-directory build-plugin build-binding-apiserver
	$(GO) test -count=1 -run 'TestPluginLoadsIntoHost' ./test/e2e/
else
	@echo "SKIP adapter/plugin/e2e tests: no Clusterpedia v0.9.1 source at $(CLUSTERPEDIA_REPO) (fill the clusterpedia submodule or set CLUSTERPEDIA_REPO)"
endif

# Engine benchmarks on the 200k-object synthetic fleet, benchstat medians (docs/benchmarks.md).
BENCH_COUNT ?= 6
BENCH ?= .
bench:
	hack/bench.sh $(BENCH_COUNT) '$(BENCH)' ./index/

# memgraph vs internalstorage on SQLite and PostgreSQL, in-process and through
# binding-apiserver; writes docs/benchmarks-vs-internalstorage.md.
.PHONY: bench-compare
bench-compare:
	hack/bench-compare.sh

# ---------------------------------------------------------------- builds
# Plugin and hosts come from ONE module graph with one toolchain and one flag
# set (hack/build.sh); go's build cache makes unchanged rebuilds cheap.
export CLUSTERPEDIA_REPO

build: build-plugin build-components

build-plugin:
	@hack/build.sh plugin

build-components:
	@hack/build.sh components binding-apiserver apiserver clustersynchro-manager

build-binding-apiserver:
	@hack/build.sh components binding-apiserver

# ------------------------------------------------------------------- e2e
# kube-apiserver + kubectl v1.32.13, cached in ~/.cache/memgraph (not in the repo).
kube-binaries:
	@test/e2e/hack/build-kube.sh >/dev/null

e2e-deps:
	@test/e2e/hack/install-deps.sh

E2E_TIMEOUT ?= 30m
E2E_RUN ?= .
e2e: e2e-deps kube-binaries helm build-plugin build-binding-apiserver
	E2E=1 E2E_PLUGIN_NEGATIVE=$${E2E_PLUGIN_NEGATIVE:-1} $(GO) test -count=1 -v -timeout $(E2E_TIMEOUT) -run '$(E2E_RUN)' ./test/e2e/...

# Interactive environment (Ctrl-C stops it): E2E_STORAGES="memgraph internal" make e2e-env
e2e-env: e2e-deps kube-binaries build-plugin build-binding-apiserver
	test/e2e/hack/up.sh

# ------------------------------------------------------------ run, demo
# make run: binding-apiserver with memgraph against the host cluster in
# $KUBECONFIG (Clusterpedia's CRDs installed there), on 127.0.0.1:$${PORT:-8443}
# with self-signed serving certs in _output/run. Checks KUBECONFIG before building.
run:
	@hack/run.sh check
	@$(MAKE) --no-print-directory build-plugin build-binding-apiserver
	@hack/run.sh

# make demo: local etcd + kube-apiservers, a seeded three-cluster fleet and
# binding-apiserver with memgraph; prints curl commands; Ctrl-C stops everything.
demo: e2e-deps kube-binaries build-plugin build-binding-apiserver
	@hack/demo.sh

clean:
	rm -rf bin plugins _output

# ---------------------------------------------------------------- images
# Multi-arch images (Dockerfile; needs docker buildx, plus QEMU binfmt for
# foreign arches: the cgo plugin is built on the target platform).
#   make image         binding-apiserver+memgraph per arch, loaded locally
#   make image-plugin  plugin-only image (FROM scratch) per arch, loaded locally
#   make push-images   both, pushed per arch, then one multi-arch manifest per tag
# Tags: <VERSION>-<clusterpedia version>[-<arch>], e.g. v0.1.0-v0.9.1-arm64.
REGISTRY ?= ghcr.io/clusterpedia-memgraph
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
CLUSTERPEDIA_VERSIONS ?= v0.9.1
RELEASE_ARCHS ?= amd64 arm64
DOCKER ?= docker
IMAGE_NAME ?= binding-apiserver-memgraph
PLUGIN_IMAGE_NAME ?= memgraph-plugin
APISERVER_IMAGE := $(REGISTRY)/$(IMAGE_NAME)
PLUGIN_IMAGE := $(REGISTRY)/$(PLUGIN_IMAGE_NAME)

define image_nl


endef
# $(call image_build,<target>,<image>,<clusterpedia version>,<arch>,<--load|--push>)
image_build = $(DOCKER) buildx build --platform linux/$(4) --target $(1) --build-arg CLUSTERPEDIA_VERSION=$(3) -t $(2):$(VERSION)-$(3)-$(4) $(5) .
# $(call image_each,<target>,<image>,<--load|--push>): one build per version x arch
image_each = $(foreach cp,$(CLUSTERPEDIA_VERSIONS),$(foreach arch,$(RELEASE_ARCHS),$(call image_build,$(1),$(2),$(cp),$(arch),$(3))$(image_nl)))
# $(call image_manifest,<image>): multi-arch manifest <image>:<VERSION>-<cp> over the per-arch tags
image_manifest = $(foreach cp,$(CLUSTERPEDIA_VERSIONS),$(DOCKER) buildx imagetools create -t $(1):$(VERSION)-$(cp) $(foreach arch,$(RELEASE_ARCHS),$(1):$(VERSION)-$(cp)-$(arch))$(image_nl))

.PHONY: image image-plugin push-images helm
image:
	$(call image_each,binding-apiserver,$(APISERVER_IMAGE),--load)

image-plugin:
	$(call image_each,plugin,$(PLUGIN_IMAGE),--load)

push-images:
	$(call image_each,binding-apiserver,$(APISERVER_IMAGE),--push)
	$(call image_each,plugin,$(PLUGIN_IMAGE),--push)
	$(call image_manifest,$(APISERVER_IMAGE))
	$(call image_manifest,$(PLUGIN_IMAGE))

# helm for the chart tests in internal/packaging (they skip without it), cached
# in ~/.cache/memgraph: make helm && make test
helm:
	@hack/build-helm.sh >/dev/null

# ---------------------------------------------------------- chart, OSC
# make chart-package: _output/clusterpedia-memgraph-<chart version>.tgz, the chart
#   plus Clusterpedia's PediaCluster and ClusterSyncResources CRDs taken from
#   $(CLUSTERPEDIA_REPO) at package time (never committed; hack/chart-package.sh).
# make osc-package: the Huawei Cloud OSC layout in _output/osc (package/, images/
#   with mapping.yaml and one tarball per RELEASE_ARCHS arch, version-definition.yaml;
#   hack/osc-package.sh). Tarballs need a docker engine and `make image
#   VERSION=<memgraph version>`; without them it says so in one line and succeeds
#   unless OSC_REQUIRE_IMAGES=1.
.PHONY: chart-package osc-package
chart-package: helm
	@OUTPUT_DIR=$(CURDIR)/_output HELM="$$(hack/build-helm.sh 2>/dev/null)" hack/chart-package.sh >/dev/null

osc-package: helm
	@OUTPUT_DIR=$(CURDIR)/_output HELM="$$(hack/build-helm.sh 2>/dev/null)" RELEASE_ARCHS="$(RELEASE_ARCHS)" DOCKER="$(DOCKER)" hack/osc-package.sh
