#!/usr/bin/env bash
# make demo: a local Clusterpedia with memgraph and a seeded three-cluster
# fleet, all on 127.0.0.1 — etcd, a host kube-apiserver (member c1, also
# holding the PediaClusters) and two more member kube-apiservers (c2, c3),
# the Widget CRD, Deployments with ReplicaSets and Pods, ConfigMaps,
# Services, custom resources — and binding-apiserver with --storage-name=memgraph
# syncing all three. Prints commands to try; Ctrl-C stops everything and
# removes the work dir (DEMO_KEEP=1 keeps it).
#
# Reuses the e2e harness scripts (test/e2e/hack: kube-up.sh, seed-fleet.sh,
# pedia-up.sh). Needs what make demo builds first: kube-apiserver/kubectl
# (make kube-binaries), etcd/openssl/curl, plugins/memgraph.so and
# bin/binding-apiserver.
#
# Environment: DEMO_DIR (default _output/demo), MEMGRAPH_CONFIG (default: generated,
# persistence off, memgraph's API on a free port), DEMO_KEEP=1.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HACK="$ROOT/test/e2e/hack"
source "$HACK/lib.sh"

export E2E_DIR="${DEMO_DIR:-$ROOT/_output/demo}"
if [[ -f "$E2E_DIR/kube.env" ]]; then
  old="$(sed -n 's/^SUPERVISOR_PID="\(.*\)"/\1/p' "$E2E_DIR/kube.env")"
  if [[ -n "$old" ]] && kill -0 "$old" 2>/dev/null; then
    die "a demo is already running in $E2E_DIR (supervisor pid $old); stop it with Ctrl-C first"
  fi
fi
rm -rf "$E2E_DIR"
mkdir -p "$E2E_DIR"
E2E_DIR="$(cd "$E2E_DIR" && pwd -P)"
export E2E_MEMBERS=separate E2E_CLUSTERS="${E2E_CLUSTERS:-c1 c2 c3}"
export E2E_MEMBER_MANIFESTS="$HACK/fleet/widget-crd.yaml" E2E_SYNC_RESOURCES="$HACK/fleet/sync-resources.yaml"
[[ "${DEMO_KEEP:-}" == 1 ]] && export E2E_KEEP=1

