#!/usr/bin/env bash
# Builds the Huawei Cloud OSC service package layout (make osc-package):
#
#   $OUTPUT_DIR/osc/
#     package/clusterpedia-memgraph-<chart version>.tgz   exactly one chart archive (chart-package: chart + CRDs)
#     images/mapping.yaml                                  image -> values.yaml paths + tarball per arch
#     images/<image>-<tag>-<x86_64|aarch64>.tar            docker save of each image, one per RELEASE_ARCHS arch
#     version-definition.yaml                              the instance versionDefinition (mode: tag)
#
# Format: the Huawei Cloud OSC developer guide (support.huaweicloud.com accessg-osc:
# service package directory layout, image file name rules, "替换镜像地址配置" for
# mapping.yaml, "自定义服务CSD: versionDefinition"); the details and the field choices
# are in internal/packaging/oscmeta/oscmeta.go, which writes mapping.yaml and
# version-definition.yaml from the chart's values.yaml (every registry/repository/tag
# block is an image), so they cannot drift from the chart.
#
# The tarballs need a docker engine and the per-arch images `make image` builds (tag
# <registry>/<repository>:<appVersion>-<arch>, i.e. make image VERSION=<memgraph
# version> for the chart's appVersion <memgraph version>-<clusterpedia version>).
# Without a reachable engine (or without those images) everything else is written and
# one line names the tarballs not produced and why; the exit status is 0 unless
# OSC_REQUIRE_IMAGES=1.
#
# Environment:
#   CLUSTERPEDIA_REPO   Clusterpedia v0.9.1 source for the CRDs (see hack/chart-package.sh)
#   OUTPUT_DIR          default _output (the layout goes to $OUTPUT_DIR/osc, recreated)
#   RELEASE_ARCHS       default "amd64 arm64"
#   DOCKER              default docker
#   OSC_REQUIRE_IMAGES  1: fail when a tarball cannot be produced
#   HELM, GO            binaries (defaults: hack/build-helm.sh's helm, go)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUTPUT_DIR="${OUTPUT_DIR:-$ROOT/_output}"
OSC_DIR="$OUTPUT_DIR/osc"
RELEASE_ARCHS="${RELEASE_ARCHS:-amd64 arm64}"
DOCKER="${DOCKER:-docker}"
GO="${GO:-go}"
export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.23.10}"

die() { echo "osc-package: $*" >&2; exit 1; }

# The chart archive first: it fails early (and clearly) without the CRD source.
archive="$(OUTPUT_DIR="$OUTPUT_DIR" "$ROOT/hack/chart-package.sh")"

rm -rf "$OSC_DIR"
mkdir -p "$OSC_DIR/package" "$OSC_DIR/images"
cp "$archive" "$OSC_DIR/package/"

plan="$(cd "$ROOT" && "$GO" run internal/packaging/oscmeta/cmd.go \
  -chart charts/clusterpedia-memgraph -archs "$RELEASE_ARCHS" -out "$OSC_DIR")" \
  || die "could not write mapping.yaml / version-definition.yaml (see above)"

no_engine=""
if ! command -v "$DOCKER" >/dev/null 2>&1; then
  no_engine="no docker engine: '$DOCKER' is not on PATH"
elif ! "$DOCKER" info >/dev/null 2>&1; then
  no_engine="no docker engine: '$DOCKER info' cannot reach a daemon"
fi

made=() not_made=()
while IFS=$'\t' read -r file local_image saved_image; do
  [[ -n "$file" ]] || continue
  if [[ -n "$no_engine" ]]; then
    not_made+=("images/$file")
  elif ! "$DOCKER" image inspect "$local_image" >/dev/null 2>&1; then
    not_made+=("images/$file (no local image $local_image: make image VERSION=...)")
  else
    "$DOCKER" tag "$local_image" "$saved_image"
    "$DOCKER" save -o "$OSC_DIR/images/$file" "$saved_image"
    made+=("images/$file")
  fi
done <<<"$plan"

echo ">> OSC package in $OSC_DIR: package/$(basename "$archive"), images/mapping.yaml, version-definition.yaml${made[*]:+, ${made[*]}}" >&2
if ((${#not_made[@]})); then
  reason="${no_engine:-images not built}"
  echo "osc-package: image tarballs NOT produced (${reason}): ${not_made[*]}" >&2
  [[ "${OSC_REQUIRE_IMAGES:-}" != 1 ]] || exit 1
fi
