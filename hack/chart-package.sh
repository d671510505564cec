#!/usr/bin/env bash
# Packages charts/clusterpedia-memgraph with Clusterpedia's CRDs (make chart-package).
#
# Clusterpedia's CRDs are upstream files and are never committed here: this script
# copies the chart to a temporary directory, adds the CRDs binding-apiserver needs from
# the Clusterpedia v0.9.1 source into the copy's crds/ folder (Helm installs crds/
# before the templates and never upgrades or deletes them), and runs `helm package`.
#
# CRDs: cluster.clusterpedia.io PediaCluster and ClusterSyncResources, the two kinds
# binding-apiserver (apiserver + embedded clustersynchro-manager) watches. The
# policy.clusterpedia.io CRDs belong to clustersynchro's controller-manager, which this
# chart does not deploy. Taken from kustomize/crds/ (what `kubectl apply -k` installs),
# else deploy/ (same files in v0.9.1).
#
# Prints the archive's path on stdout (last line); everything else goes to stderr.
# Environment:
#   CLUSTERPEDIA_REPO  Clusterpedia v0.9.1 source (default: ./clusterpedia submodule)
#   OUTPUT_DIR         where the archive goes (default: _output)
#   HELM               helm binary (default: the one hack/build-helm.sh caches/builds)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHART_NAME=clusterpedia-memgraph
CHART_SRC="$ROOT/charts/$CHART_NAME"
CLUSTERPEDIA_REPO="${CLUSTERPEDIA_REPO:-$ROOT/clusterpedia}"
OUTPUT_DIR="${OUTPUT_DIR:-$ROOT/_output}"
CRDS=(cluster.clusterpedia.io_pediaclusters.yaml cluster.clusterpedia.io_clustersyncresources.yaml)
CRD_DIRS=(kustomize/crds deploy)

die() { echo "chart-package: $*" >&2; exit 1; }

[[ -f "$CHART_SRC/Chart.yaml" ]] || die "no chart at $CHART_SRC"
[[ ! -e "$CHART_SRC/crds" ]] || die "$CHART_SRC/crds exists: CRDs are added to a copy at package time and must not live in the source chart (remove it)"

# Find every CRD before touching anything, so a bad CLUSTERPEDIA_REPO fails with one message.
crd_files=()
for crd in "${CRDS[@]}"; do
  found=""
  for d in "${CRD_DIRS[@]}"; do
    if [[ -f "$CLUSTERPEDIA_REPO/$d/$crd" ]]; then found="$CLUSTERPEDIA_REPO/$d/$crd"; break; fi
  done
  [[ -n "$found" ]] || die "CLUSTERPEDIA_REPO=$CLUSTERPEDIA_REPO has no $crd (looked in ${CRD_DIRS[*]}): fill the submodule (git submodule update --init clusterpedia) or point CLUSTERPEDIA_REPO at a Clusterpedia v0.9.1 checkout"
  grep -q '^kind: CustomResourceDefinition' "$found" || die "$found is not a CustomResourceDefinition"
  crd_files+=("$found")
done

HELM="${HELM:-$("$ROOT/hack/build-helm.sh")}"
[[ -x "$HELM" ]] || die "helm not executable: $HELM (make helm)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp -R "$CHART_SRC" "$tmp/$CHART_NAME"
mkdir "$tmp/$CHART_NAME/crds"
for f in "${crd_files[@]}"; do
  cp "$f" "$tmp/$CHART_NAME/crds/"
  echo ">> crds/$(basename "$f") from $f" >&2
done

mkdir -p "$OUTPUT_DIR"
home="$tmp/helm-home"
out="$(HELM_CACHE_HOME="$home" HELM_CONFIG_HOME="$home" HELM_DATA_HOME="$home" \
  "$HELM" package "$tmp/$CHART_NAME" --destination "$OUTPUT_DIR")"
archive="${out##*: }"
[[ -f "$archive" ]] || die "helm package did not report an archive: $out"
echo ">> $archive" >&2
echo "$archive"