SUPS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local i
  # binding-apiserver first (it needs kube-apiserver to shut down cleanly)
  for ((i = ${#SUPS[@]} - 1; i >= 0; i--)); do stop_pids "${SUPS[$i]}"; done
  (( rc == 130 )) && log "demo stopped"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "starting etcd + 3 kube-apiservers in $E2E_DIR"
"$HACK/kube-up.sh" >"$E2E_DIR.kube-up.log" 2>&1 &
SUPS+=($!)
WAIT_PID=${SUPS[0]} WAIT_LOG="$E2E_DIR.kube-up.log" wait_for 240 "kube-up.sh" test -f "$E2E_DIR/kube.ready"
mv "$E2E_DIR.kube-up.log" "$E2E_DIR/kube-up.log"
# shellcheck disable=SC1091
source "$E2E_DIR/kube.env"

log "seeding the fleet"
"$HACK/seed-fleet.sh"

CONFIG="${MEMGRAPH_CONFIG:-}"
if [[ -z "$CONFIG" ]]; then
  API_PORT="$(free_port)"
  CONFIG="$E2E_DIR/memgraph.yaml"
  cat >"$CONFIG" <<EOF
persistence:
  enabled: false
server:
  listenAddress: 127.0.0.1:$API_PORT
EOF
fi
API_ADDR="$(sed -n 's/^[[:space:]]*listenAddress:[[:space:]]*"\{0,1\}\([^"#[:space:]]*\).*/\1/p' "$CONFIG" | head -n1)"
API_ADDR="${API_ADDR:-127.0.0.1:8790}"

log "starting binding-apiserver with memgraph"
STORAGE_NAME=memgraph PEDIA_NAME=memgraph STORAGE_CONFIG="$CONFIG" "$HACK/pedia-up.sh" >"$E2E_DIR/pedia-up.log" 2>&1 &
SUPS+=($!)
WAIT_PID=${SUPS[1]} WAIT_LOG="$E2E_DIR/pedia-up.log" wait_for 180 "pedia-up.sh" test -f "$E2E_DIR/pedia-memgraph.ready"
URL="$(sed -n 's/^PEDIA_URL="\(.*\)"/\1/p' "$E2E_DIR/pedia-memgraph.env")"
P="$URL/apis/clusterpedia.io/v1beta1"

# Wait until the fleet is queryable (every cluster's web Deployment listed).
deployments_synced() {
  local n
  n="$(curl -sf --max-time 3 --cacert "$CA_FILE" --cert "$ADMIN_CERT" --key "$ADMIN_KEY" \
    "$P/resources/apis/apps/v1/deployments?names=web" | grep -oE '"name": ?"web"' | wc -l)"
  (( n == $(wc -w <<<"$CLUSTERS") ))
}
WAIT_PID=${SUPS[1]} WAIT_LOG="$E2E_DIR/pedia-memgraph/binding-apiserver.log" wait_for 120 "the fleet to sync" deployments_synced
WAIT_PID=${SUPS[1]} wait_for 60 "widgets to sync" curl -sf --max-time 3 --cacert "$CA_FILE" --cert "$ADMIN_CERT" --key "$ADMIN_KEY" "$P/resources/apis/example.com/v1/widgets"

cat >"$E2E_DIR/demo.env" <<EOF
# source this file in another shell to reuse the demo's settings
C="curl -s --cacert $CA_FILE --cert $ADMIN_CERT --key $ADMIN_KEY"
P="$P"
KUBECTL="$KUBECTL --kubeconfig $KUBECONFIG_FILE"
PEDIA="$URL"
MEMGRAPH_API="http://$API_ADDR"
EOF

R="$P/resources"
cat <<INFO

memgraph demo is up: binding-apiserver (--storage-name=memgraph) at $URL syncing PediaClusters: $CLUSTERS
  work dir $E2E_DIR (logs: kube-apiserver*.log, pedia-memgraph/binding-apiserver.log)

Set up a shell (or: source $E2E_DIR/demo.env):
  C="curl -s --cacert $CA_FILE --cert $ADMIN_CERT --key $ADMIN_KEY"
  P="$P"
  KUBECTL="$KUBECTL --kubeconfig $KUBECONFIG_FILE"

kubectl through Clusterpedia (every cluster, or one with /clusters/<name>):
  \$KUBECTL --server \$P/resources get deployments -A
  \$KUBECTL --server \$P/resources/clusters/c2 get pods -n shop -o wide
  \$KUBECTL --server \$P/resources get widgets.example.com -A

Search API (curl):
  \$C "\$P/resources/apis/apps/v1/deployments?clusters=c1,c3&labelSelector=tier%3Dfrontend"
  \$C "\$P/resources/api/v1/pods?labelSelector=env%20notin%20(prod)"
  \$C "\$P/resources/api/v1/pods?fieldSelector=spec.containers%5B%5D.name%3Distio-proxy"
  \$C "\$P/resources/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-c2"
  \$C "\$P/resources/apis/apps/v1/deployments?labelSelector=internalstorage.clusterpedia.io/fuzzy-name%3Dork"
  \$C "\$P/resources/clusters/c1/api/v1/pods?ownerName=web&ownerGR=deployments.apps&ownerSeniority=1"
  \$C "\$P/resources/api/v1/pods?orderby=name%20desc,cluster&limit=4&withContinue=true&withRemainingCount=true"
  \$C "\$P/resources/api/v1/configmaps?onlyMetadata=true&namespaces=shop"
  \$C "\$P/resources/apis/example.com/v1/widgets?fieldSelector=spec.size%3E3"
  \$C "\$P/resources/clusters/c3/apis/apps/v1/namespaces/shop/deployments/web"
  \$C "\$P/collectionresources/workloads?orderby=cluster&limit=5"
  \$C "\$P/collectionresources/any?groups=apps&resources=/pods&clusters=c2"

memgraph's own API:
  curl -s http://$API_ADDR/metrics | grep ^memgraph_objects
  curl -s 'http://$API_ADDR/api/v1/owners/descendants?cluster=c1&group=apps&version=v1&resource=deployments&namespace=shop&name=web'
  curl -s 'http://$API_ADDR/api/v1/graph?cluster=c2&version=v1&resource=services&namespace=shop&name=web&format=mermaid'

Change the fleet and watch it show up (member kubeconfigs: $E2E_DIR/admin.kubeconfig = c1, member-c2/c3.kubeconfig):
  $KUBECTL --kubeconfig $E2E_DIR/member-c2.kubeconfig -n shop create configmap hello --from-literal=k=v
  \$C "\$P/resources/clusters/c2/api/v1/namespaces/shop/configmaps/hello"

Ctrl-C stops everything.
INFO

set +e
wait -n "${SUPS[@]}"
log "a supervisor exited; stopping the demo"
exit 1
