#!/usr/bin/env bash
# Seeds the member clusters of a running kube-up.sh environment with a small
# multi-cluster fleet (what make demo shows; the Go tests seed the same shape
# in fleet_test.go). Per member cluster <c>:
#   namespace shop (tier=shared): Deployment web (app=web, tier=frontend,
#     env=prod|staging; 2 pods with containers main + istio-proxy) and api
#     (app=api, tier=backend; 1 pod), each with its ReplicaSet and Pods chained
#     by controller ownerReferences (no controller-manager runs here);
#     ConfigMap settings, Service web
#   namespace team-<c> (team=<c>): Deployment worker (1 pod, spec.nodeName node-<c>),
#     ConfigMap team-config
#   Widgets (example.com/v1) when the CRD is installed: w-<c> with spec.size
# Clusters sharing one kube-apiserver (E2E_MEMBERS=shared) are seeded once.
#
# Environment: E2E_DIR (required, the kube-up.sh work dir).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ -n "${E2E_DIR:-}" && -f "$E2E_DIR/kube.env" ]] || die "E2E_DIR must point at a running kube-up.sh environment (no kube.env)"
# shellcheck disable=SC1091
source "$E2E_DIR/kube.env"
IMAGE=registry.k8s.io/pause:3.10

# labels_json "a=b,c=d" -> {"a":"b","c":"d"}
labels_json() {
  local out="" kv
  IFS=, read -ra kvs <<<"$1"
  for kv in "${kvs[@]}"; do out+="${out:+,}\"${kv%%=*}\":\"${kv#*=}\""; done
  echo "{$out}"
}

# create JSON -> prints the uid of the created object
create() { k create -f - -o jsonpath='{.metadata.uid}' <<<"$1"; }

# chain NS NAME REPLICAS LABELS HASH [NODE] [SIDECAR]: Deployment -> ReplicaSet -> Pods.
chain() {
  local ns="$1" name="$2" replicas="$3" labels hash="$5" node="${6:-}" sidecar="${7:-}"
  labels="$(labels_json "$4")"
  local rs_labels="${labels%\}},\"pod-template-hash\":\"$hash\"}"
  local containers="{\"name\":\"main\",\"image\":\"$IMAGE\"}"
  [[ -n "$sidecar" ]] && containers+=",{\"name\":\"$sidecar\",\"image\":\"$IMAGE\"}"
  local podspec="{\"containers\":[$containers]${node:+,\"nodeName\":\"$node\"}}"
  local duid rsuid i
  duid="$(create "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"$name\",\"namespace\":\"$ns\",\"labels\":$labels},
    \"spec\":{\"replicas\":$replicas,\"selector\":{\"matchLabels\":$labels},\"template\":{\"metadata\":{\"labels\":$labels},\"spec\":$podspec}}}")"
  rsuid="$(create "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"$name-$hash\",\"namespace\":\"$ns\",\"labels\":$rs_labels,
    \"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"$name\",\"uid\":\"$duid\",\"controller\":true,\"blockOwnerDeletion\":true}]},
    \"spec\":{\"replicas\":$replicas,\"selector\":{\"matchLabels\":$rs_labels},\"template\":{\"metadata\":{\"labels\":$rs_labels},\"spec\":$podspec}}}")"
  for ((i = 0; i < replicas; i++)); do
    create "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"$name-$hash-$i\",\"namespace\":\"$ns\",\"labels\":$rs_labels,
      \"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"$name-$hash\",\"uid\":\"$rsuid\",\"controller\":true,\"blockOwnerDeletion\":true}]},
      \"spec\":$podspec}" >/dev/null
  done
}

namespace() { # NAME LABEL: namespace + its default ServiceAccount (no controller-manager)
  k create namespace "$1" >/dev/null
  k label namespace "$1" "$2" >/dev/null
  k -n "$1" create serviceaccount default >/dev/null
}

declare -A done_servers=()
i=0
for pair in ${MEMBER_KUBECONFIGS:-}; do
  c="${pair%%=*}" kc="${pair#*=}"
  server="$(sed -n 's/^ *server: //p' "$kc" | head -n1)"
  [[ -z "${done_servers[$server]:-}" ]] || continue
  done_servers[$server]=1
  k() { "$KUBECTL" --kubeconfig "$kc" "$@"; }
  env=prod; (( i == 2 )) && env=staging
  i=$((i + 1))
  namespace shop tier=shared
  namespace "team-$c" "team=$c"
  chain shop web 2 "app=web,tier=frontend,env=$env" 5d8f7c9b4 "" istio-proxy
  chain shop api 1 "app=api,tier=backend" 6c7b8d9f5
  chain "team-$c" worker 1 "app=worker,team=$c" 7f6d5c4b3 "node-$c"
  k -n shop create configmap settings --from-literal=color=blue >/dev/null
  k -n shop label configmap settings app=web >/dev/null
  k -n "team-$c" create configmap team-config --from-literal=owner="team-$c" >/dev/null
  k -n shop create service clusterip web --tcp=80:80 >/dev/null
  if k get crd widgets.example.com >/dev/null 2>&1; then
    size=$((i * 3))
    create "{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w-$c\",\"namespace\":\"shop\",\"labels\":{\"rank\":\"$size\"}},
      \"spec\":{\"size\":$size,\"enabled\":$( ((size > 3)) && echo true || echo false )}}" >/dev/null
  fi
  log "seeded cluster $c ($server)"
done
