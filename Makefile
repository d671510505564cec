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
test: vet test-engine test-upstream

vet:
	$(GO) vet $(shell $(GO) list $(ENGINE_PKGS) 2>/dev/null)

test-engine:
	$(GO) test -race -count=1 $(ENGINE_PKGS)

test-upstream:
ifeq ($(HAVE_CLUSTERPEDIA),yes)
	@echo "clusterpedia source found at $(CLUSTERPEDIA_REPO): running adapter tests"
	@if ls storage/*_test.go >/dev/null 2>&1; then $(GO) test -race -count=1 ./storage/...; fi
else
	@echo "SKIP adapter/plugin/e2e tests: no Clusterpedia v0.9.1 source at $(CLUSTERPEDIA_REPO) (fill the clusterpedia submodule or set CLUSTERPEDIA_REPO)"
endif

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./index/... | tee bench.txt
