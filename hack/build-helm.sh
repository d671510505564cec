#!/usr/bin/env bash
# Builds and caches helm (default v3.16.4) for the chart tests in
# internal/packaging. Idempotent: does nothing when the binary is cached.
#
# helm comes from the helm.sh/helm/v3 module through the Go module proxy, built
# in a throwaway module generated under the cache directory (never committed).
# CGO_ENABLED=0, static. Prints the binary's path on stdout (last line).
# Environment:
#   HELM_VERSION     default v3.16.4
#   MEMGRAPH_CACHE   default ${XDG_CACHE_HOME:-$HOME/.cache}/memgraph
#   FORCE=1          rebuild even if cached
#   GO_TOOLCHAIN     default go1.23.10
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.16.4}"
CACHE="${MEMGRAPH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memgraph}"
BIN="$CACHE/helm-$HELM_VERSION/bin/helm"
MOD="$CACHE/helm-$HELM_VERSION/build"
export GOTOOLCHAIN="${GO_TOOLCHAIN:-go1.23.10}"
export CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=mod
GO="${GO:-go}"

if [[ "${FORCE:-}" != 1 && -x "$BIN" ]]; then
  echo "helm cached at $BIN (FORCE=1 rebuilds)" >&2
  echo "$BIN"
  exit 0
fi
mkdir -p "$MOD" "$(dirname "$BIN")"
cd "$MOD"
printf 'module helmbuild\n\ngo 1.23.0\n' >go.mod
rm -f go.sum
echo ">> building helm $HELM_VERSION into $BIN" >&2
"$GO" get "helm.sh/helm/v3@$HELM_VERSION" >&2
"$GO" build -trimpath -o "$BIN" helm.sh/helm/v3/cmd/helm
echo "$BIN"
