#!/usr/bin/env bash
# Starts the Kubernetes side of the e2e environment and supervises it:
#   etcd (private data dir) + kube-apiserver on 127.0.0.1 random free ports,
#   a self-made CA, serving and admin client certs, namespace
#   clusterpedia-system, default ServiceAccounts, the Clusterpedia CRDs and
#   PediaClusters c1..cN that all point at this same kube-apiserver (or, with
#   E2E_MEMBERS=separate, at one kube-apiserver each).
# When everything is up it writes $E2E_DIR/kube.env (KEY=VALUE), creates
# $E2E_DIR/kube.ready, prints READY and waits. On TERM/INT/EXIT, or when etcd
# or kube-apiserver dies, it stops both (by PID) and deletes $E2E_DIR unless
# E2E_KEEP=1.
#
# Environment:
#   E2E_DIR            work dir (default: new mktemp dir)
#   E2E_CLUSTERS       PediaCluster names (default "c1 c2 c3")
#   E2E_MEMBERS        "shared" (default): every PediaCluster points at the one
#                      kube-apiserver; "separate": the first cluster is that
#                      kube-apiserver, every other one gets its own
#                      kube-apiserver (same etcd, key prefix /registry-<name>),
#                      so each cluster holds its own objects
#   E2E_MEMBER_MANIFESTS file applied with kubectl to every member cluster before
#                      the PediaClusters are created (e.g. CRDs to sync)
#   E2E_SYNC_RESOURCES file with a YAML list for spec.syncResources (default: built in)
#   CLUSTERPEDIA_REPO  source with kustomize/crds (default: ./clusterpedia)
#   KUBE_BIN           dir with kube-apiserver and kubectl (default: build-kube.sh cache)
#   E2E_KEEP=1         keep $E2E_DIR after stopping
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need etcd openssl curl base64
KUBE_BIN="$(kube_bin_dir)"
KUBE_APISERVER="$KUBE_BIN/kube-apiserver"
KUBECTL_BIN="$KUBE_BIN/kubectl"
[[ -x "$KUBE_APISERVER" && -x "$KUBECTL_BIN" ]] || die "no kube-apiserver/kubectl in $KUBE_BIN: run test/e2e/hack/build-kube.sh (make kube-binaries)"
CLUSTERPEDIA_REPO="${CLUSTERPEDIA_REPO:-$E2E_ROOT/clusterpedia}"
CRDS="$CLUSTERPEDIA_REPO/kustomize/crds"
[[ -f "$CRDS/kustomization.yaml" ]] || die "no Clusterpedia CRDs at $CRDS (fill the clusterpedia submodule or set CLUSTERPEDIA_REPO)"
CLUSTERS="${E2E_CLUSTERS:-c1 c2 c3}"
E2E_MEMBERS="${E2E_MEMBERS:-shared}"
[[ "$E2E_MEMBERS" == shared || "$E2E_MEMBERS" == separate ]] || die "E2E_MEMBERS must be 'shared' or 'separate' (got '$E2E_MEMBERS')"

E2E_DIR="${E2E_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/memgraph-e2e.XXXXXX")}"
mkdir -p "$E2E_DIR"
E2E_DIR="$(cd "$E2E_DIR" && pwd -P)"
PKI="$E2E_DIR/pki"; mkdir -p "$PKI"

PIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ ${#PIDS[@]} -gt 0 ]] && stop_pids "${PIDS[@]}"
  rm -f "$E2E_DIR/kube.ready"
  if [[ "${E2E_KEEP:-}" == 1 ]]; then log "kept $E2E_DIR"; else rm -rf "$E2E_DIR"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# ---------------------------------------------------------------- certificates
log "certificates in $PKI"
sign() { # name subject extfile ca-name
  local name="$1" subj="$2" ext="$3"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$4.crt" -CAkey "$PKI/$4.key" -CAcreateserial \
    -days 2 -sha256 -extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr"
}
for ca in ca front-proxy-ca; do
  openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$PKI/$ca.key" -subj "/CN=memgraph-e2e-$ca" \
    -days 2 -sha256 -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$PKI/$ca.crt" 2>/dev/null
done
cat >"$PKI/serving.ext" <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc
EOF
cat >"$PKI/client.ext" <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
EOF
sign serving "/CN=127.0.0.1" "$PKI/serving.ext" ca
sign admin "/O=system:masters/CN=e2e-admin" "$PKI/client.ext" ca
sign front-proxy-client "/CN=front-proxy-client" "$PKI/client.ext" front-proxy-ca
openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
CA_FILE="$PKI/ca.crt" ADMIN_CERT="$PKI/admin.crt" ADMIN_KEY="$PKI/admin.key"

# ------------------------------------------------------------------------ etcd
ETCD_PORT="$(free_port)"; ETCD_PEER_PORT="$(free_port)"
ETCD_URL="http://127.0.0.1:$ETCD_PORT"
log "etcd on $ETCD_URL"
etcd --name e2e --data-dir "$E2E_DIR/etcd" \
  --listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "e2e=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state new \
  --quota-backend-bytes=$((2 * 1024 * 1024 * 1024)) --log-level warn \
  >"$E2E_DIR/etcd.log" 2>&1 &
ETCD_PID=$!; PIDS+=("$ETCD_PID")
WAIT_PID=$ETCD_PID WAIT_LOG="$E2E_DIR/etcd.log" wait_for 30 "etcd health" curl -sf --max-time 2 "$ETCD_URL/health"

# -------------------------------------------------------------- kube-apiserver
# start_apiserver NAME ETCD_PREFIX: one kube-apiserver on a free port; sets
# APISERVER_URL and APISERVER_PID (also added to PIDS). Logs to NAME.log.
start_apiserver() {
  local name="$1" prefix="$2" port
  port="$(free_port)"
  APISERVER_URL="https://127.0.0.1:$port"
  mkdir -p "$E2E_DIR/$name"
  "$KUBE_APISERVER" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$port" \
    --cert-dir="$E2E_DIR/$name" \
    --etcd-servers="$ETCD_URL" --etcd-prefix="$prefix" \
    --tls-cert-file="$PKI/serving.crt" --tls-private-key-file="$PKI/serving.key" \
    --client-ca-file="$CA_FILE" \
    --service-account-issuer=https://kubernetes.default.svc \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range=10.96.0.0/16 \
    --authorization-mode=RBAC \
    --endpoint-reconciler-type=none \
    --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key" \
    --profiling=false \
    >"$E2E_DIR/$name.log" 2>&1 &
  APISERVER_PID=$!; PIDS+=("$APISERVER_PID")
}

# The host kube-apiserver (PediaCluster CRDs and objects; also every member
# cluster in "shared" mode, the first one in "separate" mode).
start_apiserver kube-apiserver /registry
KUBE_SERVER="$APISERVER_URL" KUBE_PID="$APISERVER_PID"
log "kube-apiserver on $KUBE_SERVER"
# Member clusters: in "separate" mode every cluster after the first gets its
# own kube-apiserver on the same etcd under its own key prefix, so each
# PediaCluster sees different objects (started in parallel).
declare -A MEMBER_URL=() MEMBER_PID=() MEMBER_LOG=()
first=""
for c in $CLUSTERS; do
  if [[ -z "$first" || "$E2E_MEMBERS" != separate ]]; then
    first="${first:-$c}"
    MEMBER_URL[$c]="$KUBE_SERVER"; MEMBER_PID[$c]="$KUBE_PID"; MEMBER_LOG[$c]="$E2E_DIR/kube-apiserver.log"
    continue
  fi
  start_apiserver "kube-apiserver-$c" "/registry-$c"
  MEMBER_URL[$c]="$APISERVER_URL"; MEMBER_PID[$c]="$APISERVER_PID"; MEMBER_LOG[$c]="$E2E_DIR/kube-apiserver-$c.log"
  log "member kube-apiserver for $c on $APISERVER_URL"
done
for c in $CLUSTERS; do
  WAIT_PID=${MEMBER_PID[$c]} WAIT_LOG="${MEMBER_LOG[$c]}" wait_for 120 "kube-apiserver of $c /readyz" https_ok "${MEMBER_URL[$c]}/readyz"
done

# ------------------------------------------------------------------ kubeconfig
b64() { base64 -w0 <"$1"; }
# write_kubeconfig FILE SERVER: admin kubeconfig with embedded certs.
write_kubeconfig() {
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: $2
    certificate-authority-data: $(b64 "$CA_FILE")
users:
- name: admin
  user:
    client-certificate-data: $(b64 "$ADMIN_CERT")
    client-key-data: $(b64 "$ADMIN_KEY")
contexts:
- name: e2e
  context: {cluster: e2e, user: admin}
current-context: e2e
EOF
}
KUBECONFIG_FILE="$E2E_DIR/admin.kubeconfig"
write_kubeconfig "$KUBECONFIG_FILE" "$KUBE_SERVER"
declare -A MEMBER_KUBECONFIG=()
MEMBER_SERVERS="" MEMBER_KUBECONFIGS=""
for c in $CLUSTERS; do
  f="$KUBECONFIG_FILE"
  if [[ "${MEMBER_URL[$c]}" != "$KUBE_SERVER" ]]; then
    f="$E2E_DIR/member-$c.kubeconfig"
    write_kubeconfig "$f" "${MEMBER_URL[$c]}"
  fi
  MEMBER_KUBECONFIG[$c]="$f"
  MEMBER_SERVERS+="${MEMBER_SERVERS:+ }$c=${MEMBER_URL[$c]}"
  MEMBER_KUBECONFIGS+="${MEMBER_KUBECONFIGS:+ }$c=$f"
done
kc() { "$KUBECTL_BIN" --kubeconfig "$KUBECONFIG_FILE" "$@"; }
kcm() { local c="$1"; shift; "$KUBECTL_BIN" --kubeconfig "${MEMBER_KUBECONFIG[$c]}" "$@"; }

# ------------------------------------------------- namespaces, SAs, CRDs, pedia
log "namespace clusterpedia-system, default ServiceAccounts, CRDs from $CRDS"
kc create namespace clusterpedia-system >/dev/null
# No controller-manager: nothing else creates the default ServiceAccounts, and
# Pods need one.
default_serviceaccounts() { # kubectl-wrapper...
  local ns
  for ns in default kube-system kube-public; do
    wait_for 20 "namespace $ns" "$@" get namespace "$ns"
    "$@" -n "$ns" create serviceaccount default >/dev/null 2>&1 || true
  done
}
default_serviceaccounts kc
kc -n clusterpedia-system create serviceaccount default >/dev/null 2>&1 || true
for c in $CLUSTERS; do
  [[ "${MEMBER_URL[$c]}" == "$KUBE_SERVER" ]] || default_serviceaccounts kcm "$c"
done
kc apply -k "$CRDS" >/dev/null
kc wait --for=condition=Established --timeout=60s \
  crd/pediaclusters.cluster.clusterpedia.io crd/clustersyncresources.cluster.clusterpedia.io >/dev/null

# Extra manifests for every member cluster (e.g. CRDs of synced custom
# resources), applied before the PediaClusters exist so the first sync sees them.
if [[ -n "${E2E_MEMBER_MANIFESTS:-}" ]]; then
  declare -A applied=()
  for c in $CLUSTERS; do
    [[ -n "${applied[${MEMBER_URL[$c]}]:-}" ]] && continue
    applied[${MEMBER_URL[$c]}]=1
    kcm "$c" apply -f "$E2E_MEMBER_MANIFESTS" >/dev/null
    if grep -q '^kind: CustomResourceDefinition' "$E2E_MEMBER_MANIFESTS"; then
      kcm "$c" wait --for=condition=Established --timeout=60s crd --all >/dev/null
    fi
  done
  log "member manifests applied: $E2E_MEMBER_MANIFESTS"
fi

SYNC_FILE="$E2E_DIR/sync-resources.yaml"
if [[ -n "${E2E_SYNC_RESOURCES:-}" ]]; then
  cp "$E2E_SYNC_RESOURCES" "$SYNC_FILE"
else
  cat >"$SYNC_FILE" <<'EOF'
- group: ""
  resources: ["pods", "services", "configmaps", "namespaces"]
- group: apps
  resources: ["deployments", "replicasets", "daemonsets", "statefulsets"]
  eventsInvolvedResources: ["deployments"]
EOF
fi
for c in $CLUSTERS; do
  KUBECONFIG_B64="$(b64 "${MEMBER_KUBECONFIG[$c]}")"
  {
    echo "apiVersion: cluster.clusterpedia.io/v1alpha2"
    echo "kind: PediaCluster"
    echo "metadata: {name: $c}"
    echo "spec:"
    echo "  kubeconfig: $KUBECONFIG_B64"
    echo "  syncResources:"
    sed 's/^/  /' "$SYNC_FILE"
  } >"$E2E_DIR/pediacluster-$c.yaml"
  kc apply -f "$E2E_DIR/pediacluster-$c.yaml" >/dev/null
done
log "PediaClusters: $CLUSTERS"

cat >"$E2E_DIR/kube.env" <<EOF
E2E_DIR="$E2E_DIR"
KUBE_SERVER="$KUBE_SERVER"
KUBECONFIG_FILE="$KUBECONFIG_FILE"
KUBECTL="$KUBECTL_BIN"
CA_FILE="$CA_FILE"
ADMIN_CERT="$ADMIN_CERT"
ADMIN_KEY="$ADMIN_KEY"
SERVING_CERT="$PKI/serving.crt"
SERVING_KEY="$PKI/serving.key"
ETCD_URL="$ETCD_URL"
ETCD_PID="$ETCD_PID"
KUBE_APISERVER_PID="$KUBE_PID"
CLUSTERS="$CLUSTERS"
E2E_MEMBERS="$E2E_MEMBERS"
MEMBER_SERVERS="$MEMBER_SERVERS"
MEMBER_KUBECONFIGS="$MEMBER_KUBECONFIGS"
SUPERVISOR_PID="$$"
EOF
touch "$E2E_DIR/kube.ready"
echo "READY $E2E_DIR"

# Supervise: return as soon as one child exits (then clean up everything).
set +e
wait -n "${PIDS[@]}"
rc=$?
log "a Kubernetes-side process exited (rc=$rc); stopping the environment"
exit 1
