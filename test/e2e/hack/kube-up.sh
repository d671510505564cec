#!/usr/bin/env bash
# Starts the Kubernetes side of the e2e environment and supervises it:
#   etcd (private data dir) + kube-apiserver on 127.0.0.1 random free ports,
#   a self-made CA, serving and admin client certs, namespace
#   clusterpedia-system, default ServiceAccounts, the Clusterpedia CRDs and
#   PediaClusters c1..cN that all point at this same kube-apiserver.
# When everything is up it writes $E2E_DIR/kube.env (KEY=VALUE), creates
# $E2E_DIR/kube.ready, prints READY and waits. On TERM/INT/EXIT, or when etcd
# or kube-apiserver dies, it stops both (by PID) and deletes $E2E_DIR unless
# E2E_KEEP=1.
#
# Environment:
#   E2E_DIR            work dir (default: new mktemp dir)
#   E2E_CLUSTERS       PediaCluster names (default "c1 c2 c3")
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
KUBE_PORT="$(free_port)"
KUBE_SERVER="https://127.0.0.1:$KUBE_PORT"
log "kube-apiserver on $KUBE_SERVER"
mkdir -p "$E2E_DIR/kube-apiserver"
"$KUBE_APISERVER" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$KUBE_PORT" \
  --cert-dir="$E2E_DIR/kube-apiserver" \
  --etcd-servers="$ETCD_URL" \
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
  >"$E2E_DIR/kube-apiserver.log" 2>&1 &
KUBE_PID=$!; PIDS+=("$KUBE_PID")
WAIT_PID=$KUBE_PID WAIT_LOG="$E2E_DIR/kube-apiserver.log" wait_for 90 "kube-apiserver /readyz" https_ok "$KUBE_SERVER/readyz"

# ------------------------------------------------------------------ kubeconfig
b64() { base64 -w0 <"$1"; }
KUBECONFIG_FILE="$E2E_DIR/admin.kubeconfig"
cat >"$KUBECONFIG_FILE" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: $KUBE_SERVER
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
kc() { "$KUBECTL_BIN" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# ------------------------------------------------- namespaces, SAs, CRDs, pedia
log "namespace clusterpedia-system, default ServiceAccounts, CRDs from $CRDS"
kc create namespace clusterpedia-system >/dev/null
for ns in default kube-system kube-public clusterpedia-system; do
  # No controller-manager: nothing else creates them, and Pods need one.
  wait_for 20 "namespace $ns" kc get namespace "$ns"
  kc -n "$ns" create serviceaccount default >/dev/null 2>&1 || true
done
kc apply -k "$CRDS" >/dev/null
kc wait --for=condition=Established --timeout=60s \
  crd/pediaclusters.cluster.clusterpedia.io crd/clustersyncresources.cluster.clusterpedia.io >/dev/null

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
KUBECONFIG_B64="$(b64 "$KUBECONFIG_FILE")"
for c in $CLUSTERS; do
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
