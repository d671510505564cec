#!/usr/bin/env bash
# Runs the engine benchmarks on the synthetic 10-cluster / ~200k-object fleet and prints
# benchstat medians. Used to produce docs/benchmarks.md.
#
#   hack/bench.sh [count] [bench regexp] [packages...]
#
# count defaults to 6 (benchstat wants >= 6 samples for a confidence interval); the raw
# output is kept in _output/bench-<date>.txt so runs can be compared with benchstat.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
COUNT="${1:-6}"
BENCH="${2:-.}"
shift 2 2>/dev/null || true
PKGS=("${@:-./index/}")
export GOTOOLCHAIN="${GO_TOOLCHAIN:-go1.23.10}"
BENCHSTAT="${BENCHSTAT:-$HOME/.cache/memgraph/bin/benchstat}"
if [[ ! -x "$BENCHSTAT" ]]; then
  echo "installing benchstat into $(dirname "$BENCHSTAT")" >&2
  GOTOOLCHAIN=local GOBIN="$(dirname "$BENCHSTAT")" go install golang.org/x/perf/cmd/benchstat@latest
fi
mkdir -p _output
out="_output/bench-$(date -u +%Y%m%dT%H%M%SZ).txt"
{
  echo "# $(go version) on $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo); load: $(cut -d' ' -f1-3 /proc/loadavg)"
  go test -run '^$' -bench "$BENCH" -benchmem -count "$COUNT" -timeout 60m "${PKGS[@]}"
} | tee "$out" >&2
"$BENCHSTAT" "$out"
echo "raw results: $out" >&2
