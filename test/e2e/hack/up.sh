#!/usr/bin/env bash
# Interactive e2e environment: kube-up.sh + one pedia-up.sh per storage in
# E2E_STORAGES (default "internal"; e.g. "memgraph internal" for both side by
# side), all in the foreground. Prints how to reach everything; Ctrl-C stops
# all processes and removes the work dir (E2E_KEEP=1 keeps it).
# All other variables are passed through to kube-up.sh / pedia-up.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export E2E_DIR="${E2E_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/memgraph-e2e.XXXXXX")}"
SUPS=()
cleanup() {
  trap - EXIT INT TERM
  # pedia supervisors first (they need kube-apiserver to shut down cleanly)
  local i
  for (( i=${#SUPS[@]}-1; i>=0; i-- )); do stop_pids "${SUPS[$i]}"; done
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

"$E2E_HACK_DIR/kube-up.sh" &
SUPS+=($!)
WAIT_PID=${SUPS[0]} wait_for 180 "kube-up.sh" test -f "$E2E_DIR/kube.ready"
for s in ${E2E_STORAGES:-internal}; do
  STORAGE_NAME="$s" PEDIA_NAME="$s" STORAGE_CONFIG="$( [[ $s == memgraph ]] && echo "${MEMGRAPH_CONFIG:-}" || true )" \
    "$E2E_HACK_DIR/pedia-up.sh" &
  SUPS+=($!)
  WAIT_PID=$! wait_for 180 "pedia-up.sh $s" test -f "$E2E_DIR/pedia-$s.ready"
done

# shellcheck disable=SC1091
source "$E2E_DIR/kube.env"
cat <<INFO

e2e environment up in $E2E_DIR
  kube-apiserver: $KUBE_SERVER   kubectl: $KUBECTL --kubeconfig $KUBECONFIG_FILE
  PediaClusters:  $CLUSTERS
INFO
for s in ${E2E_STORAGES:-internal}; do
  url="$(sed -n 's/^PEDIA_URL=//p' "$E2E_DIR/pedia-$s.env")"
  echo "  $s: curl --cacert $CA_FILE --cert $ADMIN_CERT --key $ADMIN_KEY $url/apis/clusterpedia.io/v1beta1/resources/apis/apps/v1/deployments"
done
echo "Ctrl-C stops everything."
set +e
wait -n "${SUPS[@]}"
log "a supervisor exited; stopping"
exit 1
